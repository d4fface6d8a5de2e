"""Adaptix's settings: a user's name and password (HTTP Basic), and its options.

    [providers.adaptix]
    base_url = "https://INSTANCE.adaptix.ai/api"
    username = "${ADAPTIX_USERNAME}"
    password = "${ADAPTIX_PASSWORD}"             # secret
    options = { tag_scan_limit = 5000 }

`options.tag_scan_limit`: Adaptix has no endpoint that lists its tags, so
`tags` reads contacts and counts theirs; this bounds how many it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.settings import COMMON_KEYS, ConnectorSettings, Secret, Table, read_common

KEYS = (*COMMON_KEYS, "username", "password", "options")
OPTIONS = ("tag_scan_limit",)
SECRETS = ("password",)
EXAMPLE_URL = "https://INSTANCE.adaptix.ai/api"
TAG_SCAN_LIMIT = 5000


@dataclass(frozen=True, slots=True, kw_only=True)
class AdaptixSettings(ConnectorSettings):
    """Args:
    username: the API user.
    password: its password.
    tag_scan_limit: how many contacts `list_tags` reads at most.
    """

    username: str
    password: Secret
    tag_scan_limit: int = TAG_SCAN_LIMIT


def read_settings(table: Table) -> AdaptixSettings:
    """The `[providers.adaptix]` section, checked."""
    table.only(KEYS)
    values: dict[str, Any] = read_common(table, example_url=EXAMPLE_URL)
    values["username"] = table.string("username")
    values["password"] = table.secret("password")
    if "options" in table:
        options = table.table("options")
        options.only(OPTIONS, what="option")
        if "tag_scan_limit" in options:
            values["tag_scan_limit"] = options.integer("tag_scan_limit", minimum=1)
    return AdaptixSettings(**values)
