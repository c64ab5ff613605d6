"""The runway's suggested top-up stays within the account's limits, so the "Top up $X" button
never suggests an amount the review page refuses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.fields import cents_as_text
from accounts.runway import runway
from accounts.services import AmountLimits
from cloudflare_client import UsageBucket
from tests.conftest import DEMO_ACCOUNT_ID
from topups.forms import AmountForm

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
A = {"account_id": DEMO_ACCOUNT_ID}


def spending(cents_per_day: str):
    daily = [
        UsageBucket(f"d{n}", Decimal(cents_per_day), NOW - timedelta(days=n), NOW)
        for n in range(8, 0, -1)
    ]
    return runway(balance_cents=Decimal(500), daily=daily, now=NOW)


def suggested(estimate, limits: AmountLimits, days=30) -> int:
    return estimate.cover_cents(days, Decimal(500), limits)


def accepted(cents: int, limits: AmountLimits) -> bool:
    """What the button's link carries, as the amount and review pages read it."""
    form = AmountForm({"amount": cents_as_text(cents)}, limits=limits)
    return form.is_valid() and form.cleaned_data["amount"] == cents


@pytest.mark.parametrize(
    ("limits", "cents"),
    [
        (AmountLimits(1000, 1_000_000), 29_500),  # $300 - $5.00, whole dollars up
        (AmountLimits(1000, 20_000), 20_000),  # the maximum, below what 30 days need
        (AmountLimits(1000, 20_050), 20_000),  # ... in whole dollars
        (AmountLimits(40_000, 1_000_000), 40_000),  # the minimum, above what 30 days need
        (AmountLimits(40_001, 1_000_000), 40_100),  # ... in whole dollars
        (AmountLimits(40_001, 40_050), 40_001),  # no whole dollar fits: the minimum as it is
    ],
)
def test_the_suggestion_is_within_the_limits_and_accepted(limits, cents):
    estimate = spending("1000")

    assert suggested(estimate, limits) == cents
    assert accepted(cents, limits)


def test_a_tiny_need_is_still_the_minimum():
    assert suggested(spending("1"), AmountLimits(1000, 1_000_000)) == 1000


@pytest.mark.django_db
def test_the_overview_button_suggests_what_the_review_page_accepts(
    client, admin_user, sandbox, sandbox_settings
):
    """30 days at $24 a day is $720, above the configured maximum of $50 (no limits endpoint)."""
    sandbox.configure(limits_enabled=False)
    sandbox_settings.TOPUP_MAX_CENTS = 5000
    sandbox.control("POST", "balance", {"balance": 100, "hourly_rate": 100})
    client.force_login(admin_user)

    overview = client.get(reverse("accounts:overview", kwargs=A))
    amount = overview.context["cover_dollars"]
    review = client.get(reverse("topups:review", kwargs=A), {"amount": amount})

    assert (overview.context["cover_cents"], amount) == (5000, "50")
    assert f"Top up ${amount}" in overview.content.decode()
    assert review.status_code == 200
