"""Gateway configuration: which providers are enabled, how to reach them, whose value wins.

A TOML file, one section per enabled provider (a provider without a section is
disabled), and the field precedence:

    [providers.adaptix]
    base_url = "https://acme.adaptix.ai/api"
    username = "gateway"
    password = "${ADAPTIX_PASSWORD}"

    [precedence]
    default = ["adaptix", "trustmary", "lunarsend", "akita", "interakt"]

    [precedence.fields]
    phones = ["lunarsend", "adaptix"]

This module reads the document and the precedence; each provider's section is
read by that provider's own settings schema (`connectors/<provider>/settings.py`,
the keys every section shares in `connectors.settings`). `contact-gateway.example.toml`
documents every key. `${NAME}` in any string is replaced by the environment
variable `NAME`, so secrets stay out of the file. Every mistake is reported as
one `ConfigError` line that names the file and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.registry import PROVIDERS
from connectors.settings import ConnectorSettings, SettingsError, Table, choices, type_name
from gateway.domain.federation import PRECEDENCE_FIELDS, Precedence
from gateway.domain.records import Provider

__all__ = ["ConfigError", "GatewaySettings", "load_config", "read_document"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class ConfigError(Exception):
    """The configuration cannot be used; `str()` is one line naming the file and the key.

    Args:
        source: the file, as the user named it.
        message: what is wrong and, where it helps, what would be right.
        key: the dotted key at fault (`providers.adaptix.password`), if any.
    """

    def __init__(self, source: str, message: str, *, key: str | None = None) -> None:
        self.source = source
        self.key = key
        self.message = message
        where = f"{source}: {key}: " if key else f"{source}: "
        # One line whatever the file held: a stray newline would split the report.
        super().__init__(" ".join((where + message).splitlines()))


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """What the gateway federates, as read from a configuration file.

    Args:
        providers: settings for every enabled provider; a provider not in it is disabled.
        precedence: which provider's value wins, per field.
    """

    providers: Mapping[Provider, ConnectorSettings]
    precedence: Precedence = field(default_factory=Precedence)

    def secrets(self) -> list[str]:
        """Every configured secret value, for masking."""
        return [secret for p in self.providers.values() for secret in p.secrets()]


def load_config(path: str | os.PathLike[str]) -> GatewaySettings:
    """Read and check a TOML configuration file.

    Args:
        path: the file to read.

    Returns:
        The enabled providers' connector settings and the field precedence.

    Raises:
        ConfigError: the file is missing, is not valid TOML, or a key is unknown,
            missing, of the wrong type or out of range, or names an environment
            variable that is not set. The message is one line naming the file and key.
    """
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "file not found") from None
    except IsADirectoryError:
        raise ConfigError(source, "is a directory, not a configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, f"cannot be read ({type(exc).__name__})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        if position:
            line, column = position.groups()
            message = message[: position.start()]
            raise ConfigError(
                source, f"line {line}, column {column}: invalid TOML: {message}"
            ) from None
        raise ConfigError(source, f"invalid TOML: {message}") from None
    return read_document(document, source=source, environ=os.environ)


def read_document(
    document: Mapping[str, Any], *, source: str, environ: Mapping[str, str] | None = None
) -> GatewaySettings:
    """Check a configuration document as TOML parses it.

    Args:
        document: the parsed file.
        source: what to name in errors (the file).
        environ: where `${NAME}` references are looked up; default none set.

    Raises:
        ConfigError: as `load_config`.
    """
    try:
        return _read(Table(dict(document), key=None, environ=environ or {}))
    except SettingsError as exc:
        raise ConfigError(source, exc.message, key=exc.key) from None


def _read(document: Table) -> GatewaySettings:
    document.only(("providers", "precedence"))
    tables = document.table("providers")
    tables.only([p.value for p in Provider], what="provider")
    providers = {
        provider: PROVIDERS[provider].read_settings(tables.table(provider.value))
        for provider in Provider
        if provider.value in tables
    }
    if not providers:
        raise tables.fail(
            None,
            "no provider is configured (add a [providers.<key>] section; "
            f"keys: {choices(p.value for p in Provider)})",
        )
    precedence = _precedence(document.table("precedence")) if "precedence" in document else None
    return GatewaySettings(providers=providers, precedence=precedence or Precedence())


def _precedence(table: Table) -> Precedence:
    table.only(("default", "fields"))
    values: dict[str, Any] = {}
    if "default" in table:
        values["default"] = _provider_order(table, "default")
    if "fields" in table:
        fields_table = table.table("fields")
        fields_table.only(PRECEDENCE_FIELDS, what="field")
        values["fields"] = {name: _provider_order(fields_table, name) for name in fields_table}
    return Precedence(**values)


def _provider_order(table: Table, name: str) -> tuple[Provider, ...]:
    raw = table.value(name)
    if not isinstance(raw, list):
        raise table.fail(name, f"must be an array of provider keys, not {type_name(raw)}")
    if not raw:
        raise table.fail(name, "must name at least one provider")
    order: list[Provider] = []
    for index, item in enumerate(raw):
        item_key = f"{name}[{index}]"
        if not isinstance(item, str):
            raise table.fail(item_key, f"must be a provider key, not {type_name(item)}")
        try:
            provider = Provider(item)
        except ValueError:
            raise table.fail(
                item_key,
                f'unknown provider "{item}" (expected one of {choices(p.value for p in Provider)})',
            ) from None
        if provider in order:
            raise table.fail(item_key, f'"{item}" is listed twice')
        order.append(provider)
    return tuple(order)
