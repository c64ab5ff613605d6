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
    InvoiceHistory,
    UsageBucket,
)
from cloudflare_client import invoices as cloudflare_invoices

logger = logging.getLogger(__name__)

MAX_AGE = {
    "balance": timedelta(seconds=60),
    "usage_day": timedelta(minutes=15),
    "usage_hour": timedelta(minutes=15),
    "invoices": timedelta(minutes=5),
}
# After a failed read, nobody asks Cloudflare for the same again for this long.
RETRY_AFTER_FAILURE = timedelta(seconds=30)
# Cloudflare's clock and ours may differ: a top-up's invoice is looked for this far before it.
CLOCK_MARGIN = timedelta(minutes=10)


T = typing.TypeVar("T")


@dataclass(frozen=True)
class Snapshot(typing.Generic[T]):
    value: T
    fetched_at: datetime  # when `value` was read
    failed_at: datetime | None = None  # a later read failed: the value may be out of date


def snapshot_of_all(*snapshots: Snapshot | None) -> Snapshot[None] | None:
    """When reads shown together (the usage's two charts) were answered: as of the oldest
    answer, failed when a later try of any of them failed; None unless each has an answer."""
    if not snapshots or None in snapshots:
        return None
    failed = [s.failed_at for s in snapshots if s.failed_at]  # type: ignore[union-attr]
    return Snapshot(None, min(s.fetched_at for s in snapshots), max(failed, default=None))  # type: ignore[union-attr]


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


def account_invoices(
    *, account: CloudflareAccount, back_to: datetime | None = None, find: str | None = None
) -> Snapshot[InvoiceHistory] | None:
    """The account's invoices, newest first, as the database holds them. When due (older than
    MAX_AGE, or expired) only the newest pages are read, down to the first that reaches past
    the newest invoice read before. With `back_to` (one top-up's invoice is looked for), when
    those held do not reach back that far, Cloudflare's history is read back to it (or until
    `find` is read), past the page limit if need be."""
    snapshot = _cached(
        account,
        "invoices",
        lambda client: _read_invoices(client, account, find=find, back_to=back_to),
        read_now=lambda held: _short(held, back_to, find),
    )
    return _history(snapshot)


def account_invoice(
    *, account: CloudflareAccount, invoice_id: str, made_after: datetime
) -> Invoice | None:
    """One invoice by id, made after `made_after` (a top-up's, made when it was started):
    from those held, or looked for further back in Cloudflare's history."""
    back_to = made_after - CLOCK_MARGIN
    snapshot = account_invoices(account=account, back_to=back_to, find=invoice_id)
    return snapshot.value.get(invoice_id) if snapshot else None


def account_invoices_reread(
    *, account: CloudflareAccount, back_to: datetime | None = None
) -> Snapshot[InvoiceHistory] | None:
    """Every page afresh, whatever the age of those held (Reconcile now, the hourly command):
    to the client's page limit, and past it back to `back_to` (the oldest top-up whose invoice
    is looked for). The snapshot is the last one held when Cloudflare could not be read."""
    snapshot = _cached(
        account,
        "invoices",
        lambda client: _read_invoices(client, account, full=True, back_to=back_to),
        read_now=lambda held: True,
    )
    return _history(snapshot)


def account_snapshots_topup_completed(
    *,
    account: CloudflareAccount,
    invoice_id: str,
    amount_cents: int,
    currency: str,
    completed_at: datetime,
) -> None:
    """A top-up completed: the balance is asked again at the next view, and its invoice (paid,
    for its amount, as Cloudflare's status says) joins those held, without a call, until a
    read brings Cloudflare's own."""
    CachedRead.objects.filter(account=account, kind="balance").update(expired=True)
    with transaction.atomic():
        row = (
            CachedRead.objects.select_for_update().filter(account=account, kind="invoices").first()
        )
        if row is None or row.value is None:
            return  # nothing held: the first read brings every invoice
        held = _load("invoices", row.value)
        if held.history.get(invoice_id):
            return
        paid = Decimal(amount_cents)
        invoice = Invoice(
            id=invoice_id,
            amount_due_cents=paid,
            amount_paid_cents=paid,
            amount_remaining_cents=Decimal(0),
            currency=currency,
            status="paid",
            created=completed_at,
            created_by=None,
            description=None,
            invoice_origin="manual",
            invoice_pdf=None,
            attempt_count=None,
            attempted=None,
            auto_advance=None,
        )
        history = InvoiceHistory((invoice, *held.history), held.history.complete)
        row.value = _dump(HeldInvoices(history, noted=(*held.noted, invoice_id)))
        row.save(update_fields=["value"])


def account_snapshots_expire(*, account: CloudflareAccount, kinds=("balance", "invoices")) -> None:
    """Ask again at the next view (after auto top-up was changed, for example); for the
    invoices, the newest pages."""
    CachedRead.objects.filter(account=account, kind__in=kinds).update(expired=True)


def account_cached_invoice(*, account: CloudflareAccount, invoice_id: str) -> Invoice | None:
    """One invoice from the invoices held, without asking Cloudflare."""
    held = _cached_value(account, "invoices")
    return held.history.get(invoice_id) if held else None


@dataclass(frozen=True)
class HeldInvoices:
    """The account's invoices as held: read from Cloudflare (a run of its newest pages), and
    those of top-ups completed since (`noted`), until a read brings Cloudflare's own."""

    history: InvoiceHistory
    noted: tuple[str, ...] = ()

    def read_ids(self) -> frozenset[str]:
        return frozenset(i.id for i in self.history if i.id and i.id not in self.noted)


def _short(held: HeldInvoices | None, back_to: datetime | None, find: str | None) -> bool:
    """Whether the invoices held may leave out the one looked for: they do not hold it, nor
    reach back to `back_to`."""
    if held is None or back_to is None:
        return held is None
    return not (find and held.history.get(find)) and not held.history.reaches(back_to)


def _read_invoices(client, account, *, full=False, back_to=None, find=None) -> HeldInvoices:
    """Read Cloudflare's history and merge it with what is held (loaded after the claim, so
    nothing read meanwhile is lost)."""
    held = _cached_value(account, "invoices")
    if not full and not _short(held, back_to, find):  # the newest pages, down to what is held
        fresh = client.invoices.history(account.account_id, known=held.read_ids())
    elif full:
        fresh = client.invoices.history(account.account_id)
        if back_to is not None and not fresh.reaches(back_to):
            further = client.invoices.history(
                account.account_id, back_to=back_to, first_page=cloudflare_invoices.MAX_PAGES + 1
            )
            seen = {i.id for i in fresh if i.id}
            more = tuple(i for i in further if not i.id or i.id not in seen)
            fresh = InvoiceHistory(fresh.invoices + more, further.complete)
    else:  # one invoice is looked for: from the newest page, past what is held
        fresh = client.invoices.history(account.account_id, find=find, back_to=back_to)
    return _merge(held, fresh, noted_kept=not full)


def _merge(held: HeldInvoices | None, fresh: InvoiceHistory, *, noted_kept: bool) -> HeldInvoices:
    """The fresh read, newest first, followed by what was held beyond it when the two join
    (the read ended on an invoice read before); the top-ups' invoices noted and not read yet
    stay in front, unless this was a full read (Cloudflare's word replaces them)."""
    read = {i.id for i in fresh if i.id}
    noted = [i for i in held.history if i.id in held.noted and i.id not in read] if held else []
    noted = noted if noted_kept else []
    older: list[Invoice] = []
    complete = fresh.complete
    if held and not fresh.complete:
        before = [i for i in held.history if i.id not in held.noted]
        joined = [n for n, invoice in enumerate(before) if invoice.id in read]
        if joined:
            older = before[joined[-1] + 1 :]
            complete = held.history.complete
    history = InvoiceHistory((*noted, *fresh, *older), complete)
    return HeldInvoices(history, noted=tuple(i.id for i in noted))  # type: ignore[misc]


def _history(snapshot: Snapshot[HeldInvoices] | None) -> Snapshot[InvoiceHistory] | None:
    if snapshot is None:
        return None
    return Snapshot(snapshot.value.history, snapshot.fetched_at, snapshot.failed_at)


def _cached_value(account, kind):
    """What the database holds, without asking Cloudflare."""
    row = CachedRead.objects.filter(account=account, kind=kind).first()
    return _load(kind, row.value) if row and row.value is not None else None


def _usage(client, account, window, span):
    end = datetime.now(tz=UTC)
    return client.usage.history(account.account_id, window=window, start=end - span, end=end)


def _cached(account, kind, fetch, *, read_now=None):
    """The value held, read afresh first when due: by its age, or when `read_now(value held)`
    says so (it does not reach far enough, or a fresh read is asked for)."""
    now = timezone.now()
    row = _row(account, kind)
    due = Q(value__isnull=True) | Q(expired=True) | Q(fetched_at__lte=now - MAX_AGE[kind])
    not_held = Q(attempt_until__isnull=True) | Q(attempt_until__lte=now)
    wanted = read_now is not None and row.value is not None and read_now(_load(kind, row.value))
    if wanted:  # whatever its age, unless another worker's read landed meanwhile
        due = Q(fetched_at=row.fetched_at)
    if (wanted and not _held(row, now)) or _is_due(row, kind, now):
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
    return stale and not _held(row, now)


def _held(row: CachedRead, now) -> bool:
    """A read is in flight, or the last one failed and nobody asks again yet."""
    return row.attempt_until is not None and row.attempt_until > now


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
    "invoices": HeldInvoices,
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
        return kind(**{name: _build(hints[name], data[name]) for name in data})  # type: ignore[operator]
    if kind is Decimal:
        return Decimal(data)
    if kind is datetime:
        return datetime.fromisoformat(data)
    return data
