"""Writes of the finance desk: confirming a payment, and resolving a top-up by hand.

Nobody confirms or resolves a top-up they created (checked here, and by a database constraint).
Every action goes through topups' transitions or a conditional UPDATE and lands in the event
trail.
"""

import logging
from collections import Counter

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CloudflareAccount
from accounts.snapshots import account_invoices
from finance import user_messages
from finance.reconcile import RECORDABLE_ORIGINS, candidate_invoices, invoice_claims
from topups.models import TopUp, TopUpEvent
from topups.services.status import run_bounded, topup_check_now
from topups.services.transitions import audit_detail, topup_event_record, topup_transition
from topups.states import RESOLVABLE_STATES, TopUpState

logger = logging.getLogger(__name__)


class FinanceRefusal(Exception):
    """The action is not allowed on this top-up now; the message says why, for the user."""


def topup_confirm_payment(*, topup: TopUp, user) -> str:
    """Ask Cloudflare now and confirm only a `completed` top-up, recording who and when.
    Returns one of the keys of user_messages.CONFIRM_RESULTS."""
    if topup.created_by_id == user.pk:
        return "own"
    if topup.confirmed_at or topup.resolved_at:
        return "already"
    status = topup_check_now(topup=topup, actor=user)
    if status is None:
        return "unreachable"
    if status != "completed":
        return "not_completed"
    with transaction.atomic():
        now = timezone.now()
        confirmed = TopUp.objects.filter(
            pk=topup.pk,
            state=TopUpState.COMPLETED,
            confirmed_at__isnull=True,
            resolved_at__isnull=True,
        ).update(confirmed_by=user, confirmed_at=now)
        if not confirmed:
            return "already"
        topup.confirmed_by, topup.confirmed_at = user, now
        topup_event_record(
            topup=topup,
            kind=TopUpEvent.Kind.FINANCE_CONFIRMED,
            actor=user,
            detail={"cloudflare_status": status},
        )
    return "confirmed"


def topup_confirm_many(*, topups: list[TopUp], user) -> Counter:
    """Confirm each, a few at a time; the shared API budget bounds how many are asked about."""
    return Counter(run_bounded(lambda topup: topup_confirm_payment(topup=topup, user=user), topups))


def topup_resolve(
    *,
    topup: TopUp,
    user,
    charged: bool,
    note: str,
    invoice_id: str = "",
    no_invoice_reason: str = "",
) -> None:
    """Settle an unknown or stale top-up by hand: charged (completed, e.g. seen on Cloudflare's
    invoice) or not charged (failed). A lost create charged by `invoice_id` takes the invoice's
    id, so the invoice is matched from then on (and never recorded a second time); charged
    without one of its candidate invoices needs `no_invoice_reason`.
    Raises FinanceRefusal with the reason when not allowed."""
    if invoice_id and (not charged or topup.payment_intent_id):
        raise FinanceRefusal(user_messages.INVOICE_ONLY_FOR_CHARGED_LOST_CREATE)
    if topup.created_by_id == user.pk:
        raise FinanceRefusal(user_messages.CANNOT_RESOLVE_OWN)
    if topup.state not in RESOLVABLE_STATES:
        raise FinanceRefusal(user_messages.CANNOT_RESOLVE_STATE)
    outcome = "charged" if charged else "not_charged"
    detail = {"outcome": outcome, "note": note}
    passed_over = (
        [invoice.id for invoice in candidate_invoices(topup=topup)]
        if charged and not invoice_id and not topup.payment_intent_id
        else []
    )
    if passed_over:
        if not no_invoice_reason.strip():
            raise FinanceRefusal(user_messages.NO_INVOICE_REASON_REQUIRED)
        detail |= {"passed_over_invoices": passed_over, "no_invoice_reason": no_invoice_reason}
    try:
        detail = audit_detail(detail)
    except ValueError:
        raise FinanceRefusal(user_messages.NOTE_REFUSED) from None
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


def topups_record_from_invoices(
    *, account: CloudflareAccount, invoice_ids: list[str], user
) -> Counter:
    """Record paid top-up invoices that no top-up here carries (made in Cloudflare's dashboard,
    or auto top-ups) as completed top-ups, confirmed by `user` who saw them. Each is looked up
    in the account's invoices; the unique (account, payment_intent_id) makes a second
    recording, even a simultaneous one, a no-op. An invoice that could be a lost create's is
    left for that top-up to take. Counts "recorded", "already", "claimed", "not_paid",
    "not_found"."""
    snapshot = account_invoices(account=account)
    by_id = {invoice.id: invoice for invoice in (snapshot.value if snapshot else []) if invoice.id}
    claims = invoice_claims(account=account, invoices=list(by_id.values()))
    results = Counter()
    for invoice_id in dict.fromkeys(invoice_ids):
        invoice = by_id.get(invoice_id)
        if invoice is None or invoice.invoice_origin not in RECORDABLE_ORIGINS:
            results["not_found"] += 1
        elif invoice_id in claims:
            results["claimed"] += 1
        elif invoice.status != "paid" or invoice.amount_paid_cents % 1:
            results["not_paid"] += 1
        elif _record_from_invoice(account, invoice, user):
            results["recorded"] += 1
        else:
            results["already"] += 1
    return results


def _record_from_invoice(account: CloudflareAccount, invoice, user) -> bool:
    now = timezone.now()
    invoiced_at = invoice.created or now
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
                confirmed_by=user,
                confirmed_at=now,
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
    except IntegrityError:
        return False
    logger.info("Invoice %s recorded as top-up %s by %s", invoice.id, topup.pk, user.pk)
    return True
