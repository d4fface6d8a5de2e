"""Interakt's settings: an App ID and an API key (HTTP Basic).

[providers.interakt]
base_url = "https://app.interakt.co/api/v1"
app_id = "${INTERAKT_APP_ID}"
api_key = "${INTERAKT_API_KEY}"              # secret
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.settings import COMMON_KEYS, ConnectorSettings, Secret, Table, read_common

KEYS = (*COMMON_KEYS, "app_id", "api_key")
SECRETS = ("api_key",)
EXAMPLE_URL = "https://app.interakt.co/api/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class InteraktSettings(ConnectorSettings):
    """Args:
    app_id: the Basic auth user (not a secret).
    api_key: the Basic auth password.
    """

    app_id: str
    api_key: Secret


def read_settings(table: Table) -> InteraktSettings:
    """The `[providers.interakt]` section, checked."""
    table.only(KEYS)
    values: dict[str, Any] = read_common(table, example_url=EXAMPLE_URL)
    values["app_id"] = table.string("app_id")
    values["api_key"] = table.secret("api_key")
    return InteraktSettings(**values)
