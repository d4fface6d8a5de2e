"""`Contact.fieldSources` and `Contact.conflicts` through the real schema against the
sandbox: what each provider holds, told without asking any provider again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from gateway.domain.federation import Precedence
from gateway.domain.records import Provider
from sandbox.app import Sandbox
from sandbox.credentials import ADAPTIX_PASSWORD, ADAPTIX_USERNAME, LUNARSEND_API_KEY
from sandbox.seed import SeedPerson, SeedRecord
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, reset, stats

PROVENANCE = """
query($email: String!) {
  contact(email: $email) {
    email phones jobTitle
    fieldSources { field provider updatedAt }
    conflicts { field values { provider value updatedAt } }
  }
}
"""

PLAIN = "query($email: String!) { contact(email: $email) { email phones jobTitle } }"


def adaptix_and_lunarsend(
    sandbox: Sandbox, differ: Callable[[SeedRecord, SeedRecord], bool]
) -> SeedPerson:
    """The first seeded person in exactly Adaptix and Lunar Send whose records differ so."""
    assert sandbox.data is not None
    return next(
        p
        for p in sandbox.data.people
        if set(p.records) == {"adaptix", "lunarsend"}
        and differ(p.records["adaptix"], p.records["lunarsend"])
    )


def other_phone(ours: SeedRecord, theirs: SeedRecord) -> bool:
    return ours.phone != theirs.phone


def recased_email(ours: SeedRecord, theirs: SeedRecord) -> bool:
    return ours.phone == theirs.phone and ours.email != theirs.email


def iso(moment: Any) -> str:
    return str(moment.isoformat())


async def test_different_phones_are_a_conflict_in_precedence_order(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    person = adaptix_and_lunarsend(sandbox, other_phone)
    adaptix, lunarsend = person.records["adaptix"], person.records["lunarsend"]
    result = await execute(make_gateway(), PROVENANCE, {"email": adaptix.email})
    assert result.errors == []
    contact = result.data["contact"]
    assert contact["conflicts"] == [
        {
            "field": "phones",
            "values": [
                {
                    "provider": "ADAPTIX",
                    "value": [adaptix.phone],
                    "updatedAt": iso(adaptix.updated_at),
                },
                # Lunar Send keeps no modification time.
                {"provider": "LUNARSEND", "value": [lunarsend.phone], "updatedAt": None},
            ],
        }
    ]
    # The first value is the one shown.
    assert contact["phones"] == contact["conflicts"][0]["values"][0]["value"]


async def test_the_same_email_cased_differently_is_no_conflict(
    sandbox: Sandbox, make_gateway: GatewayFactory
) -> None:
    person = adaptix_and_lunarsend(sandbox, recased_email)
    adaptix, lunarsend = person.records["adaptix"], person.records["lunarsend"]
    assert adaptix.email.lower() == lunarsend.email.lower()
    # The seed spells this person's company differently in each too ("Acme" / "ACME").
    assert adaptix.company != lunarsend.company
    result = await execute(make_gateway(), PROVENANCE, {"email": lunarsend.email})
    assert result.errors == []
    assert result.data["contact"]["conflicts"] == []
    assert len(result.data["contact"]["fieldSources"]) > 1


async def seed_dana(client: httpx.AsyncClient) -> str:
    """Dana: in Adaptix without a job title, in Lunar Send with one and another phone."""
    email = "dana.quinn@provenance.test"
    adaptix = await client.post(
        "/adaptix/api/contacts/new",
        json={"email": email, "firstname": "Dana", "lastname": "Quinn", "mobile": "+1 555 0100"},
        auth=(ADAPTIX_USERNAME, ADAPTIX_PASSWORD),
    )
    assert adaptix.status_code == 201, adaptix.text
    lunarsend = await client.post(
        "/lunarsend/api/contacts",
        json={
            "email": email.upper(),
            "first_name": "Dana",
            "last_name": "Quinn",
            "phone": "+1 555 0199",
            "job_title": "CTO",
        },
        headers={"x-api-key": LUNARSEND_API_KEY},
    )
    assert lunarsend.status_code == 200, lunarsend.text
    return email


def sources(contact: dict[str, Any]) -> dict[str, str]:
    return {s["field"]: s["provider"] for s in contact["fieldSources"]}


async def test_field_sources_name_the_provider_each_value_came_from(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    email = await seed_dana(client)
    result = await execute(make_gateway(), PROVENANCE, {"email": email})
    assert result.errors == []
    contact = result.data["contact"]
    assert contact["jobTitle"] == "CTO"
    # Every field shown by precedence, in the schema's order, as the schema spells it.
    assert sources(contact) == {
        "email": "ADAPTIX",
        "firstName": "ADAPTIX",
        "lastName": "ADAPTIX",
        "name": "ADAPTIX",
        "phones": "ADAPTIX",
        "jobTitle": "LUNARSEND",  # only Lunar Send has one
        "points": "ADAPTIX",
    }
    assert list(sources(contact)) == [
        "email", "firstName", "lastName", "name", "phones", "jobTitle", "points",
    ]  # fmt: skip
    assert [c["field"] for c in contact["conflicts"]] == ["phones"]


async def test_a_per_field_precedence_changes_the_field_sources(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    email = await seed_dana(client)
    lunar_phones = Precedence(fields={"phones": (Provider.LUNARSEND,)})
    result = await execute(make_gateway(precedence=lunar_phones), PROVENANCE, {"email": email})
    assert result.errors == []
    contact = result.data["contact"]
    assert contact["phones"] == ["+1 555 0199"]
    assert sources(contact)["phones"] == "LUNARSEND"
    assert sources(contact)["email"] == "ADAPTIX"
    [phones] = contact["conflicts"]
    assert [(v["provider"], v["value"]) for v in phones["values"]] == [
        ("LUNARSEND", ["+1 555 0199"]),
        ("ADAPTIX", ["+1 555 0100"]),
    ]


async def test_asking_for_provenance_calls_no_provider_again(
    sandbox: Sandbox, client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    email = adaptix_and_lunarsend(sandbox, other_phone).records["adaptix"].email
    counts = []
    for query in (PLAIN, PROVENANCE):
        await reset(client)
        result = await execute(make_gateway(), query, {"email": email})
        assert result.errors == []
        counts.append(
            {key: await stats(client, key) for key in ("adaptix", "trustmary", "lunarsend")}
        )
    assert counts[0] == counts[1]
    assert counts[1]["adaptix"] != {}


LISTING = """
query($first: Int, $provenance: Boolean!) {
  contacts(first: $first) {
    edges { node { email
      fieldSources @include(if: $provenance) { field provider }
      conflicts @include(if: $provenance) { field values { provider value } }
    } }
  }
}
"""


async def test_a_page_with_provenance_costs_the_calls_of_a_page_without(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    counts = []
    for provenance in (False, True):
        await reset(client)
        result = await execute(make_gateway(), LISTING, {"first": 50, "provenance": provenance})
        assert result.errors == []
        counts.append(
            {key: await stats(client, key) for key in ("adaptix", "trustmary", "lunarsend")}
        )
    assert counts[0] == counts[1]
    edges = result.data["contacts"]["edges"]
    assert all(e["node"]["fieldSources"] for e in edges)
