"""Reads."""

from django.contrib.auth.models import User
from django.db.models import QuerySet

from accounts.models import CloudflareAccount, Membership


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("account").order_by("account__name")


def account_count() -> int:
    """How many Cloudflare accounts the site has, whoever has a role on them."""
    return CloudflareAccount.objects.count()
