"""Global ids: `<Type>:<key token>`, base64url without padding, and their parsing."""

from __future__ import annotations

import base64
import binascii

from gateway.domain.keys import PersonKey
from resolvers.runtime.errors import BadUserInput


def encode_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def decode_id(global_id: str) -> tuple[str, str] | None:
    """(type name, key) for a global id, or None when it is not one of ours."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, key = text.partition(":")
    if not sep or not key:
        return None
    return type_name, key


def contact_id(key: PersonKey) -> str:
    return encode_id("Contact", key.token)


def person_key(global_id: str, field: str = "id") -> PersonKey:
    """The person a contact id names; BadUserInput naming `field` when it names none."""
    decoded = decode_id(global_id)
    key = PersonKey.parse(decoded[1]) if decoded is not None and decoded[0] == "Contact" else None
    if key is None:
        raise BadUserInput(f"{field} is not a contact id", field=field)
    return key
