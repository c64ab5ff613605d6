"""Who may see and do what on an account, resolved from the URL and the user's membership.

Not a member of the account: 404, so account ids of other tenants leak nothing. A member
without the needed role: 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Membership


def membership_or_404(user, account_id: str) -> Membership:
    membership = (
        Membership.objects.select_related("account")
        .filter(user=user, account__account_id=account_id)
        .first()
    )
    if membership is None:
        raise Http404("No such account.")
    return membership


def require_role(membership: Membership, *roles: str, message: str) -> None:
    """403 with `message` unless the membership has one of `roles` (roles do not nest)."""
    if membership.role not in roles:
        raise PermissionDenied(message)
