"""The CSV export of the finance desk: streamed row by row, so memory stays flat at any size.

Amounts are decimal dollars and integer cents, times are UTC ISO 8601, and every text cell a
spreadsheet could read as a formula is defused (OWASP's CSV injection advice: a leading quote).
"""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.text import slugify

HEADER = [
    "topup_id",
    "account_id",
    "account_name",
    "created_at_utc",
    "state",
    "amount_usd",
    "amount_cents",
    "currency",
    "payment_intent_id",
    "card_brand",
    "card_last4",
    "created_by",
    "origin",
    "recorded_by",
    "completed_at_utc",
    "confirmed_by",
    "confirmed_at_utc",
    "resolved_by",
    "resolved_at_utc",
    "resolution_note",
    "needs_attention_reason",
]
COLUMNS = [
    "pk",
    "account__account_id",
    "account__name",
    "created_at",
    "state",
    "amount_cents",  # written twice: as decimal dollars, then as integer cents
    "currency",
    "payment_intent_id",
    "card_brand",
    "card_last4",
    "created_by__username",
    "origin",
    "recorded_by__username",
    "completed_at",
    "confirmed_by__username",
    "confirmed_at",
    "resolved_by__username",
    "resolved_at",
    "resolution_note",
    "stale_reason",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, int):
        return str(value)
    return safe_cell(str(value))


def _dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class _Echo:
    """A file that hands back what is written, for csv.writer to stream through."""

    def write(self, value: str) -> str:
        return value


def csv_lines(topups: QuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    # values_list + iterator: no model instances, no result cache, a server-side cursor where
    # the database has one.
    for row in topups.order_by("created_at", "pk").values_list(*COLUMNS).iterator(CHUNK):
        cells = [_cell(value) for value in row]
        cells.insert(5, _dollars(row[5]))
        yield writer.writerow(cells)


def export_filename(*, account=None, created_from=None, created_to=None) -> str:
    scope = slugify(account.name) if account else "all-accounts"
    if created_from or created_to:
        dates = f"{created_from or 'start'}-to-{created_to or 'today'}"
    else:
        dates = "all-dates"
    return f"topups-{scope}-{dates}.csv"
