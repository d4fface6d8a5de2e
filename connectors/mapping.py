"""Helpers every provider's mapping uses to read values out of a provider's JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def clean_text(value: Any) -> str | None:
    """A provider's value as trimmed text; None for null, booleans and blanks."""
    if type(value) is str:  # most values: the same answer, without the checks
        return value.strip() or None
    if value is None or isinstance(value, bool):
        return None
    return str(value).strip() or None


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime (no offset means UTC); None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
