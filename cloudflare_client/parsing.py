"""Checking the shape of a `result` before it becomes a typed value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, overload


class MalformedResult(ValueError):
    """A `success: true` answer whose `result` breaks the documented schema."""


def accepted_by(parse: Callable[[Any], object]) -> Callable[[Any], Any]:
    """A parse that hands `result` on as sent once `parse` accepts it: for a caller that keeps
    Cloudflare's result (a cache) and parses it with `parse` when it reads it back."""

    def check(result: Any) -> Any:
        parse(result)
        return result

    return check


def require_object(result: object) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise MalformedResult("result is not an object")
    return result


def require(
    result: dict[str, Any], key: str, types: tuple[type, ...], *, nullable: bool = False
) -> Any:
    """`result[key]`, which must be present and of exactly one of `types` (bool is not int)."""
    if key not in result:
        raise MalformedResult(f"missing {key!r}")
    value = result[key]
    if value is None and nullable:
        return None
    if type(value) not in types:
        raise MalformedResult(f"{key!r} has type {type(value).__name__}")
    return value


@overload
def cents(result: dict[str, Any], key: str, *, nullable: Literal[False] = False) -> Decimal: ...
@overload
def cents(result: dict[str, Any], key: str, *, nullable: bool) -> Decimal | None: ...
def cents(result: dict[str, Any], key: str, *, nullable: bool = False) -> Decimal | None:
    """A money figure in cents, integer or fractional (the transport reads JSON numbers with
    fractions as Decimal), as a Decimal."""
    value = require(result, key, (int, Decimal), nullable=nullable)
    return None if value is None else Decimal(value)


def optional(result: dict[str, Any], key: str, types: tuple[type, ...]) -> Any:
    """`result[key]` if present and not null, which must then be of one of `types`."""
    value = result.get(key)
    if value is None:
        return None
    if type(value) not in types:
        raise MalformedResult(f"{key!r} has type {type(value).__name__}")
    return value


def timestamp(value: object) -> datetime | None:
    """A Unix time as Cloudflare sends it, or None."""
    if value is None:
        return None
    # bool is an int too, and not a time.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise MalformedResult(f"a time has type {type(value).__name__}")
    return _from_unix(value)


def required_timestamp(result: dict[str, Any], key: str) -> datetime:
    """`result[key]`, a Unix time that must be there."""
    return _from_unix(require(result, key, (int, Decimal)))


def _from_unix(value: int | Decimal) -> datetime:
    """Seconds, or milliseconds for the usage API (told apart by size: 1e11 seconds is the
    year 5138)."""
    seconds = Decimal(value) / 1000 if value > 100_000_000_000 else Decimal(value)
    return datetime.fromtimestamp(float(seconds), tz=UTC)
