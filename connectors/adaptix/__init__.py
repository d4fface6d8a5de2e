"""Adaptix, a Mautic fork: contacts, tags, do-not-contact, points, events and notes
(docs/providers/adaptix.md)."""

from connectors.adaptix.client import AdaptixConnector
from connectors.adaptix.settings import AdaptixSettings, read_settings

__all__ = ["AdaptixConnector", "AdaptixSettings", "read_settings"]
