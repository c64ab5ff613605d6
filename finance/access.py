"""Finance desk access: the finance role on an account, checked in every queryset.

A view of one account is guarded by accounts.access.account_view with the finance role: another
tenant's account (or top-up) is 404, a member without the finance role gets 403.
"""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import CloudflareAccount, Membership
from finance.user_messages import ONLY_FINANCE


def finance_account_list(*, user: User) -> QuerySet[CloudflareAccount]:
    """The accounts on which `user` is a finance member."""
    return CloudflareAccount.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.FINANCE
    ).order_by("name")


def require_finance_somewhere(user: User) -> QuerySet[CloudflareAccount]:
    accounts = finance_account_list(user=user)
    if not accounts.exists():
        raise PermissionDenied(ONLY_FINANCE)
    return accounts
