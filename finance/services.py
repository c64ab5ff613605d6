"""Writes of the finance desk: confirming a payment, and resolving a top-up by hand.

Nobody confirms or resolves a top-up they created (checked here, and by a database constraint).
Every action goes through topups' transitions or a conditional UPDATE and lands in the event
trail.
"""

import logging
from collections import Counter

from django.db import transaction
from django.utils import timezone

from finance import user_messages
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


def topup_resolve(*, topup: TopUp, user, charged: bool, note: str) -> None:
    """Settle an unknown or stale top-up by hand: charged (completed, e.g. seen on Cloudflare's
    invoice) or not charged (failed). Raises FinanceRefusal with the reason when not allowed."""
    if topup.created_by_id == user.pk:
        raise FinanceRefusal(user_messages.CANNOT_RESOLVE_OWN)
    if topup.state not in RESOLVABLE_STATES:
        raise FinanceRefusal(user_messages.CANNOT_RESOLVE_STATE)
    outcome = "charged" if charged else "not_charged"
    try:
        detail = audit_detail({"outcome": outcome, "note": note})
    except ValueError:
        raise FinanceRefusal(user_messages.NOTE_REFUSED) from None
    fields = {"resolved_by": user, "resolved_at": timezone.now(), "resolution_note": note}
    if not charged:
        fields["error_message"] = user_messages.RESOLVED_FAILED_MESSAGE
    won = topup_transition(
        topup=topup,
        to_state=TopUpState.COMPLETED if charged else TopUpState.FAILED,
        actor=user,
        kind=TopUpEvent.Kind.FINANCE_RESOLVED,
        detail=detail,
        **fields,
    )
    if not won:
        raise FinanceRefusal(user_messages.CHANGED_MEANWHILE)
    logger.info("Top-up %s resolved as %s by %s", topup.pk, outcome, user.pk)
