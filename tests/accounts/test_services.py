"""Cloudflare's top-up limits: asked at most hourly, shared through the database, with a
fallback when the (optional) endpoint does not answer."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import CachedRead
from accounts.services import AmountLimits, account_limits
from cloudflare_client.topups import parse_limits
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db


def _limits_read_at(moment):
    CachedRead.objects.filter(kind="limits").update(fetched_at=moment)


def test_limits_come_from_cloudflare_and_are_cached_in_the_database(
    account, sandbox, sandbox_settings
):
    assert account_limits(account=account) == AmountLimits(1000, 1_000_000)
    assert account_limits(account=account) == AmountLimits(1000, 1_000_000)
    assert len(sandbox.requests("limits")) == 1
    held = parse_limits(CachedRead.objects.get(account=account, kind="limits").value)
    assert (held.min_cents, held.max_cents) == (1000, 1_000_000)


def test_limits_are_asked_again_after_an_hour(account, sandbox, sandbox_settings):
    account_limits(account=account)
    _limits_read_at(timezone.now() - timedelta(hours=1, seconds=1))
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
    _limits_read_at(timezone.now() - timedelta(hours=1, seconds=1))
    sandbox.fault("limits", "500", count=3)

    assert account_limits(account=account) == AmountLimits(1000, 1_000_000)  # Cloudflare's last
    account_limits(account=account)
    assert len(sandbox.requests("limits")) == 1 + 3  # not asked again at once

    CachedRead.objects.filter(kind="limits").update(
        attempt_until=F("attempt_until") - timedelta(seconds=61)
    )
    account_limits(account=account)
    assert len(sandbox.requests("limits")) == 1 + 3 + 1  # a minute later, not an hour


@pytest.mark.django_db(transaction=True)
def test_workers_asking_for_the_limits_at_once_ask_cloudflare_once(
    account, sandbox, sandbox_settings
):
    """The lookup is claimed like the other cached reads: while one worker asks, the others
    use the fallback rather than asking too."""
    sandbox_settings.TOPUP_MAX_CENTS = 300_000
    sandbox.configure(latency_ms=300)

    answers = at_once(lambda _: account_limits(account=account), 4)

    assert len(sandbox.requests("limits")) == 1
    assert AmountLimits(1000, 1_000_000) in answers
    assert set(answers) <= {AmountLimits(1000, 1_000_000), AmountLimits(1000, 300_000)}
