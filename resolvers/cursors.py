"""Opaque cursors: what a client hands back to get the next page."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from resolvers.errors import BadUserInput


def encode_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, field: str = "after") -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadUserInput("not a cursor this gateway gave out", field=field) from exc
    if not isinstance(state, dict):
        raise BadUserInput("not a cursor this gateway gave out", field=field)
    return state


def encode_offset(offset: int) -> str:
    return encode_cursor({"o": offset})


def decode_offset(cursor: str | None, *, field: str = "after") -> int:
    if cursor is None:
        return 0
    offset = decode_cursor(cursor, field=field).get("o")
    if not isinstance(offset, int) or offset < 0:
        raise BadUserInput("not a cursor this gateway gave out", field=field)
    return offset
