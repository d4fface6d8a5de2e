"""Akita: write-only contacts keyed by the customer's user and account ids
(docs/providers/akita.md)."""

from connectors.akita.client import AkitaConnector
from connectors.akita.settings import AkitaSettings, read_settings

__all__ = ["AkitaConnector", "AkitaSettings", "read_settings"]
