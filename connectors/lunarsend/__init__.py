"""Lunar Send CRM (v1): one search term a call, create, a narrow edit, delete
(docs/providers/lunarsend.md)."""

from connectors.lunarsend.client import LunarSendConnector
from connectors.lunarsend.settings import LunarSendSettings, read_settings

__all__ = ["LunarSendConnector", "LunarSendSettings", "read_settings"]
