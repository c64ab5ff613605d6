"""Delivering the outbox: claim what is due, send it, record how it went.

Claim, send, record. A conditional UPDATE claims one delivery (pending, due, not claimed by a
live sender) until CLAIM_FOR from now, so senders on several machines never send the same
delivery at once; the claim's time is the claimant's token, and only its holder records the
outcome. A sender that dies mid-send leaves a claim that expires: the delivery is sent again
later, with the same event id, which is what receivers de-duplicate on (at least once, never
lost).

A failed attempt is tried again after BACKOFF (1 min, 5 min, 30 min, 2 h, 6 h, then every
12 h), until the next try would fall more than GIVE_UP_AFTER after the event: then the
delivery is given up, and the delivery log says so with the last error."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from notifications.models import Delivery
from notifications.senders import Attempt, send

logger = logging.getLogger(__name__)

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
GIVE_UP_AFTER = timedelta(hours=24)
# Far longer than one send can take (HTTP: connect + read timeouts; email: EMAIL_TIMEOUT for
# each step of the SMTP conversation).
CLAIM_FOR = timedelta(minutes=5)
# How many due deliveries are looked up at once; each is still claimed on its own, just before
# it is sent, so a claim never waits behind the sends before it.
BATCH = 50

CHANNEL_OFF = "The channel was turned off before this could be sent."
UNEXPECTED = "Sending failed unexpectedly; the operator's logs say why."

Clock = Callable[[], datetime]


@dataclass
class PassSummary:
    delivered: int = 0
    retrying: int = 0
    gave_up: int = 0
    # Sent, but another sender had taken the delivery over (this one held it past CLAIM_FOR).
    claim_lost: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.gave_up + self.claim_lost


def next_attempt_at(
    *, attempts: int, attempted_at: datetime, created_at: datetime
) -> datetime | None:
    """When to try again after `attempts` failed attempts, the last at `attempted_at`; None:
    give up (the next try would be more than GIVE_UP_AFTER after the event)."""
    at = attempted_at + BACKOFF[min(attempts, len(BACKOFF)) - 1]
    return None if at > created_at + GIVE_UP_AFTER else at


def deliveries_send_due(
    *, now: Clock = timezone.now, should_stop: Callable[[], bool] = lambda: False
) -> PassSummary:
    """One pass: every delivery due when it starts, each claimed, sent and recorded in turn
    (a retry is due later, so a pass always ends). Database errors are raised; nothing a
    receiver or the mail server does is."""
    started = now()
    summary = PassSummary()
    while not should_stop():
        candidates = list(_claimable(started, now()).values_list("pk", flat=True)[:BATCH])
        if not candidates:
            break
        for pk in candidates:
            if should_stop():
                break
            claimed = _claim(pk, started, now())
            if claimed is not None:
                _deliver(claimed, now, summary)
    return summary


def _claimable(due_by: datetime, now: datetime) -> "QuerySet[Delivery]":
    return Delivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        state=Delivery.State.PENDING,
        next_attempt_at__lte=due_by,
    ).order_by("next_attempt_at", "pk")


def _claim(pk: int, due_by: datetime, now: datetime) -> Delivery | None:
    """The delivery, claimed by this sender until now + CLAIM_FOR; None if another sender
    claimed or finished it first."""
    claim = now + CLAIM_FOR
    if not _claimable(due_by, now).filter(pk=pk).update(claimed_until=claim):
        return None
    return (
        Delivery.objects.select_related("notification__account", "channel")
        .filter(pk=pk, claimed_until=claim)
        .first()
    )


def _deliver(delivery: Delivery, now: Clock, summary: PassSummary) -> None:
    attempted_at = now()
    if not delivery.channel.is_active:
        attempt = Attempt(delivered=False, error=CHANNEL_OFF, final=True)
    else:
        try:
            attempt = send(delivery)
        except Exception:  # a bug in one delivery must not stop the others
            logger.exception("Delivery %s failed unexpectedly", delivery.pk)
            attempt = Attempt(delivered=False, error=UNEXPECTED)
    outcome = _record(delivery, attempt, attempted_at)
    setattr(summary, outcome, getattr(summary, outcome) + 1)


def _record(delivery: Delivery, attempt: Attempt, attempted_at: datetime) -> str:
    """Write the attempt's outcome, if this sender still holds the claim; returns which
    PassSummary count it adds to."""
    fields: dict[str, object] = {
        "attempts": F("attempts") + 1,
        "last_attempt_at": attempted_at,
        "last_status_code": attempt.status_code,
        "last_error": attempt.error[:300],
        "claimed_until": None,
    }
    retry_at = None
    if attempt.delivered:
        outcome, fields["state"] = "delivered", Delivery.State.DELIVERED
        fields["delivered_at"] = attempted_at
    else:
        if not attempt.final:
            retry_at = next_attempt_at(
                attempts=delivery.attempts + 1,
                attempted_at=attempted_at,
                created_at=delivery.notification.created_at,
            )
        if retry_at is None:
            outcome, fields["state"] = "gave_up", Delivery.State.GAVE_UP
        else:
            outcome, fields["next_attempt_at"] = "retrying", retry_at
    mine = Delivery.objects.filter(
        pk=delivery.pk, claimed_until=delivery.claimed_until, state=Delivery.State.PENDING
    )
    if not mine.update(**fields):
        logger.warning("Delivery %s was taken over by another sender while sent", delivery.pk)
        return "claim_lost"
    why = f" ({attempt.error})" if attempt.error else ""
    logger.info("Delivery %s (%s): %s%s", delivery.pk, delivery.channel.kind, outcome, why)
    return outcome
