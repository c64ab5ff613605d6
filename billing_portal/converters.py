"""Ids from URLs, query strings and forms, bounded to what the database holds: the primary keys
are 64-bit (BigAutoField), so a larger number is no id at all, refused here rather than given
to int() (which refuses more than 4,300 digits) or to the database (SQLite's driver raises
OverflowError past 64 bits; only some of Django's lookups guard against it)."""

MAX_ID = 2**63 - 1


def parse_id(raw: str) -> int | None:
    """`raw` as an id (ASCII digits, 1 to MAX_ID), or None when it is not one."""
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


class IdConverter:
    """`<id:pk>` in a URL: 1 to 18 digits, every such number fits, so a longer one matches no
    URL (a 404) and never reaches the view or the database."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
