"""Who may see and do what on an account, resolved from the URL and the user's membership.

Not a member of the account: 404, so account ids of other tenants leak nothing. A member
without the needed role: 403.
"""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from accounts.models import Membership
from accounts.selectors import membership_list_for_user


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind @login_required, for the type checker: its user signed in."""

    user: User


def memberships_of(request: HttpRequest) -> list[Membership]:
    """The signed-in user's memberships, read once per request: the access check, the account
    switcher and the navigation all need them."""
    if not hasattr(request, "_memberships"):
        request._memberships = (  # type: ignore[attr-defined]  # a per-request cache
            list(membership_list_for_user(user=request.user))
            if request.user.is_authenticated
            else []
        )
    return request._memberships  # type: ignore[attr-defined]


def membership_or_404(request: HttpRequest, account_id: str) -> Membership:
    membership = next(
        (m for m in memberships_of(request) if m.account.account_id == account_id), None
    )
    if membership is None:
        raise Http404("No such account.")
    return membership


def require_role(membership: Membership, *roles: str, message: str) -> None:
    """403 with `message` unless the membership has one of `roles` (roles do not nest)."""
    if membership.role not in roles:
        raise PermissionDenied(message)
