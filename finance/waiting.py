"""`topup.waiting_for_finance`: a top-up left on the finance desk's queue (topups.models.
NEEDS_ATTENTION, as finance.selectors lists it) FINANCE_WAIT_HOURS after it got there is told
once, from the hourly reconcile_invoices. It got there when it last changed state
(`updated_at`: set by every transition, and by the recording of one from an invoice)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, Exists, OuterRef, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from finance.selectors import QUEUE_KINDS
from notifications.events import EventType
from notifications.models import Notification
from notifications.services import notify
from topups.models import ATTENTION, NEEDS_ATTENTION, TopUp
from topups.services.transitions import topup_event_data

logger = logging.getLogger(__name__)

KEY_PREFIX = f"{EventType.TOPUP_WAITING_FOR_FINANCE}:"


def topups_waiting_for_finance_notify(*, now: datetime | None = None) -> int:
    """Write the event for each top-up waiting longer than FINANCE_WAIT_HOURS and not told
    yet; returns how many were written."""
    now = now or timezone.now()
    hours = settings.FINANCE_WAIT_HOURS
    told = Notification.objects.filter(
        account=OuterRef("account"),
        key=Concat(Value(KEY_PREFIX), Cast(OuterRef("pk"), CharField())),
    )
    waiting = (
        TopUp.objects.filter(ATTENTION, updated_at__lte=now - timedelta(hours=hours))
        .filter(~Exists(told))
        .annotate(
            queue_kind=Case(
                *[When(condition, then=Value(kind)) for kind, condition in NEEDS_ATTENTION.items()],
                output_field=CharField(),
            )
        )
        .select_related("account")
        .order_by("updated_at", "pk")
    )
    written = 0
    for topup in waiting:
        data = topup_event_data(topup) | {
            "waiting_since": topup.updated_at.isoformat(),
            "waiting_hours": hours,
            "queue": topup.queue_kind,
            "queue_label": QUEUE_KINDS[topup.queue_kind][0],
        }
        with transaction.atomic():
            notification = notify(
                account=topup.account,
                type=EventType.TOPUP_WAITING_FOR_FINANCE,
                key=f"{KEY_PREFIX}{topup.pk}",
                data=data,
            )
        written += notification is not None
    if written:
        logger.info("%d top-up(s) waiting for finance over %d hours notified", written, hours)
    return written
