"""Every provider's connector class and settings schema, by provider key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from connectors import adaptix, akita, interakt, lunarsend, trustmary
from connectors.base import HTTPConnector
from connectors.settings import ConnectorSettings, Table
from gateway.domain.records import Provider


@dataclass(frozen=True, slots=True)
class ProviderPackage:
    """What `connectors/<provider>/` offers the rest of the gateway.

    Args:
        connector: the connector class.
        read_settings: checks the provider's configuration section.
    """

    connector: type[HTTPConnector[Any]]
    read_settings: Callable[[Table], ConnectorSettings]


PROVIDERS: dict[Provider, ProviderPackage] = {
    Provider.AKITA: ProviderPackage(akita.AkitaConnector, akita.read_settings),
    Provider.INTERAKT: ProviderPackage(interakt.InteraktConnector, interakt.read_settings),
    Provider.TRUSTMARY: ProviderPackage(trustmary.TrustmaryConnector, trustmary.read_settings),
    Provider.ADAPTIX: ProviderPackage(adaptix.AdaptixConnector, adaptix.read_settings),
    Provider.LUNARSEND: ProviderPackage(lunarsend.LunarSendConnector, lunarsend.read_settings),
}


def build_connector(
    provider: Provider, client: httpx.AsyncClient, settings: ConnectorSettings
) -> HTTPConnector[Any]:
    """The connector for `provider`, talking through `client`."""
    return PROVIDERS[provider].connector(client, settings)
