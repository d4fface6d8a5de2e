"""The connector error tree, organised by what the gateway does with an error.

    ConnectorError                 any failure talking to a provider
    ├── RetriableError             worth another try after a pause
    │   ├── ProviderTimeout        no answer within the timeout
    │   ├── ProviderUnavailable    connection reset or lost, 5xx
    │   │   └── NotConnected       no connection made, so nothing was sent (safe for writes)
    │   └── RateLimited            429; `retry_after` seconds when the provider said
    ├── FatalError                 trying again will not help
    │   ├── AuthError              401/403: credentials wrong or missing
    │   ├── NotFound               404: the record does not exist
    │   └── ProviderError          any other answer the connector cannot use
    ├── BadInput                   the provider refused the data (400/409/422)
    ├── CallBudgetExceeded         the operation has made all the provider calls it may
    └── OperationTimeout           the operation's deadline came before the provider answered

Every error carries the `provider` and a `code` that the GraphQL layer puts in
`extensions.code`. Messages never contain credentials: `HTTPConnector` masks
every configured secret in the provider's words before they become a message.

The last two are the operation's limits (`connectors.budget`), not the
provider's failures: they are never retried, since another try would break the
same limit, and a call refused by `CallBudgetExceeded` was never sent.
"""

from __future__ import annotations

from typing import ClassVar

from gateway.domain.records import Provider


class ConnectorError(Exception):
    code: ClassVar[str] = "PROVIDER_ERROR"

    def __init__(self, message: str, *, provider: Provider, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status

    def __str__(self) -> str:
        return f"{self.provider.value}: {self.message}"


class RetriableError(ConnectorError):
    code = "PROVIDER_UNAVAILABLE"


class ProviderTimeout(RetriableError):
    code = "PROVIDER_TIMEOUT"


class ProviderUnavailable(RetriableError):
    code = "PROVIDER_UNAVAILABLE"


class NotConnected(ProviderUnavailable):
    """No connection could be made: the request never left, so even a write may be sent again."""


class RateLimited(RetriableError):
    code = "PROVIDER_RATE_LIMITED"

    def __init__(
        self,
        message: str,
        *,
        provider: Provider,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class FatalError(ConnectorError):
    code = "PROVIDER_ERROR"


class AuthError(FatalError):
    code = "PROVIDER_AUTH"


class NotFound(FatalError):
    code = "NOT_FOUND"


class ProviderError(FatalError):
    code = "PROVIDER_ERROR"


class BadInput(ConnectorError):
    code = "PROVIDER_REJECTED_INPUT"


class CallBudgetExceeded(ConnectorError):
    """The operation may make no more provider calls (`OperationBudget.max_calls`);
    this one was not sent."""

    code = "OPERATION_LIMIT_EXCEEDED"


class OperationTimeout(ConnectorError):
    """The operation's deadline (`OperationBudget.deadline`) passed while this call
    waited for its turn or for the provider's answer."""

    code = "OPERATION_TIMEOUT"
