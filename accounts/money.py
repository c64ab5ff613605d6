"""Money is cents everywhere; this is the one place that turns it into text (the `|dollars`
filter and the few Python sentences that name an amount both call it)."""

from decimal import ROUND_HALF_UP, Decimal

# A real minus sign, not a hyphen: Cloudflare's balance can fall below zero.
MINUS = "\u2212"


def format_cents(cents: int | Decimal) -> str:
    """Whole or fractional cents (balances, usage, invoices), rounded to the cent for display."""
    whole = int(Decimal(cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    dollars, rest = divmod(abs(whole), 100)
    return f"{MINUS if whole < 0 else ''}${dollars:,}.{rest:02d}"


def format_rate(cents) -> str:
    """A spend per day or hour: a tiny one that rounds to no cent still reads as a spend."""
    if 0 < cents < Decimal("0.5"):
        return "less than " + format_cents(1)
    return format_cents(cents)
