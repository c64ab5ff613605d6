"""Usage charts drawn on the server: the geometry of an SVG bar chart, for a template to render
as accessible markup (a title per bar, and the numbers as a table for screen readers)."""

from dataclasses import dataclass
from decimal import Decimal

from cloudflare_client import UsageBucket

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
