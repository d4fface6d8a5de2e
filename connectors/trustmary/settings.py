"""Trustmary's settings: an API key.

[providers.trustmary]
base_url = "https://api.trustmary.io/v1"
api_key = "${TRUSTMARY_API_KEY}"             # secret
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.settings import COMMON_KEYS, ConnectorSettings, Secret, Table, read_common

KEYS = (*COMMON_KEYS, "api_key")
SECRETS = ("api_key",)
EXAMPLE_URL = "https://api.trustmary.io/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustmarySettings(ConnectorSettings):
    """Args:
    api_key: sent as `Authorization: Apikey <key>`.
    """

    api_key: Secret


def read_settings(table: Table) -> TrustmarySettings:
    """The `[providers.trustmary]` section, checked."""
    table.only(KEYS)
    values: dict[str, Any] = read_common(table, example_url=EXAMPLE_URL)
    values["api_key"] = table.secret("api_key")
    return TrustmarySettings(**values)
