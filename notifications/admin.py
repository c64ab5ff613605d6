"""For operators: every account's thresholds and channels, and the outbox as it is. Events and
deliveries are written by the services and the sender only, so they are read-only here; a
channel's sealed secret is never shown, and channels are added on the account's notifications
page (which makes and seals the secret), not here."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import BalanceThreshold, Channel, Delivery, Notification
from notifications.selectors import url_origin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BalanceThreshold)
class BalanceThresholdAdmin(admin.ModelAdmin):
    list_display = ["account", "cents", "crossed_at", "created_at"]
    list_filter = ["account"]
    list_select_related = ["account"]
    readonly_fields = ["crossed_at"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    """An operator can switch a channel off or on, or delete it; nothing else about it."""

    list_display = ["__str__", "kind", "receiver", "is_active", "created_by", "created_at"]
    list_filter = ["kind", "is_active", "account"]
    list_select_related = ["account", "created_by"]
    search_fields = ["account__name", "account__account_id", "url"]
    fields = ["account", "kind", "receiver", "email_roles", "event_types", "is_active"]
    readonly_fields = ["account", "kind", "receiver", "email_roles", "event_types"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Receiver")
    def receiver(self, channel: Channel) -> str:
        if channel.kind == Channel.Kind.WEBHOOK:
            return channel.url
        if channel.kind == Channel.Kind.SLACK:
            return "A Slack incoming webhook (its address is stored encrypted)"
        return ", ".join(channel.email_roles) or "nobody"


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ("channel", "state", "attempts", "last_status_code", "last_error", "next_attempt_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "account", "created_at"]
    list_filter = ["type", "account"]
    list_select_related = ["account"]
    search_fields = ["event_id", "key", "account__name"]
    date_hierarchy = "created_at"
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "notification",
        "channel_receiver",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["state", "channel__kind", "channel__account"]
    list_select_related = ["notification", "channel", "channel__account"]
    search_fields = ["notification__event_id", "channel__url", "last_error"]
    date_hierarchy = "created_at"

    @admin.display(description="Channel")
    def channel_receiver(self, delivery: Delivery) -> str:
        channel = delivery.channel
        if channel.kind == Channel.Kind.WEBHOOK:
            return f"{channel} → {url_origin(channel.url)}"
        return str(channel)
