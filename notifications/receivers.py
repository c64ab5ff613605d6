"""Receivers of accounts' signals (accounts never imports notifications), connected in
NotificationsConfig.ready(). Each runs in a savepoint of its own: a database error in one
leaves the caller's transaction usable, and accounts.snapshots logs it (signals sent robustly)."""

from typing import Any

from django.db import transaction

from accounts.models import CloudflareAccount
from cloudflare_client import CreditBalance, UsageBucket
from notifications.balance import auto_topup_trouble_check, balance_thresholds_check


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
