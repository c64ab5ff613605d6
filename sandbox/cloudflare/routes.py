"""Cloudflare's billing routes under /client/v4, answered exactly as Cloudflare answers them.
Under /client/v4/accounts/{id}/ai-gateway/billing/ (each route's name, as faults and the
request log call it, in brackets):

    POST   topup             — create a top-up (create)
    POST   topup/status      — a top-up's status (status)
    GET    topup/limits      — the top-up limits; 404 while `limits_enabled` is off (limits)
    GET    credit-balance    — balance, saved card, auto top-up settings (balance)
    GET    topup/config      — the auto top-up settings (config)
    POST   topup/config      — set them; 403 unless `topup_config_writes` is on (config)
    DELETE topup/config      — remove them; 403 likewise (config)
    GET    invoice-history   — paid invoices, paginated, ?type=auto|manual|all (invoices)
    GET    invoice-preview   — the upcoming invoice (preview)
    GET    usage-history     — spend per hour or day (usage)

and, where an invoice's `invoice_pdf` points (Stripe hosts these for Cloudflare):

    GET    /__sandbox/invoices/{account_id}/{invoice_id}.pdf — the invoice as a small PDF

Every call under /client/v4, known or not, goes through `billing_api` (a middleware): it is
logged, delayed by the configured latency, may be replaced or spoiled by a planned fault, and its
checks run in Cloudflare's order (route, account id, method, credentials, body).
"""

import asyncio
import json
import logging
import re
import secrets

import stripe
from aiohttp import web

from sandbox.cloudflare import contract
from sandbox.cloudflare.account import AccountEmulator
from sandbox.cloudflare.billing import BillingEmulator
from sandbox.cloudflare.faults import (
    FAULT_ANSWERS,
    SERVER_ERROR,
    Fault,
    FaultAnswer,
    FaultBoard,
    RequestRecord,
)
from sandbox.cloudflare.pdf import text_pdf
from sandbox.config import SandboxConfig

logger = logging.getLogger("sandbox")

API_PREFIX = "/client/v4"
BILLING = API_PREFIX + "/accounts/{account_id}/ai-gateway/billing/"
ACCOUNT_ID_RE = re.compile(r"^[0-9a-f]{32}$")

config_key = web.AppKey("config", SandboxConfig)
billing_key = web.AppKey("billing", BillingEmulator)
account_key = web.AppKey("account", AccountEmulator)
faults_key = web.AppKey("faults", FaultBoard)


class _InvalidJson:
    """The body was sent but is not JSON."""


def answer_response(answer: FaultAnswer, headers: dict | None = None) -> web.Response:
    return web.Response(
        status=answer.status, body=answer.body, content_type=answer.content_type, headers=headers
    )


def json_response(status: int, payload, headers: dict | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=contract.dumps(payload),
        content_type="application/json",
        headers=headers,
    )


async def read_json(request: web.Request):
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _InvalidJson


def _auth_scheme(request: web.Request, config: SandboxConfig) -> str:
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        ok = scheme == "Bearer" and secrets.compare_digest(token, config.api_token)
        return "token" if ok else "invalid"
    email, key = request.headers.get("X-Auth-Email"), request.headers.get("X-Auth-Key")
    if email or key:
        ok = email == config.email and secrets.compare_digest(key or "", config.global_key)
        return "global_key" if ok else "invalid"
    return "none"


@web.middleware
async def billing_api(request: web.Request, handler):
    if not request.path.startswith(API_PREFIX + "/"):
        return await handler(request)
    app = request.app
    config, faults = app[config_key], app[faults_key]
    # A known path has its endpoint's name even when the method is wrong (aiohttp then gives no
    # route, only its 405), so that the log and the faults see it as Cloudflare would.
    endpoint = request.match_info.route.name or _endpoint_of_path(request)
    body = await read_json(request) if request.method == "POST" else None
    request["json"] = body
    request["auth"] = _auth_scheme(request, config)
    record = faults.record(
        method=request.method,
        path=request.path,
        endpoint=endpoint,
        auth=request["auth"],
        body=body if body is not _InvalidJson else (await request.read()).decode(errors="replace"),
    )
    if config.latency_ms:
        await asyncio.sleep(config.latency_ms / 1000)

    fault = faults.take(endpoint) if endpoint != "unknown" else None
    if fault and not fault.apply:
        return await _answer_fault(fault, record)
    try:
        response = await _checked(request, handler, endpoint)
    except contract.ApiError as error:
        response = json_response(error.http_status, error.body())
    except stripe.StripeError:
        logger.exception("localstripe failed")
        response = answer_response(SERVER_ERROR)
    if fault:  # applied: the work is done, only the answer is spoiled
        return await _answer_fault(fault, record)
    record.status = response.status
    return response


def _endpoint_of_path(request: web.Request) -> str:
    for route in request.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        pattern = info.get("pattern")
        if route.name and pattern and pattern.match(request.path):
            return route.name
    return "unknown"


async def _checked(request: web.Request, handler, endpoint: str) -> web.StreamResponse:
    """Cloudflare's checks before the endpoint's own: route, account id, method, auth, body."""
    if endpoint == "unknown":
        raise contract.no_route()
    if not ACCOUNT_ID_RE.match(request.match_info.get("account_id") or _account_in(request)):
        raise contract.bad_identifier(request.path)
    if isinstance(request.match_info.http_exception, web.HTTPMethodNotAllowed):
        raise contract.method_not_allowed()
    if request["auth"] not in ("token", "global_key"):
        raise contract.auth_error()
    if request["json"] is _InvalidJson:
        raise contract.invalid(contract.INVALID_BODY, "Request body is not valid JSON")
    return await handler(request)


def _account_in(request: web.Request) -> str:
    # A route matched only by path (wrong method) has no match_info: read the id from the path.
    parts = request.path.split("/")
    return parts[4] if len(parts) > 4 else ""


async def _answer_fault(fault: Fault, record: RequestRecord) -> web.Response:
    record.fault = fault.mode  # logged at once: a client may look before a hang ends
    if fault.mode == "body":
        response = json_response(fault.status, fault.body)
    else:
        if fault.mode == "hang":
            await asyncio.sleep(fault.hang_seconds)
        headers = {"Retry-After": str(fault.retry_after)} if fault.mode == "429" else None
        response = answer_response(FAULT_ANSWERS[fault.mode], headers)
    record.status = response.status
    return response


async def create(request: web.Request) -> web.Response:
    billing = request.app[billing_key]
    result = await billing.create_topup(request.match_info["account_id"], request["json"])
    return json_response(200, contract.envelope(result))


async def status(request: web.Request) -> web.Response:
    billing = request.app[billing_key]
    result = await billing.topup_status(request.match_info["account_id"], request["json"])
    return json_response(200, contract.envelope(result))


async def limits(request: web.Request) -> web.Response:
    if not request.app[config_key].limits_enabled:
        raise contract.no_route()
    result = request.app[billing_key].limits(request.match_info["account_id"])
    return json_response(200, contract.envelope(result))


def _ok(result) -> web.Response:
    return json_response(200, contract.envelope(result))


async def balance(request: web.Request) -> web.Response:
    account = request.app[account_key]
    return _ok(await account.credit_balance(request.match_info["account_id"]))


async def config_get(request: web.Request) -> web.Response:
    return _ok(await request.app[account_key].topup_config(request.match_info["account_id"]))


async def config_set(request: web.Request) -> web.Response:
    account = request.app[account_key]
    return _ok(await account.set_topup_config(request.match_info["account_id"], request["json"]))


async def config_delete(request: web.Request) -> web.Response:
    await request.app[account_key].delete_topup_config(request.match_info["account_id"])
    return _ok(None)


async def invoices(request: web.Request) -> web.Response:
    account_id = request.match_info["account_id"]

    def pdf_url(invoice_id: str) -> str:
        return f"{request.url.origin()}/__sandbox/invoices/{account_id}/{invoice_id}.pdf"

    account = request.app[account_key]
    return _ok(await account.invoice_history(account_id, request.query, pdf_url))


async def preview(request: web.Request) -> web.Response:
    return _ok(await request.app[account_key].invoice_preview(request.match_info["account_id"]))


async def usage(request: web.Request) -> web.Response:
    account = request.app[account_key]
    return _ok(await account.usage_history(request.match_info["account_id"], request.query))


async def invoice_pdf(request: web.Request) -> web.Response:
    """Where an invoice's `invoice_pdf` points (Stripe hosts these for Cloudflare)."""
    account_id, invoice_id = request.match_info["account_id"], request.match_info["invoice_id"]
    entry = request.app[account_key].invoice(account_id, invoice_id)
    if entry is None:
        raise web.HTTPNotFound()
    body = text_pdf(
        [
            "Cloudflare AI Gateway credits (sandbox invoice)",
            f"Invoice {entry.id}",
            f"Account {account_id}",
            f"{entry.description} ({entry.kind})",
            f"Amount paid: ${entry.amount / 100:,.2f} USD",
            f"Status: {entry.status}",
        ]
    )
    return web.Response(body=body, content_type="application/pdf")


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_post(BILLING + "topup", create, name="create")
    router.add_post(BILLING + "topup/status", status, name="status")
    router.add_get(BILLING + "topup/limits", limits, name="limits", allow_head=False)
    router.add_get(BILLING + "credit-balance", balance, name="balance", allow_head=False)
    config = router.add_resource(BILLING + "topup/config", name="config")
    config.add_route("GET", config_get)
    config.add_route("POST", config_set)
    config.add_route("DELETE", config_delete)
    router.add_get(BILLING + "invoice-history", invoices, name="invoices", allow_head=False)
    router.add_get(BILLING + "invoice-preview", preview, name="preview", allow_head=False)
    router.add_get(BILLING + "usage-history", usage, name="usage", allow_head=False)
    router.add_get(
        "/__sandbox/invoices/{account_id}/{invoice_id}.pdf", invoice_pdf, allow_head=False
    )
