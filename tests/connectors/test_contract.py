"""The contract every connector keeps, run against every provider's emulator."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.protocol import EmailReader, HealthChecker, IdReader, Writer, capabilities
from connectors.registry import build_connector
from connectors.settings import Secret
from gateway.domain.normalize import normalize_email
from gateway.domain.records import (
    Capability,
    ContactType,
    ContactWrite,
    Lifecycle,
    PostalAddress,
    Provider,
    WriteStatus,
)
from tests.connectors import support
from tests.support import sandbox_settings

FULL = ContactWrite(
    email="Contract.Person@Example.test",
    external_id="u-contract",
    account_external_id="acct-contract",
    first_name="Contract",
    last_name="Person",
    phones=("+358401111111",),
    company="Contract Oy",
    job_title="Tester",
    tags=("vip",),
    custom_fields={"plan": "pro"},
    urls=("https://contract.example.test",),
    notes="Met at the contract fair",
    type=ContactType.CUSTOMER,
    lifecycle=Lifecycle.MEMBER,
    address=PostalAddress(city="Helsinki", country="Finland"),
    signed_up_at=datetime(2026, 1, 31, 9, tzinfo=UTC),
    owner_id="2",
)


def stored_emails(provider: Provider, records: Sequence[dict[str, Any]]) -> list[str]:
    extract: dict[Provider, Callable[[dict[str, Any]], list[str]]] = {
        Provider.AKITA: lambda r: [e["value"] for e in r.get("emails", [])],
        Provider.INTERAKT: lambda r: [r["email"]],
        Provider.TRUSTMARY: lambda r: [r["email"]],
        Provider.ADAPTIX: lambda r: [r["fields"]["all"]["email"]],
        Provider.LUNARSEND: lambda r: [r["email"]],
    }
    return [e.lower() for r in records for e in extract[provider](r) if e]


def connector(provider: Provider, http: httpx.AsyncClient, **overrides: Any) -> Any:
    return build_connector(provider, http, replace(sandbox_settings(provider), **overrides))


async def records(http: httpx.AsyncClient, provider: Provider) -> list[dict[str, Any]]:
    stored = await support.records(http, provider)
    return [r for r in stored if r.get("kind", "contact") in ("contact", "member", "lead")]


@pytest.fixture(params=list(Provider), ids=lambda p: p.value)
def provider(request: pytest.FixtureRequest) -> Provider:
    value: Provider = request.param
    return value


def test_declarations_are_consistent(
    provider: Provider, empty_sandbox_http: httpx.AsyncClient
) -> None:
    c = connector(provider, empty_sandbox_http)
    assert c.provider is provider
    assert isinstance(c, Writer)
    # A structured field's part is named `address.city`, after the field and its part.
    parts = {f"address.{f.name}" for f in fields(PostalAddress)}
    assert c.writable_fields <= {f.name for f in fields(ContactWrite)} | parts
    caps = capabilities(c)
    if Capability.READ_MANY in caps:
        assert Capability.READ_BY_ID in caps or Capability.READ_BY_EMAIL in caps


async def test_a_write_round_trips_and_says_what_was_not_stored(
    provider: Provider, empty_sandbox_http: httpx.AsyncClient
) -> None:
    c = connector(provider, empty_sandbox_http)
    first = await c.upsert(FULL)
    assert first.provider is provider
    assert first.status in (WriteStatus.CREATED, WriteStatus.UPDATED), first.message
    # Whatever the provider cannot store at all is reported, never claimed.
    writable = c.writable_fields | {w.split(".")[0] for w in c.writable_fields}
    not_storable = set(FULL.given()) - writable
    assert not_storable <= {f.split("[")[0].split(".")[0] for f in first.dropped_fields}
    assert "contract.person@example.test" in stored_emails(
        provider, await records(empty_sandbox_http, provider)
    )

    second = await c.upsert(replace(FULL, first_name="Renamed"))
    assert second.status is WriteStatus.UPDATED, second.message
    assert len(await records(empty_sandbox_http, provider)) == 1

    if isinstance(c, EmailReader):
        found = await c.fetch_by_emails(["CONTRACT.person@example.test"])
        contact = found[normalize_email(FULL.email) or ""]
        assert contact.provider is provider
        assert contact.first_name == "Renamed"
        assert contact.raw


# What each provider's API lets the gateway do (docs/providers/README.md).
DOCUMENTED: dict[Provider, set[Capability]] = {
    Provider.AKITA: {Capability.WRITE, Capability.TAGS},
    Provider.INTERAKT: {Capability.WRITE},
    Provider.TRUSTMARY: {
        Capability.READ_BY_EMAIL,
        Capability.LIST,
        Capability.WRITE,
        Capability.DELETE,
        Capability.TAGS,
        Capability.LISTS,
    },
    Provider.ADAPTIX: set(Capability) - {Capability.LISTS},
    Provider.LUNARSEND: {
        Capability.READ_BY_ID,
        Capability.READ_BY_EMAIL,
        Capability.SEARCH,
        Capability.WRITE,
        Capability.DELETE,
        Capability.NOTES,
    },
}


def test_capabilities_are_what_the_provider_documents_allow(
    provider: Provider, empty_sandbox_http: httpx.AsyncClient
) -> None:
    # Derived from the protocols each connector implements: the class and an instance agree.
    kind = type(connector(provider, empty_sandbox_http))
    assert capabilities(kind) == DOCUMENTED[provider]
    assert capabilities(connector(provider, empty_sandbox_http)) == DOCUMENTED[provider]


async def test_health_is_ok_with_good_credentials_and_not_with_bad(
    provider: Provider, empty_sandbox_http: httpx.AsyncClient
) -> None:
    checker = connector(provider, empty_sandbox_http)
    if not isinstance(checker, HealthChecker):
        # Akita and Interakt have only write endpoints: a probe would be a write.
        assert provider in (Provider.AKITA, Provider.INTERAKT)
        return
    good = await checker.check_health()
    assert good.ok, good.message
    secret = Secret("definitely-wrong-secret")
    bad_settings = {"password": secret} if provider is Provider.ADAPTIX else {"api_key": secret}
    bad = await connector(provider, empty_sandbox_http, **bad_settings).check_health()
    assert not bad.ok
    assert "definitely-wrong-secret" not in (bad.message or "")
    # A health check stores nothing.
    assert await records(empty_sandbox_http, provider) == []


async def test_a_refused_write_is_failed_and_not_repeated(
    provider: Provider, empty_sandbox_http: httpx.AsyncClient
) -> None:
    await empty_sandbox_http.post(f"/{provider.value}/_sandbox/controls", json={"error_rate": 1.0})
    minimal = ContactWrite(
        email="refused@example.test",
        first_name="R",
        last_name="S",
        external_id="u-r",
        account_external_id="a-r",
    )
    result = await connector(provider, empty_sandbox_http).upsert(minimal)
    assert result.status is WriteStatus.FAILED
    assert result.message
    requests = await support.calls(empty_sandbox_http, provider)
    writes = {label: n for label, n in requests.items() if not label.startswith("GET ")}
    # A failed write is never repeated (reads before it may be retried; Lunar Send's
    # lookup before its create fails first, so it never writes at all).
    assert set(writes.values()) <= {1}
    assert bool(writes) is (provider is not Provider.LUNARSEND)


async def test_a_lookup_of_no_key_is_answered_without_a_call(
    provider: Provider, empty_sandbox_http: httpx.AsyncClient
) -> None:
    reader = connector(provider, empty_sandbox_http)
    if not isinstance(reader, EmailReader):
        assert provider in (Provider.AKITA, Provider.INTERAKT)  # write-only APIs
        return
    assert await reader.fetch_by_emails([]) == {}
    assert await reader.fetch_by_emails(["  "]) == {}
    if isinstance(reader, IdReader):
        assert await reader.fetch_by_ids([]) == {}
    assert sum((await support.calls(empty_sandbox_http, provider)).values()) == 0
