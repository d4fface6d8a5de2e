"""Interakt: write-only members and leads, upserted by email (docs/providers/interakt.md)."""

from connectors.interakt.client import InteraktConnector
from connectors.interakt.settings import InteraktSettings, read_settings

__all__ = ["InteraktConnector", "InteraktSettings", "read_settings"]
