"""Who may see and do what on an account, resolved from the URL and the user's membership.

Not a member of the account: 404, so account ids of other tenants leak nothing. A member
without the needed role: 403.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from accounts.models import CloudflareAccount, Membership
from accounts.selectors import membership_list_for_user


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind @login_required, for the type checker: its user signed in."""

    user: User


class AccountRequest(AuthenticatedHttpRequest):
    """The request of a view behind @account_view, for the type checker: its account resolved."""

    account: CloudflareAccount
    membership: Membership


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


def account_view(
    role: str | None = None, *, message: str = ""
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For a view of the account the URL's `account_id` names: 404 unless the user is a member,
    403 with `message` unless the membership has `role` (any role when None); then the view
    reads `request.account` and `request.membership`, and the account bar
    (accounts.context_processors.account_bar) shows them. Goes below @login_required and the
    method decorators, so a wrong method or no sign-in is answered before the account is
    looked at. The membership comes from the memberships the switcher and navigation share:
    no query of its own."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, account_id: str, **kwargs: object) -> HttpResponse:
            membership = membership_or_404(request, account_id)
            if role is not None:
                require_role(membership, role, message=message)
            request.membership = membership  # type: ignore[attr-defined]  # AccountRequest's
            request.account = membership.account  # type: ignore[attr-defined]
            return view(request, account_id, **kwargs)

        return wrapper

    return decorator
