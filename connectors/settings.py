"""Connector settings: the keys every provider section shares, and the checked reader
each provider's own settings schema (`connectors/<provider>/settings.py`) uses.

    base_url      the provider's API root (required)
    timeout       seconds for one HTTP call: connect, and each read (default 10)
    concurrency   calls in flight to the provider at once, per worker (default 64)
    rate_limit    {requests, per_seconds}: client-side pacing (default none)
    retry         {attempts, backoff, max_backoff, budget}: how reads are retried
    verify        check the provider's TLS certificate (default true)
    ca_file       a PEM file of CA certificates to check it against (default: certifi's)
    proxy         an http(s) proxy URL for this provider only (default none; proxy
                  environment variables are never read)

A mistake raises `SettingsError` naming the dotted key; `gateway.config` adds
the file name. Values given as `${NAME}` are read from the environment.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

COMMON_KEYS = (
    "base_url",
    "timeout",
    "concurrency",
    "rate_limit",
    "retry",
    "verify",
    "ca_file",
    "proxy",
)

_ENV_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Secret:
    """A credential that never prints: `repr`/`str` show a mask, not the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `requests` requests every `per_seconds` seconds."""

    requests: float
    per_seconds: float = 1.0

    @property
    def interval(self) -> float:
        return self.per_seconds / self.requests


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How reads are retried: exponential backoff with jitter inside a time budget.

    Args:
        attempts: total tries, the first included.
        backoff: the first pause in seconds; doubled on each further try.
        max_backoff: the longest single pause.
        budget: seconds from the first try after which no new try starts.
    """

    attempts: int = 3
    backoff: float = 0.05
    max_backoff: float = 2.0
    budget: float = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorSettings:
    """What every connector needs to reach its provider; each provider's settings
    class adds its credentials and options.

    Args:
        base_url: the provider's API root, e.g. `https://api.akitaapp.com/v1`.
        timeout: seconds to connect, and for each read of an answer.
        concurrency: most calls in flight to this provider at once.
        rate_limit: a client-side limit so the gateway does not earn 429s.
        retry: how reads are retried.
        verify: whether the provider's TLS certificate is checked.
        ca_file: CA certificates (PEM) to check it against; default certifi's.
        proxy: an http(s) proxy for this provider's calls.
    """

    base_url: str
    timeout: float = 10.0
    # A local bound, not the provider's limit (that is `rate_limit`): enough for a
    # worker at full speed (~1,000 lookups a second) with providers answering in 50 ms
    # (50 calls in flight each). At 8 it could not pass 160 lookups a second there.
    concurrency: int = 64
    rate_limit: RateLimit | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    verify: bool = True
    ca_file: str | None = None
    proxy: Secret | None = None

    def secrets(self) -> Iterator[str]:
        """Every secret value these settings hold (credentials, a proxy URL)."""
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Secret) and value.get():
                yield value.get()


class SettingsError(Exception):
    """A setting cannot be used. `key` is the dotted key at fault, if any."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


# The first match names a TOML value's type (bool before int: a bool is an int).
_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)


def type_name(value: Any) -> str:
    return next(
        (name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__
    )


def choices(names: Iterable[str]) -> str:
    return ", ".join(names)


class Table:
    """One TOML table, read with checks: every mistake is a `SettingsError` naming
    the dotted key (`providers.adaptix.timeout`).

    Args:
        raw: the parsed table.
        key: its dotted key, None for the document itself.
        environ: where `${NAME}` references are looked up.
    """

    def __init__(self, raw: Any, *, key: str | None, environ: Mapping[str, str]) -> None:
        if raw is None:
            raise SettingsError(key, "is required")
        if not isinstance(raw, dict):
            raise SettingsError(key, f"must be a table, not {type_name(raw)}")
        self.raw: dict[str, Any] = raw
        self.key = key
        self.environ = environ

    def path(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def fail(self, name: str | None, message: str) -> SettingsError:
        return SettingsError(self.path(name) if name is not None else self.key, message)

    def __contains__(self, name: str) -> bool:
        return name in self.raw

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def only(self, allowed: Iterable[str], *, what: str = "key") -> None:
        allowed = tuple(allowed)
        for name in self.raw:
            if name not in allowed:
                raise self.fail(name, f"unknown {what} (expected one of {choices(allowed)})")

    def table(self, name: str) -> Table:
        return Table(self.raw.get(name), key=self.path(name), environ=self.environ)

    def value(self, name: str) -> Any:
        if name not in self.raw:
            raise self.fail(name, "is required")
        return self.raw[name]

    def string(self, name: str) -> str:
        raw = self.value(name)
        if not isinstance(raw, str):
            raise self.fail(name, f"must be a string, not {type_name(raw)}")
        value = self.expand(name, raw)
        if not value.strip():
            raise self.fail(name, "must not be empty")
        return value

    def secret(self, name: str) -> Secret:
        return Secret(self.string(name))

    def expand(self, name: str, raw: str) -> str:
        def replace(match: re.Match[str]) -> str:
            variable = match.group(1)
            if not _ENV_NAME.fullmatch(variable):
                raise self.fail(
                    name, f"${{{variable}}} is not a valid environment variable reference"
                )
            if variable not in self.environ:
                raise self.fail(name, f"environment variable {variable} is not set")
            return self.environ[variable]

        return _ENV_REFERENCE.sub(replace, raw)

    def number(self, name: str, *, positive: bool) -> float:
        raw = self.value(name)
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(name, f"must be a number, not {type_name(raw)}")
        if not math.isfinite(raw):
            raise self.fail(name, f"must be a finite number, not {raw}")
        if positive and raw <= 0:
            raise self.fail(name, f"must be greater than 0, not {raw}")
        if raw < 0:
            raise self.fail(name, f"must not be negative, not {raw}")
        return float(raw)

    def integer(self, name: str, *, minimum: int) -> int:
        raw = self.value(name)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(name, f"must be an integer, not {type_name(raw)}")
        if raw < minimum:
            raise self.fail(name, f"must be at least {minimum}, not {raw}")
        return raw

    def boolean(self, name: str) -> bool:
        raw = self.value(name)
        if not isinstance(raw, bool):
            raise self.fail(name, f"must be true or false, not {type_name(raw)}")
        return raw

    def url(self, name: str, *, example: str) -> str:
        value = self.string(name)
        # Neither message echoes the value: it may carry a password until checked.
        try:
            parts = urlsplit(value)
        except ValueError:
            raise self.fail(name, "is not a valid URL") from None
        if parts.username or parts.password:
            raise self.fail(name, "must not carry credentials; use the credential keys")
        try:
            hostname, _ = parts.hostname, parts.port
        except ValueError as exc:
            raise self.fail(name, f"{value!r} is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not hostname:
            raise self.fail(name, f'{value!r} is not an http(s) URL with a host (e.g. "{example}")')
        return value

    def file(self, name: str) -> str:
        value = self.string(name)
        if not Path(value).is_file():
            raise self.fail(name, f"{value!r} is not a readable file")
        return value


def read_common(table: Table, *, example_url: str) -> dict[str, Any]:
    """The common keys of a provider section, as `ConnectorSettings` arguments."""
    values: dict[str, Any] = {"base_url": table.url("base_url", example=example_url)}
    if "timeout" in table:
        values["timeout"] = table.number("timeout", positive=True)
    if "concurrency" in table:
        values["concurrency"] = table.integer("concurrency", minimum=1)
    if "rate_limit" in table:
        values["rate_limit"] = _rate_limit(table.table("rate_limit"))
    if "retry" in table:
        values["retry"] = _retry(table.table("retry"))
    if "verify" in table:
        values["verify"] = table.boolean("verify")
    if "ca_file" in table:
        values["ca_file"] = table.file("ca_file")
    if "proxy" in table:
        proxy = table.string("proxy")
        parts = urlsplit(proxy)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise table.fail("proxy", "is not an http(s) URL with a host")
        values["proxy"] = Secret(proxy)
    return values


def _rate_limit(table: Table) -> RateLimit:
    table.only(("requests", "per_seconds"))
    if "requests" not in table:
        raise table.fail("requests", "is required (e.g. {requests = 2, per_seconds = 1})")
    requests = table.number("requests", positive=True)
    per_seconds = table.number("per_seconds", positive=True) if "per_seconds" in table else 1.0
    return RateLimit(requests=requests, per_seconds=per_seconds)


def _retry(table: Table) -> RetryPolicy:
    table.only(("attempts", "backoff", "max_backoff", "budget"))
    values: dict[str, Any] = {}
    if "attempts" in table:
        values["attempts"] = table.integer("attempts", minimum=1)
    for name in ("backoff", "max_backoff"):
        if name in table:
            values[name] = table.number(name, positive=False)
    if "budget" in table:
        values["budget"] = table.number("budget", positive=True)
    return RetryPolicy(**values)
