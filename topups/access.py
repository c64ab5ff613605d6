"""Access to one top-up, under the account accounts.access.account_view resolved."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.access import AccountRequest, require_role
from accounts.models import Membership
from topups import selectors, user_messages
from topups.models import TopUp


def topup_or_404(request: AccountRequest, pk: int) -> TopUp:
    """Only top-ups of the request's account: another tenant's id is simply not found."""
    topup = selectors.topup_get(account=request.account, pk=pk)
    if topup is None:
        raise Http404("No such top-up.")
    return topup


def require_payer(request: AccountRequest, topup: TopUp) -> None:
    """Only the admin who created a top-up may pay it: the client secret is theirs alone."""
    require_role(
        request.membership, Membership.Role.ADMIN, message=user_messages.ONLY_ADMINS_TOP_UP
    )
    if topup.created_by_id != request.user.pk:
        raise PermissionDenied(user_messages.ONLY_THE_PAYER_PAYS)
