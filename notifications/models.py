"""Notifications: per-account balance thresholds, the channels that tell people (email to roles,
a Slack incoming webhook, signed webhooks), and the outbox.

The outbox: a Notification row is written in the same transaction as the state change it
reports, with one Delivery per channel that takes it; sending happens later, off the request
(notifications.delivery), so nothing is lost when a receiver or the mail server is down, and
the unique (account, key) means nothing is told twice."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import CloudflareAccount, Membership
from notifications.events import EventType


class BalanceThreshold(models.Model):
    """One `balance.low` per crossing: `crossed_at` is set, in the transaction that writes the
    notification, when a balance read first finds the balance below; cleared (re-armed) by the
    first read at or above it."""

    account = models.ForeignKey(
        CloudflareAccount, on_delete=models.CASCADE, related_name="balance_thresholds"
    )
    cents = models.PositiveIntegerField()
    crossed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "-cents"]
        constraints = [
            models.UniqueConstraint(fields=["account", "cents"], name="one_threshold_per_amount"),
            models.CheckConstraint(condition=Q(cents__gt=0), name="threshold_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.account} · below {self.cents / 100:,.2f}"


class Channel(models.Model):
    """Where an account's notifications go. `event_types` empty: every type."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "Signed webhook"

    account = models.ForeignKey(
        CloudflareAccount, on_delete=models.CASCADE, related_name="notification_channels"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Email: the roles (Membership.Role values) whose active members with an address get it.
    email_roles = models.JSONField(default=list, blank=True)
    # Webhook: where events are POSTed. Not a secret (the signature is what proves the sender).
    url = models.URLField(max_length=2000, blank=True)
    # Sealed with CREDENTIALS_ENCRYPTION_KEY (notifications.secrets): for a webhook, its signing
    # secret; for Slack, the whole incoming-webhook URL, which Slack treats as a secret.
    sealed_secret = models.TextField(blank=True, editable=False)
    event_types = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["email", "slack", "webhook"]), name="channel_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="email") | ~Q(sealed_secret=""), name="channel_secret_sealed"
            ),
            models.CheckConstraint(
                condition=~Q(kind="webhook") | ~Q(url=""), name="webhook_channel_has_url"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} · {self.get_kind_display()} #{self.pk}"

    def takes(self, event_type: str) -> bool:
        """Whether this channel is told about events of this type (a test event: always)."""
        if not self.is_active:
            return False
        if event_type == EventType.TEST or not self.event_types:
            return True
        return event_type in self.event_types


class Notification(models.Model):
    """One event, as it is sent: `{"id", "type", "created", "account_id", "data"}`. `event_id`
    is what receivers de-duplicate on: every retry of every delivery carries the same one."""

    event_id = models.CharField(max_length=40, unique=True)
    account = models.ForeignKey(
        CloudflareAccount, on_delete=models.CASCADE, related_name="notifications"
    )
    type = models.CharField(max_length=40, choices=EventType.choices)
    # What makes this event the same one if it is written again: "topup.completed:42",
    # "balance.low:<threshold id>:<crossing time>"…; the unique constraint refuses a second.
    key = models.CharField(max_length=200)
    # Plain JSON from the caller: cents as integers, times as ISO 8601 strings; never a secret.
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="one_notification_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} · {self.type}"

    def payload(self) -> dict[str, object]:
        return {
            "id": self.event_id,
            "type": self.type,
            "created": int(self.created_at.timestamp()),
            "account_id": self.account.account_id,
            "data": self.data,
        }


class Delivery(models.Model):
    """One notification to one channel: tried until the receiver takes it (2xx; for email, the
    mail server), with back-off, and given up after about a day."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Gave up"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A sender claimed it (conditional UPDATE) until this time; a sender that died lets it go.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="one_delivery_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "delivered", "gave_up"]),
                name="delivery_state_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="delivery_due",
            ),
            models.Index(fields=["channel", "-created_at"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.notification} → {self.channel} · {self.state}"


ROLES_EMAILED_BY_DEFAULT = [Membership.Role.ADMIN, Membership.Role.FINANCE]
