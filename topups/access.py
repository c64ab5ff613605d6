"""Who may see and do what, resolved from the URL's account and the user's membership.

Not a member of the account: 404, so account ids of other tenants leak nothing. A member
without the needed role: 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from topups.models import Membership, TopUp


def membership_or_404(user, account_id: str) -> Membership:
    membership = (
        Membership.objects.select_related("account")
        .filter(user=user, account__account_id=account_id)
        .first()
    )
    if membership is None:
        raise Http404("No such account.")
    return membership


def require_admin(membership: Membership) -> None:
    if not membership.can_top_up:
        raise PermissionDenied("Only account admins can top up this account.")


def topup_or_404(membership: Membership, pk: int) -> TopUp:
    topup = (
        TopUp.objects.select_related("account", "created_by")
        .filter(pk=pk, account=membership.account)
        .first()
    )
    if topup is None:
        raise Http404("No such top-up.")
    return topup


def require_payer(membership: Membership, topup: TopUp, user) -> None:
    """Only the admin who created a top-up may pay it: the client secret is theirs alone."""
    require_admin(membership)
    if topup.created_by_id != user.pk:
        raise PermissionDenied("Only the person who started this top-up can pay it.")
