"""The one module that talks HTTP to Cloudflare's AI Gateway billing API.

Contract: `shared/reference/cloudflare-billing-api.md` (Cloudflare API v4, AI Gateway billing).
Every answer is parsed into a frozen dataclass; every failure is one of the `CloudflareError`
subclasses below, so callers never see `requests` or raw envelopes.

Retry policy, and why:
- Reads (status, limits) are idempotent: they are retried a few times with exponential backoff
  and jitter, honouring `Retry-After`, on timeouts, 5xx, unreadable answers and 429.
- Create moves money. It is sent exactly once. If the request may have reached Cloudflare and no
  usable answer came back (read timeout, dropped connection, 5xx, an unreadable or incomplete
  success), the card may already have been charged, so it raises `CloudflareOutcomeUnknown` and
  the caller must record that instead of trying again. Only failures that prove the request never
  arrived (connection refused, connect timeout) or that Cloudflare refused it (4xx, 429) are
  reported as definite.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter

logger = logging.getLogger(__name__)

USER_AGENT = "cloudflare-billing-portal/0.1 (+python-requests)"
STATUS_COMPLETED = "completed"
STATUS_PENDING = "pending"


# --- Exceptions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiMessage:
    """One entry of the envelope's `errors` or `messages` list."""

    code: int
    message: str


class CloudflareError(Exception):
    """Base of every failure this module raises. `retryable` says whether trying again is safe."""

    retryable = False
    default_message = "Cloudflare's billing API could not complete the request."

    def __init__(
        self,
        message: str = "",
        *,
        status_code: int | None = None,
        errors: tuple[ApiMessage, ...] = (),
    ):
        self.status_code = status_code
        self.errors = errors
        super().__init__(message or self.default_message)

    @property
    def user_message(self) -> str:
        """A plain sentence safe to show a user (never an internal error's text)."""
        return self.default_message


class CloudflareConfigurationError(CloudflareError):
    default_message = "The Cloudflare credentials for this account are not configured."


class CloudflareAuthError(CloudflareError):
    """401/403: the token or key is wrong, or lacks "AI Gateway Write" on this account."""

    default_message = "Cloudflare refused the credentials for this account."


class CloudflareValidationError(CloudflareError):
    """Cloudflare understood the request and refused it (4xx or `success: false`)."""

    default_message = "Cloudflare refused the request."

    @property
    def user_message(self) -> str:
        """Cloudflare's own words: they say what to change (e.g. the amount)."""
        messages = [error.message for error in self.errors if error.message]
        return " ".join(messages) or self.default_message


class CloudflareRateLimited(CloudflareError):
    """429: the token's request budget is spent; the request was not processed."""

    retryable = True
    default_message = "Cloudflare is rate limiting this account; try again shortly."

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class CloudflareUnavailable(CloudflareError):
    """Cloudflare could not be reached or gave an answer that cannot be read (reads only, or a
    create that provably never left this machine)."""

    retryable = True
    default_message = "Cloudflare's billing API is not reachable right now."


class CloudflareOutcomeUnknown(CloudflareError):
    """A create was sent and its answer was lost: the card may or may not have been charged."""

    default_message = (
        "Cloudflare did not confirm whether the top-up went through. Your card may or may not "
        "have been charged."
    )


# --- Typed results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TopUpCreated:
    payment_intent_id: str
    client_secret: str | None = field(repr=False)
    onboarding: bool
    brand: str | None
    last4: str | None

    @property
    def needs_browser_confirmation(self) -> bool:
        return self.client_secret is not None


@dataclass(frozen=True)
class TopUpStatus:
    payment_intent_id: str
    status: str

    @property
    def is_completed(self) -> bool:
        return self.status == STATUS_COMPLETED


@dataclass(frozen=True)
class TopUpLimits:
    currency: str
    min_cents: int
    max_cents: int
    from_api: bool


# --- Credentials ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """Either an API token (preferred) or the legacy email + global API key."""

    api_token: str = field(default="", repr=False)
    email: str = ""
    api_key: str = field(default="", repr=False)

    def __post_init__(self):
        if not self.api_token and not (self.email and self.api_key):
            raise CloudflareConfigurationError(
                "Set CLOUDFLARE_API_TOKEN, or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY."
            )

    @classmethod
    def from_settings(cls, credential: str = "api_token") -> Credentials:
        """The credential an account is configured to use, read from settings (the environment)."""
        if credential == "global_key":
            if not (settings.CLOUDFLARE_EMAIL and settings.CLOUDFLARE_API_KEY):
                raise CloudflareConfigurationError(
                    "This account uses the global API key: set CLOUDFLARE_EMAIL and "
                    "CLOUDFLARE_API_KEY."
                )
            return cls(email=settings.CLOUDFLARE_EMAIL, api_key=settings.CLOUDFLARE_API_KEY)
        if not settings.CLOUDFLARE_API_TOKEN:
            raise CloudflareConfigurationError(
                "This account uses an API token: set CLOUDFLARE_API_TOKEN."
            )
        return cls(api_token=settings.CLOUDFLARE_API_TOKEN)

    def headers(self) -> dict[str, str]:
        if self.api_token:
            return {"Authorization": f"Bearer {self.api_token}"}
        return {"X-Auth-Email": self.email, "X-Auth-Key": self.api_key}


# --- The client -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    # A Retry-After longer than this is not waited out inside a web request: the caller decides.
    max_retry_after: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.backoff_max, self.backoff_base * 2**attempt)
        jittered = random.uniform(backoff / 2, backoff)  # noqa: S311 - jitter, not crypto
        return max(jittered, retry_after or 0.0)


_sessions = threading.local()


def _pooled_session() -> requests.Session:
    """One pooled session per thread: requests.Session is not documented as thread-safe."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        # No transport-level retries at all: whether to retry is decided here, per call.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=10, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        _sessions.session = session
    return session


class CloudflareClient:
    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.credentials = credentials
        self.base_url = (base_url or settings.CLOUDFLARE_BASE_URL).rstrip("/")
        self.timeout = (
            connect_timeout if connect_timeout is not None else settings.CLOUDFLARE_CONNECT_TIMEOUT,
            read_timeout if read_timeout is not None else settings.CLOUDFLARE_READ_TIMEOUT,
        )
        self.retry = retry or RetryPolicy()
        self.session = session or _pooled_session()
        self._sleep = sleep

    @classmethod
    def for_account(cls, account, **kwargs) -> CloudflareClient:
        return cls(Credentials.from_settings(account.credential), **kwargs)

    # Reference: POST /accounts/{account_id}/ai-gateway/billing/topup
    def create_topup(
        self, account_id: str, *, amount_cents: int, payment_method_id: str | None = None
    ) -> TopUpCreated:
        """Ask Cloudflare to charge `amount_cents`. Sent once, never retried (see module doc)."""
        if type(amount_cents) is not int:
            raise TypeError("amount_cents must be an int")
        body: dict[str, Any] = {"amount": amount_cents}
        if payment_method_id:
            body["payment_method_id"] = payment_method_id
        result = self._send(
            "POST", f"/accounts/{account_id}/ai-gateway/billing/topup", body, moves_money=True
        )
        try:
            return _parse_created(result)
        except _MalformedResult as exc:
            logger.error("Create answered success without a usable result: %s", exc)
            raise CloudflareOutcomeUnknown(
                f"Cloudflare's create answer was incomplete: {exc}"
            ) from exc

    # Reference: POST /accounts/{account_id}/ai-gateway/billing/topup/status
    def topup_status(self, account_id: str, payment_intent_id: str) -> TopUpStatus:
        path = f"/accounts/{account_id}/ai-gateway/billing/topup/status"
        return self._read(
            "POST", path, {"payment_intent_id": payment_intent_id}, parse=_parse_status
        )

    # Reference: GET /accounts/{account_id}/ai-gateway/billing/topup/limits (optional endpoint)
    def topup_limits(self, account_id: str) -> TopUpLimits:
        """The limits endpoint if it answers; otherwise 1000 cents and TOPUP_MAX_CENTS."""
        path = f"/accounts/{account_id}/ai-gateway/billing/topup/limits"
        try:
            return self._read("GET", path, None, parse=_parse_limits)
        except CloudflareError as exc:
            logger.info("Top-up limits unavailable (%s); using the configured fallback.", exc)
            return TopUpLimits(
                currency="usd",
                min_cents=settings.TOPUP_MIN_CENTS_FALLBACK,
                max_cents=settings.TOPUP_MAX_CENTS,
                from_api=False,
            )

    # --- transport ----------------------------------------------------------------------------

    def _read(self, method: str, path: str, body, *, parse):
        """An idempotent call: retried with backoff on retryable failures."""
        for attempt in range(self.retry.attempts):
            try:
                result = self._send(method, path, body, moves_money=False)
                try:
                    return parse(result)
                except _MalformedResult as exc:
                    raise CloudflareUnavailable(
                        f"Unreadable answer from Cloudflare: {exc}"
                    ) from exc
            except CloudflareError as exc:
                retry_after = getattr(exc, "retry_after", None)
                last_attempt = attempt == self.retry.attempts - 1
                too_long = retry_after is not None and retry_after > self.retry.max_retry_after
                if not exc.retryable or last_attempt or too_long:
                    raise
                delay = self.retry.delay(attempt, retry_after)
                logger.warning(
                    "%s %s failed (%s); retry %d in %.2fs",
                    method,
                    path,
                    type(exc).__name__,
                    attempt + 1,
                    delay,
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, body, *, moves_money: bool) -> Any:
        url = f"{self.base_url}{path}"
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                json=body,
                headers=self.credentials.headers(),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            if _never_sent(exc):
                raise CloudflareUnavailable(f"Could not connect to Cloudflare: {exc}") from exc
            if moves_money:
                logger.error("Create sent to Cloudflare but no answer arrived: %s", exc)
                raise CloudflareOutcomeUnknown(f"No answer to create: {exc}") from exc
            raise CloudflareUnavailable(f"No answer from Cloudflare: {exc}") from exc
        logger.debug(
            "%s %s -> %s in %.0fms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return _unwrap(response, moves_money=moves_money)


# --- parsing ----------------------------------------------------------------------------------


class _MalformedResult(ValueError):
    pass


def _never_sent(exc: requests.RequestException) -> bool:
    """True only when the request provably never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        # NewConnectionError (refused, DNS failure) subclasses ConnectTimeoutError in urllib3.
        if isinstance(cause, urllib3.exceptions.ConnectTimeoutError):
            return True
        nested = getattr(cause, "reason", None)
        if nested is None and cause.args and isinstance(cause.args[0], BaseException):
            nested = cause.args[0]
        cause = nested or cause.__cause__ or cause.__context__
    return False


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _messages(raw) -> tuple[ApiMessage, ...]:
    if not isinstance(raw, list):
        return ()
    parsed = []
    for item in raw:
        if isinstance(item, dict):
            code = item.get("code")
            parsed.append(
                ApiMessage(
                    code=code if isinstance(code, int) else 0,
                    message=str(item.get("message") or ""),
                )
            )
    return tuple(parsed)


def _unwrap(response: requests.Response, *, moves_money: bool) -> Any:
    """Turn an HTTP answer into the envelope's `result`, or the right exception."""
    status = response.status_code
    try:
        payload = response.json()
    except ValueError:
        payload = None
    envelope = (
        payload if isinstance(payload, dict) and isinstance(payload.get("success"), bool) else None
    )
    errors = _messages(envelope.get("errors")) if envelope else ()

    if status == 429:
        # Rejected before processing: nothing was charged, whatever the call.
        raise CloudflareRateLimited(
            retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            status_code=status,
            errors=errors,
        )
    if status in (401, 403):
        raise CloudflareAuthError(status_code=status, errors=errors)
    if 400 <= status < 500 and envelope is not None and not envelope["success"]:
        raise CloudflareValidationError(status_code=status, errors=errors)
    if status < 300 and envelope is not None:
        if envelope["success"]:
            return envelope.get("result")
        if errors:
            raise CloudflareValidationError(status_code=status, errors=errors)

    # 5xx, a redirect, an HTML error page, malformed JSON, or an envelope that breaks the
    # contract: nothing here tells whether a create was carried out.
    description = f"HTTP {status} with an unreadable or unexpected body"
    if moves_money:
        logger.error("Create answered %s; outcome unknown", description)
        raise CloudflareOutcomeUnknown(description, status_code=status, errors=errors)
    raise CloudflareUnavailable(description, status_code=status, errors=errors)


def _require(result: dict, key: str, types: tuple[type, ...], *, nullable: bool = False):
    if key not in result:
        raise _MalformedResult(f"missing {key!r}")
    value = result[key]
    if value is None and nullable:
        return None
    if type(value) not in types:
        raise _MalformedResult(f"{key!r} has type {type(value).__name__}")
    return value


def _parse_created(result) -> TopUpCreated:
    if not isinstance(result, dict):
        raise _MalformedResult("result is not an object")
    payment_intent_id = _require(result, "payment_intent_id", (str,))
    if not payment_intent_id:
        raise _MalformedResult("empty 'payment_intent_id'")
    client_secret = _require(result, "client_secret", (str,), nullable=True)
    onboarding = _require(result, "onboarding", (bool,))
    # brand/last4 are null when there is no saved card; tolerate them being left out entirely.
    brand = result.get("brand")
    last4 = result.get("last4")
    if brand is not None and not isinstance(brand, str):
        raise _MalformedResult("'brand' is not a string")
    if last4 is not None and not (isinstance(last4, str) and len(last4) == 4 and last4.isdigit()):
        raise _MalformedResult("'last4' is not four digits")
    return TopUpCreated(
        payment_intent_id=payment_intent_id,
        client_secret=client_secret or None,
        onboarding=onboarding,
        brand=brand or None,
        last4=last4,
    )


def _parse_status(result) -> TopUpStatus:
    if not isinstance(result, dict):
        raise _MalformedResult("result is not an object")
    payment_intent_id = _require(result, "payment_intent_id", (str,))
    status = _require(result, "status", (str,))
    if status not in (STATUS_COMPLETED, STATUS_PENDING):
        # Anything new is treated as "not completed": never mark money as arrived on a guess.
        logger.warning("Unknown top-up status %r treated as pending", status)
        status = STATUS_PENDING
    return TopUpStatus(payment_intent_id=payment_intent_id, status=status)


def _parse_limits(result) -> TopUpLimits:
    if not isinstance(result, dict):
        raise _MalformedResult("result is not an object")
    min_cents = _require(result, "min_cents", (int,))
    max_cents = _require(result, "max_cents", (int,))
    if not 0 < min_cents <= max_cents:
        raise _MalformedResult("limits are not an increasing pair of positive integers")
    currency = result.get("currency") or "usd"
    return TopUpLimits(
        currency=str(currency), min_cents=min_cents, max_cents=max_cents, from_api=True
    )
