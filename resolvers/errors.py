"""Errors at the GraphQL boundary: each carries `extensions.code`.

Raise `BadUserInput` for input the gateway refuses before any write;
`ProviderFailure` wraps a connector error (adding `extensions.provider`).
Anything else that escapes a resolver is masked by `GatewayErrors`.
"""

from __future__ import annotations

from typing import Any

from connectors.errors import ConnectorError


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


class ProviderFailure(GatewayError):
    """A provider failed; its part of the answer is null or empty."""

    def __init__(self, error: ConnectorError) -> None:
        self.code = error.code
        super().__init__(str(error), provider=error.provider.name)
        self.error = error
