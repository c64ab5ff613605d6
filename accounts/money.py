"""Money is integer cents everywhere; this is the one place that turns it into text."""


def format_cents(cents: int) -> str:
    dollars, rest = divmod(cents, 100)
    return f"${dollars:,}.{rest:02d}"
