"""Access to one top-up, under an account the user is a member of (see accounts.access)."""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.access import require_role
from accounts.models import Membership
from topups import user_messages
from topups.models import TopUp


def topup_or_404(membership: Membership, pk: int) -> TopUp:
    """Only top-ups of the membership's account: another tenant's id is simply not found."""
    topup = (
        TopUp.objects.select_related("account", "created_by")
        .filter(pk=pk, account=membership.account)
        .first()
    )
    if topup is None:
        raise Http404("No such top-up.")
    return topup


def require_admin(membership: Membership) -> None:
    require_role(membership, Membership.Role.ADMIN, message=user_messages.ONLY_ADMINS_TOP_UP)


def require_payer(membership: Membership, topup: TopUp, user: User) -> None:
    """Only the admin who created a top-up may pay it: the client secret is theirs alone."""
    require_admin(membership)
    if topup.created_by_id != user.pk:
        raise PermissionDenied(user_messages.ONLY_THE_PAYER_PAYS)
