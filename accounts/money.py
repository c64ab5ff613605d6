"""Money is cents everywhere; this is the one place that turns it into text."""

from decimal import ROUND_HALF_UP, Decimal

# A real minus sign, not a hyphen: Cloudflare's balance can fall below zero.
MINUS = "\u2212"


def format_cents(cents: int) -> str:
    dollars, rest = divmod(abs(cents), 100)
    return f"{MINUS if cents < 0 else ''}${dollars:,}.{rest:02d}"


def format_cents_fraction(cents) -> str:
    """Cents that may be fractional (balances, usage), rounded to the cent only for display."""
    return format_cents(int(Decimal(cents).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def format_rate(cents) -> str:
    """A spend per day or hour: a tiny one that rounds to no cent still reads as a spend."""
    if 0 < cents < Decimal("0.5"):
        return "less than " + format_cents(1)
    return format_cents_fraction(cents)
