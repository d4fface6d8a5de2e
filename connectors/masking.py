"""`Masker`: a connector's secrets taken out of any text before it becomes a message.

A careless provider echoes what it was sent: an error body that quotes the
`Authorization` header, the API key, the decoded Basic `user:password`. Those
words reach the gateway's users as error messages and write results, so every
text a connector turns into a message passes through its `Masker` first, which
replaces each form a secret can take there with `MASK`:

- each secret itself (API keys, passwords, a proxy URL) and, for a URL with
  credentials, its password and `user:password`;
- each authentication header's whole value (`Bearer <key>`, `Basic <token>`),
  and for Basic auth the base64 token and the `user:password` it encodes;
- each of those percent-encoded, as a provider quoting a URL or form would.

A user name alone is not a secret and stays readable. Longer forms are matched
first, so `Basic <token>` is masked whole rather than leaving `Basic ` behind.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote, urlsplit

MASK = "**********"


class Masker:
    """Replaces every form of the given secrets in a text with `MASK`.

    Args:
        secrets: the secret values (a settings object's `secrets()`).
        auth_headers: the headers that carry them on every request.
    """

    def __init__(self, secrets: Iterable[str], auth_headers: Mapping[str, str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            forms.add(secret)
            forms.update(_url_credentials(secret))
        for value in auth_headers.values():
            forms.add(value)
            forms.update(_basic_forms(value))
        forms.update({quote(form, safe="") for form in forms})
        ordered = sorted(filter(None, forms), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        """`text` with every secret form replaced by `MASK`."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)


def _url_credentials(value: str) -> list[str]:
    """The password and `user:password` of a URL that carries them (a proxy URL)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return []
    if not parts.password:
        return []
    user = parts.username or ""
    return [parts.password, unquote(parts.password), f"{user}:{parts.password}"]


def _basic_forms(value: str) -> list[str]:
    """For a Basic `Authorization` value: its token and the `user:password` it encodes."""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return []
    token = token.strip()
    try:
        decoded = base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return [token]
    return [token, decoded]
