"""Writes. Every change of a top-up's state goes through `topup_transition`."""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from topups.cloudflare import (
    CloudflareAuthError,
    CloudflareClient,
    CloudflareConfigurationError,
    CloudflareError,
    CloudflareOutcomeUnknown,
    CloudflareRateLimited,
    CloudflareValidationError,
)
from topups.models import CloudflareAccount, TopUp, TopUpEvent
from topups.states import TopUpState, can_transition

logger = logging.getLogger(__name__)

# Keys and values that must never reach the audit trail.
_SECRET_KEY_RE = re.compile(r"secret|token|api_key|password|authorization|cvc|card_number", re.I)
_SECRET_VALUE_RE = re.compile(r"_secret_|^Bearer\s|^sk_(live|test)_", re.I)


class IllegalTransition(Exception):
    def __init__(self, from_state: str, to_state: str):
        super().__init__(f"A top-up cannot go from {from_state!r} to {to_state!r}.")
        self.from_state, self.to_state = from_state, to_state


def audit_detail(detail: dict) -> dict:
    """Return `detail` if it is safe to store forever; refuse anything that looks secret."""

    def walk(value, path):
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
    actor=None,
    detail: dict | None = None,
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
    actor=None,
    kind: str = TopUpEvent.Kind.STATE_CHANGED,
    detail: dict | None = None,
    **fields,
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
    return True


# --- limits ---------------------------------------------------------------------------------

LIMITS_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class AmountLimits:
    min_cents: int
    max_cents: int


def account_limits(*, account: CloudflareAccount) -> AmountLimits:
    """Cloudflare's limits for this account, asked at most hourly and shared through the database
    by every worker. When the (optional) endpoint does not answer, 1000 cents and
    TOPUP_MAX_CENTS apply until the next hourly try."""
    now = timezone.now()
    if not account.limits_checked_at or now - account.limits_checked_at >= LIMITS_TTL:
        try:
            limits = CloudflareClient.for_account(account).topup_limits(account.account_id)
        except CloudflareConfigurationError:
            limits = None
        answered = limits is not None and limits.from_api
        account.limits_min_cents = limits.min_cents if answered else None
        account.limits_max_cents = limits.max_cents if answered else None
        account.limits_checked_at = now
        CloudflareAccount.objects.filter(pk=account.pk).update(
            limits_min_cents=account.limits_min_cents,
            limits_max_cents=account.limits_max_cents,
            limits_checked_at=now,
        )
    if account.limits_min_cents is None or account.limits_max_cents is None:
        return _fallback_limits()
    # Never below Cloudflare's documented minimum, whatever an answer said.
    return AmountLimits(
        min_cents=max(account.limits_min_cents, settings.TOPUP_MIN_CENTS_FALLBACK),
        max_cents=account.limits_max_cents,
    )


def _fallback_limits() -> AmountLimits:
    return AmountLimits(settings.TOPUP_MIN_CENTS_FALLBACK, settings.TOPUP_MAX_CENTS)


# --- creating a top-up ----------------------------------------------------------------------

# What the user reads when create does not go through; tests assert these exactly.
CREATE_ERROR_MESSAGES = {
    "rate_limited": (
        "Cloudflare is receiving too many requests right now, so this top-up was not created and "
        "nothing was charged. Try again in {seconds}."
    ),
    "unavailable": (
        "Cloudflare's billing service could not be reached, so this top-up was not created and "
        "nothing was charged. Try again in a few minutes."
    ),
    "auth": (
        "Cloudflare refused this portal's credentials for the account, so nothing was charged. "
        "Ask an operator to check the API token (it needs AI Gateway Write)."
    ),
    "configuration": (
        "This portal has no Cloudflare credentials for the account, so nothing was charged. "
        "Ask an operator to configure them."
    ),
    "unknown": (
        "Cloudflare did not confirm whether this top-up went through: your card may or may not "
        "have been charged. Please do not try again right away — finance will reconcile this "
        "top-up with Cloudflare and follow up."
    ),
}
STALE_CREATING_AFTER = timedelta(minutes=2)


def topup_start(*, account: CloudflareAccount, user, amount_cents: int, request_key) -> tuple:
    """Write the row (state `creating`) before anything is sent to Cloudflare.

    Returns (top-up, created). A repeated request key — double click, resubmitted form, a second
    tab — returns the existing top-up with created=False, so only one create is ever sent.
    """
    try:
        with transaction.atomic():
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
        return topup, True
    except IntegrityError:
        existing = TopUp.objects.filter(request_key=request_key).first()
        if existing is None:  # another constraint failed: not a repeat
            raise
        if existing.account_id != account.pk or existing.created_by_id != user.pk:
            raise TopUpNotYours() from None
        return existing, False


class TopUpNotYours(Exception):
    """A request key that belongs to someone else's top-up."""


def topup_submit(*, topup: TopUp) -> TopUp:
    """Send the one create call for a freshly started top-up and record Cloudflare's answer."""
    if topup.state != TopUpState.CREATING:
        return topup
    try:
        client = CloudflareClient.for_account(topup.account)
        created = client.create_topup(topup.account.account_id, amount_cents=topup.amount_cents)
    except CloudflareOutcomeUnknown as exc:
        logger.error("Top-up %s: create outcome unknown (%s)", topup.pk, exc)
        topup_transition(
            topup=topup,
            to_state=TopUpState.UNKNOWN,
            kind=TopUpEvent.Kind.CREATE_OUTCOME_UNKNOWN,
            detail={"reason": str(exc)[:300], "http_status": exc.status_code},
            error_message=CREATE_ERROR_MESSAGES["unknown"],
        )
        return topup
    except CloudflareError as exc:
        _record_refusal(topup, exc)
        return topup

    fields = {
        "payment_intent_id": created.payment_intent_id,
        "card_brand": created.brand or "",
        "card_last4": created.last4 or "",
        "onboarding": created.onboarding,
    }
    detail = {
        "payment_intent_id": created.payment_intent_id,
        "needs_browser": created.needs_browser_confirmation,
        "onboarding": created.onboarding,
        "card": f"{created.brand} {created.last4}" if created.last4 else "",
    }
    try:
        if created.needs_browser_confirmation:
            topup_transition(
                topup=topup,
                to_state=TopUpState.AWAITING_PAYMENT,
                kind=TopUpEvent.Kind.CREATE_ANSWERED,
                detail=detail,
                client_secret=created.client_secret,
                **fields,
            )
        else:
            topup_transition(
                topup=topup,
                to_state=TopUpState.PROCESSING,
                kind=TopUpEvent.Kind.CREATE_ANSWERED,
                detail=detail,
                **fields,
            )
    except IntegrityError:
        # Cloudflare handed out an id another row of this account already has: keep the money
        # trail intact and let finance look at it.
        logger.error("Top-up %s: duplicate payment_intent_id from Cloudflare", topup.pk)
        topup.refresh_from_db()
        topup_transition(
            topup=topup,
            to_state=TopUpState.UNKNOWN,
            kind=TopUpEvent.Kind.CREATE_OUTCOME_UNKNOWN,
            detail={"reason": "duplicate payment_intent_id", **detail},
            error_message=CREATE_ERROR_MESSAGES["unknown"],
        )
    return topup


def _record_refusal(topup: TopUp, exc: CloudflareError) -> None:
    """Create definitely did not happen: the row fails with a message that says why."""
    if isinstance(exc, CloudflareRateLimited):
        seconds = round(exc.retry_after) if exc.retry_after else None
        wait = f"{seconds} second{'s' if seconds != 1 else ''}" if seconds else "a minute"
        message = CREATE_ERROR_MESSAGES["rate_limited"].format(seconds=wait)
    elif isinstance(exc, CloudflareValidationError):
        message = f"Cloudflare refused this top-up: {exc.user_message}"
    elif isinstance(exc, CloudflareAuthError):
        message = CREATE_ERROR_MESSAGES["auth"]
    elif isinstance(exc, CloudflareConfigurationError):
        message = CREATE_ERROR_MESSAGES["configuration"]
    else:
        message = CREATE_ERROR_MESSAGES["unavailable"]
    logger.warning("Top-up %s: create refused (%s: %s)", topup.pk, type(exc).__name__, exc)
    topup_transition(
        topup=topup,
        to_state=TopUpState.FAILED,
        kind=TopUpEvent.Kind.CREATE_REFUSED,
        detail={
            "error": type(exc).__name__,
            "http_status": exc.status_code,
            "errors": [{"code": e.code, "message": e.message} for e in exc.errors],
        },
        error_code=exc.errors[0].code if exc.errors else None,
        error_message=message,
    )


# --- after create ---------------------------------------------------------------------------

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
    _expire_if_stale(topup)
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
        status = CloudflareClient.for_account(topup.account).topup_status(
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


def _expire_if_stale(topup: TopUp) -> None:
    """A row still `creating` long after any create could have answered: the process that sent
    it died. Whether it reached Cloudflare is unknown."""
    if (
        topup.state == TopUpState.CREATING
        and topup.created_at < timezone.now() - STALE_CREATING_AFTER
    ):
        topup_transition(
            topup=topup,
            to_state=TopUpState.UNKNOWN,
            kind=TopUpEvent.Kind.CREATE_OUTCOME_UNKNOWN,
            detail={"reason": "no answer was recorded for create"},
            error_message=CREATE_ERROR_MESSAGES["unknown"],
        )


def topup_expire_stale(*, now=None) -> int:
    """Mark every stale `creating` row unknown (run from cron: `manage.py expire_stale_topups`)."""
    cutoff = (now or timezone.now()) - STALE_CREATING_AFTER
    count = 0
    for topup in TopUp.objects.filter(state=TopUpState.CREATING, created_at__lt=cutoff):
        _expire_if_stale(topup)
        count += topup.state == TopUpState.UNKNOWN
    return count
