"""Errors at the GraphQL boundary: each carries `extensions.code`.

Raise `BadUserInput` for input the gateway refuses before any write and
`NotFoundError` for an id no provider has. A provider's failure is not raised:
resolvers record it with `Context.report`, and `GatewayErrors` turns it into an
error with `extensions.provider`, beside the data the other providers gave.
Anything else that escapes a resolver is masked by `GatewayErrors`.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """An error whose message is safe to show and whose code tells what to do."""

    code = "GATEWAY_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class BadUserInput(GatewayError):
    """The request cannot be carried out as given; nothing was written."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None, **extensions: Any) -> None:
        if field is not None:
            extensions["field"] = field
        super().__init__(message, **extensions)


class NotFoundError(GatewayError):
    code = "NOT_FOUND"


class StoreError(GatewayError):
    """The identity store is needed and cannot be used."""

    code = "STORE_UNAVAILABLE"
