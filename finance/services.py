"""Writes of the finance desk: confirming a payment, resolving a top-up by hand, recording a
top-up from Cloudflare's invoice, reconciling an account (settling what its invoices prove).

Four eyes wherever money is declared: nobody resolves a top-up they created, and nobody
confirms one they created, recorded or resolved (checked here, and by database constraints).
Every action goes through topups' transitions or a conditional UPDATE and lands in the event
trail.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import CloudflareAccount
from accounts.snapshots import (
    CLOCK_MARGIN,
    account_cached_balance,
    account_invoices,
    account_invoices_reread,
)
from cloudflare_client import Invoice
from finance import user_messages
from finance.outcomes import ConfirmResult, RecordResult, ResolveOutcome
from finance.reconcile import (
    RECORDABLE_ORIGINS,
    SETTLES,
    Reconciliation,
    candidate_invoices,
    invoice_claims,
    invoice_of,
    looked_for_since,
    reconciliation_of,
)
from notifications.events import EventType
from notifications.services import notify
from topups.models import TopUp, TopUpEvent
from topups.selectors import amounts_agree
from topups.services.status import StatusAnswer, run_bounded, topup_check_now
from topups.services.transitions import audit_detail, topup_event_record, topup_transition
from topups.states import RESOLVABLE_STATES, TopUpState

logger = logging.getLogger(__name__)

RECONCILE_INTERVAL = timedelta(minutes=1)
FAILED_MESSAGE = "Cloudflare's invoice for this top-up was not paid ({status})."


class FinanceRefusal(Exception):
    """The action is not allowed on this top-up now; the message says why, for the user."""


# What Cloudflare's status, asked now, makes of a confirmation (anything else: not completed).
STATUS_CONFIRMS = {
    None: ConfirmResult.UNREACHABLE,
    StatusAnswer.COMPLETED: ConfirmResult.CONFIRMED,
    StatusAnswer.NOT_FOUND: ConfirmResult.GONE,
}


def topup_confirm_payment(*, topup: TopUp, user: User) -> ConfirmResult:
    """Confirm a completed top-up on Cloudflare's evidence, recording who and when. Four eyes:
    never by whoever started, recorded or resolved it. The evidence is Cloudflare's status,
    asked now, for a top-up started here; its invoice, paid, for one recorded from an invoice
    (the status endpoint knows only top-ups made through it); for one resolved as charged
    without any id, the second person's reading of the resolution note."""
    if user.pk in (topup.created_by_id, topup.recorded_by_id, topup.resolved_by_id):
        return ConfirmResult.OWN
    if topup.confirmed_at or topup.state == TopUpState.FAILED:
        return ConfirmResult.ALREADY
    if topup.origin != TopUp.Origin.PORTAL:
        result, evidence = _invoice_evidence(topup, user)
    elif not topup.payment_intent_id and topup.resolved_at:
        result, evidence = ConfirmResult.CONFIRMED, {"evidence": "resolution_note"}
    elif (invoice := invoice_of(topup=topup)) and not amounts_agree(topup, invoice):
        # Asking would complete it: an invoice for another amount is for a person to decide.
        return ConfirmResult.MISMATCH
    else:
        status = topup_check_now(topup=topup, actor=user)
        result = STATUS_CONFIRMS.get(status, ConfirmResult.NOT_COMPLETED)
        if status is None and _unknown_to_cloudflare(topup):
            result = ConfirmResult.GONE
        evidence = {"cloudflare_status": status}
    if result != ConfirmResult.CONFIRMED:
        return result
    with transaction.atomic():
        now = timezone.now()
        confirmed = TopUp.objects.filter(
            pk=topup.pk, state=TopUpState.COMPLETED, confirmed_at__isnull=True
        ).update(confirmed_by=user, confirmed_at=now)
        if not confirmed:
            return ConfirmResult.ALREADY
        topup.confirmed_by, topup.confirmed_at = user, now
        topup_event_record(
            topup=topup, kind=TopUpEvent.Kind.FINANCE_CONFIRMED, actor=user, detail=evidence
        )
    return ConfirmResult.CONFIRMED


def _unknown_to_cloudflare(topup: TopUp) -> bool:
    """After a status call that did not answer: whether Cloudflare's invoices, read since the
    top-up was made, leave its id out (the status call alone cannot tell "no such top-up"
    from "could not be asked")."""
    back_to = topup.created_at - CLOCK_MARGIN
    snapshot = account_invoices(
        account=topup.account, back_to=back_to, find=topup.payment_intent_id
    )
    return (
        snapshot is not None
        and snapshot.fetched_at >= topup.created_at
        and snapshot.value.reaches(back_to)
        and snapshot.value.get(topup.payment_intent_id) is None
    )


def _invoice_evidence(topup: TopUp, user: User) -> tuple[ConfirmResult, dict[str, object]]:
    """What the invoice a top-up was recorded from says now, for `user` to confirm it."""
    back_to = topup.created_at - CLOCK_MARGIN
    snapshot = account_invoices(
        account=topup.account, back_to=back_to, find=topup.payment_intent_id
    )
    if snapshot is None:
        return ConfirmResult.UNREACHABLE, {}
    invoice = snapshot.value.get(topup.payment_intent_id)
    if invoice is None:  # not among every invoice made since: gone; else not read that far
        gone = snapshot.value.reaches(back_to)
        return (ConfirmResult.GONE if gone else ConfirmResult.UNREACHABLE), {}
    if user.email and (invoice.created_by or "").casefold() == user.email.casefold():
        return ConfirmResult.OWN, {}  # they made it in Cloudflare's dashboard
    if invoice.status != "paid":
        return ConfirmResult.NOT_PAID, {}
    return ConfirmResult.CONFIRMED, {"invoice_status": invoice.status}


def topup_confirm_many(*, topups: list[TopUp], user: User) -> Counter[ConfirmResult]:
    """Confirm each, a few at a time; the shared API budget bounds how many are asked about."""
    return Counter(run_bounded(lambda topup: topup_confirm_payment(topup=topup, user=user), topups))


def topup_resolve(
    *,
    topup: TopUp,
    user: User,
    charged: bool,
    note: str,
    invoice_id: str = "",
    no_invoice_reason: str = "",
) -> ResolveOutcome:
    """Settle an unknown or stale top-up by hand: charged (completed, e.g. seen on Cloudflare's
    invoice) or not charged (failed). A lost create charged by `invoice_id` takes the invoice's
    id, so the invoice is matched from then on (and never recorded a second time); passing over
    its candidate invoices needs `no_invoice_reason`. "Not charged" is refused while Cloudflare
    says completed or shows the top-up's invoice paid. Returns the outcome recorded.
    Raises FinanceRefusal with the reason when not allowed."""
    outcome = ResolveOutcome.CHARGED if charged else ResolveOutcome.NOT_CHARGED
    detail = _resolution_detail(topup, user, outcome, note, invoice_id, no_invoice_reason)
    fields = {"resolved_by": user, "resolved_at": timezone.now(), "resolution_note": note}
    if invoice_id:
        fields["payment_intent_id"] = detail["invoice_id"] = invoice_id
    if not charged:
        fields["error_message"] = user_messages.RESOLVED_FAILED_MESSAGE
    try:
        won = topup_transition(
            topup=topup,
            to_state=TopUpState.COMPLETED if charged else TopUpState.FAILED,
            actor=user,
            kind=TopUpEvent.Kind.FINANCE_RESOLVED,
            detail=detail,
            **fields,
        )
    except IntegrityError:  # the unique (account, payment_intent_id): another row has it now
        raise FinanceRefusal(user_messages.INVOICE_TAKEN) from None
    if not won:
        raise FinanceRefusal(user_messages.CHANGED_MEANWHILE)
    logger.info("Top-up %s resolved as %s by %s", topup.pk, outcome, user.pk)
    return outcome


def _resolution_detail(
    topup: TopUp,
    user: User,
    outcome: ResolveOutcome,
    note: str,
    invoice_id: str,
    no_invoice_reason: str,
) -> dict:
    """The checks before a resolution (FinanceRefusal when one fails), and the event detail
    that records it."""
    charged = outcome == ResolveOutcome.CHARGED
    if invoice_id and (not charged or topup.payment_intent_id):
        raise FinanceRefusal(user_messages.INVOICE_ONLY_FOR_CHARGED_LOST_CREATE)
    if topup.created_by_id == user.pk:
        raise FinanceRefusal(user_messages.CANNOT_RESOLVE_OWN)
    if topup.state not in RESOLVABLE_STATES:
        raise FinanceRefusal(user_messages.CANNOT_RESOLVE_STATE)
    detail: dict[str, object] = {"outcome": str(outcome), "note": note}
    if not charged and topup.payment_intent_id:
        _refuse_if_charged(topup, user)
    if not charged and not topup.payment_intent_id:
        _refuse_unless_invoices_read_since(topup)
    if invoice_id and invoice_id not in {i.id for i in candidate_invoices(topup=topup)}:
        taken = TopUp.objects.filter(account=topup.account, payment_intent_id=invoice_id)
        raise FinanceRefusal(
            user_messages.INVOICE_TAKEN if taken.exists() else user_messages.INVOICE_NOT_A_CANDIDATE
        )
    passed_over = (
        [invoice.id for invoice in candidate_invoices(topup=topup)]
        if not invoice_id and not topup.payment_intent_id
        else []
    )
    if passed_over:
        if not no_invoice_reason.strip():
            raise FinanceRefusal(user_messages.NO_INVOICE_REASON_REQUIRED)
        detail |= {"passed_over_invoices": passed_over, "no_invoice_reason": no_invoice_reason}
    try:
        return audit_detail(detail)
    except ValueError:
        raise FinanceRefusal(user_messages.NOTE_REFUSED) from None


def _refuse_if_charged(topup: TopUp, user: User) -> None:
    """Before "not charged": the top-up's invoice, then Cloudflare's status, asked now (not
    when the invoice is for another amount: a completed status would complete the top-up)."""
    invoice = invoice_of(topup=topup)
    if invoice is not None and invoice.status == "paid":
        raise FinanceRefusal(
            user_messages.INVOICE_PAID_REFUSES_NOT_CHARGED.format(invoice=invoice.id)
        )
    if invoice is not None and not amounts_agree(topup, invoice):
        return  # its unpaid invoice is the evidence; a completed status would complete it
    status = topup_check_now(topup=topup, actor=user)
    if status == StatusAnswer.COMPLETED:
        raise FinanceRefusal(user_messages.CLOUDFLARE_SAYS_COMPLETED)
    if status is None:  # no word either way: "not charged" would be a guess
        raise FinanceRefusal(user_messages.CLOUDFLARE_NOT_ASKED_NOT_CHARGED)


def _refuse_unless_invoices_read_since(topup: TopUp) -> None:
    """A lost create has no id to ask about: "not charged" stands only on Cloudflare's invoices
    read since it was started (so that a candidate, were there one, would show)."""
    snapshot = account_invoices(account=topup.account)
    if snapshot is None or snapshot.fetched_at < topup.created_at:
        raise FinanceRefusal(user_messages.INVOICES_NOT_READ_SINCE)


def topups_record_from_invoices(
    *, account: CloudflareAccount, invoice_ids: list[str], user: User
) -> Counter[RecordResult]:
    """Record paid top-up invoices that no top-up here carries (made in Cloudflare's dashboard,
    or auto top-ups) as completed top-ups recorded by `user`, for another finance member to
    confirm. Each is looked up
    in the account's invoices; the unique (account, payment_intent_id) makes a second
    recording, even a simultaneous one, a no-op. An invoice that could be a lost create's is
    left for that top-up to take. Counts each RecordResult."""
    snapshot = account_invoices(account=account)
    by_id = {invoice.id: invoice for invoice in (snapshot.value if snapshot else []) if invoice.id}
    claims = invoice_claims(account=account, invoices=list(by_id.values()))
    results: Counter[RecordResult] = Counter()
    for invoice_id in dict.fromkeys(invoice_ids):
        invoice = by_id.get(invoice_id)
        if invoice is None or invoice.invoice_origin not in RECORDABLE_ORIGINS:
            results[RecordResult.NOT_FOUND] += 1
        elif invoice_id in claims:
            results[RecordResult.CLAIMED] += 1
        elif invoice.status != "paid" or invoice.amount_paid_cents % 1:
            results[RecordResult.NOT_PAID] += 1
        elif _record_from_invoice(account, invoice, user):
            results[RecordResult.RECORDED] += 1
        else:
            results[RecordResult.ALREADY] += 1
    return results


def _record_from_invoice(account: CloudflareAccount, invoice: Invoice, user: User) -> bool:
    invoiced_at = invoice.created or timezone.now()
    try:
        with transaction.atomic():
            topup = TopUp.objects.create(
                account=account,
                origin=RECORDABLE_ORIGINS[invoice.invoice_origin],
                amount_cents=int(invoice.amount_paid_cents),
                currency=invoice.currency or "usd",
                state=TopUpState.COMPLETED,
                payment_intent_id=invoice.id,
                created_at=invoiced_at,
                completed_at=invoiced_at,
                recorded_by=user,
            )
            topup_event_record(
                topup=topup,
                kind=TopUpEvent.Kind.RECORDED_FROM_INVOICE,
                actor=user,
                to_state=TopUpState.COMPLETED,
                detail={
                    "invoice_id": invoice.id,
                    "invoice_origin": invoice.invoice_origin,
                    "invoice_status": invoice.status,
                    "amount_paid_cents": str(invoice.amount_paid_cents),
                },
            )
            if topup.origin == TopUp.Origin.AUTO:
                _notify_auto_topup_charged(topup, invoice)
    except IntegrityError:
        return False
    logger.info("Invoice %s recorded as top-up %s by %s", invoice.id, topup.pk, user.pk)
    return True


def _notify_auto_topup_charged(topup: TopUp, invoice: Invoice) -> None:
    """`auto_topup.charged`, once per invoice. The card is the one on file as the balance was
    last read (auto top-up charges it; the invoice does not say which)."""
    balance = account_cached_balance(account=topup.account)
    card = balance.payment_method if balance else None
    notify(
        account=topup.account,
        type=EventType.AUTO_TOPUP_CHARGED,
        key=f"{EventType.AUTO_TOPUP_CHARGED}:{invoice.id}",
        data={
            "topup_id": topup.pk,
            "invoice_id": invoice.id,
            "amount_cents": topup.amount_cents,
            "currency": topup.currency,
            "charged_at": topup.created_at.isoformat(),
            "card": {"brand": card.brand, "last4": card.last4} if card else None,
        },
    )


def account_reconcile(*, account: CloudflareAccount) -> Reconciliation:
    """Read every page of the account's invoices afresh (at most once per RECONCILE_INTERVAL
    and account, whoever asks), and further back to the oldest top-up needing its invoice;
    keep each matched top-up's `invoice_status` as read, and settle what the invoices prove
    (`settled`; nothing is left `settleable`)."""
    started = timezone.now()
    if throttled_until := _claim_fresh_read(account, started):
        return Reconciliation(invoices_read=False, throttled_until=throttled_until)
    snapshot = account_invoices_reread(account=account, back_to=looked_for_since(account=account))
    # Unreachable or out of budget, the snapshot is the last one read: nothing settles on it.
    if snapshot is None or snapshot.fetched_at < started:
        return Reconciliation(invoices_read=False)
    report = reconciliation_of(account=account, snapshot=snapshot)
    _note_invoice_statuses(report.matched)
    for topup, invoice in report.settleable:
        if to_state := _settle(topup, invoice):
            report.settled.append((topup, to_state))
    report.settleable = []
    return report


def _claim_fresh_read(account: CloudflareAccount, now: datetime) -> datetime | None:
    """Claim this minute's fresh read of the account's invoices with a conditional UPDATE (so
    clicks on any worker share one budget); None once claimed, else when the next is allowed."""
    claimed = (
        CloudflareAccount.objects.filter(pk=account.pk)
        .filter(Q(reconciled_at__isnull=True) | Q(reconciled_at__lte=now - RECONCILE_INTERVAL))
        .update(reconciled_at=now)
    )
    if claimed:
        return None
    # Set: the claim failed because it is recent.
    last = CloudflareAccount.objects.values_list("reconciled_at", flat=True).get(pk=account.pk)
    return cast(datetime, last) + RECONCILE_INTERVAL


def _note_invoice_statuses(matched: list[tuple[TopUp, Invoice]]) -> None:
    """Keep each top-up's `invoice_status` as read (one UPDATE per status that changed)."""
    changed: dict[str, list[int]] = {}
    for topup, invoice in matched:
        status = (invoice.status or "")[:20]
        if topup.invoice_status != status:
            changed.setdefault(status, []).append(topup.pk)
            topup.invoice_status = status
    for status, pks in changed.items():
        TopUp.objects.filter(pk__in=pks).update(invoice_status=status)


def _settle(topup: TopUp, invoice: Invoice) -> str | None:
    to_state = SETTLES[invoice.status or ""]  # only a top-up whose invoice settles it
    fields: dict[str, Any] = {"stale_reason": ""}
    if to_state == TopUpState.FAILED:
        fields["error_message"] = FAILED_MESSAGE.format(status=invoice.status)
    settled = topup_transition(
        topup=topup,
        to_state=to_state,
        kind=TopUpEvent.Kind.RECONCILED,
        detail={
            "invoice_id": invoice.id,
            "invoice_status": invoice.status,
            "amount_paid_cents": str(invoice.amount_paid_cents),
        },
        **fields,
    )
    return to_state if settled else None
