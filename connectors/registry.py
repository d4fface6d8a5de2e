"""Which connector class serves which provider."""

from __future__ import annotations

import httpx

from connectors.adaptix import AdaptixConnector
from connectors.akita import AkitaConnector
from connectors.base import HTTPConnector
from connectors.interakt import InteraktConnector
from connectors.lunarsend import LunarSendConnector
from connectors.settings import ConnectorSettings
from connectors.trustmary import TrustmaryConnector
from connectors.types import Provider

CONNECTORS: dict[Provider, type[HTTPConnector]] = {
    Provider.AKITA: AkitaConnector,
    Provider.INTERAKT: InteraktConnector,
    Provider.TRUSTMARY: TrustmaryConnector,
    Provider.ADAPTIX: AdaptixConnector,
    Provider.LUNARSEND: LunarSendConnector,
}


def build_connector(
    provider: Provider, client: httpx.AsyncClient, settings: ConnectorSettings
) -> HTTPConnector:
    """The connector for `provider`, talking through `client`."""
    return CONNECTORS[provider](client, settings)
