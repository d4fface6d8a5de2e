"""Stable ids, learning links, merges and unlinks, the record cache and a store that is down,
through the real schema against the seeded sandbox."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.domain.records import Provider
from gateway.store import open_store
from gateway.store.identities import Identities
from resolvers.runtime.context import Runtime
from tests.conftest import GatewayFactory
from tests.resolvers.conftest import execute, reset, stats
from tests.storage import migrated_store

ADA = "ada.lovelace.0@stark.test"
CONTACT = """
query($email: String, $id: ID) {
  contact(email: $email, id: $id) {
    id email
    sources { provider remoteId raw fetchedAt lastWrittenAt }
  }
}
"""


def decoded(global_id: str) -> str:
    return base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()


async def contact(gateway: Runtime, **variables: Any) -> dict[str, Any]:
    result = await execute(gateway, CONTACT, variables)
    assert result.errors == [], result.errors
    found: dict[str, Any] = result.data["contact"]
    return found


async def test_a_contact_id_is_opaque_and_outlives_an_email_change(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    ada = await contact(gateway, email=ADA)
    assert "@" not in decoded(ada["id"])
    assert "lovelace" not in decoded(ada["id"]).lower()
    adaptix_id = next(s["remoteId"] for s in ada["sources"] if s["provider"] == "ADAPTIX")

    # Her email changes at Adaptix; the link by Adaptix's id still finds her.
    changed = await client.patch(
        f"/adaptix/api/contacts/{adaptix_id}/edit",
        json={"email": "countess@analytical.test"},
        auth=("sandbox", "sandbox-adaptix-password"),
    )
    assert changed.status_code == 200
    again = await contact(make_gateway(), id=ada["id"])
    assert again["id"] == ada["id"]
    assert again["email"] == "countess@analytical.test"


async def test_ids_survive_a_restart_and_old_ids_are_still_accepted(
    make_gateway: GatewayFactory,
) -> None:
    first = await contact(make_gateway(), email=ADA)
    restarted = await contact(make_gateway(), id=first["id"])  # a new runtime, the same store
    assert restarted["id"] == first["id"]
    legacy = base64.urlsafe_b64encode(f"Contact:email:{ADA}".encode()).decode().rstrip("=")
    assert (await contact(make_gateway(), id=legacy))["id"] == first["id"]


async def test_what_was_written_to_akita_and_interakt_shows_in_sources(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    upsert = """mutation { upsertContact(input: {
        email: "grace@navy.test", externalId: "u-1906", accountExternalId: "acct-navy",
        firstName: "Grace", lastName: "Hopper" }) { results { provider status } } }"""
    assert (await execute(gateway, upsert)).errors == []
    grace = await contact(make_gateway(), email="grace@navy.test")
    by_provider = {s["provider"]: s for s in grace["sources"]}
    assert set(by_provider) == {p.name for p in Provider}
    assert by_provider["AKITA"]["raw"]["first_name"] == "Grace"
    assert by_provider["AKITA"]["lastWrittenAt"] is not None
    assert by_provider["AKITA"]["fetchedAt"] is None  # Akita cannot be read
    assert by_provider["INTERAKT"]["remoteId"] == "grace@navy.test"
    assert by_provider["ADAPTIX"]["lastWrittenAt"] is not None
    assert by_provider["ADAPTIX"]["fetchedAt"] is not None


MERGE = "mutation($ids: [ID!]!) { mergeContacts(ids: $ids) { contact { id email sources { provider remoteId } } } }"
UNLINK = """mutation($id: ID!, $p: Provider!, $r: ID!) { unlinkSource(id: $id, provider: $p, remoteId: $r) {
  contact { id sources { provider } } detached { id sources { provider remoteId } } } }"""


async def test_merge_makes_two_contacts_one_and_every_id_resolves_to_it(
    make_gateway: GatewayFactory,
) -> None:
    gateway = make_gateway()
    ada = await contact(gateway, email=ADA)
    other = await contact(gateway, email="chloe.ivanova.2@cyberdyne.test")
    result = await execute(gateway, MERGE, {"ids": [ada["id"], other["id"]]})
    assert result.errors == []
    merged = result.data["mergeContacts"]["contact"]
    assert len(merged["sources"]) == len(ada["sources"]) + len(other["sources"])
    for global_id in (ada["id"], other["id"]):
        assert (await contact(make_gateway(), id=global_id))["id"] == merged["id"]
    # Looking up either email gives the one merged contact.
    assert (await contact(make_gateway(), email="chloe.ivanova.2@cyberdyne.test"))["id"] == merged[
        "id"
    ]


async def test_unlink_splits_a_record_off_for_good(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    ada = await contact(gateway, email=ADA)
    lunar = next(s["remoteId"] for s in ada["sources"] if s["provider"] == "LUNARSEND")
    result = await execute(gateway, UNLINK, {"id": ada["id"], "p": "LUNARSEND", "r": lunar})
    assert result.errors == []
    payload = result.data["unlinkSource"]
    assert "LUNARSEND" not in {s["provider"] for s in payload["contact"]["sources"]}
    assert payload["detached"]["sources"] == [{"provider": "LUNARSEND", "remoteId": lunar}]
    # The rules would join them again by email; the decision stands.
    again = await contact(make_gateway(), email=ADA)
    assert again["id"] == ada["id"]
    assert "LUNARSEND" not in {s["provider"] for s in again["sources"]}


@pytest.mark.parametrize(
    ("mutation", "variables", "field"),
    [
        (MERGE, {"ids": ["{ada}", "{ada}"]}, "ids"),
        (MERGE, {"ids": ["{ada}"]}, "ids"),
        (MERGE, {"ids": ["{ada}", "{nobody}"]}, "ids[1]"),
        (UNLINK, {"id": "{ada}", "p": "ADAPTIX", "r": "999999"}, "remoteId"),
        (UNLINK, {"id": "{nobody}", "p": "ADAPTIX", "r": "1"}, "id"),
    ],
)
async def test_merge_and_unlink_refuse_what_cannot_be_and_change_nothing(
    make_gateway: GatewayFactory, mutation: str, variables: dict[str, Any], field: str
) -> None:
    gateway = make_gateway()
    ada = await contact(gateway, email=ADA)
    nobody = base64.urlsafe_b64encode(b"Contact:p:0190a0b0-0000-7000-8000-000000000000").decode()
    filled = {
        k: [x.format(ada=ada["id"], nobody=nobody) for x in v]
        if isinstance(v, list)
        else v.format(ada=ada["id"], nobody=nobody)
        for k, v in variables.items()
    }
    result = await execute(gateway, mutation, filled)
    [error] = result.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    after = await contact(make_gateway(), email=ADA)
    assert (after["id"], len(after["sources"])) == (ada["id"], len(ada["sources"]))


LISTING = "{ contacts(first: 50) { edges { node { email sources { provider fetchedAt } } } } }"


async def test_with_the_record_cache_a_second_listing_asks_lunar_send_nothing(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    await reset(client)
    cold = await execute(make_gateway(cache_ttl=300), LISTING)
    assert cold.errors == []
    assert (await stats(client, "lunarsend")).get("GET /api/contacts", 0) > 0
    await reset(client)
    warm = await execute(make_gateway(cache_ttl=300), LISTING)
    assert warm.errors == []
    assert await stats(client, "lunarsend") == {}
    assert warm.data == cold.data  # the same records, read at the same moment as before


async def test_a_write_drops_the_cached_records_it_changed(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway(cache_ttl=300)
    await contact(gateway, email=ADA)
    upsert = f'mutation {{ upsertContact(input: {{email: "{ADA}", company: "Difference Engines"}}, providers: [ADAPTIX]) {{ results {{ status }} }} }}'
    assert (await execute(gateway, upsert)).errors == []
    fresh = await execute(
        make_gateway(cache_ttl=300),
        "query($e: String) { contact(email: $e) { company } }",
        {"e": ADA},
    )
    assert fresh.data == {"contact": {"company": "Difference Engines"}}


async def test_a_store_that_does_not_answer_leaves_the_providers_answer_standing(
    client: httpx.AsyncClient, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    down = open_store("postgresql://nobody@127.0.0.1:1/none", connect_args={"timeout": 1})
    gateway.identities = Identities(down)
    try:
        result = await execute(
            gateway,
            "query($e: String) { contact(email: $e) { email sources { provider } } }",
            {"e": ADA},
        )
    finally:
        await down.close()
    assert result.data["contact"]["email"] == ADA
    assert len(result.data["contact"]["sources"]) == 3
    assert [e["extensions"]["code"] for e in result.errors] == ["STORE_UNAVAILABLE"]


async def test_two_gateways_on_one_postgresql_store_share_ids(
    client: httpx.AsyncClient, make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    async with migrated_store("postgresql", tmp_path) as store:
        one, two = make_gateway(), make_gateway()
        one.identities, two.identities = Identities(store), Identities(store)
        minted = await contact(one, email=ADA)
        assert (await contact(two, id=minted["id"]))["email"] == ADA
