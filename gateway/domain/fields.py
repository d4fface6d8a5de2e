"""A provider's contact fields, described for building forms (`FieldInfo`).

Adaptix lists its fields (`GET /contacts/list/fields`); for every other
provider the gateway knows only the unified model fields its connector writes,
so `known_fields` describes those, typed by the unified model (`ContactWrite`).
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from gateway.domain.records import ContactWrite, Provider


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One contact field of a provider.

    Attributes:
        provider: whose field it is.
        alias: the provider's name for it (Adaptix alias), or the unified model's
            field name where the provider lists no fields.
        label: a human label.
        type: the provider's type (Adaptix: text, email, tel, lookup, ...) or the
            unified model's (text, list, object, number, boolean, datetime).
        group: the provider's group (Adaptix: core, social, personal,
            professional); None where the provider has none.
        input_field: the unified model field that writes it (`custom_fields.<alias>`
            for an Adaptix custom field); None when the gateway cannot write it.
    """

    provider: Provider
    alias: str
    label: str
    type: str
    group: str | None = None
    input_field: str | None = None


def _model_type(annotation: object) -> str:
    """The unified model's type name for a `ContactWrite` annotation."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) == 1:  # `X | None`: X
        annotation = args[0]
    origin = typing.get_origin(annotation) or annotation
    if origin in (tuple, list):
        return "list"
    if isinstance(origin, type) and issubclass(origin, Mapping | dict):
        return "object"
    names: dict[object, str] = {bool: "boolean", int: "number", float: "number"}
    names[datetime] = "datetime"
    return names.get(origin, "text")


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def known_fields(provider: Provider, writable: Iterable[str]) -> list[FieldInfo]:
    """The unified model fields `provider`'s connector writes, in the model's order."""
    hints = typing.get_type_hints(ContactWrite)
    wanted = set(writable)
    return [
        FieldInfo(provider, f.name, _label(f.name), _model_type(hints[f.name]), None, f.name)
        for f in fields(ContactWrite)
        if f.name in wanted
    ]
