"""Checking the shape of a `result` before it becomes a typed value."""

from __future__ import annotations

from typing import Any


class MalformedResult(ValueError):
    """A `success: true` answer whose `result` breaks the documented schema."""


def require_object(result: Any) -> dict:
    if not isinstance(result, dict):
        raise MalformedResult("result is not an object")
    return result


def require(result: dict, key: str, types: tuple[type, ...], *, nullable: bool = False) -> Any:
    """`result[key]`, which must be present and of exactly one of `types` (bool is not int)."""
    if key not in result:
        raise MalformedResult(f"missing {key!r}")
    value = result[key]
    if value is None and nullable:
        return None
    if type(value) not in types:
        raise MalformedResult(f"{key!r} has type {type(value).__name__}")
    return value
