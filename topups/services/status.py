"""After create: the browser's word that it paid, and Cloudflare's status, which is the truth."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.cloudflare import client_for_account
from cloudflare_client import CloudflareError
from topups.models import TopUp, TopUpEvent
from topups.services.create import topup_expire_if_stale
from topups.services.transitions import topup_transition
from topups.states import TopUpState

logger = logging.getLogger(__name__)

# How often one top-up's status may be asked of Cloudflare, whoever asks (all workers share the
# claim in the database). Awaiting payment means the customer has not paid yet: ask rarely.
STATUS_CHECK_INTERVAL = {
    TopUpState.PROCESSING: timedelta(seconds=2),
    TopUpState.AWAITING_PAYMENT: timedelta(seconds=10),
}


def topup_browser_confirmed(*, topup: TopUp, user, stripe_status: str) -> TopUp:
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


def topup_refresh_status(*, topup: TopUp, force: bool = False) -> TopUp:
    """Ask Cloudflare for the status of a pending top-up, unless someone asked very recently.

    The right to ask is claimed with a conditional UPDATE of `status_checked_at`, so however many
    browsers, workers or machines poll one top-up, Cloudflare sees at most one call per interval.
    """
    topup_expire_if_stale(topup=topup)
    interval = STATUS_CHECK_INTERVAL.get(topup.state)
    if interval is None or not topup.payment_intent_id:
        return topup
    now = timezone.now()
    due = Q(status_checked_at__isnull=True) | Q(status_checked_at__lte=now - interval)
    if force:
        due |= Q(status_checked_at__lte=now - timedelta(seconds=1))
    claimed = TopUp.objects.filter(due, pk=topup.pk, state=topup.state).update(
        status_checked_at=now
    )
    if not claimed:
        topup.refresh_from_db()
        return topup
    topup.status_checked_at = now
    try:
        status = client_for_account(topup.account).topups.status(
            topup.account.account_id, topup.payment_intent_id
        )
    except CloudflareError as exc:
        logger.warning("Top-up %s: status check failed (%s)", topup.pk, exc)
        return topup
    if status.is_completed:
        topup_transition(
            topup=topup,
            to_state=TopUpState.COMPLETED,
            kind=TopUpEvent.Kind.STATUS_CHECKED,
            detail={"status": status.status},
        )
    return topup
