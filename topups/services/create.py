"""Creating a top-up: the row first, then the one create call, then Cloudflare's answer."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.cloudflare import client_for_account
from accounts.models import CloudflareAccount
from cloudflare_client import (
    CloudflareAuthError,
    CloudflareConfigurationError,
    CloudflareError,
    CloudflareOutcomeUnknown,
    CloudflareRateLimited,
    CloudflareValidationError,
)
from topups.models import TopUp, TopUpEvent
from topups.services.transitions import topup_event_record, topup_transition
from topups.states import TopUpState
from topups.user_messages import CREATE_ERROR_MESSAGES

logger = logging.getLogger(__name__)

# Longer than any create could take to answer (the read timeout): a row still `creating` after
# this was left by a process that died between sending create and recording the answer.
STALE_CREATING_AFTER = timedelta(minutes=2)
CAP_WINDOW = timedelta(hours=1)


class TopUpNotYours(Exception):
    """A request key that belongs to someone else's top-up."""


class TopUpCapReached(Exception):
    """The account started TOPUP_CAP_PER_HOUR top-ups in the last hour; `retry_at` is when the
    oldest of them leaves the window."""

    def __init__(self, cap: int, retry_at: datetime) -> None:
        super().__init__(f"{cap} top-ups in the last hour")
        self.cap, self.retry_at = cap, retry_at


@dataclass(frozen=True)
class TopUpStarted:
    """What `topup_start` did: `created` is False for a repeat of the same request key."""

    topup: TopUp
    created: bool


def topup_start(
    *, account: CloudflareAccount, user: User, amount_cents: int, request_key: uuid.UUID
) -> TopUpStarted:
    """Write the row (state `creating`) before anything is sent to Cloudflare.

    A repeated request key — double click, resubmitted form, a second tab — gives the existing
    top-up with created=False, so only one create is ever sent: the unique request key refuses
    the second row, and a repeat is never refused by the cap.
    """
    try:
        with transaction.atomic():
            _check_cap(account)
            topup = TopUp.objects.create(
                account=account,
                created_by=user,
                amount_cents=amount_cents,
                request_key=request_key,
            )
            topup_event_record(
                topup=topup,
                kind=TopUpEvent.Kind.CREATED,
                actor=user,
                to_state=TopUpState.CREATING,
                detail={"amount_cents": amount_cents},
            )
        return TopUpStarted(topup, created=True)
    except (IntegrityError, TopUpCapReached):
        existing = TopUp.objects.filter(request_key=request_key).first()
        if existing is None:  # another constraint failed, or the cap: not a repeat
            raise
        return TopUpStarted(_repeat(existing, account, user), created=False)


def _repeat(existing: TopUp, account: CloudflareAccount, user: User) -> TopUp:
    if existing.account_id != account.pk or existing.created_by_id != user.pk:
        raise TopUpNotYours()
    return existing


def _check_cap(account: CloudflareAccount) -> None:
    """At most TOPUP_CAP_PER_HOUR top-ups started per account and hour. The account row is
    locked first, so two workers counting at once cannot both take the last place (on SQLite,
    the IMMEDIATE transaction already holds the one write lock).

    A create that did not happen (refused, or never sent) does not count: failures during an
    outage must not lock the account out afterwards. Every other start counts, its outcome
    unknown or its payment later failed included: it may have moved money."""
    cap = settings.TOPUP_CAP_PER_HOUR
    if connection.features.has_select_for_update:
        CloudflareAccount.objects.select_for_update().filter(pk=account.pk).first()
    since = timezone.now() - CAP_WINDOW
    # The cap-th newest start in the window, if there are that many: once it leaves the
    # window, fewer than `cap` remain.
    recent = (
        TopUp.objects.filter(account=account, origin=TopUp.Origin.PORTAL, created_at__gt=since)
        .exclude(state=TopUpState.FAILED, create_outcome=TopUp.CreateOutcome.NOT_MADE)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
    )
    cap_th = next(iter(recent[cap - 1 : cap]), None)
    if cap_th is not None:
        raise TopUpCapReached(cap, cap_th + CAP_WINDOW)


def topup_submit(*, topup: TopUp) -> TopUp:
    """Send the one create call for a freshly started top-up and record Cloudflare's answer."""
    if topup.state != TopUpState.CREATING:
        return topup
    try:
        created = client_for_account(topup.account).topups.create(
            topup.account.account_id, amount_cents=topup.amount_cents
        )
    except CloudflareOutcomeUnknown as exc:
        logger.error("Top-up %s: create outcome unknown (%s)", topup.pk, exc)
        _record_outcome_unknown(topup, {"reason": str(exc)[:300], "http_status": exc.status_code})
        return topup
    except CloudflareError as exc:
        _record_refusal(topup, exc)
        return topup

    fields: dict[str, Any] = {
        "payment_intent_id": created.payment_intent_id,
        "card_brand": created.brand or "",
        "card_last4": created.last4 or "",
        "onboarding": created.onboarding,
        "create_outcome": TopUp.CreateOutcome.MADE,
    }
    detail = {
        "payment_intent_id": created.payment_intent_id,
        "needs_browser": created.needs_browser_confirmation,
        "onboarding": created.onboarding,
        "card": f"{created.brand} {created.last4}" if created.last4 else "",
    }
    if created.needs_browser_confirmation:
        to_state, fields["client_secret"] = TopUpState.AWAITING_PAYMENT, created.client_secret
    else:
        to_state = TopUpState.PROCESSING
    try:
        answered = topup_transition(
            topup=topup,
            to_state=to_state,
            kind=TopUpEvent.Kind.CREATE_ANSWERED,
            detail=detail,
            **fields,
        )
    except IntegrityError:
        # Cloudflare handed out an id another row of this account already has: keep the money
        # trail intact and let finance look at it.
        logger.error("Top-up %s: duplicate payment_intent_id from Cloudflare", topup.pk)
        topup.refresh_from_db()
        _record_outcome_unknown(topup, {"reason": "duplicate payment_intent_id", **detail})
        return topup
    if not answered:
        _record_late_answer(topup, fields, detail)
    return topup


@transaction.atomic
def _record_late_answer(topup: TopUp, fields: dict, detail: dict) -> None:
    """Create answered after another worker had given up on the row (`topup_expire_if_stale`
    marked it `unknown`). The row stays `unknown` for finance but keeps Cloudflare's id and card,
    so the status check and reconciliation can settle it by id; never the client secret, as
    nobody is asked to pay an unknown top-up in the browser. The trail records the answer in
    any case."""
    logger.error("Top-up %s: create answered after the row left `creating`", topup.pk)
    kept = {name: value for name, value in fields.items() if name != "client_secret"}
    try:
        with transaction.atomic():
            recorded = TopUp.objects.filter(
                pk=topup.pk, state=TopUpState.UNKNOWN, payment_intent_id__isnull=True
            ).update(updated_at=timezone.now(), **kept)
    except IntegrityError:  # another row of this account has that id: finance will see both
        recorded = 0
        detail = {**detail, "reason": "duplicate payment_intent_id"}
    topup.refresh_from_db()
    topup_event_record(
        topup=topup,
        kind=TopUpEvent.Kind.CREATE_ANSWERED,
        detail={**detail, "late": True, "kept_on_row": bool(recorded)},
        from_state=topup.state,
        to_state=topup.state,
    )


def _record_outcome_unknown(topup: TopUp, detail: dict) -> None:
    topup_transition(
        topup=topup,
        to_state=TopUpState.UNKNOWN,
        kind=TopUpEvent.Kind.CREATE_OUTCOME_UNKNOWN,
        detail=detail,
        error_message=CREATE_ERROR_MESSAGES["unknown"],
    )


def _refusal_message(exc: CloudflareError) -> str:
    if isinstance(exc, CloudflareRateLimited):
        seconds = round(exc.retry_after) if exc.retry_after else None
        wait = f"{seconds} second{'s' if seconds != 1 else ''}" if seconds else "a minute"
        return CREATE_ERROR_MESSAGES["rate_limited"].format(seconds=wait)
    if isinstance(exc, CloudflareValidationError):
        return CREATE_ERROR_MESSAGES["refused"].format(reason=exc.user_message)
    if isinstance(exc, CloudflareAuthError):
        return CREATE_ERROR_MESSAGES["auth"]
    if isinstance(exc, CloudflareConfigurationError):
        return CREATE_ERROR_MESSAGES["configuration"]
    return CREATE_ERROR_MESSAGES["unavailable"]


def _record_refusal(topup: TopUp, exc: CloudflareError) -> None:
    """Create definitely did not happen: the row fails with a message that says why. Also when
    another worker marked it `unknown` meanwhile (`topup_expire_if_stale`): now it is known that
    nothing was charged."""
    logger.warning("Top-up %s: create refused (%s: %s)", topup.pk, type(exc).__name__, exc)
    refusal: dict[str, Any] = {
        "to_state": TopUpState.FAILED,
        "kind": TopUpEvent.Kind.CREATE_REFUSED,
        "detail": {
            "error": type(exc).__name__,
            "http_status": exc.status_code,
            "errors": [{"code": e.code, "message": e.message} for e in exc.errors],
        },
        "error_code": exc.errors[0].code if exc.errors else None,
        "error_message": _refusal_message(exc),
        "create_outcome": TopUp.CreateOutcome.NOT_MADE,
    }
    if not topup_transition(topup=topup, **refusal) and topup.state == TopUpState.UNKNOWN:
        topup_transition(topup=topup, **refusal)


def topup_expire_if_stale(*, topup: TopUp) -> None:
    """A row still `creating` long after any create could have answered: the process that sent
    it died. Whether it reached Cloudflare is unknown."""
    if (
        topup.state == TopUpState.CREATING
        and topup.created_at < timezone.now() - STALE_CREATING_AFTER
    ):
        _record_outcome_unknown(topup, {"reason": "no answer was recorded for create"})
