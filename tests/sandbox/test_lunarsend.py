from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sandbox.app import Sandbox
from sandbox.credentials import LUNARSEND_API_KEY

BASE = "/lunarsend/api"
AUTH = {"x-api-key": LUNARSEND_API_KEY}
CONTACT_KEYS = {
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "notes",
    "created_at",
}
CONTACT_ID = re.compile(r"^[0-9]{20}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NEW = {
    "first_name": "John",
    "last_name": "Doe",
    "email": "johndoe@example.com",
    "phone": "+1234567890",
    "company": "Example Inc.",
    "job_title": "Sales Manager",
    "notes": "Interested in product demo",
}


async def records(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/lunarsend/_sandbox/records")
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()["records"]
    return result


async def create(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.post(f"{BASE}/contacts", json=body, headers=AUTH)


async def search(client: httpx.AsyncClient, searchby: str, term: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"{BASE}/contacts", params={"searchby": searchby, "search": term}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["data"]
    return result


async def edit(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.post(f"{BASE}/contacts/edit", json=body, headers=AUTH)


async def delete(client: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await client.request("DELETE", f"{BASE}/contacts", json=body, headers=AUTH)


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]


# -- seed and search ----------------------------------------------------------


async def test_seeded_contacts(sandbox: Sandbox, sandbox_http: httpx.AsyncClient) -> None:
    assert sandbox.data is not None
    people = sandbox.data.in_provider("lunarsend")
    stored = await records(sandbox_http)

    assert len(stored) == len(people)
    for person, record in zip(people, stored, strict=True):
        seed = person.records["lunarsend"]
        assert set(record) == CONTACT_KEYS
        assert CONTACT_ID.match(record["id"])
        assert TIMESTAMP.match(record["created_at"])
        assert record["email"] == seed.email
        assert record["first_name"] == seed.first_name
        assert record["last_name"] == seed.last_name
        assert record["company"] == seed.company
        assert record["job_title"] == seed.job_title
    noted = [r for r in stored if r["notes"]]
    assert 0 < len(noted) < len(stored)
    assert all(r["notes"] == f"Met at {r['company']} demo" for r in noted)


async def test_search_is_equality_and_case_insensitive(sandbox_http: httpx.AsyncClient) -> None:
    stored = await records(sandbox_http)
    company = stored[0]["company"]
    expected = [r for r in stored if r["company"].lower() == company.lower()]

    found = await search(sandbox_http, "company", company.swapcase())

    assert found == expected
    assert await search(sandbox_http, "company", company[:-1]) == []
    assert await search(sandbox_http, "email", stored[1]["email"].upper()) == [stored[1]]
    assert await search(sandbox_http, "id", stored[2]["id"]) == [stored[2]]


@pytest.mark.parametrize(
    "params",
    [
        {"searchby": "favourite_colour", "search": "blue"},
        {"searchby": "name", "search": "Ada"},
        {"search": "Acme Corp"},
        {"searchby": "company"},
        {"searchby": "company", "search": ""},
    ],
)
async def test_bad_search_params_are_400(
    sandbox_http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await sandbox_http.get(f"{BASE}/contacts", params=params, headers=AUTH)

    assert_error(response, 400, "bad_request")


# -- create -------------------------------------------------------------------


async def test_create_answers_a_20_digit_id_and_stores_the_contact(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    response = await create(empty_sandbox_http, NEW)

    assert response.status_code == 200
    assert set(response.json()) == {"id"}
    contact_id = response.json()["id"]
    assert CONTACT_ID.match(contact_id)
    [stored] = await records(empty_sandbox_http)
    assert stored == {**NEW, "id": contact_id, "created_at": stored["created_at"]}
    assert TIMESTAMP.match(stored["created_at"])
    assert await search(empty_sandbox_http, "email", "JohnDoe@Example.com") == [stored]


async def test_create_with_only_required_fields_and_integer_phone(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    await create(empty_sandbox_http, {"first_name": "Ada", "email": "ada@example.com"})
    await create(
        empty_sandbox_http, {"first_name": "Ben", "email": "ben@example.com", "phone": 1234567890}
    )

    ada, ben = await records(empty_sandbox_http)
    assert ada["last_name"] is None
    assert ada["phone"] is None
    assert ada["notes"] is None
    assert ben["phone"] == "1234567890"
    assert await search(empty_sandbox_http, "phone", "1234567890") == [ben]


async def test_escaped_characters_outside_the_basic_plane_are_kept(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    # A surrogate pair is one character; only an unpaired surrogate is refused.
    body = b'{"first_name": "\\ud83d\\ude00 Jo", "email": "jo@example.com"}'
    response = await empty_sandbox_http.post(
        f"{BASE}/contacts", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    [stored] = await search(empty_sandbox_http, "email", "jo@example.com")
    assert stored["first_name"] == "\U0001f600 Jo"


async def test_ids_are_deterministic(empty_sandbox_http: httpx.AsyncClient) -> None:
    other_sandbox = Sandbox(seed=None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other_sandbox.app),
        base_url=empty_sandbox_http.base_url,
    ) as other:
        first = await create(empty_sandbox_http, NEW)
        second = await create(other, NEW)

    assert first.json() == second.json()


async def test_duplicate_email_is_409_in_any_case(sandbox_http: httpx.AsyncClient) -> None:
    existing = (await records(sandbox_http))[0]
    before = await records(sandbox_http)

    response = await create(
        sandbox_http, {"first_name": "Copy", "email": existing["email"].swapcase()}
    )

    assert_error(response, 409, "conflict")
    assert await records(sandbox_http) == before


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x@example.com"},
        {"first_name": "", "email": "x@example.com"},
        {"first_name": "X"},
        {"first_name": "X", "email": "not-an-email"},
        {"first_name": "X", "email": None},
        {"first_name": 5, "email": "x@example.com"},
        {"first_name": "X", "email": "x@example.com", "phone": 12.5},
        {"first_name": "X", "email": "x@example.com", "phone": True},
        {"first_name": "X", "email": "x@example.com", "notes": ["a"]},
        {"first_name": "X", "email": "x@example.com", "company": {"name": "Acme"}},
        {"first_name": "X", "email": "x@example.com", "website": "https://x.test"},
        {"first_name": "X", "email": "x@example.com", "name": "X Y"},
    ],
)
async def test_refused_creates_are_400_and_store_nothing(
    sandbox_http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    before = await records(sandbox_http)

    response = await create(sandbox_http, body)

    assert_error(response, 400, "bad_request")
    assert await records(sandbox_http) == before


# -- edit ---------------------------------------------------------------------


async def test_edit_name_email_and_phone(sandbox_http: httpx.AsyncClient) -> None:
    contact_id = (await create(sandbox_http, NEW)).json()["id"]

    response = await edit(
        sandbox_http,
        {
            "contactID": contact_id,
            "updateFields": {
                "name": "Mary Ann Smith",
                "email": "mary@example.com",
                "phone": 1234567890,
            },
        },
    )

    assert response.status_code == 200
    assert response.json() == {"id": contact_id}
    [stored] = await search(sandbox_http, "email", "MARY@example.com")
    assert stored["id"] == contact_id
    assert stored["first_name"] == "Mary"
    assert stored["last_name"] == "Ann Smith"
    assert stored["phone"] == "1234567890"
    assert stored["company"] == NEW["company"]
    assert await search(sandbox_http, "email", NEW["email"]) == []


async def test_edit_accepts_snake_case_keys(sandbox_http: httpx.AsyncClient) -> None:
    contact_id = (await create(sandbox_http, NEW)).json()["id"]

    response = await edit(
        sandbox_http, {"contact_id": contact_id, "update_fields": {"name": "Cher"}}
    )

    assert response.json() == {"id": contact_id}
    [stored] = await search(sandbox_http, "id", contact_id)
    assert stored["first_name"] == "Cher"
    assert stored["last_name"] is None


async def test_edit_to_own_email_in_other_case_is_allowed(sandbox_http: httpx.AsyncClient) -> None:
    contact_id = (await create(sandbox_http, NEW)).json()["id"]

    response = await edit(
        sandbox_http, {"contactID": contact_id, "updateFields": {"email": "JohnDoe@Example.com"}}
    )

    assert response.status_code == 200
    assert (await search(sandbox_http, "id", contact_id))[0]["email"] == "JohnDoe@Example.com"


@pytest.mark.parametrize(
    "fields",
    [
        {"company": "Other Inc."},
        {"first_name": "Jane"},
        {"notes": "changed"},
        {"name": "Jane Roe", "job_title": "CEO"},
        {"name": ""},
        {"name": 5},
        {"email": "not-an-email"},
        {"phone": 1.5},
    ],
)
async def test_edit_refuses_anything_but_valid_name_email_phone(
    sandbox_http: httpx.AsyncClient, fields: dict[str, Any]
) -> None:
    contact_id = (await create(sandbox_http, NEW)).json()["id"]
    before = await records(sandbox_http)

    response = await edit(sandbox_http, {"contactID": contact_id, "updateFields": fields})

    assert_error(response, 400, "bad_request")
    assert await records(sandbox_http) == before


@pytest.mark.parametrize(
    "body",
    [
        {"updateFields": {"name": "A B"}},
        {"contactID": 12345678901234567890, "updateFields": {"name": "A B"}},
        {"contactID": "ID"},
        {"contactID": "ID", "updateFields": ["name"]},
        {"contactID": "ID", "contact_id": "other", "updateFields": {"name": "A B"}},
    ],
)
async def test_edit_with_a_bad_body_is_400(
    sandbox_http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    contact_id = (await records(sandbox_http))[0]["id"]
    body = {key: contact_id if value == "ID" else value for key, value in body.items()}
    before = await records(sandbox_http)

    response = await edit(sandbox_http, body)

    assert_error(response, 400, "bad_request")
    assert await records(sandbox_http) == before


async def test_edit_unknown_id_is_404(sandbox_http: httpx.AsyncClient) -> None:
    response = await edit(
        sandbox_http, {"contactID": "00000000000000000000", "updateFields": {"name": "A B"}}
    )

    assert_error(response, 404, "not_found")


async def test_edit_to_another_contacts_email_is_409(sandbox_http: httpx.AsyncClient) -> None:
    first, second = (await records(sandbox_http))[:2]
    before = await records(sandbox_http)

    response = await edit(
        sandbox_http,
        {
            "contactID": first["id"],
            "updateFields": {"name": "Taken Email", "email": second["email"].upper()},
        },
    )

    assert_error(response, 409, "conflict")
    assert await records(sandbox_http) == before


# -- delete -------------------------------------------------------------------


async def test_delete_answers_the_documented_string(sandbox_http: httpx.AsyncClient) -> None:
    contact = (await records(sandbox_http))[0]

    response = await delete(sandbox_http, {"contact_id": contact["id"]})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == "Document deleted successfully"
    assert await search(sandbox_http, "id", contact["id"]) == []
    assert contact not in await records(sandbox_http)
    assert_error(await delete(sandbox_http, {"contact_id": contact["id"]}), 404, "not_found")


async def test_an_email_belongs_to_whoever_holds_it_after_edits_and_deletes(
    sandbox_http: httpx.AsyncClient,
) -> None:
    first = (await create(sandbox_http, NEW)).json()["id"]
    moved = {"contactID": first, "updateFields": {"email": "moved@example.com"}}
    assert (await edit(sandbox_http, moved)).status_code == 200

    # The old email is free, the new one taken, in any case.
    second = await create(sandbox_http, {"first_name": "Old", "email": NEW["email"].upper()})
    assert second.status_code == 200
    assert_error(
        await create(sandbox_http, {"first_name": "Dup", "email": "MOVED@example.com"}),
        409,
        "conflict",
    )
    assert [c["id"] for c in await search(sandbox_http, "email", NEW["email"])] == [
        second.json()["id"]
    ]
    assert [c["id"] for c in await search(sandbox_http, "email", "Moved@Example.com")] == [first]
    # Renaming without a new email keeps the email where it is.
    renamed = {"contactID": first, "updateFields": {"name": "Jo Doe"}}
    assert (await edit(sandbox_http, renamed)).status_code == 200
    assert [c["id"] for c in await search(sandbox_http, "email", "moved@example.com")] == [first]

    await delete(sandbox_http, {"contact_id": first})
    assert await search(sandbox_http, "email", "moved@example.com") == []
    again = await create(sandbox_http, {"first_name": "Back", "email": "moved@example.com"})
    assert again.status_code == 200


async def test_search_by_id_or_email_finds_nothing_unknown(
    sandbox_http: httpx.AsyncClient,
) -> None:
    assert await search(sandbox_http, "id", "00000000000000000000") == []
    assert await search(sandbox_http, "email", "nobody@nowhere.test") == []
    stored = (await records(sandbox_http))[0]
    # Equality, not a prefix or a substring.
    assert await search(sandbox_http, "id", stored["id"][:-1]) == []
    assert await search(sandbox_http, "email", stored["email"][1:]) == []


async def test_deleted_email_can_be_created_again(sandbox_http: httpx.AsyncClient) -> None:
    contact = (await records(sandbox_http))[0]
    await delete(sandbox_http, {"contact_id": contact["id"]})

    response = await create(sandbox_http, {"first_name": "New", "email": contact["email"]})

    assert response.status_code == 200
    assert response.json()["id"] != contact["id"]


@pytest.mark.parametrize("body", [{}, {"contact_id": 5}, {"contact_id": ""}, {"id": "x"}])
async def test_delete_without_a_contact_id_is_400(
    sandbox_http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    before = await records(sandbox_http)

    response = await delete(sandbox_http, body)

    assert_error(response, 400, "bad_request")
    assert await records(sandbox_http) == before


async def test_delete_unknown_id_is_404(sandbox_http: httpx.AsyncClient) -> None:
    before = await records(sandbox_http)

    response = await delete(sandbox_http, {"contact_id": "00000000000000000000"})

    assert_error(response, 404, "not_found")
    assert await records(sandbox_http) == before


# -- stats (auth, bodies and limits: test_contract.py) ------------------------


async def test_stats_count_requests_by_path_template(sandbox_http: httpx.AsyncClient) -> None:
    contact_id = (await records(sandbox_http))[0]["id"]
    await sandbox_http.post("/lunarsend/_sandbox/reset")

    await search(sandbox_http, "company", "Acme Corp")
    await create(sandbox_http, NEW)
    await create(sandbox_http, NEW)
    await edit(sandbox_http, {"contactID": contact_id, "updateFields": {"name": "A B"}})
    await delete(sandbox_http, {"contact_id": contact_id})

    stats = (await sandbox_http.get("/lunarsend/_sandbox/stats")).json()
    assert stats == {
        "total": 5,
        "requests": {
            "GET /api/contacts": 1,
            "POST /api/contacts": 2,
            "POST /api/contacts/edit": 1,
            "DELETE /api/contacts": 1,
        },
    }
