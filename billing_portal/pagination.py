"""Keyset pagination over newest-first lists (`-created_at, -id`): a page costs the same at row
100,000 as at row 1 and needs no COUNT, so the history stays fast however long it grows. Pages
link to the newer and the older page; there is no "page 7 of 4,000".

A cursor is the position of a row, `<microseconds since the epoch>.<id>`, in the query string
as `older=` or `newer=`. A cursor that does not parse, or leads nowhere, gives the newest page.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

from billing_portal.converters import parse_id

PAGE_PARAMS = ("older", "newer")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class KeysetPage:
    object_list: list
    newer: str | None  # the cursor of the newer page, None on the newest
    older: str | None  # the cursor of the older page, None on the oldest

    @property
    def has_other_pages(self) -> bool:
        return bool(self.newer or self.older)


def cursor_of(row) -> str:
    return f"{(row.created_at - EPOCH) // MICROSECOND}.{row.pk}"


def parse_cursor(raw: str | None) -> tuple[datetime, int] | None:
    micros, _, raw_pk = (raw or "").partition(".")
    pk = parse_id(raw_pk)
    # 17 digits of microseconds stay before the year 9999, past which datetime fails.
    if not (micros.isascii() and micros.isdecimal()) or len(micros) > 17 or pk is None:
        return None
    return EPOCH + int(micros) * MICROSECOND, pk


def keyset_page(rows: QuerySet, params, size: int) -> KeysetPage:
    """The page of `rows` that `params` (request.GET) asks for."""
    older, newer = parse_cursor(params.get("older")), parse_cursor(params.get("newer"))
    if older and (found := _beyond(rows, older, newer=False, size=size)):
        shown = found[:size]
        more = len(found) > size
        return KeysetPage(shown, cursor_of(shown[0]), cursor_of(shown[-1]) if more else None)
    if newer and not older:
        found = _beyond(rows, newer, newer=True, size=size)
        if len(found) > size:  # otherwise this is the newest page, shown in full below
            shown = found[:size][::-1]
            return KeysetPage(shown, cursor_of(shown[0]), cursor_of(shown[-1]))
    found = _first(rows, ("-created_at", "-pk"), size + 1)
    shown = found[:size]
    return KeysetPage(shown, None, cursor_of(shown[-1]) if len(found) > size else None)


def _beyond(rows: QuerySet, cursor: tuple[datetime, int], *, newer: bool, size: int) -> list:
    """Up to `size` + 1 rows past the cursor, nearest first: newer ones, or older ones."""
    at, pk = cursor
    if newer:
        past, order = Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk), ("created_at", "pk")
    else:
        past, order = Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk), ("-created_at", "-pk")
    return _first(rows.filter(past), order, size + 1)


def _first(rows: QuerySet, order: tuple[str, str], limit: int) -> list:
    """The first `limit` of `rows` in `order`, found in two steps of one query: their ids from an
    index alone, then those rows with their related ones. Asked in one step, the database reads
    and sorts every matching row whenever they span several accounts (the all-accounts history,
    the finance desk)."""
    ids = rows.order_by(*order).values("pk")[:limit]
    page = rows.model._default_manager.filter(pk__in=ids).order_by(*order)
    # Not rows.filter(…): its conditions, repeated outside, can lead SQLite to a worse plan.
    page.query.select_related = rows.query.select_related
    return list(page)


def query_without(params, *names: str) -> str:
    """`params` (request.GET) as a query string, less `names`: the filters a link keeps."""
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
