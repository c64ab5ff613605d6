"""How long the credits last at the recent burn rate, and how much covers a number of days."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from cloudflare_client import AutoTopUp, CreditBalance, PaymentMethod, UsageBucket

if TYPE_CHECKING:  # only the type: accounts.services imports this module (through alerts)
    from accounts.services import AmountLimits

RECENT_DAYS = 7
# Beyond this the estimate means nothing, and at a tiny rate the date would not even exist.
MAX_DAYS = 365


class Outlook(StrEnum):
    RUN_OUT = "run_out"  # the balance is at or below zero (Cloudflare's can go below)
    UNKNOWN = "unknown"  # the usage could not be read
    NOT_SPENDING = "not_spending"
    DAYS = "days"  # runs out in `days_left`, at `runs_out_at`
    MORE_THAN_A_YEAR = "more_than_a_year"


@dataclass(frozen=True)
class Runway:
    burn_cents_per_day: Decimal
    outlook: Outlook
    days_left: Decimal | None = None  # only when the outlook is DAYS
    runs_out_at: datetime | None = None

    def cover_cents(self, days: int, balance_cents: Decimal, limits: "AmountLimits") -> int:
        """A top-up that, with the balance, lasts `days` at this rate, within the account's
        limits (so the amount page takes it): whole dollars up, or the nearest whole dollars
        inside the limits; the minimum itself when no whole dollar fits between them."""
        needed = self.burn_cents_per_day * days - balance_cents  # a negative balance is owed
        lowest = math.ceil(Decimal(limits.min_cents) / 100) * 100
        highest = limits.max_cents // 100 * 100
        if lowest > highest:
            return limits.min_cents
        return min(max(math.ceil(needed / 100) * 100, lowest), highest)


def runway(*, balance_cents: Decimal, daily: list[UsageBucket] | None, now: datetime) -> Runway:
    """Burn rate: the mean of the last RECENT_DAYS whole days (today is not over yet); `daily`
    is None when the usage could not be read."""
    whole_days = [bucket for bucket in daily or [] if bucket.end <= now][-RECENT_DAYS:]
    burn = (
        sum((b.spend_cents for b in whole_days), Decimal(0)) / len(whole_days)
        if whole_days
        else Decimal(0)
    )
    if balance_cents <= 0:
        return Runway(max(burn, Decimal(0)), Outlook.RUN_OUT)
    if daily is None:
        return Runway(Decimal(0), Outlook.UNKNOWN)
    if burn <= 0:
        return Runway(Decimal(0), Outlook.NOT_SPENDING)
    days_left = balance_cents / burn
    if days_left > MAX_DAYS:
        return Runway(burn, Outlook.MORE_THAN_A_YEAR)
    return Runway(burn, Outlook.DAYS, days_left, now + timedelta(days=float(days_left)))


# --- auto top-up: whether it works, and what it will do at the recent rate ---------------------

DAYS_A_MONTH = 30
# A runway this short (without auto top-up to catch it) is flagged on the home page.
LOW_RUNWAY_DAYS = 7


class AutoTopUpHealth(StrEnum):
    OFF = "off"  # not configured: topped up by hand only
    ON = "on"
    FAILING = "failing"  # on, but Cloudflare reports an error or a failed charge
    DISABLED = "disabled"  # configured, and Cloudflare turned it off (`disabledReason`)


def auto_topup_health(config: AutoTopUp) -> AutoTopUpHealth:
    if not config.configured:
        return AutoTopUpHealth.OFF
    if config.disabled_reason:
        return AutoTopUpHealth.DISABLED
    if config.error or config.last_failed_at:
        return AutoTopUpHealth.FAILING
    return AutoTopUpHealth.ON


@dataclass(frozen=True)
class AutoTopUpForecast:
    """What a working auto top-up does at the recent rate: the balance stays above
    `threshold_cents`; it charges `amount_cents` at `next_charge_at` (none when nothing is
    spent, or not within a year), or at Cloudflare's next check when `due_now`."""

    threshold_cents: Decimal
    amount_cents: Decimal
    burn_cents_per_day: Decimal
    due_now: bool
    next_charge_at: datetime | None
    card: PaymentMethod | None  # what Cloudflare will charge, when it has a card on file

    @property
    def monthly_cents(self) -> Decimal:
        """Over time auto top-up pays for what is spent: the burn over a month."""
        return self.burn_cents_per_day * DAYS_A_MONTH

    @property
    def monthly_dollars(self) -> int:
        return int((self.monthly_cents / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def days_between_charges(self) -> Decimal | None:
        if self.burn_cents_per_day <= 0:
            return None
        return self.amount_cents / self.burn_cents_per_day


def auto_topup_forecast(
    *, balance: CreditBalance, estimate: Runway, now: datetime
) -> AutoTopUpForecast | None:
    """None unless auto top-up is on and the recent rate is known."""
    config = balance.auto_topup
    threshold, amount = config.threshold_cents, config.amount_cents
    working = auto_topup_health(config) == AutoTopUpHealth.ON
    if threshold is None or amount is None or not working or estimate.outlook == Outlook.UNKNOWN:
        return None
    burn = estimate.burn_cents_per_day
    above = balance.balance_cents - threshold
    next_charge_at = None
    if above > 0 and burn > 0 and above / burn <= MAX_DAYS:
        next_charge_at = now + timedelta(days=float(above / burn))
    return AutoTopUpForecast(
        threshold_cents=threshold,
        amount_cents=amount,
        burn_cents_per_day=burn,
        due_now=above <= 0,
        next_charge_at=next_charge_at,
        card=balance.payment_method if balance.has_default_payment_method else None,
    )
