from django.contrib import admin

from topups.models import TopUp, TopUpEvent


class ReadOnlyAdminMixin:
    """Money and audit records are written by the services only; the admin just shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TopUpEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TopUpEvent
    extra = 0
    fields = ["created_at", "kind", "from_state", "to_state", "actor", "detail"]
    readonly_fields = fields  # type: ignore[assignment]  # names, not groups
    ordering = ["created_at", "id"]


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money fields are read-only: state changes go through the services and their audit trail."""

    list_display = [
        "id",
        "created_at",
        "account",
        "amount",
        "state",
        "created_by",
        "origin",
        "card",
    ]
    list_filter = [
        "state",
        "origin",
        "account",
        "onboarding",
        "created_at",
    ]
    search_fields = [
        "payment_intent_id",
        "request_key",
        "created_by__username",
        "account__name",
        "card_last4",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["account", "created_by"]
    inlines = [TopUpEventInline]
    exclude = ["client_secret"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "account",
                    "amount",
                    "amount_cents",
                    "currency",
                    "state",
                    "created_by",
                    "origin",
                ]
            },
        ),
        (
            "Cloudflare",
            {
                "fields": [
                    "payment_intent_id",
                    "request_key",
                    "card_brand",
                    "card_last4",
                    "onboarding",
                    "error_code",
                    "error_message",
                ]
            },
        ),
        ("Timeline", {"fields": ["created_at", "updated_at", "status_checked_at", "completed_at"]}),
    ]

    # Everything shown is read-only: money moves through the services only.
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]  # type: ignore[misc]  # names, not groups

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return f"{obj.amount_display} {obj.currency.upper()}"

    @admin.display(description="Card")
    def card(self, obj):
        return obj.card_display or "—"


@admin.register(TopUpEvent)
class TopUpEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "topup", "kind", "from_state", "to_state", "actor"]
    list_filter = ["kind", "to_state"]
    search_fields = ["topup__payment_intent_id", "topup__id", "actor__username"]
    list_select_related = ["topup", "actor"]
