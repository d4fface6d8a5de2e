"""The `echo_credentials` control: a careless provider that quotes the credentials it
was sent in its error answers, in its own error shape (sandbox/emulator.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox import credentials
from tests.sandbox.test_contract import PROVIDERS, Provider, base, send

# What each provider's request carries, as the echo quotes it.
ECHOED = {
    "akita": f"authorization=Bearer {credentials.AKITA_API_KEY}",
    "interakt": (f"user:password={credentials.INTERAKT_APP_ID}:{credentials.INTERAKT_API_KEY}"),
    "trustmary": f"authorization=Apikey {credentials.TRUSTMARY_API_KEY}",
    "adaptix": (f"user:password={credentials.ADAPTIX_USERNAME}:{credentials.ADAPTIX_PASSWORD}"),
    "lunarsend": f"x-api-key={credentials.LUNARSEND_API_KEY}",
}


async def controls(http: httpx.AsyncClient, provider: Provider, **values: Any) -> httpx.Response:
    return await http.post(f"/{provider.key}/_sandbox/controls", json=values)


def message(provider: Provider, body: Any) -> str:
    """The message of an error answer in `provider`'s shape."""
    if provider.key == "adaptix":
        return str(body["errors"][0]["message"])
    if provider.key in ("interakt", "trustmary"):
        return str(body["error"])
    return str(body["message"])


def shape(provider: Provider, status: int, text: str) -> Any:
    """A 500 or 503 in `provider`'s error shape."""
    if provider.key == "lunarsend":
        return {"error": {500: "internal_error", 503: "unavailable"}[status], "message": text}
    return provider.error(status, text)


@pytest.mark.parametrize("provider", PROVIDERS, ids=str)
async def test_faults_quote_the_credentials_in_the_providers_error_shape(
    sandbox_http: httpx.AsyncClient, provider: Provider
) -> None:
    call = provider.create(1)
    assert (await controls(sandbox_http, provider, error_rate=1.0)).is_success
    quiet = await send(sandbox_http, provider, call, provider.auth)
    assert (await controls(sandbox_http, provider, outage=True, echo_credentials=True)).is_success
    outage = await send(sandbox_http, provider, call, provider.auth)
    await controls(sandbox_http, provider, error_rate=1.0, echo_credentials=True)
    fault = await send(sandbox_http, provider, call, provider.auth)

    assert quiet.status_code == 500
    assert ECHOED[provider.key] not in quiet.text  # off by default
    for answer, status, words in (
        (outage, 503, "Service unavailable."),
        (fault, 500, "Internal server error."),
    ):
        assert answer.status_code == status
        text = message(provider, answer.json())
        assert text.startswith(f"{words} (request credentials: ")
        assert ECHOED[provider.key] in text
        # Otherwise the provider's own shape.
        assert answer.json() == shape(provider, status, text)


@pytest.mark.parametrize("provider", PROVIDERS, ids=str)
async def test_refused_input_and_unknown_paths_quote_them_too(
    sandbox_http: httpx.AsyncClient, provider: Provider
) -> None:
    await controls(sandbox_http, provider, echo_credentials=True)
    headers = {**provider.auth, "Content-Type": "application/json"}
    method, path = (provider.object_bodies or provider.array_bodies)[0]

    malformed = await sandbox_http.request(
        method, base(provider) + path, content=b"{not json", headers=headers
    )
    missing = await sandbox_http.get(base(provider) + "/nothing/here", headers=provider.auth)

    assert malformed.status_code == 400
    assert ECHOED[provider.key] in message(provider, malformed.json())
    assert missing.status_code == 404
    assert ECHOED[provider.key] in message(provider, missing.json())


@pytest.mark.parametrize("provider", PROVIDERS, ids=str)
async def test_a_401_keeps_its_documented_body(
    sandbox_http: httpx.AsyncClient, provider: Provider
) -> None:
    await controls(sandbox_http, provider, echo_credentials=True)
    refused = await send(sandbox_http, provider, provider.create(1), provider.bad_auth[0])
    assert (refused.status_code, refused.json()) == (401, provider.unauthorized)


async def test_basic_credentials_are_quoted_as_sent_and_decoded(
    sandbox_http: httpx.AsyncClient,
) -> None:
    adaptix = next(p for p in PROVIDERS if p.key == "adaptix")
    await controls(sandbox_http, adaptix, outage=True, echo_credentials=True)
    answer = await send(sandbox_http, adaptix, adaptix.create(1), adaptix.auth)
    text = message(adaptix, answer.json())
    assert f"authorization={adaptix.auth['Authorization']}" in text
    assert f"user:password={credentials.ADAPTIX_USERNAME}:{credentials.ADAPTIX_PASSWORD}" in text


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
async def test_echo_credentials_must_be_true_or_false(
    sandbox_http: httpx.AsyncClient, value: Any
) -> None:
    url = "/lunarsend/_sandbox/controls"
    before = (await sandbox_http.get(url)).json()
    assert before["echo_credentials"] is False
    response = await sandbox_http.post(url, json={"echo_credentials": value})
    assert response.status_code == 400
    assert response.json()["error"] == "bad controls: echo_credentials must be true or false"
    assert (await sandbox_http.get(url)).json() == before
    turned_on = await sandbox_http.post(url, json={"echo_credentials": True})
    assert turned_on.json()["echo_credentials"] is True
