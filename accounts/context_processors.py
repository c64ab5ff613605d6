from django.conf import settings
from django.utils.functional import SimpleLazyObject

from accounts.access import memberships_of
from accounts.models import Membership


def billing_mode(request):
    """Lets every page say plainly when it is running against the sandbox, and offer a password
    reset only where email can be sent."""
    return {
        "billing_sandbox": settings.BILLING_SANDBOX,
        "password_reset_by_email": settings.PASSWORD_RESET_BY_EMAIL,
    }


def navigation(request):
    """Whether the signed-in user has a finance role anywhere (the navigation shows the desk).
    Asked only when a template looks, from the memberships the page has read already."""

    def has_finance_role():
        return any(m.role == Membership.Role.FINANCE for m in memberships_of(request))

    return {"nav_finance": SimpleLazyObject(has_finance_role)}


def account_bar(request):
    """The account bar of a page of one account (the account, the user's role on it, their other
    accounts for the switcher), once accounts.access.account_view has resolved the account."""
    account = getattr(request, "account", None)
    if account is None:
        return {}
    return {
        "account": account,
        "membership": request.membership,
        "memberships": memberships_of(request),
    }
