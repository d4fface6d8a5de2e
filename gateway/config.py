"""Gateway configuration: which providers are enabled, how to reach them, whose value wins.

A TOML file, one section per enabled provider (a provider without a section is
disabled), and the field precedence:

    [providers.adaptix]
    base_url = "https://acme.adaptix.ai/api"
    username = "gateway"
    password = "${ADAPTIX_PASSWORD}"
    timeout = 10                                    # seconds for one HTTP call
    concurrency = 8                                 # calls in flight at once
    rate_limit = {requests = 2, per_seconds = 1}    # client-side pacing
    retry = {attempts = 3, backoff = 0.05, max_backoff = 2, budget = 10}

    [providers.akita]
    base_url = "https://api.akitaapp.com/v1"
    api_key = "${AKITA_API_KEY}"
    tags = {vip = 345}                              # tag name -> Akita tag Api ID

    [precedence]
    default = ["adaptix", "trustmary", "lunarsend", "akita", "interakt"]

    [precedence.fields]
    phones = ["lunarsend", "adaptix"]

`${NAME}` in any string is replaced by the environment variable `NAME`, so
secrets stay out of the file. Every mistake is reported as one `ConfigError`
line that names the file and the key.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.registry import CONNECTORS
from connectors.settings import ConnectorSettings, RateLimit, RetryPolicy, Secret
from connectors.types import Provider
from resolvers.federation import PRECEDENCE_FIELDS, Precedence
from sandbox import credentials

__all__ = [
    "ConfigError",
    "GatewaySettings",
    "load_config",
    "sandbox_document",
    "sandbox_settings",
]

SECRET_KEYS = frozenset({"api_key", "password"})
COMMON_KEYS = ("base_url", "timeout", "concurrency", "rate_limit", "retry")
# Provider-specific extras, passed to the connector as `ConnectorSettings.options`.
OPTIONS: dict[Provider, tuple[str, ...]] = {
    Provider.ADAPTIX: ("tag_scan_limit",),
}

_ENV_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
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
    return _Reader(source, os.environ).settings(document)


def sandbox_document(
    base_url: str, providers: Iterable[Provider] = tuple(Provider)
) -> dict[str, Any]:
    """The configuration file, as TOML parses it, that points providers at a running sandbox.

    Args:
        base_url: where the sandbox answers, e.g. `http://127.0.0.1:8100`; each
            provider lives under `/<key>` plus the provider's own path root.
        providers: the providers to enable; default all five.

    Returns:
        `{"providers": {key: {"base_url", credentials..., "tags" (Akita)}}}` with
        the sandbox's fixed credentials and Akita's sandbox tag map.
    """
    base = base_url.rstrip("/")
    known = credentials.describe()
    tables: dict[str, dict[str, Any]] = {}
    for provider in providers:
        key = provider.value
        tables[key] = {"base_url": f"{base}/{key}{credentials.ROOTS[key]}", **known[key]}
        if provider is Provider.AKITA:
            tables[key]["tags"] = dict(credentials.AKITA_TAG_IDS)
    return {"providers": tables}


def sandbox_settings(base_url: str) -> GatewaySettings:
    """Settings that enable every provider against a running sandbox.

    Args:
        base_url: where the sandbox answers, e.g. `http://127.0.0.1:8100`.

    Returns:
        `sandbox_document(base_url)` read like a configuration file: all five
        providers with the sandbox's credentials, Akita's sandbox tag map and no
        client-side rate limits (the sandbox has none by default).

    Raises:
        ConfigError: `base_url` is not an http(s) URL with a host.
    """
    return _Reader(f"sandbox at {base_url}", {}).settings(sandbox_document(base_url))


# The first match names a TOML value's type (bool before int: a bool is an int).
_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)


def _type_name(value: Any) -> str:
    return next(
        (name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__
    )


def _choices(names: Any) -> str:
    return ", ".join(names)


class _Reader:
    """Walks the parsed document, turning every mistake into a one-line ConfigError."""

    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        self.source = source
        self.environ = environ

    def fail(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(self.source, message, key=key)

    # -- document -------------------------------------------------------------

    def settings(self, document: dict[str, Any]) -> GatewaySettings:
        self.only(None, document, ("providers", "precedence"))
        providers_table = self.table("providers", document.get("providers"))
        self.only("providers", providers_table, [p.value for p in Provider], what="provider")
        providers = {
            provider: self.provider(provider, providers_table[provider.value])
            for provider in Provider
            if provider.value in providers_table
        }
        if not providers:
            raise self.fail(
                "providers",
                f"no provider is configured (add a [providers.<key>] section; "
                f"keys: {_choices(p.value for p in Provider)})",
            )
        precedence = self.precedence(document.get("precedence"))
        return GatewaySettings(providers=providers, precedence=precedence)

    def provider(self, provider: Provider, raw: Any) -> ConnectorSettings:
        prefix = f"providers.{provider.value}"
        table = self.table(prefix, raw)
        required = CONNECTORS[provider].required_credentials
        allowed = [*COMMON_KEYS, *required]
        if provider is Provider.AKITA:
            allowed.append("tags")
        if provider in OPTIONS:
            allowed.append("options")
        self.only(prefix, table, allowed)
        values: dict[str, Any] = {"base_url": self.url(f"{prefix}.base_url", table)}
        for name in required:
            text = self.string(f"{prefix}.{name}", table, name)
            values[name] = Secret(text) if name in SECRET_KEYS else text
        if "timeout" in table:
            values["timeout"] = self.number(f"{prefix}.timeout", table["timeout"], positive=True)
        if "concurrency" in table:
            values["concurrency"] = self.integer(
                f"{prefix}.concurrency", table["concurrency"], minimum=1
            )
        if "rate_limit" in table:
            values["rate_limit"] = self.rate_limit(f"{prefix}.rate_limit", table["rate_limit"])
        if "retry" in table:
            values["retry"] = self.retry(f"{prefix}.retry", table["retry"])
        if "tags" in table:
            values["tag_ids"] = self.tags(f"{prefix}.tags", table["tags"])
        if "options" in table:
            values["options"] = self.options(provider, f"{prefix}.options", table["options"])
        return ConnectorSettings(**values)

    def rate_limit(self, key: str, raw: Any) -> RateLimit:
        table = self.table(key, raw)
        self.only(key, table, ("requests", "per_seconds"))
        if "requests" not in table:
            raise self.fail(f"{key}.requests", "is required (e.g. {requests = 2, per_seconds = 1})")
        requests = self.number(f"{key}.requests", table["requests"], positive=True)
        per_seconds = 1.0
        if "per_seconds" in table:
            per_seconds = self.number(f"{key}.per_seconds", table["per_seconds"], positive=True)
        return RateLimit(requests=requests, per_seconds=per_seconds)

    def retry(self, key: str, raw: Any) -> RetryPolicy:
        table = self.table(key, raw)
        self.only(key, table, ("attempts", "backoff", "max_backoff", "budget"))
        values: dict[str, Any] = {}
        if "attempts" in table:
            values["attempts"] = self.integer(f"{key}.attempts", table["attempts"], minimum=1)
        for name in ("backoff", "max_backoff"):
            if name in table:
                values[name] = self.number(f"{key}.{name}", table[name], positive=False)
        if "budget" in table:
            values["budget"] = self.number(f"{key}.budget", table["budget"], positive=True)
        return RetryPolicy(**values)

    def tags(self, key: str, raw: Any) -> dict[str, int]:
        table = self.table(key, raw)
        return {
            name: self.integer(f"{key}.{name}", value, minimum=1) for name, value in table.items()
        }

    def options(self, provider: Provider, key: str, raw: Any) -> dict[str, Any]:
        table = self.table(key, raw)
        self.only(key, table, OPTIONS[provider], what="option")
        return {
            name: self.integer(f"{key}.{name}", value, minimum=1) for name, value in table.items()
        }

    def precedence(self, raw: Any) -> Precedence:
        if raw is None:
            return Precedence()
        table = self.table("precedence", raw)
        self.only("precedence", table, ("default", "fields"))
        values: dict[str, Any] = {}
        if "default" in table:
            values["default"] = self.provider_order("precedence.default", table["default"])
        if "fields" in table:
            fields_table = self.table("precedence.fields", table["fields"])
            self.only("precedence.fields", fields_table, PRECEDENCE_FIELDS, what="field")
            values["fields"] = {
                name: self.provider_order(f"precedence.fields.{name}", order)
                for name, order in fields_table.items()
            }
        return Precedence(**values)

    def provider_order(self, key: str, raw: Any) -> tuple[Provider, ...]:
        if not isinstance(raw, list):
            raise self.fail(key, f"must be an array of provider keys, not {_type_name(raw)}")
        if not raw:
            raise self.fail(key, "must name at least one provider")
        order: list[Provider] = []
        for index, item in enumerate(raw):
            item_key = f"{key}[{index}]"
            if not isinstance(item, str):
                raise self.fail(item_key, f"must be a provider key, not {_type_name(item)}")
            try:
                provider = Provider(item)
            except ValueError:
                raise self.fail(
                    item_key,
                    f'unknown provider "{item}" (expected one of '
                    f"{_choices(p.value for p in Provider)})",
                ) from None
            if provider in order:
                raise self.fail(item_key, f'"{item}" is listed twice')
            order.append(provider)
        return tuple(order)

    # -- values ---------------------------------------------------------------

    def only(
        self,
        prefix: str | None,
        table: Mapping[str, Any],
        allowed: Any,
        *,
        what: str = "key",
    ) -> None:
        allowed = tuple(allowed)
        for name in table:
            if name not in allowed:
                key = f"{prefix}.{name}" if prefix else name
                raise self.fail(key, f"unknown {what} (expected one of {_choices(allowed)})")

    def table(self, key: str, raw: Any) -> dict[str, Any]:
        if raw is None:
            raise self.fail(key, "is required")
        if not isinstance(raw, dict):
            raise self.fail(key, f"must be a table, not {_type_name(raw)}")
        return raw

    def string(self, key: str, table: Mapping[str, Any], name: str) -> str:
        if name not in table:
            raise self.fail(key, "is required")
        raw = table[name]
        if not isinstance(raw, str):
            raise self.fail(key, f"must be a string, not {_type_name(raw)}")
        value = self.expand(key, raw)
        if not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def expand(self, key: str, raw: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if not _ENV_NAME.fullmatch(name):
                raise self.fail(key, f"${{{name}}} is not a valid environment variable reference")
            if name not in self.environ:
                raise self.fail(key, f"environment variable {name} is not set")
            return self.environ[name]

        return _ENV_REFERENCE.sub(replace, raw)

    def url(self, key: str, table: Mapping[str, Any]) -> str:
        value = self.string(key, table, "base_url")
        # Neither message echoes the value: it may carry a password until checked.
        try:
            parts = urlsplit(value)
        except ValueError:
            raise self.fail(key, "is not a valid URL") from None
        if parts.username or parts.password:
            raise self.fail(key, "must not carry credentials; use the credential keys")
        try:
            hostname, _ = parts.hostname, parts.port
        except ValueError as exc:
            raise self.fail(key, f"{value!r} is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not hostname:
            raise self.fail(
                key,
                f'{value!r} is not an http(s) URL with a host (e.g. "https://api.akitaapp.com/v1")',
            )
        return value

    def number(self, key: str, raw: Any, *, positive: bool) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(key, f"must be a number, not {_type_name(raw)}")
        if not math.isfinite(raw):
            raise self.fail(key, f"must be a finite number, not {raw}")
        if positive and raw <= 0:
            raise self.fail(key, f"must be greater than 0, not {raw}")
        if raw < 0:
            raise self.fail(key, f"must not be negative, not {raw}")
        return float(raw)

    def integer(self, key: str, raw: Any, *, minimum: int) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(key, f"must be an integer, not {_type_name(raw)}")
        if raw < minimum:
            raise self.fail(key, f"must be at least {minimum}, not {raw}")
        return raw
