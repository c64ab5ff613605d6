"""Money is cents everywhere; this is the one place that turns it into text."""

from decimal import ROUND_HALF_UP, Decimal


def format_cents(cents: int) -> str:
    dollars, rest = divmod(cents, 100)
    return f"${dollars:,}.{rest:02d}"


def format_cents_fraction(cents) -> str:
    """Cents that may be fractional (balances, usage), rounded to the cent only for display."""
    whole = Decimal(cents).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    sign = "-" if whole < 0 else ""
    return sign + format_cents(int(abs(whole)))
