"""Writes on accounts: the top-up limits Cloudflare sets, cached in the database."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.cloudflare import client_for_account
from accounts.models import CloudflareAccount
from accounts.snapshots import account_snapshots_expire
from cloudflare_client import (
    CloudflareAuthError,
    CloudflareError,
    CloudflareNotFound,
    CloudflareValidationError,
)

logger = logging.getLogger(__name__)

LIMITS_TTL = timedelta(hours=1)
# A lookup that failed (as opposed to an account without the endpoint) is tried again soon.
LIMITS_RETRY_AFTER_FAILURE = timedelta(minutes=1)


@dataclass(frozen=True)
class AmountLimits:
    min_cents: int
    max_cents: int


def account_limits(*, account: CloudflareAccount) -> AmountLimits:
    """Cloudflare's limits for this account, asked at most hourly and shared through the database
    by every worker. Where the (optional, deprecated) endpoint does not exist, 1000 cents and
    TOPUP_MAX_CENTS apply until the next hourly try; when it fails, Cloudflare's last answer (or
    that fallback) applies and it is asked again a minute later."""
    now = timezone.now()
    if not account.limits_checked_at or now - account.limits_checked_at >= LIMITS_TTL:
        checked_at = now
        try:
            limits = client_for_account(account).topups.limits(account.account_id)
        except CloudflareNotFound:
            logger.info("No top-up limits endpoint; using the configured fallback.")
            account.limits_min_cents = account.limits_max_cents = None
        except CloudflareError as exc:
            logger.info("Top-up limits unavailable (%s); asking again in a minute.", exc)
            # Recorded as checked long enough ago that the next try is a minute away.
            checked_at = now - LIMITS_TTL + LIMITS_RETRY_AFTER_FAILURE
        else:
            account.limits_min_cents, account.limits_max_cents = limits.min_cents, limits.max_cents
        account.limits_checked_at = checked_at
        CloudflareAccount.objects.filter(pk=account.pk).update(
            limits_min_cents=account.limits_min_cents,
            limits_max_cents=account.limits_max_cents,
            limits_checked_at=checked_at,
        )
    if account.limits_min_cents is None or account.limits_max_cents is None:
        return AmountLimits(settings.TOPUP_MIN_CENTS_FALLBACK, settings.TOPUP_MAX_CENTS)
    # Never below Cloudflare's documented minimum, whatever an answer said.
    return AmountLimits(
        min_cents=max(account.limits_min_cents, settings.TOPUP_MIN_CENTS_FALLBACK),
        max_cents=account.limits_max_cents,
    )


# --- auto top-up ------------------------------------------------------------------------------

AUTO_TOPUP_DASHBOARD_URL = "https://dash.cloudflare.com/{account_id}/ai/ai-gateway"


class AutoTopUpRefused(Exception):
    """Cloudflare did not take the change; the message says why and what to do, for the user."""

    def __init__(self, message: str, dashboard_url: str = ""):
        super().__init__(message)
        self.dashboard_url = dashboard_url


AUTO_TOPUP_MESSAGES = {
    "dashboard_only": (
        "Cloudflare only lets its own dashboard change auto top-up: it refuses API tokens like "
        "this portal's. Nothing was changed here. Make the change on the AI Gateway page of the "
        "Cloudflare dashboard."
    ),
    "unavailable": (
        "Cloudflare could not be reached, so nothing was changed. Try again in a few minutes."
    ),
    "refused": "Cloudflare refused the change: {reason}",
    "saved": "Auto top-up is on: below {threshold}, Cloudflare adds {amount}.",
    "removed": "Auto top-up is off.",
}


def account_auto_topup_set(*, account: CloudflareAccount, amount_cents: int, threshold_cents: int):
    _write_auto_topup(
        account,
        lambda client: client.auto_topup.set(
            account.account_id, amount_cents=amount_cents, threshold_cents=threshold_cents
        ),
    )


def account_auto_topup_remove(*, account: CloudflareAccount):
    _write_auto_topup(account, lambda client: client.auto_topup.delete(account.account_id))


def _write_auto_topup(account: CloudflareAccount, write) -> None:
    try:
        write(client_for_account(account))
    except CloudflareAuthError as exc:
        raise AutoTopUpRefused(
            AUTO_TOPUP_MESSAGES["dashboard_only"],
            AUTO_TOPUP_DASHBOARD_URL.format(account_id=account.account_id),
        ) from exc
    except CloudflareValidationError as exc:
        raise AutoTopUpRefused(
            AUTO_TOPUP_MESSAGES["refused"].format(reason=exc.user_message)
        ) from exc
    except CloudflareError as exc:
        raise AutoTopUpRefused(AUTO_TOPUP_MESSAGES["unavailable"]) from exc
    # A threshold above the balance fires auto top-up at once: a new invoice, a new balance.
    account_snapshots_expire(account=account, kinds=("balance", "invoices"))


def account_low_balance_alert_set(*, account: CloudflareAccount, threshold_cents: int | None):
    """A new threshold re-arms the alert: the next reading below it emails again."""
    account.low_balance_alert_cents = threshold_cents
    account.low_balance_alerted_at = None
    CloudflareAccount.objects.filter(pk=account.pk).update(
        low_balance_alert_cents=threshold_cents, low_balance_alerted_at=None
    )
