"""The account's balance, usage, invoices and top-up limits, read from Cloudflare at most once
per age and shared by every worker through the database (CachedRead), within the shared API
budget.

The database holds Cloudflare's `result` as it was sent, and each read of it parses it again
with the client's own `parse_*` function: one parser, whatever the age of the answer.

A read is claimed with a conditional UPDATE of `attempt_until`, as status checks are: however
many pages ask when it is due, one worker asks Cloudflare (holding the claim as long as the read
can take) and the others show the last answer. When Cloudflare cannot be asked, the last answer
is shown with the time of that read and the failure, and nobody asks again for a while;
`None` only before the first answer.
"""

import logging
import typing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.cloudflare import client_for_account
from accounts.models import CachedRead, CloudflareAccount
from accounts.signals import balance_read
from cloudflare_client import (
    CloudflareBudgetExhausted,
    CloudflareBusy,
    CloudflareError,
    CloudflareNotFound,
    CreditBalance,
    Invoice,
    InvoiceHistory,
    TopUpLimits,
    UsageBucket,
)
from cloudflare_client import invoices as cloudflare_invoices
from cloudflare_client.balance import parse_balance
from cloudflare_client.invoices import parse_invoice
from cloudflare_client.parsing import MalformedResult, require, require_object
from cloudflare_client.topups import parse_limits
from cloudflare_client.usage import parse_usage

logger = logging.getLogger(__name__)

MAX_AGE = {
    "balance": timedelta(seconds=60),
    "usage_day": timedelta(minutes=15),
    "usage_hour": timedelta(minutes=15),
    "invoices": timedelta(minutes=5),
    "limits": timedelta(hours=1),
}
# After a failed read, nobody asks Cloudflare for the same again for this long.
RETRY_AFTER_FAILURE = {
    "balance": timedelta(seconds=30),
    "usage_day": timedelta(seconds=30),
    "usage_hour": timedelta(seconds=30),
    "invoices": timedelta(seconds=30),
    "limits": timedelta(minutes=1),
}
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
    """The balance; each fresh answer is also announced (accounts.signals.balance_read), for
    the balance's notifications."""

    def fetch(client):
        result = client.balance.result(account.account_id)
        _announce_balance(account, parse_balance(result))
        return result

    return _cached(account, "balance", fetch)


def _announce_balance(account: CloudflareAccount, balance: CreditBalance) -> None:
    """Send `balance_read`; a receiver's error is logged, never raised: the page or command
    that read the balance goes on."""
    daily = _cached_value(account, "usage_day")
    for receiver, outcome in balance_read.send_robust(
        sender=CloudflareAccount, account=account, balance=balance, daily=daily
    ):
        if isinstance(outcome, Exception):
            logger.error(
                "Account %s: the balance read's receiver %s failed",
                account.pk,
                getattr(receiver, "__qualname__", receiver),
                exc_info=outcome,
            )


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


def account_topup_limits(*, account: CloudflareAccount) -> Snapshot[TopUpLimits] | None:
    """Cloudflare's top-up limits for the account. None before the first answer, and where the
    (optional, deprecated) endpoint does not exist: that answer is held as long as one."""

    def fetch(client):
        try:
            return client.topups.limits_result(account.account_id)
        except CloudflareNotFound:
            logger.info("Account %s: no top-up limits endpoint.", account.pk)
            return None

    return _cached(account, "limits", fetch)


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
        held = _load("invoices", row.value) if row else None
        if row is None or held is None or held.history.get(invoice_id):
            return  # nothing held (the first read brings every invoice), or it is there
        # As Cloudflare lists it (its API reference, AI Gateway billing), to the second's
        # fraction: the time the top-up completed here.
        invoice = {
            "id": invoice_id,
            "amount_due": amount_cents,
            "amount_paid": amount_cents,
            "amount_remaining": 0,
            "currency": currency,
            "status": "paid",
            "created": Decimal(str(completed_at.timestamp())),
            "invoice_origin": "manual",
        }
        noted = (*held.noted, invoice_id)
        row.value = _held_invoices(
            [invoice, *held.items], held.history.complete, noted=noted
        ).result()
        row.save(update_fields=["value"])


def account_snapshots_expire(*, account: CloudflareAccount, kinds=("balance", "invoices")) -> None:
    """Ask again at the next view (after auto top-up was changed, for example); for the
    invoices, the newest pages."""
    CachedRead.objects.filter(account=account, kind__in=kinds).update(expired=True)


def account_cached_balance(*, account: CloudflareAccount) -> CreditBalance | None:
    """The balance last read, without asking Cloudflare."""
    return _cached_value(account, "balance")


def account_cached_invoice(*, account: CloudflareAccount, invoice_id: str) -> Invoice | None:
    """One invoice from the invoices held, without asking Cloudflare."""
    held = _cached_value(account, "invoices")
    return held.history.get(invoice_id) if held else None


@dataclass(frozen=True)
class HeldInvoices:
    """The account's invoices as held: Cloudflare's invoice objects as read (a run of its
    newest pages), and those of top-ups completed since (`noted`), until a read brings
    Cloudflare's own; `history` is the same, parsed."""

    items: tuple[typing.Any, ...]
    history: InvoiceHistory
    noted: tuple[str, ...] = ()

    def read_ids(self) -> frozenset[str]:
        return frozenset(i.id for i in self.history if i.id and i.id not in self.noted)

    def pairs(self) -> list[tuple[typing.Any, Invoice]]:
        return list(zip(self.items, self.history, strict=True))

    def result(self) -> dict:
        """What the database holds: Cloudflare's invoice objects, and what is known of them."""
        return {
            "invoices": list(self.items),
            "complete": self.history.complete,
            "noted": list(self.noted),
        }


def _held_invoices(items, complete: bool, *, noted=()) -> HeldInvoices:
    items = tuple(items)
    history = InvoiceHistory(tuple(parse_invoice(item) for item in items), complete)
    return HeldInvoices(items, history, tuple(noted))


def parse_held_invoices(result) -> HeldInvoices:
    """The invoices held, from what the database holds (`HeldInvoices.result()`)."""
    result = require_object(result)
    return _held_invoices(
        require(result, "invoices", (list,)),
        require(result, "complete", (bool,)),
        noted=require(result, "noted", (list,)),
    )


def _short(held: HeldInvoices | None, back_to: datetime | None, find: str | None) -> bool:
    """Whether the invoices held may leave out the one looked for: they do not hold it, nor
    reach back to `back_to`."""
    if held is None or back_to is None:
        return held is None
    return not (find and held.history.get(find)) and not held.history.reaches(back_to)


def _read_invoices(client, account, *, full=False, back_to=None, find=None) -> dict:
    """Read Cloudflare's history and merge it with what is held (loaded after the claim, so
    nothing read meanwhile is lost)."""
    held = _cached_value(account, "invoices")

    def read(**options) -> HeldInvoices:
        return _held_invoices(*client.invoices.history_result(account.account_id, **options))

    if not full and not _short(held, back_to, find):  # the newest pages, down to what is held
        fresh = read(known=held.read_ids())
    elif full:
        fresh = read()
        if back_to is not None and not fresh.history.reaches(back_to):
            further = read(back_to=back_to, first_page=cloudflare_invoices.MAX_PAGES + 1)
            seen = {i.id for i in fresh.history if i.id}
            more = [item for item, i in further.pairs() if not i.id or i.id not in seen]
            fresh = _held_invoices([*fresh.items, *more], further.history.complete)
    else:  # one invoice is looked for: from the newest page, past what is held
        fresh = read(find=find, back_to=back_to)
    return _merge(held, fresh, noted_kept=not full).result()


def _merge(held: HeldInvoices | None, fresh: HeldInvoices, *, noted_kept: bool) -> HeldInvoices:
    """The fresh read, newest first, followed by what was held beyond it when the two join
    (the read ended on an invoice read before); the top-ups' invoices noted and not read yet
    stay in front, unless this was a full read (Cloudflare's word replaces them)."""
    read = {i.id for i in fresh.history if i.id}
    pairs = held.pairs() if held else []
    noted = [(item, i) for item, i in pairs if held and i.id in held.noted and i.id not in read]
    noted = noted if noted_kept else []
    older: list = []
    complete = fresh.history.complete
    if held and not complete:
        before = [(item, i) for item, i in pairs if i.id not in held.noted]
        joined = [n for n, (_, invoice) in enumerate(before) if invoice.id in read]
        if joined:
            older = before[joined[-1] + 1 :]
            complete = held.history.complete
    items = [item for item, _ in noted] + list(fresh.items) + [item for item, _ in older]
    return _held_invoices(items, complete, noted=[i.id for _, i in noted])


def _history(snapshot: Snapshot[HeldInvoices] | None) -> Snapshot[InvoiceHistory] | None:
    if snapshot is None:
        return None
    return Snapshot(snapshot.value.history, snapshot.fetched_at, snapshot.failed_at)


def _cached_value(account, kind):
    """What the database holds, without asking Cloudflare."""
    row = CachedRead.objects.filter(account=account, kind=kind).first()
    return _load(kind, row.value) if row else None


def _usage(client, account, window, span):
    end = datetime.now(tz=UTC)
    return client.usage.history_result(account.account_id, window=window, start=end - span, end=end)


def _cached(account, kind, fetch, *, read_now=None):
    """The value held, read afresh first when due: by its age, or when `read_now(value held)`
    says so (it does not reach far enough, or a fresh read is asked for)."""
    now = timezone.now()
    row = _row(account, kind)
    due = Q(expired=True) | Q(fetched_at__lte=now - MAX_AGE[kind])
    not_held = Q(attempt_until__isnull=True) | Q(attempt_until__lte=now)
    held = _load(kind, row.value)
    wanted = read_now is not None and held is not None and read_now(held)
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
                result = fetch(client)
            except CloudflareBusy:  # nothing was sent: the claim is free again
                mine.update(attempt_until=None)
            except CloudflareError as exc:
                logger.warning("Account %s: %s read failed (%s)", account.pk, kind, exc)
                retry_at = timezone.now() + (
                    timedelta(seconds=exc.retry_after or 60)
                    if isinstance(exc, CloudflareBudgetExhausted)
                    else RETRY_AFTER_FAILURE[kind]
                )
                # An expiry the claim took is still owed to the next read.
                mine.update(attempt_until=retry_at, failed_at=timezone.now(), expired=row.expired)
            else:
                # Only while the claim is still ours: a read whose hold ran out must not
                # overwrite a newer answer. A read that found nothing to hold stores none.
                mine.update(value=result, fetched_at=now, attempt_until=None, failed_at=None)
                value = _load(kind, result)
                return None if value is None else Snapshot(value, now)
        row.refresh_from_db()
        held = _load(kind, row.value)
    return None if held is None else Snapshot(held, row.fetched_at, row.failed_at)


# --- many accounts at a glance: what is held, and a few reads refreshed per view -------------

GLANCE_READS = {"balance": account_balance, "usage_day": account_daily_usage}


def snapshot_held(row: CachedRead) -> Snapshot | None:
    """What one row holds, parsed, without asking Cloudflare (for pages that read many
    accounts' rows in one query)."""
    held = _load(row.kind, row.value)
    return None if held is None else Snapshot(held, row.fetched_at, row.failed_at)


def snapshot_is_old(snapshot: Snapshot, kind: str) -> bool:
    """Older than its kind's age, or a later read failed: a page shows its time."""
    return snapshot.failed_at is not None or snapshot.fetched_at <= timezone.now() - MAX_AGE[kind]


def account_snapshots_refresh_few(
    *, held: dict[tuple[CloudflareAccount, str], CachedRead | None], limit: int
) -> int:
    """Reads (GLANCE_READS) of many accounts, refreshed a few per page view rather than one
    call per account: at most `limit` of those due (never read first, balances before usage,
    then the oldest), each
    through its claim (as if its own page asked). Stops at the first that gets no answer: a
    slow or failing Cloudflare costs a page one read's wait, not `limit`. How many were
    tried (the rows of those changed)."""
    now = timezone.now()
    due = [key for key, row in held.items() if row is None or _is_due(row, key[1], now)]

    def order(key: tuple[CloudflareAccount, str]) -> tuple:
        row = held[key]
        if row is None or row.value is None:  # never read: the balances first
            return (0, key[1] != "balance", now)
        return (1, False, row.fetched_at)

    tried = 0
    for account, kind in sorted(due, key=order)[:limit]:
        snapshot = GLANCE_READS[kind](account=account)
        tried += 1
        if snapshot is None or snapshot.failed_at is not None:
            break
    return tried


def _is_due(row: CachedRead, kind: str, now) -> bool:
    stale = row.expired or row.fetched_at <= now - MAX_AGE[kind]
    return stale and not _held(row, now)


def _held(row: CachedRead, now) -> bool:
    """A read is in flight, or the last one failed and nobody asks again yet."""
    return row.attempt_until is not None and row.attempt_until > now


def _row(account, kind) -> CachedRead:
    """The kind's row; a new one is as if read long ago (longer than any MAX_AGE): due at once.
    Another worker may create it first: get_or_create then reads theirs."""
    row, _ = CachedRead.objects.get_or_create(
        account=account, kind=kind, defaults={"fetched_at": timezone.now() - timedelta(days=1)}
    )
    return row


# --- Cloudflare's result, as held, parsed with the client's own functions ---------------------

PARSE = {
    "balance": parse_balance,
    "usage_day": parse_usage,
    "usage_hour": parse_usage,
    "invoices": parse_held_invoices,
    "limits": parse_limits,
}


def _load(kind: str, result):
    """The typed value of a result held, or None when none is (or it no longer parses: it is
    replaced at the next read)."""
    if result is None:
        return None
    try:
        return PARSE[kind](result)
    except MalformedResult as exc:
        logger.warning("A cached %s no longer parses (%s); it is read again when due.", kind, exc)
        return None
