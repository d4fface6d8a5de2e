"""Akita's settings: an API key, and the tag names the gateway may write.

    [providers.akita]
    base_url = "https://api.akitaapp.com/v1"
    api_key = "${AKITA_API_KEY}"                 # secret
    tags = { vip = 345, newsletter = 346 }       # tag name -> Akita tag Api ID

Akita's tag names cannot be read (docs/providers/akita.md), so writing a tag
by name needs its Api ID from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.settings import COMMON_KEYS, ConnectorSettings, Secret, Table, read_common

KEYS = (*COMMON_KEYS, "api_key", "tags")
SECRETS = ("api_key",)
EXAMPLE_URL = "https://api.akitaapp.com/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class AkitaSettings(ConnectorSettings):
    """Args:
    api_key: sent as `Authorization: Bearer <key>`.
    tag_ids: tag name -> Akita tag Api ID.
    """

    api_key: Secret
    tag_ids: Mapping[str, int] = field(default_factory=dict)


def read_settings(table: Table) -> AkitaSettings:
    """The `[providers.akita]` section, checked."""
    table.only(KEYS)
    values: dict[str, Any] = read_common(table, example_url=EXAMPLE_URL)
    values["api_key"] = table.secret("api_key")
    if "tags" in table:
        tags = table.table("tags")
        values["tag_ids"] = {name: tags.integer(name, minimum=1) for name in tags}
    return AkitaSettings(**values)
