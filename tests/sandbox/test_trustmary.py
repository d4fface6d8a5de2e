from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sandbox.app import Sandbox
from sandbox.credentials import TRUSTMARY_API_KEY
from sandbox.trustmary import TrustmaryEmulator

BASE = "/trustmary/v1"
AUTH = {"Authorization": f"Apikey {TRUSTMARY_API_KEY}"}
CONTACT_KEYS = {
    "id",
    "email",
    "eid",
    "name",
    "phone",
    "company",
    "created_at",
    "updated_at",
    "deleted_at",
    "last_action",
    "status",
    "type",
}
LIST_KEYS = {"id", "type", "count", "name", "created_at", "updated_at", "deleted_at"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CONTACT_ID = re.compile(r"^[A-Za-z0-9]{9}$")


def emulator(sandbox: Sandbox) -> TrustmaryEmulator:
    found = sandbox.emulators["trustmary"]
    assert isinstance(found, TrustmaryEmulator)
    return found


async def records(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/trustmary/_sandbox/records")
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()["records"]
    return result


async def contacts(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get(f"{BASE}/contacts", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["contacts"]
    return result


async def lists(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get(f"{BASE}/lists", headers=AUTH)
    assert response.status_code == 200
    return {item["id"]: item for item in response.json()}


async def upsert(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.post(f"{BASE}/contacts", json=body, headers=AUTH)


async def delete(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.request("DELETE", f"{BASE}/contacts", json=body, headers=AUTH)


# -- reading ------------------------------------------------------------------


async def test_seeded_contacts_have_the_documented_shape(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    people = sandbox.data.in_provider("trustmary")
    found = await contacts(sandbox_http)

    assert len(found) == len(people)
    by_email = {contact["email"]: contact for contact in found}
    for person in people:
        record = person.records["trustmary"]
        contact = by_email[record.email]
        assert set(contact) == CONTACT_KEYS
        assert CONTACT_ID.match(contact["id"])
        assert TIMESTAMP.match(contact["created_at"])
        assert TIMESTAMP.match(contact["updated_at"])
        assert contact["deleted_at"] is None
        assert contact["status"] == "active"
        assert contact["name"] == f"{record.first_name} {record.last_name}"
        assert contact["phone"] == record.phone
        assert contact["company"] == record.company
        assert contact["type"] == person.contact_type
        assert contact["eid"] == (person.external_id if person.index % 2 == 0 else None)
    assert {contact["type"] for contact in found} == {"customer", "employee"}


async def test_get_by_email_is_case_insensitive(sandbox_http: httpx.AsyncClient) -> None:
    first = (await contacts(sandbox_http))[0]

    found = await contacts(sandbox_http, email=first["email"].upper())

    assert found == [first]
    assert await contacts(sandbox_http, email="nobody@nowhere.test") == []


@pytest.mark.parametrize(
    "params",
    [
        {"offset": "-1"},
        {"offset": "abc"},
        {"offset": "1.5"},
        {"offset": ""},
        {"offset": "9" * 30},
        {"includeAll": "yes"},
        {"email": ""},
    ],
)
async def test_bad_query_params_are_400(
    sandbox_http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await sandbox_http.get(f"{BASE}/contacts", params=params, headers=AUTH)

    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert isinstance(response.json()["error"], str)


async def test_pages_hold_1000_contacts_in_creation_order(
    empty_sandbox: Sandbox, empty_sandbox_http: httpx.AsyncClient
) -> None:
    store = emulator(empty_sandbox)
    for n in range(1002):
        store.upsert({"email": f"person{n}@bulk.test"})
    store.upsert({"email": "gone@bulk.test"})
    assert (await delete(empty_sandbox_http, {"email": "gone@bulk.test"})).status_code == 200

    first = await contacts(empty_sandbox_http)
    second = await contacts(empty_sandbox_http, offset="1000")
    third = await contacts(empty_sandbox_http, offset="2000")

    assert len(first) == 1000
    assert [c["email"] for c in first + second] == [f"person{n}@bulk.test" for n in range(1002)]
    assert third == []
    every = await contacts(empty_sandbox_http, offset="1000", includeAll="true")
    assert [c["email"] for c in every] == [
        "person1000@bulk.test",
        "person1001@bulk.test",
        "gone@bulk.test",
    ]


async def test_empty_sandbox_has_no_contacts_or_lists(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    assert await contacts(empty_sandbox_http) == []
    assert await lists(empty_sandbox_http) == {}


# -- upserts ------------------------------------------------------------------


async def test_upsert_creates_then_updates_the_same_email_in_other_case(
    sandbox_http: httpx.AsyncClient,
) -> None:
    before = len(await records(sandbox_http))

    created = await upsert(
        sandbox_http, {"email": "New.Person@Example.test", "name": "New Person", "eid": "u-1"}
    )
    updated = await upsert(
        sandbox_http, {"email": "new.person@example.TEST", "phone": "+358501234567"}
    )

    assert created.status_code == 200
    assert created.json()["action"] == "IMPORT_CREATE"
    assert created.json()["listsUpdated"] == 0
    contact = created.json()["contact"]
    assert set(contact) == CONTACT_KEYS
    assert CONTACT_ID.match(contact["id"])
    assert TIMESTAMP.match(contact["created_at"])
    assert contact["type"] == "customer"
    assert contact["status"] == "active"
    assert contact["company"] is None

    assert updated.status_code == 200
    assert updated.json()["action"] == "IMPORT_UPDATE"
    again = updated.json()["contact"]
    assert again["id"] == contact["id"]
    assert again["email"] == "New.Person@Example.test"
    assert again["name"] == "New Person"
    assert again["eid"] == "u-1"
    assert again["phone"] == "+358501234567"
    assert again["created_at"] == contact["created_at"]
    assert len(await records(sandbox_http)) == before + 1
    assert await contacts(sandbox_http, email="NEW.PERSON@example.test") == [again]


async def test_upsert_sets_type_and_clears_with_null(sandbox_http: httpx.AsyncClient) -> None:
    await upsert(sandbox_http, {"email": "staff@example.test", "company": "Acme"})

    response = await upsert(
        sandbox_http, {"email": "staff@example.test", "type": "employee", "company": None}
    )

    assert response.json()["contact"]["type"] == "employee"
    assert response.json()["contact"]["company"] is None


async def test_lists_have_the_documented_shape_and_live_counts(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    found = await lists(sandbox_http)

    assert list(found) == [item.id for item in sandbox.data.lists]
    for seed_list in sandbox.data.lists:
        item = found[seed_list.id]
        assert set(item) == LIST_KEYS
        assert item["name"] == seed_list.name
        assert item["type"] == seed_list.type
        assert item["deleted_at"] is None
        assert TIMESTAMP.match(item["created_at"])
        members = [p for p in sandbox.data.in_provider("trustmary") if seed_list.id in p.lists]
        assert item["count"] == len(members)
    assert any(item["count"] > 0 for item in found.values())


async def test_add_to_lists_counts_only_new_memberships(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    one, two, three = (item.id for item in sandbox.data.lists[:3])
    counts = {key: item["count"] for key, item in (await lists(sandbox_http)).items()}

    first = await upsert(sandbox_http, {"email": "lists@example.test", "addToLists": [one, two]})
    again = await upsert(sandbox_http, {"email": "lists@example.test", "addToLists": [one, one]})
    third = await upsert(sandbox_http, {"email": "LISTS@example.test", "addToLists": [one, three]})

    assert first.json()["listsUpdated"] == 2
    assert again.json()["listsUpdated"] == 0
    assert third.json()["listsUpdated"] == 1
    after = await lists(sandbox_http)
    for list_id in (one, two, three):
        assert after[list_id]["count"] == counts[list_id] + 1
    stored = [r for r in await records(sandbox_http) if r["email"] == "lists@example.test"]
    assert stored[0]["lists"] == [one, two, three]


async def test_remove_from_lists(sandbox: Sandbox, sandbox_http: httpx.AsyncClient) -> None:
    assert sandbox.data is not None
    one, two = (item.id for item in sandbox.data.lists[:2])
    await upsert(sandbox_http, {"email": "leaver@example.test", "addToLists": [one, two]})
    counts = {key: item["count"] for key, item in (await lists(sandbox_http)).items()}

    response = await upsert(
        sandbox_http, {"email": "leaver@example.test", "removeFromLists": [one]}
    )

    assert response.status_code == 200
    assert response.json()["listsUpdated"] == 0
    after = await lists(sandbox_http)
    assert after[one]["count"] == counts[one] - 1
    assert after[two]["count"] == counts[two]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "No Email"},
        {"email": "not-an-email"},
        {"email": ""},
        {"email": 42},
        {"email": "x@example.test", "name": 7},
        {"email": "x@example.test", "eid": 123},
        {"email": "x@example.test", "phone": ["+358"]},
        {"email": "x@example.test", "company": {"name": "Acme"}},
        {"email": "x@example.test", "type": "partner"},
        {"email": "x@example.test", "type": None},
        {"email": "x@example.test", "addToLists": "abc"},
        {"email": "x@example.test", "addToLists": [1]},
        {"email": "x@example.test", "addToLists": ["nosuchlst"]},
        {"email": "x@example.test", "removeFromLists": ["nosuchlst"]},
        {"email": "x@example.test", "removeFromLists": {}},
    ],
)
async def test_refused_upserts_are_400_and_store_nothing(
    sandbox_http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    before = await records(sandbox_http)

    response = await upsert(sandbox_http, body)

    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert await records(sandbox_http) == before


async def test_unknown_list_id_refuses_an_update_of_an_existing_contact(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    known = sandbox.data.lists[0].id
    existing = (await contacts(sandbox_http))[0]
    before = await records(sandbox_http)

    response = await upsert(
        sandbox_http,
        {"email": existing["email"], "name": "Changed", "addToLists": [known, "nosuchlst"]},
    )

    assert response.status_code == 400
    assert "nosuchlst" in response.json()["error"]
    assert await records(sandbox_http) == before


# -- deletes ------------------------------------------------------------------


async def test_delete_marks_deleted_and_hides_unless_include_all(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    member = next(p for p in sandbox.data.in_provider("trustmary") if p.lists)
    email = member.records["trustmary"].email
    counts = {key: item["count"] for key, item in (await lists(sandbox_http)).items()}
    total = len(await contacts(sandbox_http))

    response = await delete(sandbox_http, {"email": email.upper()})

    assert response.status_code == 200
    contact = response.json()["contact"]
    assert set(contact) == CONTACT_KEYS
    assert contact["status"] == "deleted"
    assert TIMESTAMP.match(contact["deleted_at"])
    assert await contacts(sandbox_http, email=email) == []
    assert await contacts(sandbox_http, email=email, includeAll="true") == [contact]
    assert len(await contacts(sandbox_http)) == total - 1
    assert len(await contacts(sandbox_http, includeAll="true")) == total
    stored = next(r for r in await records(sandbox_http) if r["email"] == email)
    assert stored["status"] == "deleted"
    assert stored["lists"] == list(member.lists)
    after = await lists(sandbox_http)
    for list_id in member.lists:
        assert after[list_id]["count"] == counts[list_id] - 1


async def test_upserting_a_deleted_contact_reactivates_it(sandbox_http: httpx.AsyncClient) -> None:
    created = (await upsert(sandbox_http, {"email": "back@example.test"})).json()["contact"]
    await delete(sandbox_http, {"email": "back@example.test"})

    response = await upsert(sandbox_http, {"email": "Back@example.test", "name": "Back Again"})

    assert response.json()["action"] == "IMPORT_UPDATE"
    contact = response.json()["contact"]
    assert contact["id"] == created["id"]
    assert contact["status"] == "active"
    assert contact["deleted_at"] is None
    assert await contacts(sandbox_http, email="back@example.test") == [contact]


async def test_delete_unknown_contact_is_404(sandbox_http: httpx.AsyncClient) -> None:
    before = await records(sandbox_http)

    response = await delete(sandbox_http, {"email": "nobody@nowhere.test"})

    assert response.status_code == 404
    assert set(response.json()) == {"error"}
    assert await records(sandbox_http) == before


@pytest.mark.parametrize("body", [{}, {"email": 5}, {"email": ""}, {"id": "gkggiGLXH"}])
async def test_delete_without_an_email_is_400(
    sandbox_http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await delete(sandbox_http, body)

    assert response.status_code == 400
    assert set(response.json()) == {"error"}


# -- auth, stats (the rest of auth, bodies and limits: test_contract.py) ------


async def test_bearer_is_accepted_too(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.get(
        f"{BASE}/lists", headers={"Authorization": f"Bearer {TRUSTMARY_API_KEY}"}
    )

    assert response.status_code == 200


async def test_stats_count_requests_by_path_template(sandbox_http: httpx.AsyncClient) -> None:
    await sandbox_http.post("/trustmary/_sandbox/reset")

    await contacts(sandbox_http)
    await contacts(sandbox_http, offset="1000")
    await upsert(sandbox_http, {"email": "stats@example.test"})
    await delete(sandbox_http, {"email": "stats@example.test"})
    await lists(sandbox_http)
    await sandbox_http.get(f"{BASE}/lists")

    stats = (await sandbox_http.get("/trustmary/_sandbox/stats")).json()
    assert stats == {
        "total": 6,
        "requests": {
            "GET /v1/contacts": 2,
            "POST /v1/contacts": 1,
            "DELETE /v1/contacts": 1,
            "GET /v1/lists": 2,
        },
    }
