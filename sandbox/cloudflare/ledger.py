"""Each account's books in the sandbox: one consistent state from which the balance, the usage
history and the invoices are all read.

- Usage is a function of time: every hour of every account spends a little (a daily rhythm, a
  little noise), the same amount however often it is asked, so the balance drains as time passes.
- The balance is the opening balance, plus every paid invoice, minus all usage so far.
- A completed top-up is a paid `manual` invoice whose id is its `payment_intent_id`.
- Auto top-up: when the balance falls below the threshold and a card is saved, the amount is
  charged and a paid `auto` invoice appears at that hour (or at once, at most once an hour,
  when a threshold is set above the balance).
- A demo past (about 60 days) is written for the demo accounts unless switched off.
Amounts are Decimal cents, as Cloudflare's are: fractional where usage is involved.
"""

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

HOUR = 3600
DAY = 24 * HOUR
CENT = Decimal("0.0001")


@dataclass
class AutoTopUpConfig:
    amount: int | None = None
    threshold: int | None = None
    disabled_reason: str | None = None
    error: str | None = None
    last_failed_at: int | None = None

    @property
    def active(self) -> bool:
        return self.amount is not None and self.threshold is not None and not self.disabled_reason

    def as_result(self) -> dict:
        return {
            "amount": self.amount,
            "threshold": self.threshold,
            "disabledReason": self.disabled_reason,
            "error": self.error,
            "lastFailedAt": self.last_failed_at,
        }


@dataclass
class InvoiceEntry:
    id: str
    amount: Decimal
    created: int
    kind: str  # "manual" or "auto"
    description: str
    status: str = "paid"
    created_by: str = "sandbox@example.com"


@dataclass
class AccountBook:
    account_id: str
    opened_at: int  # the hour the books start
    opening_balance: Decimal
    hourly_rate: Decimal  # mean spend, cents per hour
    invoices: list[InvoiceEntry] = field(default_factory=list)
    auto_topup: AutoTopUpConfig = field(default_factory=AutoTopUpConfig)
    auto_checked_until: int = 0  # auto top-up is simulated up to this hour

    def usage_in_hour(self, hour_start: int) -> Decimal:
        hour_of_day = (hour_start // HOUR) % 24
        # Busier in the (UTC) working day, never idle; ±25 % noise, fixed per hour.
        rhythm = 0.4 + 0.9 * max(0.0, math.sin(math.pi * (hour_of_day - 6) / 14))
        noise = random.Random(f"{self.account_id}:{hour_start}").uniform(0.75, 1.25)
        return (self.hourly_rate * Decimal(str(rhythm * noise))).quantize(CENT)

    def usage_between(self, start: int, end: int) -> Decimal:
        """Spend from `start` to `end` (Unix seconds), a partial hour pro rata."""
        start, total = max(start, self.opened_at), Decimal(0)
        hour = start - start % HOUR
        while hour < end:
            covered = min(end, hour + HOUR) - max(start, hour)
            if covered > 0:
                total += self.usage_in_hour(hour) * covered / HOUR
            hour += HOUR
        return total

    def paid_before(self, moment: int) -> Decimal:
        return sum(
            (i.amount for i in self.invoices if i.status == "paid" and i.created <= moment),
            Decimal(0),
        )

    def balance_at(self, moment: int) -> Decimal:
        return (
            self.opening_balance
            + self.paid_before(moment)
            - self.usage_between(self.opened_at, moment)
        )

    def set_balance(self, balance: Decimal, now: int, hourly_rate: Decimal | None = None) -> None:
        """The balance is `balance` at `now` and drains from there; with `hourly_rate`, the
        account has also spent at that mean rate for at least the last 30 days. The opening
        balance makes up the difference, so the books stay consistent (below zero too, as
        Cloudflare's balance can be)."""
        if hourly_rate is not None:
            self.hourly_rate = hourly_rate
            self.opened_at = min(self.opened_at, now - now % HOUR - 30 * DAY)
        self.opening_balance += balance - self.balance_at(now)

    def auto_topup_moments(self, now: int) -> list[int]:
        """The moments from the last check to now at which auto top-up fires: the end of each
        hour that left the balance below the threshold (each firing raises the balance, which
        the next hour sees), and now, once an hour, when the balance already is below it (a
        threshold just set above the balance)."""
        fired: list[int] = []
        if not self.auto_topup.active:
            self.auto_checked_until = now
            return fired
        hour = max(self.auto_checked_until, self.opened_at)
        hour -= hour % HOUR
        balance = self.balance_at(hour)
        while hour + HOUR <= now:
            balance -= self.usage_in_hour(hour)
            balance += sum(
                (
                    i.amount
                    for i in self.invoices
                    if i.status == "paid" and hour < i.created <= hour + HOUR
                ),
                Decimal(0),
            )
            hour += HOUR
            if balance < self.auto_topup.threshold:
                fired.append(hour)
                balance += self.auto_topup.amount
        self.auto_checked_until = hour
        charged_this_hour = any(i.kind == "auto" and i.created > hour for i in self.invoices)
        current = self.balance_at(now) + len(fired) * self.auto_topup.amount
        if current < self.auto_topup.threshold and not charged_this_hour:
            fired.append(now)
        return fired


def demo_books(account_ids: tuple[str, ...], now: int, mint_id) -> dict[str, AccountBook]:
    """About 60 days of believable past for the demo accounts: the first (production) spends
    about $8 a day and has auto top-up; the second (staging) spends little."""
    opened = now - now % HOUR - 60 * DAY
    books = {}
    for index, account_id in enumerate(account_ids):
        production = index == 0
        book = AccountBook(
            account_id=account_id,
            opened_at=opened,
            opening_balance=Decimal(2500 if production else 1000),
            hourly_rate=Decimal("35") if production else Decimal("1.8"),
        )
        # Less than 60 days of usage: auto top-up has had to step in a few times.
        manual = [(58, 5000), (41, 7500), (12, 5000)] if production else [(50, 2500)]
        for days_ago, amount in manual:
            book.invoices.append(
                InvoiceEntry(
                    id=mint_id(),
                    amount=Decimal(amount),
                    created=now - days_ago * DAY - 3 * HOUR,
                    kind="manual",
                    description="AI Gateway credits top-up",
                )
            )
        if production:
            book.auto_topup = AutoTopUpConfig(amount=5000, threshold=1000)
        book.auto_checked_until = opened
        for hour in book.auto_topup_moments(now):
            book.invoices.append(auto_invoice(mint_id(), book.auto_topup.amount, hour))
        books[account_id] = book
    return books


def auto_invoice(invoice_id: str, amount: int, created: int) -> InvoiceEntry:
    return InvoiceEntry(
        id=invoice_id,
        amount=Decimal(amount),
        created=created,
        kind="auto",
        description="AI Gateway credits auto top-up",
        created_by="auto-topup",
    )
