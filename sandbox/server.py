"""The sandbox's HTTP server: Cloudflare's billing routes, the Stripe.js stand-in, and controls.

Routes:
  /client/v4/accounts/{id}/ai-gateway/billing/topup           POST  create
  /client/v4/accounts/{id}/ai-gateway/billing/topup/status    POST  status
  /client/v4/accounts/{id}/ai-gateway/billing/topup/limits    GET   limits
  /stripe-js/v3/                                              GET   Stripe.js stand-in
  /__sandbox/stripe/...                                       Stripe.js stand-in's backend
  /__sandbox/faults | requests | config | reset | health      test and demo controls
"""

import json
import logging
import re
import secrets
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import stripe

from sandbox import contract
from sandbox.billing import BillingEmulator, BrowserPaymentError
from sandbox.config import STRIPE_PUBLISHABLE_KEY, SandboxConfig
from sandbox.faults import Fault, FaultBoard

logger = logging.getLogger("sandbox")

STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/client/v4"
BILLING_ROUTE = re.compile(
    r"^/client/v4/accounts/(?P<account>[^/]+)/ai-gateway/billing/(?P<rest>topup(?:/status|/limits)?)$"
)
ACCOUNT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
# endpoint name -> allowed method
BILLING_ENDPOINTS = {
    "topup": ("create", "POST"),
    "topup/status": ("status", "POST"),
    "topup/limits": ("limits", "GET"),
}
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
RUNTIME_SETTINGS = {"settle_seconds": (int, float), "latency_ms": (int,), "limits_enabled": (bool,)}


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.billing = BillingEmulator(config)
        self.faults = FaultBoard()
        self.initial_settings = {key: getattr(config, key) for key in RUNTIME_SETTINGS}
        super().__init__((config.host, config.api_port), SandboxHandler)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer
    server_version = "cloudflare-sandbox"
    sys_version = ""

    # --- plumbing -----------------------------------------------------------------------------

    def log_message(self, format, *args):
        logger.info("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_OPTIONS(self):
        # CORS preflight for the Stripe.js stand-in, which the page calls cross-origin.
        self._send(HTTPStatus.NO_CONTENT, b"", "text/plain")

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None, raw
        try:
            return json.loads(raw), raw
        except ValueError:
            return _InvalidJson, raw

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. a "hang" fault outlived its timeout).
            self.close_connection = True

    def _json(self, status: int, payload, headers: dict | None = None):
        self._send(status, contract.dumps(payload), "application/json", headers)

    def _dispatch(self, method: str):
        path = urlsplit(self.path).path
        try:
            if path.startswith(API_PREFIX + "/"):
                self._billing(method, path)
            elif path in ("/stripe-js/v3", "/stripe-js/v3/"):
                self._stripe_js()
            elif path == "/stripe-js/v3/sandbox-elements.css":
                self._send(200, (STATIC_DIR / "sandbox-elements.css").read_bytes(), "text/css")
            elif path.startswith("/__sandbox/stripe/"):
                self._stripe_backend(method, path)
            elif path.startswith("/__sandbox/"):
                self._control(method, path)
            else:
                self._json(
                    404, contract.error_envelope((contract.NO_ROUTE, "No route for that URI"))
                )
        except Exception:
            logger.exception("Sandbox error on %s %s", method, path)
            self._json(500, contract.error_envelope((10500, "Internal sandbox error")))

    # --- Cloudflare billing API ---------------------------------------------------------------

    def _auth_scheme(self) -> str:
        config = self.server.config
        authorization = self.headers.get("Authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            ok = scheme == "Bearer" and secrets.compare_digest(token, config.api_token)
            return "token" if ok else "invalid"
        email, key = self.headers.get("X-Auth-Email"), self.headers.get("X-Auth-Key")
        if email or key:
            ok = email == config.email and secrets.compare_digest(key or "", config.global_key)
            return "global_key" if ok else "invalid"
        return "none"

    def _billing(self, method: str, path: str):
        body, raw = self._read_body() if method == "POST" else (None, b"")
        auth = self._auth_scheme()
        match = BILLING_ROUTE.match(path)
        endpoint = BILLING_ENDPOINTS[match["rest"]][0] if match else "unknown"
        record = self.server.faults.record(
            method=method,
            path=path,
            endpoint=endpoint,
            auth=auth,
            body=body if body is not _InvalidJson else raw.decode(errors="replace"),
        )
        if self.server.config.latency_ms:
            time.sleep(self.server.config.latency_ms / 1000)

        fault = self.server.faults.take(endpoint) if match else None
        if fault and not fault.apply:
            record.fault = fault.mode
            self._answer_fault(fault, record)
            return

        try:
            result = self._billing_result(method, path, match, auth, body)
            status, payload = 200, contract.envelope(result)
        except contract.ApiError as error:
            status, payload = error.http_status, error.body()
        except stripe.StripeError:
            logger.exception("localstripe failed")
            status, payload = 500, contract.error_envelope((10500, "Internal server error"))

        if fault:  # applied: the work is done, only the answer is spoiled
            record.fault = fault.mode
            self._answer_fault(fault, record)
            return
        record.status = status
        self._json(status, payload)

    def _billing_result(self, method, path, match, auth, body):
        if match is None:
            raise contract.no_route()
        account_id, rest = match["account"], match["rest"]
        if not ACCOUNT_ID_RE.match(account_id):
            raise contract.bad_identifier(path)
        endpoint, allowed_method = BILLING_ENDPOINTS[rest]
        if method != allowed_method:
            raise contract.method_not_allowed()
        if auth not in ("token", "global_key"):
            raise contract.auth_error()
        if body is _InvalidJson:
            raise contract.invalid(contract.INVALID_BODY, "Request body is not valid JSON")
        billing = self.server.billing
        if endpoint == "create":
            return billing.create_topup(account_id, body)
        if endpoint == "status":
            return billing.topup_status(account_id, body)
        if not self.server.config.limits_enabled:
            raise contract.no_route()
        return billing.limits(account_id)

    def _answer_fault(self, fault: Fault, record):
        mode = fault.mode
        if mode == "hang":
            time.sleep(fault.hang_seconds)
            record.status = 504
            self._json(504, contract.error_envelope((10504, "Gateway timeout")))
        elif mode == "500":
            record.status = 500
            self._json(500, contract.error_envelope((10500, "Internal server error")))
        elif mode == "429":
            record.status = 429
            self._json(
                429,
                contract.error_envelope(
                    (10429, "Rate limited. Please wait and consider throttling your request speed")
                ),
                {"Retry-After": str(fault.retry_after)},
            )
        elif mode == "html_502":
            record.status = 502
            self._send(502, HTML_502, "text/html")
        elif mode == "success_false":
            record.status = 200
            self._json(200, contract.error_envelope((10500, "Internal server error")))
        elif mode == "body":
            record.status = fault.status
            self._json(fault.status, fault.body)
        elif mode == "malformed_json":
            record.status = 200
            self._send(
                200,
                b'{"success": true, "errors": [], "result": {"payment_intent_id": ',
                "application/json",
            )

    # --- Stripe.js stand-in -------------------------------------------------------------------

    def _stripe_js(self):
        source = (STATIC_DIR / "stripe-v3.js").read_text()
        source = source.replace("__LOCALSTRIPE_URL__", self.server.config.localstripe_url)
        self._send(200, source.encode(), "application/javascript; charset=utf-8")

    def _stripe_backend(self, method: str, path: str):
        body, _ = self._read_body() if method == "POST" else (None, b"")
        if method == "GET":
            params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        else:
            params = body if isinstance(body, dict) else {}
        if not str(params.get("key", "")).startswith("pk_"):
            self._json(
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "api_key_invalid",
                        "message": "Invalid API Key provided.",
                    }
                },
            )
            return
        if params["key"] != STRIPE_PUBLISHABLE_KEY:
            self._json(
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "api_key_invalid",
                        "message": "Invalid API Key provided: " + params["key"][:12],
                    }
                },
            )
            return
        billing = self.server.billing
        client_secret = params.get("client_secret")
        try:
            if method == "GET" and path == "/__sandbox/stripe/payment_intent":
                self._json(200, billing.public_intent(client_secret))
            elif method == "POST" and path == "/__sandbox/stripe/confirm":
                card = params.get("card")
                self._json(
                    200,
                    billing.confirm_for_browser(
                        client_secret, card if isinstance(card, dict) else None
                    ),
                )
            elif method == "POST" and path == "/__sandbox/stripe/authenticated":
                self._json(200, billing.make_default_after_authentication(client_secret))
            else:
                self._json(
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "message": "Unrecognized request URL.",
                        }
                    },
                )
        except BrowserPaymentError as error:
            self._json(error.http_status, {"error": error.error})

    # --- controls -----------------------------------------------------------------------------

    def _control(self, method: str, path: str):
        body, _ = self._read_body() if method == "POST" else (None, b"")
        server = self.server
        if path == "/__sandbox/health" and method == "GET":
            self._json(200, {"ok": True, "localstripe": server.config.localstripe_url})
        elif path == "/__sandbox/faults" and method == "GET":
            self._json(200, {"faults": server.faults.pending()})
        elif path == "/__sandbox/faults" and method == "POST":
            try:
                fault = Fault(**(body if isinstance(body, dict) else {}))
            except (TypeError, ValueError) as exc:
                self._json(400, {"error": str(exc)})
                return
            server.faults.add(fault)
            self._json(201, {"faults": server.faults.pending()})
        elif path == "/__sandbox/faults" and method == "DELETE":
            server.faults.clear()
            self._json(200, {"faults": []})
        elif path == "/__sandbox/requests" and method == "GET":
            self._json(200, {"requests": server.faults.requests()})
        elif path == "/__sandbox/requests" and method == "DELETE":
            server.faults.clear_log()
            self._json(200, {"requests": []})
        elif path == "/__sandbox/config" and method in ("GET", "POST"):
            if method == "POST":
                error = _apply_runtime_settings(server.config, body)
                if error:
                    self._json(400, {"error": error})
                    return
            self._json(200, {key: getattr(server.config, key) for key in RUNTIME_SETTINGS})
        elif path == "/__sandbox/reset" and method == "POST":
            server.faults.clear()
            server.faults.clear_log()
            for key, value in server.initial_settings.items():
                setattr(server.config, key, value)
            server.billing.reset()
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": "unknown control route"})


def _apply_runtime_settings(config: SandboxConfig, body) -> str:
    if not isinstance(body, dict):
        return "expected a JSON object"
    for key, value in body.items():
        if key not in RUNTIME_SETTINGS:
            return f"unknown setting {key!r}; known: {', '.join(RUNTIME_SETTINGS)}"
        if type(value) not in RUNTIME_SETTINGS[key] or (not isinstance(value, bool) and value < 0):
            return f"bad value for {key!r}"
    for key, value in body.items():
        setattr(config, key, value)
    return ""


class _InvalidJsonType:
    pass


_InvalidJson = _InvalidJsonType()
