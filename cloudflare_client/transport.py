"""HTTP to Cloudflare's API v4: sessions, explicit timeouts, the envelope, and the retry policy.

Retry policy, and why:
- Reads are idempotent. urllib3's `Retry` repeats them on connection errors, read timeouts,
  429 and 5xx, with exponential backoff and jitter, honouring `Retry-After` up to
  `max_retry_after` seconds; a longer `Retry-After` is not waited out inside a web request but
  raised at once as `CloudflareRateLimited`, for the caller to decide.
- A call that moves money is sent exactly once. If it may have reached Cloudflare and no usable
  answer came back (read timeout, dropped connection, 5xx, an unreadable or incomplete success),
  the card may already have been charged: `CloudflareOutcomeUnknown`, never a second try. Only
  failures that prove the request never arrived (connection refused, connect timeout) or that
  Cloudflare refused it (4xx, 429) are reported as definite.

requests fixes retries per adapter, so the two policies live in two sessions.

A `CallGate` (optional) is asked before every call that would reach Cloudflare, retries
included (after their pause, so a short `Retry-After` is waited out, then sent), and told of
every 429: the Django side keeps one budget per credential in the database
so that every worker and machine shares Cloudflare's rate limit.

`read_slots` (optional, a semaphore) bounds how many threads may wait on reads at once: a read
that finds no free slot within `read_slot_wait` seconds is not sent (`CloudflareBusy`), so a slow
Cloudflare can hold at most that many of a web server's threads. Writes never wait for a slot: a
create is the customer's act.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from cloudflare_client.errors import (
    ApiMessage,
    CloudflareAuthError,
    CloudflareBusy,
    CloudflareNotFound,
    CloudflareOutcomeUnknown,
    CloudflareRateLimited,
    CloudflareSlow,
    CloudflareUnavailable,
    CloudflareValidationError,
)
from cloudflare_client.parsing import MalformedResult
from cloudflare_client.types import Credentials

logger = logging.getLogger(__name__)

LIVE_BASE_URL = "https://api.cloudflare.com/client/v4"
USER_AGENT = "cloudflare-billing-portal/0.1 (+python-requests)"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
Parsed = TypeVar("Parsed")


class CallGate(Protocol):
    def admit(self, *, moves_money: bool) -> None:
        """Raise CloudflareBudgetExhausted to keep a call from being sent."""

    def rate_limited(self, retry_after: float | None) -> None:
        """Cloudflare answered 429, asking to wait `retry_after` seconds (None: it did not say)."""


class Slots(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...


class ReadRetry(Retry):
    """urllib3's Retry, except that a retry must also pass the gate, and a `Retry-After` longer
    than `max_retry_after` ends the retries at once (urllib3 would wait it out, or clamp it and
    ask again too early). Ending the retries hands the last answer back to the caller.

    The gate is asked after urllib3's pause, when the retry is about to be sent: a 429's own
    cool-down has ended by then, while other callers were kept waiting through it. A retry the
    gate refuses is not sent, and the gate's CloudflareBudgetExhausted reaches the caller."""

    def __init__(
        self,
        *args: Any,
        max_retry_after: float = 10.0,
        gate: CallGate | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.max_retry_after = max_retry_after
        self.gate = gate

    def new(self, **kwargs: Any) -> ReadRetry:
        kwargs.setdefault("max_retry_after", self.max_retry_after)
        kwargs.setdefault("gate", self.gate)
        return super().new(**kwargs)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> ReadRetry:
        retry_after = self.get_retry_after(response) if response is not None else None
        if response is not None and response.status == 429 and self.gate is not None:
            self.gate.rate_limited(retry_after)
        if retry_after is not None and retry_after > self.max_retry_after:
            # urllib3's own increment passes the same possibly-None pool.
            raise MaxRetryError(_pool, url, ResponseError("Retry-After too long"))  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """urllib3 calls this between an answer and the retry; it sends the retry right after."""
        super().sleep(response)
        if self.gate is not None:
            self.gate.admit(moves_money=False)


def _session(base_url: str, max_retries: Retry | int) -> requests.Session:
    session = requests.Session()
    # The environment (proxies and NO_PROXY for this base URL, the CA bundle) is read once here
    # rather than on every call; and no ~/.netrc entry can ever replace the credential's headers.
    environment = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies, session.verify = environment["proxies"], environment["verify"]
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=10, max_retries=max_retries)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    return session


class Transport:
    """Sends calls to one base URL with one credential. Not shared between threads: requests'
    sessions are not documented as thread-safe (the Django adapter keeps one per thread)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = LIVE_BASE_URL,
        connect_timeout: float = 3.05,
        read_timeout: float = 20.0,
        read_attempts: int = 3,
        write_timeout: float | None = None,
        backoff_factor: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 10.0,
        gate: CallGate | None = None,
        read_slots: Slots | None = None,
        read_slot_wait: float = 0.0,
    ):
        self.credentials = credentials
        self.gate = gate
        self.read_slots = read_slots
        self.read_slot_wait = read_slot_wait
        self.base_url = base_url.rstrip("/")
        self.read_timeouts = (connect_timeout, read_timeout)
        # A money-moving call is cut short only at the cost of an unknown outcome: writes keep
        # their own (by default the same) read timeout.
        self.write_timeouts = (connect_timeout, write_timeout or read_timeout)
        # How long one read can take at worst, every attempt and pause included: whoever claims
        # the right to make a call holds it at least this long.
        self.longest_read_seconds = (
            read_attempts * (connect_timeout + read_timeout)
            + (read_attempts - 1) * max(backoff_max, max_retry_after)
            + 1
        )
        read_retry = ReadRetry(
            total=read_attempts - 1,
            redirect=0,
            status_forcelist=RETRYABLE_STATUSES,
            # The status call is a POST that only reads; this session never sends a write.
            allowed_methods=frozenset({"GET", "POST"}),
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            backoff_jitter=backoff_factor,
            raise_on_status=False,
            raise_on_redirect=False,
            max_retry_after=max_retry_after,
            gate=gate,
        )
        self._reads = _session(self.base_url, read_retry)
        self._writes = _session(self.base_url, 0)

    def read(
        self, method: str, path: str, body: Any = None, *, parse: Callable[[Any], Parsed]
    ) -> Parsed:
        """An idempotent call, retried by urllib3 as the module doc says."""
        if self.read_slots is not None and not self._read_slot(self.read_slots):
            raise CloudflareBusy(f"{method} {path} not sent: every read slot is waiting")
        try:
            result = self._send(self._reads, method, path, body, moves_money=False)
        finally:
            if self.read_slots is not None:
                self.read_slots.release()
        try:
            return parse(result)
        except MalformedResult as exc:
            raise CloudflareUnavailable(f"Unreadable answer from Cloudflare: {exc}") from exc

    def _read_slot(self, slots: Slots) -> bool:
        if self.read_slot_wait > 0:
            return slots.acquire(timeout=self.read_slot_wait)
        return slots.acquire(blocking=False)

    def send_once(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        parse: Callable[[Any], Parsed],
        moves_money: bool,
    ) -> Parsed:
        """A write, sent exactly once. A lost answer to a money-moving call is OutcomeUnknown."""
        result = self._send(
            self._writes, method, path, body, moves_money=moves_money, timeouts=self.write_timeouts
        )
        try:
            return parse(result)
        except MalformedResult as exc:
            if moves_money:
                logger.error(
                    "%s %s answered success without a usable result: %s", method, path, exc
                )
                raise CloudflareOutcomeUnknown(
                    f"Cloudflare's answer was incomplete: {exc}"
                ) from exc
            raise CloudflareUnavailable(f"Unreadable answer from Cloudflare: {exc}") from exc

    def _send(
        self,
        session: requests.Session,
        method: str,
        path: str,
        body: Any,
        *,
        moves_money: bool,
        timeouts: tuple[float, float] | None = None,
    ) -> Any:
        if self.gate is not None:
            self.gate.admit(moves_money=moves_money)
        started = time.monotonic()
        try:
            response = session.request(
                method,
                f"{self.base_url}{path}",
                json=body,
                headers=self.credentials.headers(),
                timeout=timeouts or self.read_timeouts,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            if _never_sent(exc):
                raise CloudflareUnavailable(f"Could not connect to Cloudflare: {exc}") from exc
            if moves_money:
                logger.error("%s %s sent but no answer arrived: %s", method, path, exc)
                raise CloudflareOutcomeUnknown(f"No answer to {method} {path}: {exc}") from exc
            if _timed_out(exc):
                raise CloudflareSlow(f"No answer from Cloudflare in time: {exc}") from exc
            raise CloudflareUnavailable(f"No answer from Cloudflare: {exc}") from exc
        logger.debug(
            "%s %s -> %s in %.0fms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        try:
            return _unwrap(response, moves_money=moves_money)
        except CloudflareRateLimited as exc:
            if self.gate is not None:
                self.gate.rate_limited(exc.retry_after)
            raise


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


def _timed_out(exc: requests.RequestException) -> bool:
    """A read timeout, on the last attempt or wrapped in urllib3's MaxRetryError."""
    if isinstance(exc, requests.ReadTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.ReadTimeoutError)


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    # urllib3 parses both forms (seconds and HTTP date) the same way it does when retrying.
    try:
        return Retry().parse_retry_after(value)
    except urllib3.exceptions.InvalidHeader:
        return None


def _messages(raw: object) -> tuple[ApiMessage, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        ApiMessage(
            code=item["code"] if isinstance(item.get("code"), int) else 0,
            message=str(item.get("message") or ""),
        )
        for item in raw
        if isinstance(item, dict)
    )


def _unwrap(response: requests.Response, *, moves_money: bool) -> Any:
    """Turn an HTTP answer into the envelope's `result`, or the right exception."""
    status = response.status_code
    try:
        # Every money figure is in cents and may be fractional: never let one become a float.
        payload = response.json(parse_float=Decimal)
    except ValueError:
        payload = None
    envelope = (
        payload if isinstance(payload, dict) and isinstance(payload.get("success"), bool) else None
    )
    errors = _messages(envelope.get("errors")) if envelope else ()

    if status == 429:
        # Rejected before processing: nothing was charged, whatever the call.
        raise CloudflareRateLimited(
            retry_after=_retry_after_seconds(response), status_code=status, errors=errors
        )
    if status in (401, 403):
        raise CloudflareAuthError(status_code=status, errors=errors)
    if 400 <= status < 500 and envelope is not None and not envelope["success"]:
        error_class = CloudflareNotFound if status == 404 else CloudflareValidationError
        raise error_class(status_code=status, errors=errors)
    if status < 300 and envelope is not None:
        if envelope["success"]:
            return envelope.get("result")
        if errors:
            raise CloudflareValidationError(status_code=status, errors=errors)

    # 5xx, a redirect, an HTML error page, malformed JSON, or an envelope that breaks the
    # contract: nothing here tells whether a write was carried out.
    description = f"HTTP {status} with an unreadable or unexpected body"
    if moves_money:
        logger.error("A money-moving call answered %s; outcome unknown", description)
        raise CloudflareOutcomeUnknown(description, status_code=status, errors=errors)
    raise CloudflareUnavailable(description, status_code=status, errors=errors)
