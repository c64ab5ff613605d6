"""Every change of a top-up's state goes through `topup_transition`, which also writes the
audit trail."""

import logging
import re
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from notifications.events import EventType
from notifications.services import notify
from topups.models import TopUp, TopUpEvent
from topups.states import TopUpState, can_transition

logger = logging.getLogger(__name__)

# The outcomes a top-up's account is told about (notifications), written with the change.
OUTCOME_EVENTS: dict[str, EventType] = {
    TopUpState.COMPLETED: EventType.TOPUP_COMPLETED,
    TopUpState.FAILED: EventType.TOPUP_FAILED,
    TopUpState.UNKNOWN: EventType.TOPUP_OUTCOME_UNKNOWN,
}

# Keys and values that must never reach the audit trail.
_SECRET_KEY_RE = re.compile(r"secret|token|api_key|password|authorization|cvc|card_number", re.I)
_SECRET_VALUE_RE = re.compile(r"_secret_|^Bearer\s|^sk_(live|test)_", re.I)


class IllegalTransition(Exception):
    def __init__(self, from_state: str, to_state: str):
        super().__init__(f"A top-up cannot go from {from_state!r} to {to_state!r}.")
        self.from_state, self.to_state = from_state, to_state


def audit_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """Return `detail` if it is safe to store forever; refuse anything that looks secret."""

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if _SECRET_KEY_RE.search(str(key)):
                    raise ValueError(f"Refusing to write {path}{key} to the audit trail.")
                walk(item, f"{path}{key}.")
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, path)
        elif isinstance(value, str) and _SECRET_VALUE_RE.search(value):
            raise ValueError(f"Refusing to write a secret-looking value at {path or 'detail'}.")

    walk(detail, "")
    return detail


def topup_event_record(
    *,
    topup: TopUp,
    kind: str,
    actor: User | None = None,
    detail: dict[str, Any] | None = None,
    from_state: str = "",
    to_state: str = "",
) -> TopUpEvent:
    return TopUpEvent.objects.create(
        topup=topup,
        actor=actor,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        detail=audit_detail(detail or {}),
    )


@transaction.atomic
def topup_transition(
    *,
    topup: TopUp,
    to_state: str,
    actor: User | None = None,
    kind: str = TopUpEvent.Kind.STATE_CHANGED,
    detail: dict[str, Any] | None = None,
    **fields: Any,
) -> bool:
    """Move `topup` from the state it was read in to `to_state`, with `fields` updated alongside.

    The UPDATE only matches while the row is still in the state this caller saw, so of two
    racing callers exactly one wins; the loser gets False and `topup` refreshed from the database.
    Forbidden moves raise IllegalTransition. Leaving awaiting_payment forgets the client secret.
    """
    from_state = topup.state
    if not can_transition(from_state, to_state):
        raise IllegalTransition(from_state, to_state)
    now = timezone.now()
    updates = {"state": to_state, "updated_at": now, **fields}
    if to_state == TopUpState.COMPLETED:
        updates.setdefault("completed_at", now)
    if to_state != TopUpState.AWAITING_PAYMENT:
        # The secret only serves while the customer must act in the browser.
        updates["client_secret"] = ""
    won = TopUp.objects.filter(pk=topup.pk, state=from_state).update(**updates)
    if not won:
        topup.refresh_from_db()
        logger.info("Top-up %s left %s before this change to %s", topup.pk, from_state, to_state)
        return False
    for name, value in updates.items():
        setattr(topup, name, value)
    topup_event_record(
        topup=topup,
        kind=kind,
        actor=actor,
        detail=detail,
        from_state=from_state,
        to_state=to_state,
    )
    if event_type := OUTCOME_EVENTS.get(to_state):
        notify(
            account=topup.account,
            type=event_type,
            key=f"{event_type}:{topup.pk}",
            data=topup_event_data(topup),
        )
    return True


def topup_event_data(topup: TopUp) -> dict[str, Any]:
    """A top-up as its events carry it: nothing secret (never the client secret)."""
    data: dict[str, Any] = {
        "topup_id": topup.pk,
        "amount_cents": topup.amount_cents,
        "currency": topup.currency,
        "origin": topup.origin,
        "state": topup.state,
        "payment_intent_id": topup.payment_intent_id or None,
        "created_at": topup.created_at.isoformat(),
        "completed_at": topup.completed_at.isoformat() if topup.completed_at else None,
    }
    if topup.state == TopUpState.FAILED:
        data["error_message"] = topup.error_message
    return data
