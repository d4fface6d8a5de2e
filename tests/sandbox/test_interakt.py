"""Interakt's emulator through HTTP: silent upserts by email (the rest: test_contract.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.credentials import INTERAKT_API_KEY, INTERAKT_APP_ID

MEMBERS = "/interakt/api/v1/members"
LEADS = "/interakt/api/v1/leads"
RECORDS = "/interakt/_sandbox/records"
AUTH = (INTERAKT_APP_ID, INTERAKT_API_KEY)


async def records(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get(RECORDS)
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()["records"]
    return result


async def post(client: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    response = await client.post(path, json=body, auth=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {}
    return response


async def only(client: httpx.AsyncClient) -> dict[str, Any]:
    stored = await records(client)
    assert len(stored) == 1, stored
    return stored[0]


# -- upserts ------------------------------------------------------------------


async def test_member_from_the_docs_example_is_stored(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    await post(
        empty_sandbox_http,
        MEMBERS,
        {
            "email": "support@interakt.co",
            "name": "support",
            "created_at": 1257553080,
            "custom_fields": {"plan": "pro"},
            "city": "New York",
            "country": "United States",
        },
    )
    record = await only(empty_sandbox_http)
    assert record["kind"] == "member"
    assert record["email"] == "support@interakt.co"
    assert record["attributes"] == {
        "name": "support",
        "created_at": "2009-11-07T00:18:00Z",
        "city": "New York",
        "country": "United States",
    }
    assert record["custom_data"] == {"plan": "pro"}
    assert record["created_at"].endswith("Z")
    assert record["updated_at"] == record["created_at"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "No Email"},
        {"email": None, "name": "No Email"},
        {"email": "", "name": "No Email"},
        {"email": "   ", "name": "No Email"},
        {"email": 5, "name": "No Email"},
        {"email": ["a@b.test"], "name": "No Email"},
        {"email": {"address": "a@b.test"}},
    ],
)
@pytest.mark.parametrize("path", [MEMBERS, LEADS])
async def test_request_without_email_is_ignored_with_200(
    empty_sandbox_http: httpx.AsyncClient, body: dict[str, Any], path: str
) -> None:
    await post(empty_sandbox_http, path, {"email": "kept@b.test", "name": "Kept"})
    before = await records(empty_sandbox_http)
    await post(empty_sandbox_http, path, body)
    assert await records(empty_sandbox_http) == before


async def test_null_and_object_attributes_are_dropped_alone(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    await post(
        empty_sandbox_http,
        MEMBERS,
        {
            "email": "ann@b.test",
            "name": "Ann",
            "age": 25,
            "score": 9.5,
            "vip": True,
            "active": False,
            "interests": ["golf", None, {"x": 1}],
            "nickname": None,
            "address": {"city": "Delhi"},
        },
    )
    assert (await only(empty_sandbox_http))["attributes"] == {
        "name": "Ann",
        "age": 25,
        "score": 9.5,
        "vip": True,
        "active": False,
        "interests": ["golf", None, {"x": 1}],
    }


async def test_update_merges_and_null_does_not_erase(empty_sandbox_http: httpx.AsyncClient) -> None:
    client = empty_sandbox_http
    await post(client, MEMBERS, {"email": "ann@b.test", "name": "Ann", "city": "Delhi"})
    first = await only(client)
    await post(
        client, MEMBERS, {"email": "ann@b.test", "city": None, "country": "India", "name": "Ann B"}
    )
    record = await only(client)
    assert record["attributes"] == {"name": "Ann B", "city": "Delhi", "country": "India"}
    assert record["created_at"] == first["created_at"]
    assert record["updated_at"] >= first["updated_at"]


async def test_custom_fields_merge_across_writes(empty_sandbox_http: httpx.AsyncClient) -> None:
    client = empty_sandbox_http
    await post(
        client, MEMBERS, {"email": "ann@b.test", "custom_fields": {"plan": "pro", "seats": 3}}
    )
    await post(
        client,
        MEMBERS,
        {
            "email": "ann@b.test",
            "custom_fields": {"seats": 5, "region": "eu", "spouse": None, "meta": {"a": 1}},
        },
    )
    record = await only(client)
    assert record["custom_data"] == {"plan": "pro", "seats": 5, "region": "eu"}
    assert record["attributes"] == {}


@pytest.mark.parametrize("custom_fields", ["plan=pro", ["pro"], None, 3])
async def test_custom_fields_that_are_not_an_object_are_dropped(
    empty_sandbox_http: httpx.AsyncClient, custom_fields: Any
) -> None:
    await post(
        empty_sandbox_http,
        MEMBERS,
        {"email": "ann@b.test", "name": "Ann", "custom_fields": custom_fields},
    )
    record = await only(empty_sandbox_http)
    assert record["attributes"] == {"name": "Ann"}
    assert record["custom_data"] == {}


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (1467875969, "2016-07-07T07:19:29Z"),
        ("1467875969", "2016-07-07T07:19:29Z"),
        (0, "1970-01-01T00:00:00Z"),
        ("1467875969test", "1467875969test"),
        ("Interakt", "Interakt"),
        ("2016-07-07", "2016-07-07"),
        (" 1467875969", " 1467875969"),
        (-1, -1),
        (1467875969.5, 1467875969.5),
        (True, True),
        ("9" * 40, "9" * 40),
        ("0001467875969", "2016-07-07T07:19:29Z"),
    ],
)
async def test_at_keys_with_unix_timestamps_become_datetimes(
    empty_sandbox_http: httpx.AsyncClient, value: Any, stored: Any
) -> None:
    await post(
        empty_sandbox_http,
        MEMBERS,
        {
            "email": "ann@b.test",
            "joined_at": value,
            "zip": "1467875969",
            "custom_fields": {"renewal_at": value},
        },
    )
    record = await only(empty_sandbox_http)
    assert record["attributes"] == {"joined_at": stored, "zip": "1467875969"}
    assert record["custom_data"] == {"renewal_at": stored}


@pytest.mark.parametrize(
    ("body", "phone"),
    [
        ({"phone": "+91 98765 43210"}, "+91 98765 43210"),
        ({"phone_number": "+91 98765 43210"}, "+91 98765 43210"),
        ({"phone": 123455667}, 123455667),
        ({"phone": "+1 555", "phone_number": "+91 98765 43210"}, "+91 98765 43210"),
        ({"phone": "+1 555", "phone_number": None}, "+1 555"),
    ],
)
async def test_lead_phone_is_stored_as_phone_number(
    empty_sandbox_http: httpx.AsyncClient, body: dict[str, Any], phone: Any
) -> None:
    await post(empty_sandbox_http, LEADS, {"email": "lead@b.test", "name": "Lead", **body})
    record = await only(empty_sandbox_http)
    assert record["kind"] == "lead"
    assert record["attributes"] == {"name": "Lead", "phone_number": phone}


async def test_numbers_past_64_bits_are_kept_exactly(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    big = 2**100 + 1
    await post(empty_sandbox_http, MEMBERS, {"email": "ann@b.test", "seats": big, "ids": [big]})
    assert (await only(empty_sandbox_http))["attributes"] == {"seats": big, "ids": [big]}


async def test_member_phone_stays_phone(empty_sandbox_http: httpx.AsyncClient) -> None:
    await post(empty_sandbox_http, MEMBERS, {"email": "ann@b.test", "phone": "+91 1"})
    assert (await only(empty_sandbox_http))["attributes"] == {"phone": "+91 1"}


@pytest.mark.parametrize("path", [MEMBERS, LEADS])
async def test_email_upsert_is_case_insensitive(
    empty_sandbox_http: httpx.AsyncClient, path: str
) -> None:
    client = empty_sandbox_http
    await post(client, path, {"email": "Ann@Example.com", "name": "Ann"})
    await post(client, path, {"email": "ann@EXAMPLE.COM", "city": "Delhi"})
    record = await only(client)
    assert record["email"] == "Ann@Example.com"
    assert record["attributes"] == {"name": "Ann", "city": "Delhi"}


async def test_members_and_leads_are_separate(empty_sandbox_http: httpx.AsyncClient) -> None:
    client = empty_sandbox_http
    await post(client, LEADS, {"email": "ann@b.test", "name": "Lead Ann"})
    await post(client, MEMBERS, {"email": "ann@b.test", "name": "Member Ann"})
    stored = await records(client)
    assert [(r["kind"], r["email"], r["attributes"]["name"]) for r in stored] == [
        ("member", "ann@b.test", "Member Ann"),
        ("lead", "ann@b.test", "Lead Ann"),
    ]


async def test_seeded_sandbox_holds_no_interakt_records(sandbox_http: httpx.AsyncClient) -> None:
    assert await records(sandbox_http) == []


# -- stats (auth, bodies and limits: test_contract.py) ------------------------


async def test_stats_count_requests_by_path_template(empty_sandbox_http: httpx.AsyncClient) -> None:
    client = empty_sandbox_http
    await post(client, MEMBERS, {"email": "a@b.test"})
    await post(client, MEMBERS, {"name": "ignored"})
    await client.post(LEADS, json={"email": "a@b.test"})
    await post(client, LEADS, {"email": "a@b.test"})
    stats = (await client.get("/interakt/_sandbox/stats")).json()
    assert stats == {
        "total": 4,
        "requests": {"POST /api/v1/members": 2, "POST /api/v1/leads": 2},
    }
