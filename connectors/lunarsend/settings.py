"""Lunar Send's settings: an API key; its documented limit is 2 requests a second.

[providers.lunarsend]
base_url = "https://lunarsend.com/api"
api_key = "${LUNARSEND_API_KEY}"             # secret
rate_limit = { requests = 2, per_seconds = 1 }
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.settings import COMMON_KEYS, ConnectorSettings, Secret, Table, read_common

KEYS = (*COMMON_KEYS, "api_key")
SECRETS = ("api_key",)
EXAMPLE_URL = "https://lunarsend.com/api"


@dataclass(frozen=True, slots=True, kw_only=True)
class LunarSendSettings(ConnectorSettings):
    """Args:
    api_key: sent as `x-api-key`.
    """

    api_key: Secret


def read_settings(table: Table) -> LunarSendSettings:
    """The `[providers.lunarsend]` section, checked."""
    table.only(KEYS)
    values: dict[str, Any] = read_common(table, example_url=EXAMPLE_URL)
    values["api_key"] = table.secret("api_key")
    return LunarSendSettings(**values)
