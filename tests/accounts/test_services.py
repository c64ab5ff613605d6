"""Cloudflare's top-up limits: asked at most hourly, shared through the database, with a
fallback when the (optional) endpoint does not answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import AmountLimits, account_limits

pytestmark = pytest.mark.django_db


def test_limits_come_from_cloudflare_and_are_cached_in_the_database(
    account, sandbox, sandbox_settings
):
    assert account_limits(account=account) == AmountLimits(1000, 1_000_000)
    assert account_limits(account=account) == AmountLimits(1000, 1_000_000)
    assert len(sandbox.requests("limits")) == 1
    account.refresh_from_db()
    assert (account.limits_min_cents, account.limits_max_cents) == (1000, 1_000_000)


def test_limits_are_asked_again_after_an_hour(account, sandbox, sandbox_settings):
    account_limits(account=account)
    account.limits_checked_at = timezone.now() - timedelta(hours=1, seconds=1)
    account_limits(account=account)
    assert len(sandbox.requests("limits")) == 2


def test_limits_fall_back_when_the_endpoint_is_missing(account, sandbox, sandbox_settings):
    sandbox_settings.TOPUP_MAX_CENTS = 250_000
    sandbox.configure(limits_enabled=False)
    assert account_limits(account=account) == AmountLimits(1000, 250_000)


def test_limits_fall_back_when_the_endpoint_keeps_failing(account, sandbox, sandbox_settings):
    sandbox_settings.TOPUP_MAX_CENTS = 300_000
    sandbox.fault("limits", "500", count=5)
    assert account_limits(account=account) == AmountLimits(1000, 300_000)
    assert len(sandbox.requests("limits")) == 3


def test_a_failed_lookup_keeps_the_last_answer_and_is_asked_again_after_a_minute(
    account, sandbox, sandbox_settings
):
    sandbox_settings.TOPUP_MAX_CENTS = 300_000
    account_limits(account=account)
    account.limits_checked_at = timezone.now() - timedelta(hours=1, seconds=1)
    sandbox.fault("limits", "500", count=3)

    assert account_limits(account=account) == AmountLimits(1000, 1_000_000)  # Cloudflare's last
    account_limits(account=account)
    assert len(sandbox.requests("limits")) == 1 + 3  # not asked again at once

    account.refresh_from_db()
    account.limits_checked_at -= timedelta(seconds=61)
    account_limits(account=account)
    assert len(sandbox.requests("limits")) == 1 + 3 + 1  # a minute later, not an hour
