"""Who may call: API keys and JWTs from `[auth]`, sent as `Authorization: Bearer <token>`.

A key is compared by its SHA-256 digest, in constant time, against every
configured key's digest (the file may hold the digest instead of the key). A
JWT is checked with PyJWT: signature (HS256 with a shared secret, RS256/ES256
with a public key), expiry, and the configured issuer and audience; its scopes
come from a claim (a space-separated string or a list). The token itself is
never logged; the caller's name is.
"""

from __future__ import annotations

import hashlib
import hmac

import jwt

from gateway.config import AuthSettings, JWTSettings
from resolvers.runtime.context import Principal

SCHEME = "bearer"


class Unauthenticated(Exception):
    """No usable credentials; the message says why, without echoing them."""


class Authenticator:
    """Turns an `Authorization` header into a `Principal`.

    Args:
        settings: the configured keys and JWT settings; must be enabled.
    """

    def __init__(self, settings: AuthSettings) -> None:
        self.keys = settings.keys
        self.jwt = settings.jwt

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller the header names.

        Raises:
            Unauthenticated: the header is missing, not a bearer token, or names no caller.
        """
        if not authorization:
            raise Unauthenticated("send Authorization: Bearer <key>")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != SCHEME or not token:
            raise Unauthenticated("the Authorization header must be Bearer <key>")
        digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        found = None
        for key in self.keys:  # every key compared, whichever matches
            if hmac.compare_digest(digest, key.digest):
                found = key
        if found is not None:
            return Principal(found.name, found.scopes)
        if self.jwt is not None and token.count(".") == 2:
            return _from_jwt(token, self.jwt)
        raise Unauthenticated("the key or token is not valid")


def _from_jwt(token: str, settings: JWTSettings) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.key.get(),
            algorithms=[settings.algorithm],
            issuer=settings.issuer,
            audience=settings.audience,
            options={"require": ["exp"], "verify_aud": settings.audience is not None},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"the token is not valid ({type(exc).__name__})") from None
    raw = claims.get(settings.scopes_claim)
    if isinstance(raw, str):
        scopes = raw.split()
    elif isinstance(raw, list):
        scopes = [s for s in raw if isinstance(s, str)]
    else:
        scopes = []
    name = claims.get(settings.name_claim)
    return Principal(str(name) if name else "jwt", frozenset(scopes))
