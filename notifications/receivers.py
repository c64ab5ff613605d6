"""Receivers of accounts' signals (accounts never imports notifications), connected in
NotificationsConfig.ready(). Each runs in a savepoint of its own: a database error in one
leaves the caller's transaction usable, and accounts.snapshots logs it (signals sent robustly)."""

from typing import Any

from django.db import transaction

from accounts.models import CloudflareAccount
from cloudflare_client import CreditBalance, UsageBucket
from notifications.balance import auto_topup_trouble_check, balance_thresholds_check
from notifications.models import ROLES_EMAILED_BY_DEFAULT, Channel


def balance_thresholds_on_read(
    sender: type,
    *,
    account: CloudflareAccount,
    balance: CreditBalance,
    daily: list[UsageBucket] | None,
    **kwargs: Any,
) -> None:
    with transaction.atomic():
        balance_thresholds_check(account=account, balance=balance, daily=daily)


def auto_topup_trouble_on_read(
    sender: type, *, account: CloudflareAccount, balance: CreditBalance, **kwargs: Any
) -> None:
    with transaction.atomic():
        auto_topup_trouble_check(account=account, balance=balance)


def email_channel_for_new_account(
    sender: type, *, instance: CloudflareAccount, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """A new account emails its admins and finance members, as every account did before
    channels could be chosen (migration 0002 gave the existing ones the same)."""
    if created and not raw:
        Channel.objects.create(
            account=instance, kind=Channel.Kind.EMAIL, email_roles=list(ROLES_EMAILED_BY_DEFAULT)
        )
