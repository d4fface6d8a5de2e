"""No connector repeats its secrets: a provider that quotes the credentials it was sent
(the sandbox's `echo_credentials`) has them masked in every error message, write
result and health message the connector makes (connectors/masking.py)."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import httpx
import pytest

from connectors.errors import BadInput, NotFound, ProviderUnavailable
from connectors.masking import MASK, Masker
from connectors.protocol import EmailReader, HealthChecker, IdReader, Lister, Searcher
from connectors.registry import build_connector
from connectors.settings import Secret
from gateway.domain.records import ContactWrite, Provider, SearchField, WriteStatus
from sandbox import credentials
from tests.connectors.support import Script, every_write, results, scripted
from tests.support import sandbox_settings


def token(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


# Every form of each provider's credentials that must never be shown.
SECRETS: dict[Provider, list[str]] = {
    Provider.AKITA: [credentials.AKITA_API_KEY],
    Provider.INTERAKT: [
        credentials.INTERAKT_API_KEY,
        f"{credentials.INTERAKT_APP_ID}:{credentials.INTERAKT_API_KEY}",
        token(credentials.INTERAKT_APP_ID, credentials.INTERAKT_API_KEY),
    ],
    Provider.TRUSTMARY: [credentials.TRUSTMARY_API_KEY],
    Provider.ADAPTIX: [
        credentials.ADAPTIX_PASSWORD,
        f"{credentials.ADAPTIX_USERNAME}:{credentials.ADAPTIX_PASSWORD}",
        token(credentials.ADAPTIX_USERNAME, credentials.ADAPTIX_PASSWORD),
    ],
    Provider.LUNARSEND: [credentials.LUNARSEND_API_KEY],
}
# An endpoint of each provider that reads a JSON object.
OBJECT_ENDPOINT = {
    Provider.AKITA: "/contacts",
    Provider.INTERAKT: "/members",
    Provider.TRUSTMARY: "/contacts",
    Provider.ADAPTIX: "/contacts/new",
    Provider.LUNARSEND: "/contacts",
}


def connector(provider: Provider, http: httpx.AsyncClient) -> Any:
    return build_connector(provider, http, sandbox_settings(provider))


def assert_masked(provider: Provider, text: str | None, words: str) -> None:
    """`text` keeps the provider's `words` and a mask where its credentials were."""
    assert text is not None
    for secret in SECRETS[provider]:
        assert secret not in text
    assert words in text
    assert MASK in text


@pytest.fixture(params=list(Provider), ids=lambda p: p.value)
def provider(request: pytest.FixtureRequest) -> Provider:
    value: Provider = request.param
    return value


async def test_faults_that_quote_the_credentials_are_masked_in_reads_writes_and_health(
    provider: Provider, sandbox_http: httpx.AsyncClient
) -> None:
    controls = {"error_rate": 1.0, "echo_credentials": True}
    await sandbox_http.post(f"/{provider.value}/_sandbox/controls", json=controls)
    c = connector(provider, sandbox_http)

    reads: list[Any] = []
    if isinstance(c, EmailReader):
        reads.append(lambda: c.fetch_by_emails(["someone@example.test"]))
    if isinstance(c, IdReader):
        reads.append(lambda: c.fetch_by_ids(["1"]))
    if isinstance(c, Searcher):
        reads.append(lambda: c.search(SearchField.EMAIL, "someone@example.test"))
    if isinstance(c, Lister):
        reads.append(lambda: c.list_contacts(cursor=None, limit=5))
    for read in reads:
        with pytest.raises(ProviderUnavailable) as raised:
            await read()
        assert_masked(provider, raised.value.message, "Internal server error.")
        assert_masked(provider, str(raised.value), "Internal server error.")
        assert_masked(provider, str(raised.value.args), "Internal server error.")

    for name, write in every_write(c).items():
        for result in results(await write()):
            assert result.status is WriteStatus.FAILED, (name, result)
            assert_masked(provider, result.message, "Internal server error.")

    if isinstance(c, HealthChecker):
        health = await c.check_health()
        assert not health.ok
        assert_masked(provider, health.message, "Internal server error.")
    assert c.last_answer is not None
    assert_masked(provider, c.last_answer.message, "Internal server error.")


async def test_refused_input_and_unknown_paths_that_quote_them_are_masked(
    provider: Provider, sandbox_http: httpx.AsyncClient
) -> None:
    await sandbox_http.post(f"/{provider.value}/_sandbox/controls", json={"echo_credentials": True})
    c = connector(provider, sandbox_http)

    with pytest.raises(BadInput) as refused:
        await c.request("POST", OBJECT_ENDPOINT[provider], json=[])
    with pytest.raises(NotFound) as missing:
        await c.request("GET", "/nothing/here")

    assert_masked(provider, refused.value.message, "Request body must be an object.")
    assert_masked(provider, missing.value.message, "Not found.")


async def test_a_secret_where_a_long_plain_text_answer_is_cut_is_masked_whole() -> None:
    key = credentials.LUNARSEND_API_KEY
    script = Script(httpx.Response(500, text="x" * 195 + key + " was refused"))
    async with scripted(Provider.LUNARSEND, script) as lunarsend:
        with pytest.raises(ProviderUnavailable) as raised:
            await lunarsend.request("GET", "/contacts")
    # Cut after masking: no first characters of the key are left at the end.
    assert raised.value.message == "x" * 195 + MASK[:5]


async def test_an_adaptix_batch_item_error_that_quotes_the_password_is_masked() -> None:
    password = credentials.ADAPTIX_PASSWORD
    answer = {
        "contacts": [],
        "statusCodes": [400],
        "errors": {"0": {"code": 400, "message": f"password {password} is not allowed here"}},
    }
    async with scripted(Provider.ADAPTIX, Script(httpx.Response(201, json=answer))) as adaptix:
        [result] = await adaptix.upsert_many([ContactWrite(email="a@example.test")])
    assert result.status is WriteStatus.FAILED
    assert result.message == f"password {MASK} is not allowed here"


async def test_a_proxy_password_in_an_answer_is_masked() -> None:
    proxy = Secret("http://gateway:proxy-pass%21@proxy.example.test:3128")
    script = Script(
        httpx.Response(502, json={"message": "proxy gateway:proxy-pass%21 refused (proxy-pass!)"})
    )
    settings = replace(sandbox_settings(Provider.AKITA), proxy=proxy)
    async with httpx.AsyncClient(transport=script) as http:
        akita: Any = build_connector(Provider.AKITA, http, settings)
        result = await akita.upsert(
            ContactWrite(external_id="u-1", account_external_id="a-1", first_name="A")
        )
    assert result.status is WriteStatus.FAILED
    assert result.message == f"proxy {MASK} refused ({MASK})"


@pytest.mark.parametrize(
    ("secrets", "headers", "text", "expected"),
    [
        # Basic auth: the whole header, its token, the user:password it encodes.
        (
            ["pw-1"],
            {"Authorization": "Basic " + token("me", "pw-1")},
            f"got Basic {token('me', 'pw-1')}, token {token('me', 'pw-1')}, me:pw-1, pw-1, me",
            f"got {MASK}, token {MASK}, {MASK}, {MASK}, me",
        ),
        # A bearer key alone and in its header; percent-encoded too.
        (
            ["k/ey+1"],
            {"Authorization": "Bearer k/ey+1"},
            "Bearer k/ey+1 or k/ey+1 or k%2Fey%2B1",
            f"{MASK} or {MASK} or {MASK}",
        ),
        # Nothing secret: nothing changes.
        ([], {}, "plain words", "plain words"),
    ],
    ids=["basic", "bearer", "none"],
)
def test_every_form_of_a_secret_is_masked(
    secrets: list[str], headers: dict[str, str], text: str, expected: str
) -> None:
    assert Masker(secrets, headers)(text) == expected
