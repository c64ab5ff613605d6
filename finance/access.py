"""Finance desk access: the finance role on an account, checked in every queryset.

Another tenant's top-up is 404 (accounts.access / topups.access); a member without the finance
role gets 403.
"""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.access import membership_or_404, require_role
from accounts.models import CloudflareAccount, Membership
from finance.user_messages import ONLY_FINANCE
from topups.access import topup_or_404
from topups.models import TopUp


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


def finance_membership_or_404(request: HttpRequest, account_id: str) -> Membership:
    membership = membership_or_404(request, account_id)
    require_role(membership, Membership.Role.FINANCE, message=ONLY_FINANCE)
    return membership


def finance_topup_or_404(request: HttpRequest, account_id: str, pk: int) -> TopUp:
    return topup_or_404(finance_membership_or_404(request, account_id), pk)
