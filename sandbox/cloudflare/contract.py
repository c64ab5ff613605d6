"""Cloudflare's v4 response envelope and the errors the sandbox answers with.

Shapes follow Cloudflare's API reference (https://developers.cloudflare.com/api/, AI Gateway
billing): every answer is `{"success", "errors", "messages", "result"}`, and `success: false` always
carries a non-empty `errors` list of `{"code", "message"}`.

Which error codes are whose:
- CLOUDFLARE_CODES are the ones Cloudflare's API answers everywhere (authentication, account
  access, routing); a client may rely on them.
- SANDBOX_CODES are the sandbox's own invention: Cloudflare does not document the codes of its
  billing validation errors or of its 5xx/429 answers, so the sandbox picks codes in its own
  range. A client must not branch on them; tests may.
"""

import json
from dataclasses import dataclass

# Cloudflare's own codes.
AUTH_ERROR = 10000
ACCOUNT_FORBIDDEN = 9109
NO_ROUTE = 7000
BAD_IDENTIFIER = 7003
CLOUDFLARE_CODES = frozenset({AUTH_ERROR, ACCOUNT_FORBIDDEN, NO_ROUTE, BAD_IDENTIFIER})

# The sandbox's own codes.
INVALID_BODY = 10001
INVALID_AMOUNT = 10002
INVALID_PAYMENT_METHOD = 10003
TOPUP_NOT_FOUND = 10004
CARD_DECLINED = 10005
INVALID_QUERY = 10006
DASHBOARD_ONLY = 10403
METHOD_NOT_ALLOWED = 10405
FAULT_RATE_LIMITED = 10429
FAULT_SERVER_ERROR = 10500
FAULT_GATEWAY_TIMEOUT = 10504
SANDBOX_CODES = frozenset(
    {
        INVALID_BODY,
        INVALID_AMOUNT,
        INVALID_PAYMENT_METHOD,
        TOPUP_NOT_FOUND,
        CARD_DECLINED,
        INVALID_QUERY,
        DASHBOARD_ONLY,
        METHOD_NOT_ALLOWED,
        FAULT_RATE_LIMITED,
        FAULT_SERVER_ERROR,
        FAULT_GATEWAY_TIMEOUT,
    }
)


def envelope(result) -> dict:
    return {"success": True, "errors": [], "messages": [], "result": result}


def error_envelope(*errors: tuple[int, str]) -> dict:
    return {
        "success": False,
        "errors": [{"code": code, "message": message} for code, message in errors],
        "messages": [],
        "result": None,
    }


def dumps(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass
class ApiError(Exception):
    """Raised inside the emulator; the server turns it into a `success: false` answer."""

    http_status: int
    errors: tuple[tuple[int, str], ...]

    def body(self) -> dict:
        return error_envelope(*self.errors)


def auth_error() -> ApiError:
    return ApiError(403, ((AUTH_ERROR, "Authentication error"),))


def account_forbidden() -> ApiError:
    return ApiError(403, ((ACCOUNT_FORBIDDEN, "Unauthorized to access requested resource"),))


def bad_identifier(path: str) -> ApiError:
    return ApiError(
        400,
        (
            (
                BAD_IDENTIFIER,
                f"Could not route to {path}, perhaps your object identifier is invalid?",
            ),
            (NO_ROUTE, "No route for that URI"),
        ),
    )


def no_route() -> ApiError:
    return ApiError(404, ((NO_ROUTE, "No route for that URI"),))


def method_not_allowed() -> ApiError:
    return ApiError(405, ((METHOD_NOT_ALLOWED, "Method not allowed"),))


def invalid(code: int, message: str, http_status: int = 400) -> ApiError:
    return ApiError(http_status, ((code, message),))
