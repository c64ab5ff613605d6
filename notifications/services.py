"""Writing events to the outbox. Callers (accounts' balance reads, topups' transitions, finance)
pass plain data; sending is notifications.delivery's, off the request."""

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CloudflareAccount
from notifications.events import EventType
from notifications.models import Channel, Delivery, Notification


def notify(
    *, account: CloudflareAccount, type: EventType, key: str, data: dict[str, Any]
) -> Notification | None:
    """Write one event, with a pending delivery for each of the account's channels that takes
    it, inside the caller's transaction (so it exists exactly when the state change does).
    None when an event with this `key` was written before: never told twice."""
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: a repeat must not break the caller's transaction
            notification = Notification.objects.create(
                event_id=f"evt_{secrets.token_hex(12)}",
                account=account,
                type=type,
                key=key,
                data=data,
                created_at=now,
            )
    except IntegrityError:
        return None
    channels = [c for c in Channel.objects.filter(account=account, is_active=True) if c.takes(type)]
    Delivery.objects.bulk_create(
        Delivery(notification=notification, channel=channel, next_attempt_at=now)
        for channel in channels
    )
    return notification
