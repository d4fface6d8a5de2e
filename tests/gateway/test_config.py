from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from connectors.settings import RateLimit, RetryPolicy, Secret
from gateway.config import ConfigError, GatewaySettings, ServerSettings, load_config
from gateway.domain.federation import DEFAULT_PRECEDENCE, Precedence
from gateway.domain.records import Provider
from resolvers.runtime.limits import Limits
from sandbox import credentials
from tests.gateway.conftest import REPO
from tests.support import gateway_settings

ADAPTIX = """
[providers.adaptix]
base_url = "https://acme.adaptix.ai/api"
username = "gateway"
password = "${ADAPTIX_PASSWORD}"
"""

EXAMPLE_ENV = {
    "AKITA_API_KEY": "akita-secret-1",
    "INTERAKT_APP_ID": "interakt-app",
    "INTERAKT_API_KEY": "interakt-secret-2",
    "TRUSTMARY_API_KEY": "trustmary-secret-3",
    "ADAPTIX_USERNAME": "gateway",
    "ADAPTIX_PASSWORD": "adaptix-secret-4",
    "LUNARSEND_API_KEY": "lunarsend-secret-5",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in EXAMPLE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADAPTIX_PASSWORD", "s3cret-adaptix-pw")


def test_full_config_is_read_into_connector_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AKITA_API_KEY", "akita-key-from-env")
    monkeypatch.setenv("ADAPTIX_HOST", "acme.adaptix.ai")
    path = write(
        tmp_path,
        """
[providers.akita]
base_url = "https://api.akitaapp.com/v1"
api_key = "${AKITA_API_KEY}"
timeout = 4.5
concurrency = 3
rate_limit = {requests = 120, per_seconds = 60}
retry = {attempts = 5, backoff = 0.1, max_backoff = 3, budget = 20}
tags = {vip = 345, trial = 347}

[providers.adaptix]
base_url = "https://${ADAPTIX_HOST}/api"
username = "gateway"
password = "${ADAPTIX_PASSWORD}"
options = {tag_scan_limit = 200}

[precedence]
default = ["adaptix", "akita"]

[precedence.fields]
phones = ["lunarsend", "adaptix"]
""",
    )
    settings = load_config(path)

    assert set(settings.providers) == {Provider.AKITA, Provider.ADAPTIX}
    akita = settings.providers[Provider.AKITA]
    assert akita.api_key == Secret("akita-key-from-env")
    assert akita.timeout == 4.5
    assert akita.concurrency == 3
    assert akita.rate_limit == RateLimit(120, 60)
    assert akita.retry == RetryPolicy(attempts=5, backoff=0.1, max_backoff=3, budget=20)
    assert akita.tag_ids == {"vip": 345, "trial": 347}
    adaptix = settings.providers[Provider.ADAPTIX]
    assert adaptix.base_url == "https://acme.adaptix.ai/api"
    assert adaptix.username == "gateway"
    assert adaptix.password == Secret("s3cret-adaptix-pw")
    assert adaptix.rate_limit is None
    assert adaptix.tag_scan_limit == 200
    assert settings.precedence.default == (Provider.ADAPTIX, Provider.AKITA)
    assert settings.precedence.order("phones")[:2] == (Provider.LUNARSEND, Provider.ADAPTIX)


def test_defaults_apply_when_optional_keys_are_left_out(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, ADAPTIX))

    adaptix = settings.providers[Provider.ADAPTIX]
    assert adaptix.timeout == 10.0
    assert adaptix.concurrency == 64
    assert adaptix.retry == RetryPolicy()
    assert settings.precedence == Precedence()
    assert settings.precedence.default == DEFAULT_PRECEDENCE


def test_secrets_never_show_in_reprs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUNARSEND_API_KEY", "lunar-key-9f8e7d")
    path = write(
        tmp_path,
        ADAPTIX
        + """
[providers.lunarsend]
base_url = "https://lunarsend.com/api"
api_key = "${LUNARSEND_API_KEY}"
""",
    )
    settings = load_config(path)

    shown = repr(settings) + str(settings) + repr(settings.providers)
    assert "s3cret-adaptix-pw" not in shown
    assert "lunar-key-9f8e7d" not in shown
    assert "**********" in shown
    assert settings.providers[Provider.LUNARSEND].api_key is not None
    assert settings.providers[Provider.LUNARSEND].api_key.get() == "lunar-key-9f8e7d"


def test_the_example_file_loads_with_its_variables_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)

    settings = load_config(REPO / "contact-gateway.example.toml")

    assert set(settings.providers) == set(Provider)
    assert settings.providers[Provider.LUNARSEND].rate_limit == RateLimit(2, 1)
    assert settings.providers[Provider.AKITA].rate_limit == RateLimit(120, 60)
    assert settings.providers[Provider.AKITA].tag_ids
    assert settings.providers[Provider.INTERAKT].app_id == "interakt-app"
    assert settings.providers[Provider.ADAPTIX].password == Secret("adaptix-secret-4")
    for provider, connector in settings.providers.items():
        assert connector.base_url.startswith("https://"), provider
    assert settings.input.default_phone_region == "US"
    assert "adaptix-secret-4" not in repr(settings)


def test_the_example_file_names_the_first_unset_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(REPO / "contact-gateway.example.toml")
    assert str(caught.value).endswith(
        "providers.akita.api_key: environment variable AKITA_API_KEY is not set"
    )


def test_sandbox_settings_enable_every_provider_with_the_sandbox_credentials() -> None:
    settings = gateway_settings("http://127.0.0.1:8100/")

    assert isinstance(settings, GatewaySettings)
    assert set(settings.providers) == set(Provider)
    adaptix = settings.providers[Provider.ADAPTIX]
    assert adaptix.base_url == "http://127.0.0.1:8100/adaptix/api"
    assert adaptix.username == credentials.ADAPTIX_USERNAME
    assert adaptix.password == Secret(credentials.ADAPTIX_PASSWORD)
    interakt = settings.providers[Provider.INTERAKT]
    assert interakt.base_url == "http://127.0.0.1:8100/interakt/api/v1"
    assert interakt.app_id == credentials.INTERAKT_APP_ID
    assert settings.providers[Provider.AKITA].tag_ids == credentials.AKITA_TAG_IDS
    assert all(s.rate_limit is None for s in settings.providers.values())


def test_a_sandbox_url_without_a_scheme_is_refused_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        gateway_settings("localhost:8100")

    assert str(caught.value) == (
        "sandbox at localhost:8100: providers.akita.base_url: 'localhost:8100/akita/v1' "
        'is not an http(s) URL with a host (e.g. "https://api.akitaapp.com/v1")'
    )


def test_a_missing_file_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("no/such/gateway.toml")
    assert str(caught.value) == "no/such/gateway.toml: file not found"


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, ADAPTIX + "\n[precedence]\ndefault = [adaptix]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 8, column ")
    assert "invalid TOML" in message
    assert "\n" not in message


# (file text, the key the message names, what it says)
BAD = [
    pytest.param(
        ADAPTIX + '[providers.hubspot]\nbase_url = "https://api.hubspot.com"\n',
        "providers.hubspot",
        "unknown provider (expected one of akita, interakt, trustmary, adaptix, lunarsend)",
        id="unknown-provider-section",
    ),
    pytest.param(
        ADAPTIX + 'api_key = "x"\n',
        "providers.adaptix.api_key",
        "unknown key (expected one of base_url,",
        id="unknown-key",
    ),
    pytest.param(
        ADAPTIX + "[servers]\nport = 8000\n",
        "servers",
        "unknown key (expected one of providers, precedence, server, input, auth, limits, store, cache, writes, redis, telemetry)",
        id="unknown-top-level-table",
    ),
    pytest.param(
        '[providers.adaptix]\nbase_url = "https://acme.adaptix.ai/api"\nusername = "gateway"\n',
        "providers.adaptix.password",
        "is required",
        id="missing-password",
    ),
    pytest.param(
        '[providers.interakt]\nbase_url = "https://app.interakt.co/api/v1"\napi_key = "k"\n',
        "providers.interakt.app_id",
        "is required",
        id="missing-interakt-app-id",
    ),
    pytest.param(
        '[providers.akita]\napi_key = "k"\n',
        "providers.akita.base_url",
        "is required",
        id="missing-base-url",
    ),
    pytest.param(
        '[providers.akita]\nbase_url = "ftp://api.akitaapp.com/v1"\napi_key = "k"\n',
        "providers.akita.base_url",
        "'ftp://api.akitaapp.com/v1' is not an http(s) URL with a host",
        id="url-scheme",
    ),
    pytest.param(
        '[providers.akita]\nbase_url = "https:///v1"\napi_key = "k"\n',
        "providers.akita.base_url",
        "is not an http(s) URL with a host",
        id="url-without-host",
    ),
    pytest.param(
        '[providers.akita]\nbase_url = "api.akitaapp.com/v1"\napi_key = "k"\n',
        "providers.akita.base_url",
        "is not an http(s) URL with a host",
        id="url-without-scheme",
    ),
    pytest.param(
        '[providers.akita]\nbase_url = "https://api.akitaapp.com:99999/v1"\napi_key = "k"\n',
        "providers.akita.base_url",
        "is not a valid URL (Port out of range 0-65535)",
        id="url-port",
    ),
    pytest.param(
        ADAPTIX + 'timeout = "10"\n',
        "providers.adaptix.timeout",
        "must be a number, not a string",
        id="timeout-type",
    ),
    pytest.param(
        ADAPTIX + "timeout = 0\n",
        "providers.adaptix.timeout",
        "must be greater than 0, not 0",
        id="timeout-range",
    ),
    pytest.param(
        ADAPTIX + "timeout = nan\n",
        "providers.adaptix.timeout",
        "must be a finite number, not nan",
        id="timeout-nan",
    ),
    pytest.param(
        ADAPTIX + "retry = {max_backoff = inf}\n",
        "providers.adaptix.retry.max_backoff",
        "must be a finite number, not inf",
        id="retry-infinite-backoff",
    ),
    pytest.param(
        ADAPTIX + "concurrency = 0\n",
        "providers.adaptix.concurrency",
        "must be at least 1, not 0",
        id="concurrency-range",
    ),
    pytest.param(
        ADAPTIX + "concurrency = 2.5\n",
        "providers.adaptix.concurrency",
        "must be an integer, not a number",
        id="concurrency-type",
    ),
    pytest.param(
        ADAPTIX + "rate_limit = 2\n",
        "providers.adaptix.rate_limit",
        "must be a table, not an integer",
        id="rate-limit-type",
    ),
    pytest.param(
        ADAPTIX + "rate_limit = {requests = 0, per_seconds = 1}\n",
        "providers.adaptix.rate_limit.requests",
        "must be greater than 0, not 0",
        id="rate-limit-range",
    ),
    pytest.param(
        ADAPTIX + "rate_limit = {per_seconds = 1}\n",
        "providers.adaptix.rate_limit.requests",
        "is required",
        id="rate-limit-requests-missing",
    ),
    pytest.param(
        ADAPTIX + "retry = {attempts = 0}\n",
        "providers.adaptix.retry.attempts",
        "must be at least 1, not 0",
        id="retry-attempts",
    ),
    pytest.param(
        ADAPTIX + "retry = {tries = 3}\n",
        "providers.adaptix.retry.tries",
        "unknown key (expected one of attempts, backoff, max_backoff, budget)",
        id="retry-unknown-key",
    ),
    pytest.param(
        ADAPTIX + "retry = {backoff = -1}\n",
        "providers.adaptix.retry.backoff",
        "must not be negative, not -1",
        id="retry-negative-backoff",
    ),
    pytest.param(
        '[providers.akita]\nbase_url = "https://api.akitaapp.com/v1"\napi_key = "k"\n'
        'tags = {vip = "345"}\n',
        "providers.akita.tags.vip",
        "must be an integer, not a string",
        id="akita-tag-id-type",
    ),
    pytest.param(
        ADAPTIX + "tags = {vip = 345}\n",
        "providers.adaptix.tags",
        "unknown key",
        id="tags-only-for-akita",
    ),
    pytest.param(
        '[providers.trustmary]\nbase_url = "https://api.trustmary.io/v1"\napi_key = "k"\n'
        "options = {email_lookup_max = 10}\n",
        "providers.trustmary.options",
        "unknown key",
        id="trustmary-has-no-options",
    ),
    pytest.param(
        ADAPTIX + 'options = {"email_lookup_max" = 3}\n',
        "providers.adaptix.options.email_lookup_max",
        "unknown option (expected one of tag_scan_limit)",
        id="option-of-another-provider",
    ),
    pytest.param(
        ADAPTIX.replace("${ADAPTIX_PASSWORD}", "${ADAPTIX_PASSWORD_UNSET}"),
        "providers.adaptix.password",
        "environment variable ADAPTIX_PASSWORD_UNSET is not set",
        id="unset-environment-variable",
    ),
    pytest.param(
        ADAPTIX.replace('"gateway"', '""'),
        "providers.adaptix.username",
        "must not be empty",
        id="empty-credential",
    ),
    pytest.param(
        ADAPTIX.replace('"gateway"', "42"),
        "providers.adaptix.username",
        "must be a string, not an integer",
        id="credential-type",
    ),
    pytest.param(
        ADAPTIX + '[precedence]\ndefault = ["adaptix", "hubspot"]\n',
        "precedence.default[1]",
        'unknown provider "hubspot" (expected one of akita,',
        id="unknown-provider-in-precedence",
    ),
    pytest.param(
        ADAPTIX + '[precedence.fields]\nphones = ["lunar"]\n',
        "precedence.fields.phones[0]",
        'unknown provider "lunar"',
        id="unknown-provider-in-field-precedence",
    ),
    pytest.param(
        ADAPTIX + '[input]\ndefault_phone_region = "USA"\n',
        "input.default_phone_region",
        "must be an ISO 3166 region code",
        id="unknown-phone-region",
    ),
    pytest.param(
        ADAPTIX + '[precedence]\ndefault = ["adaptix", "adaptix"]\n',
        "precedence.default[1]",
        '"adaptix" is listed twice',
        id="provider-twice-in-precedence",
    ),
    pytest.param(
        ADAPTIX + '[precedence.fields]\nphone = ["adaptix"]\n',
        "precedence.fields.phone",
        "unknown field (expected one of email, first_name,",
        id="unknown-precedence-field",
    ),
    pytest.param(
        ADAPTIX + '[precedence]\ndefault = "adaptix"\n',
        "precedence.default",
        "must be an array of provider keys, not a string",
        id="precedence-type",
    ),
    pytest.param(
        "[providers]\n",
        "providers",
        "no provider is configured",
        id="no-provider",
    ),
    pytest.param(
        '[precedence]\ndefault = ["adaptix"]\n',
        "providers",
        "is required",
        id="no-providers-table",
    ),
]


@pytest.mark.parametrize(("text", "key", "says"), BAD)
def test_a_bad_file_fails_with_one_line_naming_the_file_and_key(
    tmp_path: Path, text: str, key: str, says: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: "), message
    assert says in message
    assert caught.value.key == key


def test_the_documented_message_for_an_unset_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ADAPTIX_PASSWORD")
    monkeypatch.chdir(tmp_path)
    write(tmp_path, ADAPTIX)

    with pytest.raises(ConfigError) as caught:
        load_config("config.toml")

    assert str(caught.value) == (
        "config.toml: providers.adaptix.password: environment variable ADAPTIX_PASSWORD is not set"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://user:hunter2-pw@api.akitaapp.com/v1", "must not carry credentials"),
        # Malformed before its credentials could be checked.
        ("https://user:hunter2-pw@[::1/v1", "is not a valid URL"),
    ],
)
def test_a_url_with_credentials_is_refused_without_echoing_them(
    tmp_path: Path, url: str, says: str
) -> None:
    path = write(tmp_path, f'[providers.akita]\nbase_url = "{url}"\napi_key = "k"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"providers.akita.base_url: {says}" in str(caught.value)
    assert "hunter2-pw" not in str(caught.value)


def test_an_expanded_secret_never_appears_in_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AKITA_API_KEY", "zz-akita-secret-zz")
    path = write(
        tmp_path,
        '[providers.akita]\nbase_url = "https://api.akitaapp.com/v1"\n'
        'api_key = "${AKITA_API_KEY}"\ntimeout = -1\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "providers.akita.timeout" in str(caught.value)
    assert "zz-akita-secret-zz" not in str(caught.value)


def test_the_example_file_documents_every_key_each_provider_accepts() -> None:
    import importlib
    import tomllib

    from connectors.settings import COMMON_KEYS

    text = (REPO / "contact-gateway.example.toml").read_text()
    document = tomllib.loads(text)
    header = text[: text.index("\n[providers.")]
    for key in COMMON_KEYS:
        assert f"#   {key} = " in header or key == "base_url", key
    for provider in Provider:
        schema = importlib.import_module(f"connectors.{provider.value}.settings")
        section = document["providers"][provider.value]
        own = set(schema.KEYS) - set(COMMON_KEYS)
        assert own <= set(section), (provider, own - set(section))
        for option in getattr(schema, "OPTIONS", ()):
            assert option in section["options"], (provider, option)


def test_server_auth_and_limits_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTEND_KEY", "frontend-key-0123456789abcdef")
    digest = hashlib.sha256(b"jobs-key-fedcba9876543210").hexdigest()
    path = write(
        tmp_path,
        ADAPTIX
        + f"""
[server]
introspection = false
graphiql = false
cors_origins = ["https://app.example.com"]

[[auth.keys]]
name = "crm-frontend"
key = "${{FRONTEND_KEY}}"
scopes = ["read"]

[[auth.keys]]
name = "jobs"
key_sha256 = "{digest.upper()}"
scopes = ["read", "WRITE"]

[auth.jwt]
algorithm = "hs256"
secret = "a-shared-secret-of-at-least-32-characters!"
audience = "gateway"

[limits]
max_provider_calls = 5000
timeout = 12.5
""",
    )
    settings = load_config(path)
    assert settings.server == ServerSettings(
        introspection=False, graphiql=False, cors_origins=("https://app.example.com",)
    )
    frontend, jobs = settings.auth.keys
    assert (frontend.name, frontend.scopes) == ("crm-frontend", {"read"})
    assert frontend.digest == hashlib.sha256(b"frontend-key-0123456789abcdef").digest()
    assert (jobs.digest.hex(), jobs.scopes) == (digest, {"read", "write"})
    assert settings.auth.jwt is not None
    assert (settings.auth.jwt.algorithm, settings.auth.jwt.audience) == ("HS256", "gateway")
    assert settings.limits == Limits(max_provider_calls=5000, timeout=12.5)
    # The JWT secret is a configured secret like a provider's.
    assert "a-shared-secret-of-at-least-32-characters!" in settings.secrets()


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            '[[auth.keys]]\nname = "a"\nkey = "short"\nscopes = ["read"]\n',
            "auth.keys[0].key",
            "too short",
        ),
        (
            '[[auth.keys]]\nname = "a"\nkey_sha256 = "abc"\nscopes = ["read"]\n',
            "auth.keys[0].key_sha256",
            "64 hexadecimal",
        ),
        (
            '[[auth.keys]]\nname = "a"\nkey = "0123456789abcdef01"\nscopes = ["admin"]\n',
            "auth.keys[0].scopes",
            "unknown scope",
        ),
        ('[[auth.keys]]\nname = "a"\nscopes = ["read"]\n', "auth.keys[0]", "exactly one of key"),
        (
            '[[auth.keys]]\nname = "a"\nkey = "0123456789abcdef01"\nscopes = ["read"]\n'
            '[[auth.keys]]\nname = "a"\nkey = "0123456789abcdef02"\nscopes = ["read"]\n',
            "auth.keys[1].name",
            "used by another key",
        ),
        ('[auth.jwt]\nalgorithm = "HS256"\nsecret = "short"\n', "auth.jwt.secret", "too short"),
        ('[auth.jwt]\nalgorithm = "RS256"\n', "auth.jwt.public_key_file", "is required"),
        ('[auth.jwt]\nalgorithm = "none"\nsecret = "x"\n', "auth.jwt.algorithm", "must be one of"),
        ("[limits]\nmax_depth = 0\n", "limits.max_depth", "at least 1"),
        ("[limits]\ntimeout = -1\n", "limits.timeout", "greater than 0"),
        ("[limits]\nmax_hops = 3\n", "limits.max_hops", "unknown key"),
        ('[server]\ncors_origins = ["app.example.com"]\n', "server.cors_origins", "not an origin"),
    ],
)
def test_bad_server_auth_and_limits_name_the_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as failure:
        load_config(write(tmp_path, ADAPTIX + text))
    assert failure.value.key == key
    assert message in failure.value.message


def test_the_phone_region_is_read_as_an_iso_code(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, ADAPTIX)).input.default_phone_region == "US"
    path = write(tmp_path, ADAPTIX + '[input]\ndefault_phone_region = " fi "\n')
    assert load_config(path).input.default_phone_region == "FI"
