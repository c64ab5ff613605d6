"""Charts drawn on the server: the geometry of an SVG bar chart of usage and of a line chart of
the balance, for a template to render as accessible markup (a title per bar or mark, and the
numbers as a table for screen readers)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cloudflare_client import Invoice, UsageBucket

WIDTH, HEIGHT, TOP, BOTTOM = 600, 170, 26, 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    spend_cents: Decimal


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    peak_cents: Decimal
    first_label: str
    last_label: str
    total_cents: Decimal
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - BOTTOM


def bar_chart(buckets: list[UsageBucket], *, label_format: str) -> Chart | None:
    if not buckets:
        return None
    peak = max((b.spend_cents for b in buckets), default=Decimal(0)) or Decimal(1)
    slot = WIDTH / len(buckets)
    usable = HEIGHT - TOP - BOTTOM
    bars = []
    for index, bucket in enumerate(buckets):
        height = float(bucket.spend_cents / peak) * usable
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.15, 2),
                y=round(HEIGHT - BOTTOM - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                label=bucket.start.strftime(label_format),
                spend_cents=bucket.spend_cents,
            )
        )
    total = sum((b.spend_cents for b in buckets), Decimal(0))
    return Chart(
        bars=tuple(bars),
        peak_cents=peak,
        first_label=bars[0].label,
        last_label=bars[-1].label,
        total_cents=total,
    )


# --- the balance over the last days, reconstructed backwards from the balance now -------------


@dataclass(frozen=True)
class Credit:
    """Money that raised the balance: a paid invoice (a top-up, by hand or automatic)."""

    at: datetime
    cents: Decimal
    auto: bool


def credits_from_invoices(invoices: Iterable[Invoice]) -> list[Credit]:
    """Cloudflare's paid invoices are what raised the balance, whoever started them (this
    portal, Cloudflare's dashboard, auto top-up)."""
    return [
        Credit(invoice.created, invoice.amount_paid_cents, invoice.invoice_origin == "auto")
        for invoice in invoices
        if invoice.status == "paid" and invoice.created is not None
    ]


@dataclass(frozen=True)
class BalanceHistory:
    """The balance at `points` (time, cents) from the first day's start to now, two points at
    each credit (before and after it); `days` for a table: each day's label, its closing
    balance (now, for today) and its credits."""

    points: tuple[tuple[datetime, Decimal], ...]
    days: tuple[tuple[datetime, Decimal, tuple[Credit, ...]], ...]
    credits: tuple[tuple[Credit, Decimal], ...]  # each credit, and the balance just after it


def balance_history(
    *, balance_cents: Decimal, daily: list[UsageBucket], credits: list[Credit], now: datetime
) -> BalanceHistory | None:
    """Backwards from the balance now: the balance at a moment is today's, plus what was spent
    since (a day's spend spread evenly over the day, up to now), minus what was credited
    since. None without a day of usage."""
    days = [bucket for bucket in daily if bucket.start < now]
    if not days:
        return None
    start = days[0].start
    credits = sorted((c for c in credits if start <= c.at <= now), key=lambda c: c.at)

    def at(moment: datetime) -> Decimal:
        """The balance at `moment`, the credits of that moment included."""
        spent = sum((_spent_after(bucket, moment, now) for bucket in days), Decimal(0))
        credited = sum((c.cents for c in credits if c.at > moment), Decimal(0))
        return balance_cents + spent - credited

    afters = [(credit, at(credit.at)) for credit in credits]
    # (moment, order, cents): at one moment, the line jumps (before a credit, after it) and
    # then goes on from the balance after it.
    moments = [(b.start, 2, at(b.start)) for b in days] + [(now, 2, balance_cents)]
    for credit, after in afters:
        moments += [(credit.at, 0, after - credit.cents), (credit.at, 1, after)]
    points = [(moment, cents) for moment, _, cents in sorted(moments, key=lambda m: m[:2])]
    table = tuple(
        (
            bucket.start,
            at(min(bucket.end, now)),
            tuple(c for c in credits if bucket.start <= c.at < bucket.end),
        )
        for bucket in days
    )
    return BalanceHistory(tuple(points), table, tuple(afters))


def _spent_after(bucket: UsageBucket, moment: datetime, now: datetime) -> Decimal:
    """What of the bucket's spend falls after `moment` (spread evenly up to its end, or now)."""
    end = min(bucket.end, now)
    if moment <= bucket.start:
        return bucket.spend_cents
    if moment >= end:
        return Decimal(0)
    share = Decimal((end - moment).total_seconds()) / Decimal((end - bucket.start).total_seconds())
    return bucket.spend_cents * share


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    at: datetime
    cents: Decimal
    auto: bool


@dataclass(frozen=True)
class BalanceChart:
    history: BalanceHistory
    line: str  # the polyline's points
    marks: tuple[Mark, ...]
    zero_y: float  # where the balance is $0
    high_cents: Decimal
    low_cents: Decimal
    first_label: str
    last_label: str
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - BOTTOM


def balance_chart(history: BalanceHistory | None, *, label_format: str) -> BalanceChart | None:
    """The history as a line from $0 (or the lowest balance, below zero) to the highest, each
    credit marked where the line jumps."""
    if history is None:
        return None
    start, end = history.points[0][0], history.points[-1][0]
    span = (end - start).total_seconds() or 1
    values = [cents for _, cents in history.points]
    high, low = max(max(values), Decimal(0)), min(min(values), Decimal(0))
    usable = HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return round((moment - start).total_seconds() / span * WIDTH, 2)

    def y(cents: Decimal) -> float:
        return round(TOP + float((high - cents) / ((high - low) or 1)) * usable, 2)

    return BalanceChart(
        history=history,
        line=" ".join(f"{x(moment)},{y(cents)}" for moment, cents in history.points),
        marks=tuple(
            Mark(x(credit.at), y(after), credit.at, credit.cents, credit.auto)
            for credit, after in history.credits
        ),
        zero_y=y(Decimal(0)),
        high_cents=high,
        low_cents=low,
        first_label=start.strftime(label_format),
        last_label=end.strftime(label_format),
    )
