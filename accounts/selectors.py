"""Reads."""

from django.db.models import QuerySet

from accounts.models import Membership


def membership_list_for_user(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("account").order_by("account__name")
