"""The balance's events, from each read of it from Cloudflare (accounts.signals.balance_read,
received in notifications.receivers):

- `balance.low`: once per threshold crossed. A conditional UPDATE of the threshold's
  `crossed_at` and the notification are one transaction, so however many workers read the low
  balance at once, one writes it; the first read at or above the threshold re-arms it.
- `auto_topup.failed` / `auto_topup.disabled`: Cloudflare only reports auto top-up's trouble in
  the balance's `topup_config`; each failure (its `lastFailedAt`) and each disabling (its reason,
  at that failure) is told once."""

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import CloudflareAccount
from accounts.runway import Outlook, runway
from cloudflare_client import AutoTopUp, CreditBalance, UsageBucket
from notifications.events import EventType
from notifications.models import BalanceThreshold, Notification
from notifications.services import notify

# The reason goes into the event's key (at most 200 characters in all).
REASON_IN_KEY = 100


def balance_thresholds_check(
    *, account: CloudflareAccount, balance: CreditBalance, daily: list[UsageBucket] | None
) -> list[Notification]:
    """Write `balance.low` for each threshold the balance is below and that was not crossed
    yet; re-arm those it is at or above. Returns the notifications written."""
    thresholds = list(BalanceThreshold.objects.filter(account=account))
    cents = balance.balance_cents
    if any(t.crossed_at and cents >= t.cents for t in thresholds):
        # Conditional on the database's own values: a crossing marked meanwhile by a read of a
        # balance below stays marked unless the balance is above it too.
        BalanceThreshold.objects.filter(
            account=account, cents__lte=math.floor(cents), crossed_at__isnull=False
        ).update(crossed_at=None)
    written: list[Notification] = []
    for threshold in thresholds:
        if cents < threshold.cents and threshold.crossed_at is None:
            notification = _cross(account, threshold, balance, daily)
            if notification is not None:
                written.append(notification)
    return written


def _cross(
    account: CloudflareAccount,
    threshold: BalanceThreshold,
    balance: CreditBalance,
    daily: list[UsageBucket] | None,
) -> Notification | None:
    """Mark the crossing and write its notification, or nothing when another read marked it."""
    with transaction.atomic():
        crossed_at = timezone.now()
        if not BalanceThreshold.objects.filter(pk=threshold.pk, crossed_at__isnull=True).update(
            crossed_at=crossed_at
        ):
            return None
        threshold.crossed_at = crossed_at
        return notify(
            account=account,
            type=EventType.BALANCE_LOW,
            key=f"balance.low:{threshold.pk}:{crossed_at.isoformat()}",
            data={
                "threshold_cents": threshold.cents,
                "crossed_at": crossed_at.isoformat(),
                **balance_data(balance),
                **_runway_data(balance.balance_cents, daily, crossed_at),
            },
        )


def balance_data(balance: CreditBalance) -> dict[str, Any]:
    """The balance as the events carry it: whole cents, down (below $20.00 reads $19.99)."""
    card = balance.payment_method
    return {
        "balance_cents": math.floor(balance.balance_cents),
        "card": {"brand": card.brand, "last4": card.last4} if card else None,
        "auto_topup_active": balance.auto_topup.active,
    }


def _runway_data(cents: Decimal, daily: list[UsageBucket] | None, now: datetime) -> dict[str, Any]:
    """How long the balance lasts at the recent rate: `runway_days` is null when that is not
    known (no usage read, nothing spent, more than a year), 0 when the credits have run out."""
    estimate = runway(balance_cents=cents, daily=daily, now=now)
    days = {Outlook.DAYS: estimate.days_left, Outlook.RUN_OUT: Decimal(0)}.get(estimate.outlook)
    known_rate = estimate.outlook != Outlook.UNKNOWN
    return {
        "runway": str(estimate.outlook),
        "runway_days": None if days is None else round(float(days), 1),
        "runs_out_at": estimate.runs_out_at.isoformat() if estimate.runs_out_at else None,
        "burn_cents_per_day": round(estimate.burn_cents_per_day) if known_rate else None,
    }


def auto_topup_trouble_check(
    *, account: CloudflareAccount, balance: CreditBalance
) -> list[Notification]:
    """Write `auto_topup.failed` for a failure not told yet (by its time: Cloudflare gives none
    without `lastFailedAt`, and then nothing is written), and `auto_topup.disabled` for a
    disabling not told yet. Returns the notifications written."""
    config = balance.auto_topup
    failed_at = config.last_failed_at.isoformat() if config.last_failed_at else ""
    events: dict[str, EventType] = {}
    if failed_at:
        events[f"auto_topup.failed:{failed_at}"] = EventType.AUTO_TOPUP_FAILED
    if config.disabled_reason:
        reason = config.disabled_reason[:REASON_IN_KEY]
        events[f"auto_topup.disabled:{reason}:{failed_at}"] = EventType.AUTO_TOPUP_DISABLED
    if not events:
        return []
    told = set(
        Notification.objects.filter(account=account, key__in=list(events)).values_list(
            "key", flat=True
        )
    )
    data = {**_auto_topup_data(config), **balance_data(balance)}
    written: list[Notification] = []
    for key, type in events.items():
        if key in told:
            continue
        with transaction.atomic():
            notification = notify(account=account, type=type, key=key, data=data)
        if notification is not None:
            written.append(notification)
    return written


def _auto_topup_data(config: AutoTopUp) -> dict[str, Any]:
    return {
        "error": config.error,
        "disabled_reason": config.disabled_reason,
        "last_failed_at": config.last_failed_at.isoformat() if config.last_failed_at else None,
        "amount_cents": _cents(config.amount_cents),
        "threshold_cents": _cents(config.threshold_cents),
    }


def _cents(value: Decimal | None) -> int | None:
    return None if value is None else round(value)
