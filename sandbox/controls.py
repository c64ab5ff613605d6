"""Test and demo controls under /__sandbox/. JSON in, JSON out.

GET    /__sandbox/health    — up, and which localstripe it uses
GET    /__sandbox/faults    — the planned faults not yet used up
POST   /__sandbox/faults    — plan one (sandbox.cloudflare.faults.Fault's fields)
DELETE /__sandbox/faults    — drop them all
GET    /__sandbox/requests  — the log of calls to /client/v4
DELETE /__sandbox/requests  — empty it
GET    /__sandbox/config    — the runtime settings (RUNTIME_SETTINGS)
POST   /__sandbox/config    — change some of them
POST   /__sandbox/balance   — set an account's balance and hourly spend
POST   /__sandbox/reset     — forget everything (the notification receivers' too); optionally
                              open the demo books
"""

import math
from decimal import Decimal

from aiohttp import web

from sandbox.cloudflare.faults import Fault
from sandbox.cloudflare.routes import (
    account_key,
    config_key,
    faults_key,
    json_response,
    read_json,
)
from sandbox.payments import Payments
from sandbox.receivers import forget_everything as forget_received

RUNTIME_SETTINGS = {
    "settle_seconds": (int, float),
    "latency_ms": (int,),
    "limits_enabled": (bool,),
    "topup_config_writes": (bool,),
    # The credentials it accepts (the emulator's own, not secrets): tests use recognisable ones.
    "api_token": (str,),
    "email": (str,),
    "global_key": (str,),
}

payments_key = web.AppKey("payments", Payments)
initial_settings_key = web.AppKey("initial_settings", dict)


async def health(request: web.Request) -> web.Response:
    return json_response(200, {"ok": True, "localstripe": request.app[config_key].localstripe_url})


async def list_faults(request: web.Request) -> web.Response:
    return json_response(200, {"faults": request.app[faults_key].pending()})


async def add_fault(request: web.Request) -> web.Response:
    body = await read_json(request)
    try:
        fault = Fault(**(body if isinstance(body, dict) else {}))
    except (TypeError, ValueError) as exc:
        return json_response(400, {"error": str(exc)})
    request.app[faults_key].add(fault)
    return json_response(201, {"faults": request.app[faults_key].pending()})


async def clear_faults(request: web.Request) -> web.Response:
    request.app[faults_key].clear()
    return json_response(200, {"faults": []})


async def list_requests(request: web.Request) -> web.Response:
    return json_response(200, {"requests": request.app[faults_key].requests()})


async def clear_requests(request: web.Request) -> web.Response:
    request.app[faults_key].clear_log()
    return json_response(200, {"requests": []})


def _settings(config) -> dict:
    return {key: getattr(config, key) for key in RUNTIME_SETTINGS}


async def get_config(request: web.Request) -> web.Response:
    return json_response(200, _settings(request.app[config_key]))


async def set_config(request: web.Request) -> web.Response:
    body = await read_json(request)
    config = request.app[config_key]
    if not isinstance(body, dict):
        return json_response(400, {"error": "expected a JSON object"})
    for key, value in body.items():
        if key not in RUNTIME_SETTINGS:
            known = ", ".join(RUNTIME_SETTINGS)
            return json_response(400, {"error": f"unknown setting {key!r}; known: {known}"})
        if type(value) not in RUNTIME_SETTINGS[key] or _out_of_range(value):
            return json_response(400, {"error": f"bad value for {key!r}"})
    for key, value in body.items():
        setattr(config, key, value)
    return json_response(200, _settings(config))


def _out_of_range(value) -> bool:
    if isinstance(value, str):
        return not value
    return not isinstance(value, bool) and value < 0


async def set_balance(request: web.Request) -> web.Response:
    """`{"balance": -320, "hourly_rate": 0.5, "account_id": "..."}`: the account's balance now, in
    cents (below zero too, as Cloudflare's can be), and optionally its mean spend per hour over
    the last 30 days. The account defaults to the first one."""
    body = await read_json(request)
    if not isinstance(body, dict):
        return json_response(400, {"error": "expected a JSON object"})
    accounts = request.app[config_key].accounts
    account_id = body.get("account_id", accounts[0])
    if account_id not in accounts:
        return json_response(400, {"error": f"unknown account; known: {', '.join(accounts)}"})
    balance, rate = body.get("balance"), body.get("hourly_rate")
    if not _finite_number(balance):
        return json_response(400, {"error": "balance must be a number of cents"})
    if rate is not None and not (_finite_number(rate) and rate >= 0):
        return json_response(400, {"error": "hourly_rate must be a number of cents, at least 0"})
    result = await request.app[account_key].set_balance(
        account_id, Decimal(str(balance)), None if rate is None else Decimal(str(rate))
    )
    return json_response(200, {"account_id": account_id, "balance": result["balance"]})


def _finite_number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


async def reset(request: web.Request) -> web.Response:
    """Forget everything; `{"demo_history": true}` opens the books with the demo past (which
    `python -m sandbox` does at start unless --no-demo-history)."""
    app = request.app
    body = await read_json(request)
    demo_history = body.get("demo_history", False) if isinstance(body, dict) else False
    if type(demo_history) is not bool:
        return json_response(400, {"error": "demo_history must be true or false"})
    app[faults_key].clear()
    app[faults_key].clear_log()
    forget_received(app)
    config = app[config_key]
    for key, value in app[initial_settings_key].items():
        setattr(config, key, value)
    await app[payments_key].forget_everything()
    config.demo_history = demo_history
    await app[account_key].open_books()
    return json_response(200, {"ok": True})


def add_routes(app: web.Application) -> None:
    app[initial_settings_key] = _settings(app[config_key])
    router = app.router
    router.add_get("/__sandbox/health", health, allow_head=False)
    router.add_get("/__sandbox/faults", list_faults, allow_head=False)
    router.add_post("/__sandbox/faults", add_fault)
    router.add_delete("/__sandbox/faults", clear_faults)
    router.add_get("/__sandbox/requests", list_requests, allow_head=False)
    router.add_delete("/__sandbox/requests", clear_requests)
    router.add_get("/__sandbox/config", get_config, allow_head=False)
    router.add_post("/__sandbox/config", set_config)
    router.add_post("/__sandbox/balance", set_balance)
    router.add_post("/__sandbox/reset", reset)
