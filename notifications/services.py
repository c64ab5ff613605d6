"""Writing events to the outbox. Callers (accounts' balance reads, topups' transitions, finance)
pass plain data; sending is notifications.delivery's, off the request. Below, the changes the
notifications page makes: thresholds, channels, and a test event to one channel."""

import secrets
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.credentials import seal_text
from accounts.models import CloudflareAccount
from accounts.money import format_cents
from cloudflare_client import CloudflareConfigurationError
from notifications.events import EventType
from notifications.models import BalanceThreshold, Channel, Delivery, Notification


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


# --- the notifications page: thresholds, channels, a test event -------------------------------

MAX_THRESHOLDS = 10  # per account: several, not a list that grows without end
MAX_WEBHOOKS = 20  # per account: any number a team really uses
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105  # a prefix, as Stripe's: people know it
TEST_EVENT_MESSAGE = "A test event, sent from the notifications page."

REFUSALS = {
    "threshold_exists": "There is a threshold at {amount} already.",
    "too_many_thresholds": f"An account has at most {MAX_THRESHOLDS} thresholds: remove one first.",
    "slack_exists": "Slack is set up already: remove it first to post somewhere else.",
    "too_many_webhooks": f"An account has at most {MAX_WEBHOOKS} webhooks: remove one first.",
    "cannot_seal": (
        "The secret could not be stored: CREDENTIALS_ENCRYPTION_KEY is not set or not a valid "
        "key. Ask whoever runs this portal to set it."
    ),
    "inactive": "This channel is off: turn it on before sending it a test event.",
}


class SettingRefused(Exception):
    """Nothing was written; `message` (from REFUSALS) says why, for the user."""

    def __init__(self, code: str, **values: str) -> None:
        self.code = code
        self.message = REFUSALS[code].format(**values)
        super().__init__(self.message)


def _lock(account: CloudflareAccount) -> None:
    """Serialise one account's settings changes (counts, one Slack or email channel): on
    PostgreSQL a row lock; SQLite writes one transaction at a time anyway."""
    CloudflareAccount.objects.select_for_update().filter(pk=account.pk).first()


def balance_threshold_add(*, account: CloudflareAccount, cents: int) -> BalanceThreshold:
    with transaction.atomic():
        _lock(account)
        thresholds = BalanceThreshold.objects.filter(account=account)
        if thresholds.filter(cents=cents).exists():
            raise SettingRefused("threshold_exists", amount=format_cents(cents))
        if thresholds.count() >= MAX_THRESHOLDS:
            raise SettingRefused("too_many_thresholds")
        return BalanceThreshold.objects.create(account=account, cents=cents)


def balance_threshold_remove(*, threshold: BalanceThreshold) -> None:
    threshold.delete()


def channel_email_set(
    *, account: CloudflareAccount, roles: list[str], user: User
) -> Channel | None:
    """The account's one email channel to `roles`; no roles: the channel is off (kept, with its
    delivery log). None when there is none and none is wanted."""
    with transaction.atomic():
        _lock(account)
        channel = Channel.objects.filter(account=account, kind=Channel.Kind.EMAIL).first()
        if channel is None:
            if not roles:
                return None
            return Channel.objects.create(
                account=account, kind=Channel.Kind.EMAIL, email_roles=roles, created_by=user
            )
        channel.email_roles, channel.is_active = roles, bool(roles)
        channel.save(update_fields=["email_roles", "is_active"])
        return channel


def channel_slack_add(
    *, account: CloudflareAccount, url: str, event_types: list[str], user: User
) -> Channel:
    """Slack's incoming-webhook URL is the secret itself: it is sealed whole, never stored plain."""
    sealed = _seal(url)
    with transaction.atomic():
        _lock(account)
        if Channel.objects.filter(account=account, kind=Channel.Kind.SLACK).exists():
            raise SettingRefused("slack_exists")
        return Channel.objects.create(
            account=account,
            kind=Channel.Kind.SLACK,
            sealed_secret=sealed,
            event_types=event_types,
            created_by=user,
        )


def channel_webhook_add(
    *, account: CloudflareAccount, url: str, event_types: list[str], user: User
) -> Channel:
    """A signed webhook with a new signing secret, stored sealed only: the page shows it once,
    opened from the channel (accounts.credentials.open_sealed)."""
    sealed = _seal(f"{WEBHOOK_SECRET_PREFIX}{secrets.token_urlsafe(24)}")
    with transaction.atomic():
        _lock(account)
        if Channel.objects.filter(account=account, kind=Channel.Kind.WEBHOOK).count() >= (
            MAX_WEBHOOKS
        ):
            raise SettingRefused("too_many_webhooks")
        return Channel.objects.create(
            account=account,
            kind=Channel.Kind.WEBHOOK,
            url=url,
            sealed_secret=sealed,
            event_types=event_types,
            created_by=user,
        )


def channel_remove(*, channel: Channel) -> None:
    """The channel goes, its secret and delivery log with it; deliveries not yet made to it are
    not made."""
    channel.delete()


def notify_test(*, channel: Channel, user: User) -> Notification:
    """A `test` event with one pending delivery, to `channel` alone (notify() would write one to
    every channel of the account)."""
    if not channel.is_active:
        raise SettingRefused("inactive")
    now = timezone.now()
    with transaction.atomic():
        notification = Notification.objects.create(
            event_id=f"evt_{secrets.token_hex(12)}",
            account=channel.account,
            type=EventType.TEST,
            key=f"test:{channel.pk}:{secrets.token_hex(8)}",
            data={"message": TEST_EVENT_MESSAGE, "requested_by": user.get_username()},
            created_at=now,
        )
        Delivery.objects.create(notification=notification, channel=channel, next_attempt_at=now)
    return notification


def _seal(secret: str) -> str:
    try:
        return seal_text(secret)
    except CloudflareConfigurationError:
        raise SettingRefused("cannot_seal") from None
