"""Reads."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from topups.models import TopUp
from topups.states import TopUpState


def topup_list_recent(*, account_ids, limit: int = 5) -> QuerySet[TopUp]:
    return TopUp.objects.filter(account_id__in=account_ids).select_related("account")[:limit]


def topup_list_for_account(*, account) -> QuerySet[TopUp]:
    return TopUp.objects.filter(account=account).select_related("account", "created_by")


def topup_open_duplicate(*, account, user, amount_cents: int) -> TopUp | None:
    """This user's unfinished top-up of the same amount from the last few minutes, if any:
    most likely the same intent in another tab."""
    return (
        TopUp.objects.filter(
            account=account,
            created_by=user,
            amount_cents=amount_cents,
            state__in=[TopUpState.CREATING, TopUpState.AWAITING_PAYMENT, TopUpState.PROCESSING],
            created_at__gte=timezone.now() - timedelta(minutes=15),
        )
        .order_by("-created_at")
        .first()
    )
