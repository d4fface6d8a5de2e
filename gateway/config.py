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

    [server]                    # introspection, GraphiQL, CORS, CSRF preflight headers
    [input]                     # default_phone_region: the region of numbers without "+"
    [auth]                      # API keys ([[auth.keys]]) and JWT ([auth.jwt])
    [limits]                    # what one request may cost
    [store]                     # url: where identities (and the record cache) live
    [cache]                     # ttl: seconds provider records are reused
    [writes]                    # how queued writes are retried, how long the journal keeps them
    [redis]                     # url: rate limits (and the cache) shared by every instance
    [telemetry]                 # otlp_endpoint: OpenTelemetry traces (off by default)

This module reads the document, the precedence and those three sections; each provider's section is
read by that provider's own settings schema (`connectors/<provider>/settings.py`,
the keys every section shares in `connectors.settings`). `contact-gateway.example.toml`
documents every key. `${NAME}` in any string is replaced by the environment
variable `NAME`, so secrets stay out of the file. Every mistake is reported as
one `ConfigError` line that names the file and the key.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.registry import PROVIDERS
from connectors.settings import (
    ConnectorSettings,
    Secret,
    SettingsError,
    Table,
    choices,
    type_name,
)
from gateway.domain.federation import PRECEDENCE_FIELDS, Precedence
from gateway.domain.phones import DEFAULT_REGION, REGIONS
from gateway.domain.records import Provider
from gateway.telemetry.tracing import TelemetrySettings
from resolvers.runtime.limits import Limits
from resolvers.runtime.policy import WritePolicy

__all__ = [
    "ApiKey",
    "AuthSettings",
    "CacheSettings",
    "ConfigError",
    "GatewaySettings",
    "InputSettings",
    "JWTSettings",
    "Limits",
    "ServerSettings",
    "StoreSettings",
    "load_config",
    "read_document",
]

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


# Headers that make a GET a non-simple request a browser preflights (GraphQL over
# HTTP's and Apollo's names): with one of them, or a JSON content type, a GET may query.
PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
SCOPES = ("read", "write")
JWT_ALGORITHMS = ("HS256", "RS256", "ES256")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """`[server]`: what the HTTP endpoint offers.

    Args:
        introspection: answer introspection queries (off: GRAPHQL_VALIDATION_FAILED).
        graphiql: serve GraphiQL on `GET /graphql` to browsers.
        cors_origins: origins whose browsers may call the gateway (CORS); none by default.
        preflight_headers: headers that let a GET carry a query without a JSON content type.
        health_interval: seconds between two background health checks (`/readyz`).
    """

    introspection: bool = True
    graphiql: bool = True
    cors_origins: tuple[str, ...] = ()
    preflight_headers: tuple[str, ...] = PREFLIGHT_HEADERS
    health_interval: float = 15.0


@dataclass(frozen=True, slots=True)
class InputSettings:
    """`[input]`: how the gateway reads what it is asked to write.

    Args:
        default_phone_region: the ISO 3166 region (`US`, `FI`, `GB`) a phone number
            written without a leading `+` is dialled in; every phone is written to the
            providers in E.164.
    """

    default_phone_region: str = DEFAULT_REGION


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One `[[auth.keys]]` entry: a named key (kept as its SHA-256 digest) and its scopes."""

    name: str
    digest: bytes
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class JWTSettings:
    """`[auth.jwt]`: bearer tokens signed by an identity provider.

    Args:
        algorithm: HS256 (a shared `secret`) or RS256/ES256 (a `public_key_file`).
        key: the shared secret, or the PEM public key's text.
        issuer: the `iss` a token must carry, if set.
        audience: the `aud` a token must carry, if set.
        scopes_claim: the claim with the scopes (a space-separated string or a list).
        name_claim: the claim that names the caller in the operation log.
    """

    algorithm: str
    key: Secret
    issuer: str | None = None
    audience: str | None = None
    scopes_claim: str = "scope"
    name_claim: str = "sub"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """`[auth]`: who may call. With neither keys nor JWT the gateway is open."""

    keys: tuple[ApiKey, ...] = ()
    jwt: JWTSettings | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.keys) or self.jwt is not None


DEFAULT_STORE = "sqlite:///contact-gateway.db"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """`[store]`: where the gateway remembers who is who.

    Args:
        url: `sqlite:///FILE` (the default, `contact-gateway.db` in the working
            directory) or `postgresql://user@host/db` for several processes or machines.
        enabled: false runs without a store: nothing is remembered, contact ids are
            made from the email as before, and merging, unlinking and the record
            cache are unavailable.
    """

    url: str = DEFAULT_STORE
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """`[cache]`: provider records read by the gateway, reused for `ttl` seconds.

    Args:
        ttl: seconds a record read from a provider answers later lookups; None: off.
    """

    ttl: float | None = None


DEFAULT_REDIS_PREFIX = "contact-gateway:"


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """`[redis]`: what several gateway processes and instances share through Redis.

    Args:
        url: `redis://[:password@]host:6379/0` (or `rediss://` for TLS); None: no Redis.
            With it, every provider's `rate_limit` holds for the whole deployment, and
            the record cache (`[cache] ttl`) lives in Redis instead of the store.
        prefix: put before every key, so deployments can share a Redis.
    """

    url: Secret | None = None
    prefix: str = DEFAULT_REDIS_PREFIX


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """What the gateway federates, as read from a configuration file.

    Args:
        providers: settings for every enabled provider; a provider not in it is disabled.
        precedence: which provider's value wins, per field.
        server: the HTTP endpoint's switches.
        input: how input is read (the default phone region).
        auth: who may call; open when empty.
        limits: what one request may cost.
        store: where identities are kept.
        cache: how long provider records are reused.
        writes: how queued writes are retried and how long the journal keeps them.
    """

    providers: Mapping[Provider, ConnectorSettings]
    precedence: Precedence = field(default_factory=Precedence)
    server: ServerSettings = field(default_factory=ServerSettings)
    input: InputSettings = field(default_factory=InputSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    limits: Limits = field(default_factory=Limits)
    store: StoreSettings = field(default_factory=StoreSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    writes: WritePolicy = field(default_factory=WritePolicy)
    redis: RedisSettings = field(default_factory=RedisSettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)

    def secrets(self) -> list[str]:
        """Every configured secret value, for masking."""
        found = [secret for p in self.providers.values() for secret in p.secrets()]
        if self.auth.jwt is not None:
            found.append(self.auth.jwt.key.get())
        if self.redis.url is not None:
            password = make_url_password(self.redis.url.get())
            if password:
                found.append(password)
        return found


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
    document.only(
        (
            "providers",
            "precedence",
            "server",
            "input",
            "auth",
            "limits",
            "store",
            "cache",
            "writes",
            "redis",
            "telemetry",
        )
    )
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
    return GatewaySettings(
        providers=providers,
        precedence=precedence or Precedence(),
        server=_server(document.table("server")) if "server" in document else ServerSettings(),
        input=_input(document.table("input")) if "input" in document else InputSettings(),
        auth=_auth(document.table("auth")) if "auth" in document else AuthSettings(),
        limits=_limits(document.table("limits")) if "limits" in document else Limits(),
        store=_store(document.table("store")) if "store" in document else StoreSettings(),
        cache=_cache(document.table("cache")) if "cache" in document else CacheSettings(),
        writes=_writes(document.table("writes")) if "writes" in document else WritePolicy(),
        redis=_redis(document.table("redis")) if "redis" in document else RedisSettings(),
        telemetry=_telemetry(document.table("telemetry"))
        if "telemetry" in document
        else TelemetrySettings(),
    )


def _store(table: Table) -> StoreSettings:
    table.only(("url", "enabled"))
    enabled = table.boolean("enabled") if "enabled" in table else True
    if "url" not in table:
        return StoreSettings(enabled=enabled)
    url = table.string("url").strip()
    if not re.match(r"(sqlite|postgresql)(\+\w+)?://", url):
        raise table.fail(
            "url", 'must be a sqlite:/// or postgresql:// URL (e.g. "sqlite:///gw.db")'
        )
    return StoreSettings(url=url, enabled=enabled)


def _cache(table: Table) -> CacheSettings:
    table.only(("ttl",))
    return CacheSettings(ttl=table.number("ttl", positive=False) or None)


def _telemetry(table: Table) -> TelemetrySettings:
    table.only(("otlp_endpoint", "service_name", "sample_ratio", "exporter"))
    values: dict[str, Any] = {}
    if "otlp_endpoint" in table:
        endpoint = table.string("otlp_endpoint").strip()
        if not re.match(r"https?://[^/\s]+", endpoint):
            raise table.fail(
                "otlp_endpoint", 'must be an http(s) URL (e.g. "http://collector:4318/v1/traces")'
            )
        values["otlp_endpoint"] = endpoint
    if "service_name" in table:
        values["service_name"] = table.string("service_name").strip() or "contact-gateway"
    if "sample_ratio" in table:
        ratio = table.number("sample_ratio", positive=False)
        if not 0 <= ratio <= 1:
            raise table.fail("sample_ratio", "must be between 0 and 1")
        values["sample_ratio"] = float(ratio)
    if "exporter" in table:
        exporter = table.string("exporter")
        if exporter not in ("otlp", "none"):
            raise table.fail("exporter", 'must be "otlp" or "none"')
        values["exporter"] = exporter
    return TelemetrySettings(**values)


def _redis(table: Table) -> RedisSettings:
    table.only(("url", "prefix"))
    if "url" not in table:
        raise table.fail("url", 'is required (e.g. "redis://127.0.0.1:6379/0")')
    url = table.string("url").strip()
    if not re.match(r"rediss?://[^/\s]+", url):
        raise table.fail(
            "url", 'must be a redis:// or rediss:// URL (e.g. "redis://127.0.0.1:6379/0")'
        )
    prefix = table.string("prefix") if "prefix" in table else DEFAULT_REDIS_PREFIX
    return RedisSettings(url=Secret(url), prefix=prefix)


def make_url_password(url: str) -> str | None:
    """The password in a URL, if any (to be masked wherever the URL could show)."""
    match = re.match(r"[a-z]+://(?:[^:@/]*):([^@/]*)@", url)
    return match.group(1) if match and match.group(1) else None


def _writes(table: Table) -> WritePolicy:
    names = WritePolicy.names()
    table.only(names)
    values: dict[str, Any] = {}
    for name in names:
        if name in table:
            if name == "bulk_chunk":
                values[name] = table.integer(name, minimum=1)
            else:
                values[name] = table.number(name, positive=True)
    return WritePolicy(**values)


def _strings(table: Table, name: str, *, lower: bool = False) -> tuple[str, ...]:
    raw = table.value(name)
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        raise table.fail(name, "must be an array of non-empty strings")
    return tuple(v.strip().lower() if lower else v.strip() for v in raw)


def _server(table: Table) -> ServerSettings:
    table.only(
        ("introspection", "graphiql", "cors_origins", "preflight_headers", "health_interval")
    )
    values: dict[str, Any] = {}
    for name in ("introspection", "graphiql"):
        if name in table:
            values[name] = table.boolean(name)
    if "cors_origins" in table:
        origins = _strings(table, "cors_origins")
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise table.fail(
                    "cors_origins", f'{origin!r} is not an origin (e.g. "https://app.example.com")'
                )
        values["cors_origins"] = origins
    if "preflight_headers" in table:
        values["preflight_headers"] = _strings(table, "preflight_headers", lower=True)
    if "health_interval" in table:
        values["health_interval"] = table.number("health_interval", positive=True)
    return ServerSettings(**values)


def _input(table: Table) -> InputSettings:
    table.only(("default_phone_region",))
    if "default_phone_region" not in table:
        return InputSettings()
    region = table.string("default_phone_region").strip().upper()
    if region not in REGIONS:
        raise table.fail(
            "default_phone_region", 'must be an ISO 3166 region code (e.g. "US", "FI", "GB")'
        )
    return InputSettings(default_phone_region=region)


def _auth(table: Table) -> AuthSettings:
    table.only(("keys", "jwt"))
    keys: list[ApiKey] = []
    if "keys" in table:
        raw = table.value("keys")
        if not isinstance(raw, list) or not raw:
            raise table.fail("keys", "must be an array of tables ([[auth.keys]])")
        for index, item in enumerate(raw):
            entry = Table(item, key=f"{table.path('keys')}[{index}]", environ=table.environ)
            key = _api_key(entry)
            if any(k.name == key.name for k in keys):
                raise entry.fail("name", f"{key.name!r} is used by another key")
            if any(k.digest == key.digest for k in keys):
                raise entry.fail(None, "the same key is listed twice")
            keys.append(key)
    jwt = _jwt(table.table("jwt")) if "jwt" in table else None
    return AuthSettings(keys=tuple(keys), jwt=jwt)


def _api_key(entry: Table) -> ApiKey:
    entry.only(("name", "key", "key_sha256", "scopes"))
    name = entry.string("name").strip()
    if ("key" in entry) == ("key_sha256" in entry):
        raise entry.fail(None, "give exactly one of key and key_sha256")
    if "key" in entry:
        secret = entry.string("key")
        if len(secret) < 16:
            raise entry.fail("key", "is too short to be a secret (at least 16 characters)")
        digest = hashlib.sha256(secret.encode()).digest()
    else:
        hex_digest = entry.string("key_sha256").strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", hex_digest):
            raise entry.fail("key_sha256", "must be a SHA-256 digest: 64 hexadecimal digits")
        digest = bytes.fromhex(hex_digest)
    scopes = _strings(entry, "scopes", lower=True)
    for scope in scopes:
        if scope not in SCOPES:
            raise entry.fail("scopes", f"unknown scope {scope!r} (expected {choices(SCOPES)})")
    return ApiKey(name=name, digest=digest, scopes=frozenset(scopes))


def _jwt(table: Table) -> JWTSettings:
    table.only(
        (
            "algorithm",
            "secret",
            "public_key_file",
            "issuer",
            "audience",
            "scopes_claim",
            "name_claim",
        )
    )
    algorithm = table.string("algorithm").strip().upper()
    if algorithm not in JWT_ALGORITHMS:
        raise table.fail("algorithm", f"must be one of {choices(JWT_ALGORITHMS)}")
    if algorithm == "HS256":
        if "public_key_file" in table:
            raise table.fail("public_key_file", "HS256 takes a shared secret, not a key file")
        key = table.secret("secret")
        if len(key.get()) < 32:
            raise table.fail("secret", "is too short for HS256 (at least 32 characters)")
    else:
        if "secret" in table:
            raise table.fail("secret", f"{algorithm} takes a public_key_file, not a secret")
        path = table.file("public_key_file")
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        if "-----BEGIN PUBLIC KEY-----" not in text:
            raise table.fail("public_key_file", f"{path!r} holds no PEM public key")
        key = Secret(text)
    values: dict[str, Any] = {"algorithm": algorithm, "key": key}
    for name in ("issuer", "audience", "scopes_claim", "name_claim"):
        if name in table:
            values[name] = table.string(name).strip()
    return JWTSettings(**values)


def _limits(table: Table) -> Limits:
    names = Limits.names()
    table.only(names)
    values: dict[str, Any] = {}
    for name in names:
        if name not in table:
            continue
        if name == "timeout":
            values[name] = table.number(name, positive=True)
        else:
            values[name] = table.integer(name, minimum=1)
    return Limits(**values)


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
