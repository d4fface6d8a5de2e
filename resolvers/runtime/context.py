"""The gateway's runtime state and the per-request context.

`Gateway` lives for the app's lifetime: the enabled connectors and the field
precedence. `Context` lives for one GraphQL request: fresh dataloaders (so no
answer is cached across requests) and the provider failures to report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from connectors.errors import ConnectorError
from connectors.protocol import Connector
from connectors.types import Capability, Provider
from resolvers.federation import Precedence
from resolvers.loaders import Loaders


@dataclass
class Gateway:
    """What the schema federates.

    Args:
        connectors: the enabled providers' connectors; a provider not in it is disabled.
        precedence: which provider's value wins, per field.
    """

    connectors: Mapping[Provider, Connector]
    precedence: Precedence = field(default_factory=Precedence)

    def enabled(self, provider: Provider) -> bool:
        return provider in self.connectors

    def can(self, provider: Provider, capability: Capability) -> bool:
        connector = self.connectors.get(provider)
        return connector is not None and capability in connector.capabilities


@dataclass(frozen=True)
class ReportedFailure:
    path: tuple[str | int, ...]
    error: ConnectorError


class Context:
    """Per-request state: dataloaders and provider failures to report."""

    def __init__(self, gateway: Gateway, *, request: Any = None, response: Any = None) -> None:
        self.gateway = gateway
        self.request = request
        self.response = response
        self.loaders = Loaders(gateway.connectors, gateway.precedence)
        self.failures: list[ReportedFailure] = []

    def report(self, info: Info, *errors: ConnectorError) -> None:
        """Record provider failures against the field being resolved."""
        if not errors:  # the common case, once per contact of a page
            return
        path = tuple(info.path.as_list())
        for error in errors:
            failure = ReportedFailure(path, error)
            if not any(
                f.path == path and f.error.provider is error.provider and f.error.code == error.code
                for f in self.failures
            ):
                self.failures.append(failure)


Info = StrawberryInfo[Context, Any]
