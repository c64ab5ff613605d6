"""The runway with auto top-up: whether it works, when it next charges and what it costs at the
recent rate; hand-computed."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.runway import (
    AutoTopUpHealth,
    Outlook,
    auto_topup_forecast,
    auto_topup_health,
    runway,
)
from cloudflare_client import AutoTopUp, CreditBalance, PaymentMethod, UsageBucket

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
VISA = PaymentMethod("visa", "4242")
ON = AutoTopUp(Decimal(5000), Decimal(1000), None, None, None)


def week(*cents: str) -> list[UsageBucket]:
    """Whole days before today, the last one yesterday."""
    return [
        UsageBucket(f"d{n}", Decimal(c), NOW - timedelta(days=n + 1), NOW - timedelta(days=n))
        for n, c in zip(range(len(cents) - 1, -1, -1), cents, strict=True)
    ]


def balance(cents, config=ON, card=VISA) -> CreditBalance:
    return CreditBalance(Decimal(cents), card is not None, card, config, True)


def forecast(cents, daily, config=ON, card=VISA):
    account = balance(cents, config, card)
    estimate = runway(balance_cents=account.balance_cents, daily=daily, now=NOW)
    return auto_topup_forecast(balance=account, estimate=estimate, now=NOW)


def test_the_next_charge_when_the_balance_reaches_the_threshold_and_the_cost_a_month():
    made = forecast(3500, week(*["1000"] * 7))  # $25 above the $10 threshold at $10 a day

    assert made.next_charge_at == datetime(2026, 3, 13, tzinfo=UTC)  # in 2.5 days
    assert not made.due_now
    assert (made.amount_cents, made.threshold_cents) == (5000, 1000)
    assert made.card == VISA
    assert made.monthly_cents == 30_000  # it pays for the spend: $10 a day, 30 days
    assert made.monthly_dollars == 300
    assert made.days_between_charges == 5  # $50 lasts 5 days at $10 a day


def test_a_month_of_auto_top_ups_in_whole_dollars():
    made = forecast(3500, week(*["616"] * 6, "620.69"))  # $43.1669 a week
    assert made.burn_cents_per_day == Decimal("616.67")
    assert made.monthly_cents == Decimal("18500.10")
    assert made.monthly_dollars == 185


@pytest.mark.parametrize("cents", ["1000", "999.99", "-320"])
def test_at_or_below_the_threshold_it_charges_at_the_next_check(cents):
    made = forecast(cents, week(*["1000"] * 7))
    assert made.due_now
    assert made.next_charge_at is None


def test_nothing_spent_means_no_charge_in_sight():
    made = forecast(3500, week(*["0"] * 7))
    assert made.next_charge_at is None
    assert made.days_between_charges is None
    assert made.monthly_dollars == 0


def test_a_charge_more_than_a_year_away_has_no_date():
    made = forecast(100_000, week(*["1"] * 7))  # $990 above the threshold at a cent a day
    assert made.next_charge_at is None
    assert not made.due_now


def test_without_a_card_on_file_the_charge_has_no_card():
    assert forecast(3500, week(*["1000"] * 7), card=None).card is None


def test_without_usage_there_is_no_forecast():
    assert forecast(3500, None) is None


@pytest.mark.parametrize(
    ("config", "health"),
    [
        (AutoTopUp(None, None, None, None, None), AutoTopUpHealth.OFF),
        (ON, AutoTopUpHealth.ON),
        (AutoTopUp(Decimal(5000), Decimal(1000), None, "card declined", None), "failing"),
        (AutoTopUp(Decimal(5000), Decimal(1000), None, None, NOW), AutoTopUpHealth.FAILING),
        (AutoTopUp(Decimal(5000), Decimal(1000), "payment_failed", "declined", NOW), "disabled"),
    ],
    ids=["off", "on", "error", "failed-at", "disabled"],
)
def test_only_a_working_auto_top_up_is_forecast(config, health):
    assert auto_topup_health(config) == health
    made = forecast(3500, week(*["1000"] * 7), config=config)
    assert (made is not None) == (health == AutoTopUpHealth.ON)


def test_the_runway_itself_still_says_when_the_credits_would_run_out():
    """The forecast is beside the runway, which keeps its meaning for when auto top-up fails."""
    estimate = runway(balance_cents=Decimal(3500), daily=week(*["1000"] * 7), now=NOW)
    assert estimate.outlook == Outlook.DAYS
    assert estimate.days_left == Decimal("3.5")
