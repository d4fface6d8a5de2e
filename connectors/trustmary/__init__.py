"""Trustmary: contacts read by email or in pages of 1000, upserts keyed by email, lists
(docs/providers/trustmary.md)."""

from connectors.trustmary.client import TrustmaryConnector
from connectors.trustmary.settings import TrustmarySettings, read_settings

__all__ = ["TrustmaryConnector", "TrustmarySettings", "read_settings"]
