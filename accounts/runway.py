"""How long the credits last at the recent burn rate, and how much covers a number of days."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from cloudflare_client import UsageBucket

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
