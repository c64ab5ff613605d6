"""The Django side of `cloudflare_client`: settings and an account row in, a client out.

A client (and its pooled HTTP sessions) is kept per thread and per configuration, so a worker
reuses connections to Cloudflare instead of opening one per call. Every client spends its
credential's API budget, held in the database (accounts.budget).

Two policies, because a web server's threads are few and Cloudflare can hang:
- On behalf of a page (inside `page_calls()`, which `CloudflarePageCalls` middleware opens for
  every request), a read is one attempt of at most CLOUDFLARE_PAGE_READ_TIMEOUT seconds, at
  most CLOUDFLARE_PAGE_READ_SLOTS threads of the process wait on reads at once, and no read
  starts later than CLOUDFLARE_PAGE_READ_TIMEOUT seconds into the request (a page that asks
  about many things stops asking); the others are answered from the database. A hanging
  Cloudflare holds a few threads for seconds, never the site.
- Elsewhere (cron, management commands) reads keep the full retry policy and timeout.
Creates are never bounded by slots and keep the full timeout in both: cutting a create short
would only turn it into an unknown outcome.
"""

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from accounts.budget import DatabaseBudget, credential_fingerprint
from accounts.credentials import unseal
from cloudflare_client import CloudflareClient, CloudflareConfigurationError, Credentials

_per_thread = threading.local()
# Inside a page: the time.monotonic() after which it starts no more reads.
_page_reads_until: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "cloudflare_page_reads_until", default=None
)


@contextmanager
def page_calls() -> Iterator[None]:
    """Cloudflare calls made inside are on behalf of a page: bounded, as the module says."""
    token = _page_reads_until.set(time.monotonic() + settings.CLOUDFLARE_PAGE_READ_TIMEOUT)
    try:
        yield
    finally:
        _page_reads_until.reset(token)


class PageReadSlots:
    """The process's read slots (a semaphore), which also refuse a read the current page would
    start past its time for reads."""

    def __init__(self, size: int):
        self._semaphore = threading.BoundedSemaphore(size)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        until = _page_reads_until.get()
        if until is not None:
            left = until - time.monotonic()
            if left <= 0:
                return False
            if blocking:
                timeout = left if timeout < 0 else min(timeout, left)
        if not blocking:
            return self._semaphore.acquire(False)
        return self._semaphore.acquire(True, timeout)

    def release(self) -> None:
        self._semaphore.release()


_page_slots: dict[int, PageReadSlots] = {}
_page_slots_lock = threading.Lock()


def _read_slots() -> PageReadSlots:
    """One set of slots per configured size (so tests can change it)."""
    size = settings.CLOUDFLARE_PAGE_READ_SLOTS
    with _page_slots_lock:
        return _page_slots.setdefault(size, PageReadSlots(size))


def credentials_from_settings(credential: str = "api_token") -> Credentials:
    """The credential an account is configured to use, read from settings (the environment)."""
    if credential == "global_key":
        if not (settings.CLOUDFLARE_EMAIL and settings.CLOUDFLARE_API_KEY):
            raise CloudflareConfigurationError(
                "This account uses the global API key: set CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY."
            )
        return Credentials(email=settings.CLOUDFLARE_EMAIL, api_key=settings.CLOUDFLARE_API_KEY)
    if not settings.CLOUDFLARE_API_TOKEN:
        raise CloudflareConfigurationError(
            "This account uses an API token: set CLOUDFLARE_API_TOKEN."
        )
    return Credentials(api_token=settings.CLOUDFLARE_API_TOKEN)


def credentials_for_account(account) -> Credentials:
    if account.credential == account.Credential.STORED:
        return unseal(account.sealed_credential)
    return credentials_from_settings(account.credential)


def credential_problem(account) -> str | None:
    """Why no client can be built for the account (its credential is not configured, or cannot
    be opened with the configured keys), in a sentence safe to show; None when one can. Pages
    say this instead of "Cloudflare could not be asked": asking again would not help."""
    try:
        credentials_for_account(account)
    except CloudflareConfigurationError as exc:
        return str(exc)
    return None


def client_for_account(account) -> CloudflareClient:
    """A client with the credential `account.credential` names. Raises
    CloudflareConfigurationError when that credential is not configured (or cannot be opened).
    Each credential spends its own API budget: Cloudflare counts per token."""
    credentials = credentials_for_account(account)
    options = {
        "base_url": settings.CLOUDFLARE_BASE_URL,
        "connect_timeout": settings.CLOUDFLARE_CONNECT_TIMEOUT,
        "read_timeout": settings.CLOUDFLARE_READ_TIMEOUT,
        "write_timeout": settings.CLOUDFLARE_READ_TIMEOUT,
    }
    if _page_reads_until.get() is not None:
        options["read_timeout"] = settings.CLOUDFLARE_PAGE_READ_TIMEOUT
        options["read_attempts"] = 1
        options["read_slots"] = _read_slots()
        # While Cloudflare answers in milliseconds a slot frees up at once (several status
        # checks of one request, a bulk confirm); while it hangs, a second is all one waits.
        options["read_slot_wait"] = 1.0
    key = (credentials, *options.items())
    clients = _per_thread.__dict__.setdefault("clients", {})
    if key not in clients:
        gate = DatabaseBudget(credential_fingerprint(credentials, settings.CLOUDFLARE_BASE_URL))
        clients[key] = CloudflareClient(credentials, gate=gate, **options)
    return clients[key]
