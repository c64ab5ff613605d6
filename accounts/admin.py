from django.contrib import admin

from accounts.models import CloudflareAccount, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(CloudflareAccount)
class CloudflareAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "account_id", "credential", "created_at"]
    list_filter = ["credential"]
    search_fields = ["name", "account_id"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role", "account"]
    search_fields = ["user__username", "user__email", "account__name", "account__account_id"]
    autocomplete_fields = ["user", "account"]
