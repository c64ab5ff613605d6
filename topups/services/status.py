"""After create: the browser's word that it paid, and Cloudflare's status, which is the truth.

Status checks are rationed twice over. Per top-up, the right to ask is claimed in the database
(at most one call per interval, however many tabs, workers or machines ask). Per credential,
every call spends the shared API budget (accounts.budget), which stops status checks well before
a create could be refused.

A claim holds the top-up (`status_hold_until`) for as long as the call can take, so a hanging
Cloudflare gets one call at a time per top-up, not one per poll; a check that got no answer holds
it a while longer (backing off) and leaves its reason (`status_problem`) for the page to show.
Pages only wait briefly on Cloudflare (accounts.cloudflare's page policy); the rest of the time
they answer from the database.
"""

import contextvars
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from accounts.budget import CallPriority, calls_for
from accounts.cloudflare import client_for_account
from accounts.money import format_cents
from accounts.snapshots import account_cached_invoice, account_snapshots_topup_completed
from cloudflare_client import (
    CloudflareBudgetExhausted,
    CloudflareBusy,
    CloudflareClient,
    CloudflareError,
    CloudflareNotFound,
    CloudflareSlow,
)
from cloudflare_client.types import STATUS_COMPLETED, STATUS_PENDING
from topups.models import StatusProblem, TopUp, TopUpEvent
from topups.selectors import amounts_agree
from topups.services.create import topup_expire_if_stale
from topups.services.transitions import topup_transition
from topups.states import PENDING_STATES, RESOLVABLE_STATES, TopUpState

logger = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")

# How often one top-up's status may be asked of Cloudflare, whoever asks (all workers share the
# claim in the database). A top-up's own page is watched by the person who just paid: ask often.
# Awaiting payment means the customer has not paid yet: ask rarely.
STATUS_CHECK_INTERVAL: dict[str, timedelta] = {
    TopUpState.PROCESSING: timedelta(seconds=2),
    TopUpState.AWAITING_PAYMENT: timedelta(seconds=10),
}
# Lists (the history, the refresh command) ask about many rows nobody is staring at.
LIST_CHECK_INTERVAL: dict[str, timedelta] = {
    TopUpState.PROCESSING: timedelta(seconds=15),
    TopUpState.AWAITING_PAYMENT: timedelta(seconds=30),
    # A create whose answer came too late to record normally left its id on an `unknown` row
    # (topups.services.create): Cloudflare's status can settle it before finance has to.
    TopUpState.UNKNOWN: timedelta(seconds=60),
}
# Past this age a pending top-up is asked about at most once a minute, whoever asks.
SLOW_AFTER, SLOW_INTERVAL = timedelta(minutes=10), timedelta(seconds=60)


class StatusAnswer(StrEnum):
    """What a status check learned: Cloudflare's status (the client reads anything else as
    pending), or that Cloudflare does not know the top-up's id."""

    COMPLETED = STATUS_COMPLETED
    PENDING = STATUS_PENDING
    NOT_FOUND = "not_found"


# After a check that timed out, nobody asks about that top-up again for this long.
FAILED_CHECK_BACKOFF = timedelta(seconds=5)
STALE_REASONS = {
    "age": "Still pending after {minutes} minutes.",
    "not_found": "Cloudflare no longer knows this top-up's id.",
    "other_amount": (
        "Cloudflare says completed, but its invoice is for {invoiced}, not {amount}: "
        "finance decides."
    ),
}


def topup_browser_confirmed(*, topup: TopUp, user: User, stripe_status: str) -> TopUp:
    """Stripe.js reported the payment confirmed. A trigger, not the truth: the row moves to
    `processing` and only Cloudflare's status endpoint can complete it."""
    if topup.state == TopUpState.AWAITING_PAYMENT:
        topup_transition(
            topup=topup,
            to_state=TopUpState.PROCESSING,
            actor=user,
            detail={"source": "stripe.js", "stripe_status": stripe_status[:40]},
        )
    return topup_refresh_status(topup=topup, force=True)


def topup_refresh_status(
    *,
    topup: TopUp,
    force: bool = False,
    intervals: dict[str, timedelta] = STATUS_CHECK_INTERVAL,
) -> TopUp:
    """Ask Cloudflare for the status of a pending top-up, unless someone asked very recently.

    The right to ask is claimed with a conditional UPDATE of `status_checked_at`, so however many
    browsers, workers or machines poll one top-up, Cloudflare sees at most one call per interval.
    """
    topup_expire_if_stale(topup=topup)
    if _mark_stale_if_too_old(topup):
        return topup
    now = timezone.now()
    interval = _interval(topup, intervals, now)
    if interval is None:
        return topup
    due = Q(status_checked_at__isnull=True) | Q(status_checked_at__lte=now - interval)
    if force:
        due |= Q(status_checked_at__lte=now - timedelta(seconds=1))
    not_held = Q(status_hold_until__isnull=True) | Q(status_hold_until__lte=now)
    client = _client(topup)
    if client is None:
        return topup
    hold = now + timedelta(seconds=client.transport.longest_read_seconds)
    claimed = TopUp.objects.filter(due, not_held, pk=topup.pk, state=topup.state).update(
        status_checked_at=now, status_hold_until=hold
    )
    if not claimed:
        topup.refresh_from_db()
        return topup
    topup.status_checked_at, topup.status_hold_until = now, hold
    _ask_cloudflare(topup, client)
    return topup


def topup_check_now(*, topup: TopUp, actor: User | None = None) -> StatusAnswer | None:
    """Ask Cloudflare now, whatever the interval (finance confirming a payment). Returns its
    status (COMPLETED completes a pending or stale row), NOT_FOUND when Cloudflare does not
    know the id, or None when it could not be asked."""
    if not topup.payment_intent_id:
        return None
    client = _client(topup)
    if client is None:
        return None
    now = timezone.now()
    hold = now + timedelta(seconds=client.transport.longest_read_seconds)
    TopUp.objects.filter(pk=topup.pk).update(status_checked_at=now, status_hold_until=hold)
    return _ask_cloudflare(topup, client, actor=actor)


def topup_refresh_many(*, topups: Iterable[TopUp]) -> list[TopUp]:
    """Refresh the due ones among `topups`, at most TOPUP_REFRESH_CONCURRENCY at a time. Rows
    nobody may ask about yet are skipped without a query each."""
    now = timezone.now()
    due = [topup for topup in topups if _is_due(topup, now)]
    run_bounded(lambda topup: topup_refresh_status(topup=topup, intervals=LIST_CHECK_INTERVAL), due)
    return due


def run_bounded(
    work: Callable[[Item], Result], items: list[Item], *, workers: int | None = None
) -> list[Result]:
    """`work(item)` for each item, several at a time; each thread closes its own database
    connection. One item, or one worker, runs right here."""
    workers = min(workers or settings.TOPUP_REFRESH_CONCURRENCY, len(items))
    if workers <= 1:
        return [work(item) for item in items]

    def in_thread(item: Item) -> Result:
        try:
            return work(item)
        finally:
            # The pool's threads end with the request: their connections must not outlive it
            # (persistent connections would otherwise leak one per thread).
            connections.close_all()

    # Each item runs in a copy of this thread's context: a page's calls keep the page policy.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="topup-refresh") as pool:
        futures = [pool.submit(contextvars.copy_context().run, in_thread, item) for item in items]
        return [future.result() for future in futures]


def _interval(topup: TopUp, intervals: dict[str, timedelta], now: datetime) -> timedelta | None:
    """How long after the last check this top-up may be asked about again; None: never."""
    interval = intervals.get(topup.state)
    if interval is None or not topup.payment_intent_id:
        return None
    return max(interval, SLOW_INTERVAL) if now - topup.created_at > SLOW_AFTER else interval


def _is_due(topup: TopUp, now: datetime) -> bool:
    if topup.state == TopUpState.CREATING:
        return True  # may need expiring
    if topup.state in PENDING_STATES and _too_old(topup, now):
        return True  # to be marked stale
    interval = _interval(topup, LIST_CHECK_INTERVAL, now)
    if interval is None or (topup.status_hold_until and topup.status_hold_until > now):
        return False
    return topup.status_checked_at is None or topup.status_checked_at <= now - interval


def _too_old(topup: TopUp, now: datetime) -> bool:
    return topup.created_at < now - timedelta(minutes=settings.TOPUP_STALE_AFTER_MINUTES)


def _client(topup: TopUp) -> CloudflareClient | None:
    try:
        return client_for_account(topup.account)
    except CloudflareError as exc:  # the account's credential is not configured
        logger.warning("Top-up %s: no Cloudflare client (%s)", topup.pk, exc)
        return None


def _ask_cloudflare(
    topup: TopUp, client: CloudflareClient, actor: User | None = None
) -> StatusAnswer | None:
    """Cloudflare's status of the top-up (None: it could not be asked), applied to the row,
    whose hold is then released, or extended to back off when no answer came."""
    assert topup.payment_intent_id is not None  # the callers ask only about one with an id
    try:
        with calls_for(CallPriority.STATUS):
            status = client.topups.status(topup.account.account_id, topup.payment_intent_id)
    except CloudflareNotFound:
        logger.warning("Top-up %s: Cloudflare does not know %s", topup.pk, topup.payment_intent_id)
        _checked(topup, problem="", hold=None)
        _mark_stale(topup, STALE_REASONS["not_found"])
        return StatusAnswer.NOT_FOUND
    except CloudflareError as exc:
        logger.warning("Top-up %s: status check failed (%s)", topup.pk, exc)
        _checked(topup, *_no_answer(exc))
        return None
    _checked(topup, problem="", hold=None)
    if status.is_completed and topup.state in (*PENDING_STATES, *RESOLVABLE_STATES):
        if _invoiced_for_another_amount(topup):
            return StatusAnswer(status.status)
        completed = topup_transition(
            topup=topup,
            to_state=TopUpState.COMPLETED,
            actor=actor,
            kind=TopUpEvent.Kind.STATUS_CHECKED,
            detail={"status": status.status},
            stale_reason="",
        )
        if completed:  # the balance has changed, and the invoices hold one more, paid
            assert topup.completed_at is not None  # the transition sets it
            account_snapshots_topup_completed(
                account=topup.account,
                invoice_id=topup.payment_intent_id,
                amount_cents=topup.amount_cents,
                currency=topup.currency,
                completed_at=topup.completed_at,
            )
    return StatusAnswer(status.status)


def _invoiced_for_another_amount(topup: TopUp) -> bool:
    """Whether the invoice already read for this top-up is for another amount: then a person
    decides (a pending one goes to finance's queue), never Cloudflare's status alone. Only what
    is cached is looked at: the status check spends no call on it."""
    assert topup.payment_intent_id is not None  # the status check's top-up has an id
    invoice = account_cached_invoice(account=topup.account, invoice_id=topup.payment_intent_id)
    if invoice is None or amounts_agree(topup, invoice):
        return False
    reason = STALE_REASONS["other_amount"].format(
        invoiced=format_cents(invoice.amount_due_cents), amount=topup.amount_display
    )
    logger.warning("Top-up %s: %s", topup.pk, reason)
    _mark_stale(topup, reason)
    return True


def _no_answer(exc: CloudflareError) -> tuple[str, datetime | None]:
    """Why no answer came, and until when nobody asks again."""
    now = timezone.now()
    if isinstance(exc, CloudflareBusy):  # nothing was sent: anyone may ask, on any machine
        return StatusProblem.SLOW, None
    if isinstance(exc, CloudflareBudgetExhausted):
        return StatusProblem.BUDGET, now + timedelta(seconds=exc.retry_after or 60)
    if isinstance(exc, CloudflareSlow):
        return StatusProblem.SLOW, now + FAILED_CHECK_BACKOFF
    # An error answered at once costs Cloudflare no wait: the usual interval paces the next.
    return StatusProblem.UNAVAILABLE, None


def _checked(topup: TopUp, problem: str, hold: datetime | None) -> None:
    TopUp.objects.filter(pk=topup.pk).update(status_problem=problem, status_hold_until=hold)
    topup.status_problem, topup.status_hold_until = problem, hold


def _mark_stale_if_too_old(topup: TopUp) -> bool:
    if topup.state in PENDING_STATES and _too_old(topup, timezone.now()):
        minutes = settings.TOPUP_STALE_AFTER_MINUTES
        _mark_stale(topup, STALE_REASONS["age"].format(minutes=minutes))
        return True
    return False


def _mark_stale(topup: TopUp, reason: str) -> None:
    if topup.state in PENDING_STATES:
        topup_transition(
            topup=topup,
            to_state=TopUpState.STALE,
            kind=TopUpEvent.Kind.MARKED_STALE,
            detail={"reason": reason},
            stale_reason=reason,
        )
