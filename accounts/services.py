"""Writes on accounts: the top-up limits Cloudflare sets, cached in the database."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.cloudflare import client_for_account
from accounts.models import CloudflareAccount
from cloudflare_client import CloudflareError

logger = logging.getLogger(__name__)

LIMITS_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class AmountLimits:
    min_cents: int
    max_cents: int


def account_limits(*, account: CloudflareAccount) -> AmountLimits:
    """Cloudflare's limits for this account, asked at most hourly and shared through the database
    by every worker. When the (optional) endpoint does not answer, 1000 cents and
    TOPUP_MAX_CENTS apply until the next hourly try."""
    now = timezone.now()
    if not account.limits_checked_at or now - account.limits_checked_at >= LIMITS_TTL:
        try:
            limits = client_for_account(account).topups.limits(account.account_id)
        except CloudflareError as exc:
            logger.info("Top-up limits unavailable (%s); using the configured fallback.", exc)
            limits = None
        account.limits_min_cents = limits.min_cents if limits else None
        account.limits_max_cents = limits.max_cents if limits else None
        account.limits_checked_at = now
        CloudflareAccount.objects.filter(pk=account.pk).update(
            limits_min_cents=account.limits_min_cents,
            limits_max_cents=account.limits_max_cents,
            limits_checked_at=now,
        )
    if account.limits_min_cents is None or account.limits_max_cents is None:
        return AmountLimits(settings.TOPUP_MIN_CENTS_FALLBACK, settings.TOPUP_MAX_CENTS)
    # Never below Cloudflare's documented minimum, whatever an answer said.
    return AmountLimits(
        min_cents=max(account.limits_min_cents, settings.TOPUP_MIN_CENTS_FALLBACK),
        max_cents=account.limits_max_cents,
    )
