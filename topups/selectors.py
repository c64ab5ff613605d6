"""Reads."""

from django.db.models import QuerySet

from topups.models import Membership, TopUp


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("account").order_by("account__name")


def topup_list_recent(*, account_ids, limit: int = 5) -> QuerySet[TopUp]:
    return TopUp.objects.filter(account_id__in=account_ids).select_related("account")[:limit]
