"""Cloudflare's v4 response envelope and the errors the sandbox answers with.

Shapes follow shared/reference/cloudflare-billing-api.md: every answer is
`{"success", "errors", "messages", "result"}`, and `success: false` always carries a non-empty
`errors` list of `{"code", "message"}`. The codes for auth (10000), account access (9109) and
routing (7000/7003) are the ones Cloudflare's API uses everywhere; the billing validation codes
are the sandbox's own, kept in this one table.
"""

import json
from dataclasses import dataclass


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


AUTH_ERROR = 10000
ACCOUNT_FORBIDDEN = 9109
NO_ROUTE = 7000
BAD_IDENTIFIER = 7003
METHOD_NOT_ALLOWED = 10405
INVALID_BODY = 10001
INVALID_AMOUNT = 10002
INVALID_PAYMENT_METHOD = 10003
TOPUP_NOT_FOUND = 10004
CARD_DECLINED = 10005


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
