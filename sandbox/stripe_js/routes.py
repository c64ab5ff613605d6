"""The Stripe.js stand-in, served where pages load Stripe.js from in sandbox mode, and its
backend routes under /__sandbox/stripe/, which take a publishable key like Stripe's API does.

    GET  /stripe-js/v3/ (and /stripe-js/v3)        — the stand-in script
    GET  /stripe-js/v3/sandbox-elements.css        — its card field's styles
    GET  /__sandbox/stripe/payment_intent          — a PaymentIntent as a browser may see it
    POST /__sandbox/stripe/confirm                 — confirm it with a typed or saved card
    POST /__sandbox/stripe/authenticated           — after the 3-D Secure step
"""

from pathlib import Path

from aiohttp import web

from sandbox.cloudflare.routes import json_response, read_json
from sandbox.config import STRIPE_PUBLISHABLE_KEY, SandboxConfig
from sandbox.stripe_js.backend import BrowserPaymentError, StripeJsBackend

STATIC_DIR = Path(__file__).parent / "static"

config_key = web.AppKey("stripe_js_config", SandboxConfig)
backend_key = web.AppKey("stripe_js_backend", StripeJsBackend)


async def stripe_js(request: web.Request) -> web.Response:
    source = (STATIC_DIR / "stripe-v3.js").read_text()
    source = source.replace("__LOCALSTRIPE_URL__", request.app[config_key].localstripe_url)
    return web.Response(text=source, content_type="application/javascript", charset="utf-8")


async def elements_css(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "sandbox-elements.css")


def _key_error(message: str) -> web.Response:
    return json_response(
        401,
        {"error": {"type": "invalid_request_error", "code": "api_key_invalid", "message": message}},
    )


@web.middleware
async def publishable_key_only(request: web.Request, handler):
    """Stripe's API takes only the account's publishable key from a browser."""
    if not request.path.startswith("/__sandbox/stripe/"):
        return await handler(request)
    if request.method == "GET":
        params = dict(request.query)
    else:
        body = await read_json(request)
        params = body if isinstance(body, dict) else {}
    key = str(params.get("key", ""))
    if not key.startswith("pk_"):
        return _key_error("Invalid API Key provided.")
    if key != STRIPE_PUBLISHABLE_KEY:
        return _key_error("Invalid API Key provided: " + key[:12])
    request["params"] = params
    try:
        return await handler(request)
    except BrowserPaymentError as error:
        return json_response(error.http_status, {"error": error.error})


async def payment_intent(request: web.Request) -> web.Response:
    backend = request.app[backend_key]
    return json_response(200, await backend.public_intent(request["params"].get("client_secret")))


async def confirm(request: web.Request) -> web.Response:
    params = request["params"]
    card = params.get("card")
    backend = request.app[backend_key]
    intent = await backend.confirm(
        params.get("client_secret"), card if isinstance(card, dict) else None
    )
    return json_response(200, intent)


async def authenticated(request: web.Request) -> web.Response:
    backend = request.app[backend_key]
    return json_response(
        200, await backend.after_authentication(request["params"].get("client_secret"))
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/stripe-js/v3/", stripe_js, allow_head=False)
    app.router.add_get("/stripe-js/v3", stripe_js, allow_head=False)
    app.router.add_get("/stripe-js/v3/sandbox-elements.css", elements_css, allow_head=False)
    app.router.add_get("/__sandbox/stripe/payment_intent", payment_intent, allow_head=False)
    app.router.add_post("/__sandbox/stripe/confirm", confirm, name="stripe_js.confirm")
    app.router.add_post("/__sandbox/stripe/authenticated", authenticated)
