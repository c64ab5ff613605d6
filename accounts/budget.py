"""One Cloudflare API budget per credential, kept in the database so that every gunicorn worker
on every machine spends the same one.

- Fixed windows of CLOUDFLARE_API_BUDGET_WINDOW seconds (300). A call is admitted by one
  conditional UPDATE that increments the window's count only while it is under the limit, so
  concurrent workers can never overspend. Two adjacent windows can both be spent within any
  5 minutes, so the limit (CLOUDFLARE_API_BUDGET, 600) stays at half of Cloudflare's 1,200.
- Creates move money and a person is waiting: they may use the whole window. Status checks stop
  CLOUDFLARE_API_BUDGET_RESERVE calls short of it, so polling can never spend the budget a
  top-up needs. Reads that can wait (invoices, usage, balance, limits: every call not marked
  otherwise with `calls_for`) stop once the window holds CLOUDFLARE_API_BUDGET_DEFERRABLE calls,
  so they are the first refused and the rest stays for the status of top-ups people wait on.
- A 429 from Cloudflare starts a cool-down (its Retry-After, or a minute) during which nothing
  but a create is sent: a create is the customer's explicit act, and if Cloudflare refuses it
  with a 429 nothing was charged.
"""

import contextvars
import enum
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import ApiBudget
from cloudflare_client import CloudflareBudgetExhausted, Credentials

DEFAULT_COOLDOWN = timedelta(seconds=60)


class CallPriority(enum.StrEnum):
    STATUS = "status"  # a top-up's status: someone is waiting for it
    DEFERRABLE = "deferrable"  # a read that can wait: cached, or with a fallback


_priority = contextvars.ContextVar("cloudflare_call_priority", default=CallPriority.DEFERRABLE)


@contextmanager
def calls_for(priority: CallPriority) -> Iterator[None]:
    """The non-money calls made inside spend the budget with this priority."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def credential_fingerprint(credentials: Credentials, base_url: str) -> str:
    secret = credentials.api_token or f"{credentials.email}\n{credentials.api_key}"
    return hashlib.sha256(f"{base_url}\n{secret}".encode()).hexdigest()


class DatabaseBudget:
    """The `cloudflare_client.CallGate` of one credential."""

    def __init__(self, fingerprint: str):
        self.fingerprint = fingerprint

    def admit(self, *, moves_money: bool) -> None:
        now = timezone.now()
        window_seconds = settings.CLOUDFLARE_API_BUDGET_WINDOW
        window = _window_start(now, window_seconds)
        # Mostly one UPDATE: the row exists and its window is the current one.
        if self._spend(window, now, moves_money=moves_money):
            return
        self._ensure_row(window)
        ApiBudget.objects.filter(credential=self.fingerprint, window_started_at__lt=window).update(
            window_started_at=window, calls=0
        )
        if self._spend(window, now, moves_money=moves_money):
            return
        row = ApiBudget.objects.get(credential=self.fingerprint)
        window_ends = row.window_started_at + timedelta(seconds=window_seconds)
        cooling = row.cooldown_until if row.cooldown_until and row.cooldown_until > now else None
        wait = (cooling or window_ends) - now
        raise CloudflareBudgetExhausted(
            "Cloudflare asked us to wait" if cooling else "This portal's API budget is spent",
            retry_after=max(1.0, wait.total_seconds()),
        )

    def has_room(self, *, moves_money: bool) -> bool:
        """Whether `admit` would let a call through now, without spending one: for jobs that
        stop before the budget is spent rather than at each refusal. Another worker may take
        the room first; `admit` still decides."""
        now = timezone.now()
        row = ApiBudget.objects.filter(credential=self.fingerprint).first()
        if row is None:
            return True
        if not moves_money and row.cooldown_until and row.cooldown_until > now:
            return False
        window = _window_start(now, settings.CLOUDFLARE_API_BUDGET_WINDOW)
        return row.window_started_at < window or row.calls < _limit(moves_money=moves_money)

    def _spend(self, window, now, *, moves_money: bool) -> bool:
        """One call more in `window`, only while under the limit: a conditional UPDATE, so
        concurrent workers can never overspend."""
        admitted = ApiBudget.objects.filter(credential=self.fingerprint, window_started_at=window)
        if not moves_money:
            admitted = admitted.filter(Q(cooldown_until__isnull=True) | Q(cooldown_until__lte=now))
        limit = _limit(moves_money=moves_money)
        return bool(admitted.filter(calls__lt=limit).update(calls=F("calls") + 1))

    def rate_limited(self, retry_after: float | None) -> None:
        now = timezone.now()
        until = now + (timedelta(seconds=retry_after) if retry_after else DEFAULT_COOLDOWN)
        self._ensure_row(_window_start(now, settings.CLOUDFLARE_API_BUDGET_WINDOW))
        ApiBudget.objects.filter(credential=self.fingerprint).filter(
            Q(cooldown_until__isnull=True) | Q(cooldown_until__lt=until)
        ).update(cooldown_until=until)

    def _ensure_row(self, window) -> None:
        # Another worker may create it first: get_or_create then reads theirs.
        ApiBudget.objects.get_or_create(
            credential=self.fingerprint, defaults={"window_started_at": window}
        )


def _limit(*, moves_money: bool) -> int:
    """How many calls of the window a call of this kind may find already made."""
    if moves_money:
        return settings.CLOUDFLARE_API_BUDGET
    limit = settings.CLOUDFLARE_API_BUDGET - settings.CLOUDFLARE_API_BUDGET_RESERVE
    if _priority.get() is CallPriority.DEFERRABLE:
        return min(limit, settings.CLOUDFLARE_API_BUDGET_DEFERRABLE)
    return limit


def _window_start(now, window_seconds: int):
    epoch = int(now.timestamp())
    return now.fromtimestamp(epoch - epoch % window_seconds, tz=now.tzinfo)
