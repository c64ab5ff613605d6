"""The sandbox's web application (aiohttp): Cloudflare's billing routes, the Stripe.js stand-in
and its backend, and the test controls, on one port. Each module's docstring lists its routes:

    /client/v4/accounts/{id}/ai-gateway/billing/...  Cloudflare's billing API (cloudflare.routes)
    /__sandbox/invoices/{id}/{invoice_id}.pdf         its invoices' PDFs (cloudflare.routes)
    /stripe-js/v3/, /__sandbox/stripe/...             the Stripe.js stand-in (stripe_js.routes)
    /__sandbox/health, faults, requests, config,      test and demo controls (controls)
      balance, reset
    /__sandbox/webhooks, /__sandbox/slack             where notifications arrive (receivers)

Any other path answers 404, in the shape the part of the sandbox it falls under speaks.
"""

import logging

from aiohttp import web

from sandbox import controls, receivers
from sandbox.cloudflare import contract
from sandbox.cloudflare import routes as cloudflare
from sandbox.cloudflare.account import AccountEmulator
from sandbox.cloudflare.billing import BillingEmulator
from sandbox.cloudflare.faults import SERVER_ERROR, FaultBoard
from sandbox.config import SandboxConfig
from sandbox.payments import Payments
from sandbox.stripe_js import routes as stripe_js
from sandbox.stripe_js.backend import StripeJsBackend

logger = logging.getLogger("sandbox")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Cache-Control": "no-store",
}


@web.middleware
async def cors_and_errors(request: web.Request, handler):
    """Pages call the stand-in cross-origin; nothing here is cached; every error is JSON."""
    if request.method == "OPTIONS":
        response = web.Response(status=204)
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = cloudflare.json_response(exc.status, _error_body(request.path))
        except Exception:
            logger.exception("Sandbox error on %s %s", request.method, request.path)
            response = cloudflare.answer_response(SERVER_ERROR)
    response.headers.update(CORS_HEADERS)
    return response


def _error_body(path: str):
    """An unknown route, answered in the shape its part of the sandbox speaks."""
    if path.startswith("/__sandbox/stripe/"):
        return {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL."}}
    if path.startswith("/__sandbox/"):
        return {"error": "unknown control route"}
    return contract.error_envelope((contract.NO_ROUTE, "No route for that URI"))


def make_app(config: SandboxConfig) -> web.Application:
    app = web.Application(
        middlewares=[cors_and_errors, cloudflare.billing_api, stripe_js.publishable_key_only]
    )
    payments = Payments(config.localstripe_url)
    app[cloudflare.config_key] = app[stripe_js.config_key] = config
    app[cloudflare.faults_key] = FaultBoard()
    app[cloudflare.account_key] = account = AccountEmulator(config, payments)
    app[cloudflare.billing_key] = BillingEmulator(config, payments, account)
    app[stripe_js.backend_key] = StripeJsBackend(payments)
    app[controls.payments_key] = payments

    async def close_payments(app: web.Application) -> None:
        await payments.close()

    async def open_books(app: web.Application) -> None:
        await account.open_books()

    app.on_startup.append(open_books)
    app.on_cleanup.append(close_payments)
    cloudflare.add_routes(app)
    stripe_js.add_routes(app)
    controls.add_routes(app)
    receivers.add_routes(app)
    return app
