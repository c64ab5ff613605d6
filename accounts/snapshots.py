"""The account's balance, usage and invoices, read from Cloudflare at most once per age and
shared by every worker through the database (CachedRead), within the shared API budget.

A read is claimed with a conditional UPDATE of `attempt_until`, as status checks are: however
many pages ask when it is due, one worker asks Cloudflare (holding the claim as long as the read
can take) and the others show the last answer. When Cloudflare cannot be asked, the last answer
is shown with the time of that read and the failure, and nobody asks again for a while;
`None` only before the first answer.
"""

import dataclasses
import logging
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.alerts import account_low_balance_check
from accounts.cloudflare import client_for_account
from accounts.models import CachedRead, CloudflareAccount
from cloudflare_client import (
    CloudflareBudgetExhausted,
    CloudflareBusy,
    CloudflareError,
    CreditBalance,
    Invoice,
    UsageBucket,
)

logger = logging.getLogger(__name__)

MAX_AGE = {
    "balance": timedelta(seconds=60),
    "usage_day": timedelta(minutes=15),
    "usage_hour": timedelta(minutes=15),
    "invoices": timedelta(minutes=5),
}
# After a failed read, nobody asks Cloudflare for the same again for this long.
RETRY_AFTER_FAILURE = timedelta(seconds=30)


T = typing.TypeVar("T")


@dataclass(frozen=True)
class Snapshot(typing.Generic[T]):
    value: T
    fetched_at: datetime  # when `value` was read
    failed_at: datetime | None = None  # a later read failed: the value may be out of date


def account_balance(*, account: CloudflareAccount) -> Snapshot[CreditBalance] | None:
    """The balance; each fresh answer is also checked against the low-balance alert."""

    def fetch(client):
        balance = client.balance.get(account.account_id)
        daily = _cached_value(account, "usage_day")
        account_low_balance_check(account=account, balance=balance, daily=daily)
        return balance

    return _cached(account, "balance", fetch)


def account_daily_usage(*, account: CloudflareAccount) -> Snapshot[list[UsageBucket]] | None:
    """The last 30 days, a bucket a day."""
    return _cached(account, "usage_day", lambda c: _usage(c, account, "day", timedelta(days=30)))


def account_hourly_usage(*, account: CloudflareAccount) -> Snapshot[list[UsageBucket]] | None:
    """The last 48 hours, a bucket an hour."""
    return _cached(account, "usage_hour", lambda c: _usage(c, account, "hour", timedelta(hours=48)))


def account_invoices(*, account: CloudflareAccount) -> Snapshot[list[Invoice]] | None:
    return _cached(account, "invoices", lambda c: c.invoices.history(account.account_id))


def account_snapshots_expire(*, account: CloudflareAccount, kinds=("balance", "invoices")) -> None:
    """Ask again at the next view (after a top-up completed, for example)."""
    CachedRead.objects.filter(account=account, kind__in=kinds).update(expired=True)


def account_cached_invoice(*, account: CloudflareAccount, invoice_id: str) -> Invoice | None:
    """One invoice from the invoices last read, without asking Cloudflare."""
    invoices = _cached_value(account, "invoices") or []
    return next((invoice for invoice in invoices if invoice.id == invoice_id), None)


def _cached_value(account, kind):
    """What the database holds, without asking Cloudflare."""
    row = CachedRead.objects.filter(account=account, kind=kind).first()
    return _load(kind, row.value) if row and row.value is not None else None


def _usage(client, account, window, span):
    end = datetime.now(tz=UTC)
    return client.usage.history(account.account_id, window=window, start=end - span, end=end)


def _cached(account, kind, fetch):
    now = timezone.now()
    row = _row(account, kind)
    due = Q(value__isnull=True) | Q(expired=True) | Q(fetched_at__lte=now - MAX_AGE[kind])
    not_held = Q(attempt_until__isnull=True) | Q(attempt_until__lte=now)
    if _is_due(row, kind, now):
        try:
            client = client_for_account(account)
        except CloudflareError as exc:  # the account's credential is not configured
            logger.warning("Account %s: no Cloudflare client (%s)", account.pk, exc)
            client = None
        hold = now + timedelta(seconds=client.transport.longest_read_seconds if client else 0)
        # The claim takes the expiry with it: an expiry that comes during the read (a top-up
        # completed meanwhile) stands, and the next view reads again.
        if client and CachedRead.objects.filter(due, not_held, pk=row.pk).update(
            attempt_until=hold, expired=False
        ):
            mine = CachedRead.objects.filter(pk=row.pk, attempt_until=hold)
            try:
                value = fetch(client)
            except CloudflareBusy:  # nothing was sent: the claim is free again
                mine.update(attempt_until=None)
            except CloudflareError as exc:
                logger.warning("Account %s: %s read failed (%s)", account.pk, kind, exc)
                retry_at = timezone.now() + (
                    timedelta(seconds=exc.retry_after or 60)
                    if isinstance(exc, CloudflareBudgetExhausted)
                    else RETRY_AFTER_FAILURE
                )
                # An expiry the claim took is still owed to the next read.
                mine.update(attempt_until=retry_at, failed_at=timezone.now(), expired=row.expired)
            else:
                # Only while the claim is still ours: a read whose hold ran out must not
                # overwrite a newer answer.
                mine.update(value=_dump(value), fetched_at=now, attempt_until=None, failed_at=None)
                return Snapshot(value, now)
        row.refresh_from_db()
    if row.value is None:
        return None
    return Snapshot(_load(kind, row.value), row.fetched_at, row.failed_at)


def _is_due(row: CachedRead, kind: str, now) -> bool:
    stale = row.value is None or row.expired or row.fetched_at <= now - MAX_AGE[kind]
    return stale and (row.attempt_until is None or row.attempt_until <= now)


def _row(account, kind) -> CachedRead:
    row = CachedRead.objects.filter(account=account, kind=kind).first()
    if row is None:
        try:
            with transaction.atomic():
                row = CachedRead.objects.create(
                    account=account, kind=kind, fetched_at=timezone.now() - timedelta(days=1)
                )
        except IntegrityError:
            row = CachedRead.objects.get(account=account, kind=kind)
    return row


# --- typed values <-> JSON --------------------------------------------------------------------

TYPES = {
    "balance": CreditBalance,
    "usage_day": list[UsageBucket],
    "usage_hour": list[UsageBucket],
    "invoices": list[Invoice],
}


def _dump(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_dump(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _load(kind: str, data):
    return _build(TYPES[kind], data)


def _build(kind, data):
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _build(inner[0], data)
    if origin in (list, tuple):
        (item_type, *_) = typing.get_args(kind)
        items = [_build(item_type, item) for item in data]
        return items if origin is list else tuple(items)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{name: _build(hints[name], data[name]) for name in data})
    if kind is Decimal:
        return Decimal(data)
    if kind is datetime:
        return datetime.fromisoformat(data)
    return data
