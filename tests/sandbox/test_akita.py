"""Akita's emulator through HTTP: upserts and Laravel validation (the rest: test_contract.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox.credentials import AKITA_API_KEY, AKITA_TAG_IDS

CONTACTS = "/akita/v1/contacts"
ACCOUNTS = "/akita/v1/accounts"
RECORDS = "/akita/_sandbox/records"
AUTH = {"Authorization": f"Bearer {AKITA_API_KEY}"}
INVALID = "The given data was invalid."
VIP, NEWSLETTER, TRIAL = AKITA_TAG_IDS["vip"], AKITA_TAG_IDS["newsletter"], AKITA_TAG_IDS["trial"]
UNKNOWN_TAG = max(AKITA_TAG_IDS.values()) + 1000


async def records(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get(RECORDS)
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()["records"]
    return result


async def post(client: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    return await client.post(path, json=body, headers=AUTH)


def parse_time(value: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", value), value
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


# -- contacts -----------------------------------------------------------------


async def test_contact_is_created_then_updated_with_merged_fields(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    client = empty_sandbox_http
    created = await post(
        client,
        CONTACTS,
        {
            "internal_id": "abc",
            "internal_account_id": "1",
            "first_name": "John",
            "last_name": "Doe",
        },
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert isinstance(data["id"], int)
    assert {
        k: data[k] for k in ("internal_id", "internal_account_id", "first_name", "last_name")
    } == {
        "internal_id": "abc",
        "internal_account_id": "1",
        "first_name": "John",
        "last_name": "Doe",
    }

    updated = await post(
        client, CONTACTS, {"internal_id": "abc", "internal_account_id": "2", "last_name": "Smith"}
    )
    assert updated.status_code == 200
    after = updated.json()["data"]
    assert after["id"] == data["id"]
    assert after["first_name"] == "John"
    assert after["last_name"] == "Smith"
    assert after["internal_account_id"] == "2"
    assert after["created_at"] == data["created_at"]
    assert parse_time(after["updated_at"]) >= parse_time(data["updated_at"])

    stored = await records(client)
    assert stored == [{"kind": "contact", **after}]


async def test_distinct_internal_ids_get_distinct_akita_ids(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    first = await post(
        empty_sandbox_http, CONTACTS, {"internal_id": "a", "internal_account_id": "1"}
    )
    second = await post(
        empty_sandbox_http, CONTACTS, {"internal_id": "b", "internal_account_id": "1"}
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["data"]["id"] != second.json()["data"]["id"]
    assert [r["internal_id"] for r in await records(empty_sandbox_http)] == ["a", "b"]


async def test_numeric_ids_are_kept_as_strings(empty_sandbox_http: httpx.AsyncClient) -> None:
    created = await post(
        empty_sandbox_http, CONTACTS, {"internal_id": 42, "internal_account_id": 7}
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert (data["internal_id"], data["internal_account_id"]) == ("42", "7")

    # The same id sent as a string is the same contact.
    again = await post(
        empty_sandbox_http, CONTACTS, {"internal_id": "42", "internal_account_id": "7"}
    )
    assert again.status_code == 200
    assert again.json()["data"]["id"] == data["id"]
    assert len(await records(empty_sandbox_http)) == 1


async def test_timestamps_are_utc_without_iso_t(empty_sandbox_http: httpx.AsyncClient) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    response = await post(
        empty_sandbox_http, CONTACTS, {"internal_id": "a", "internal_account_id": "1"}
    )
    after = datetime.now(UTC) + timedelta(seconds=1)
    data = response.json()["data"]
    for field in ("created_at", "updated_at"):
        assert before <= parse_time(data[field]) <= after


async def test_contact_information_and_tags_are_stored(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    body = {
        "internal_id": "a",
        "internal_account_id": "1",
        "name": "John Doe",
        "emails": [{"label": "Email", "value": "john.doe@my-new-customer.com"}],
        "phones": [{"label": "Mobile", "value": "+1 404 555 1212"}],
        "urls": [{"label": "Blog", "value": "https://jd.my-new-customer.com"}],
        "tags": [VIP, NEWSLETTER, VIP],
    }
    response = await post(empty_sandbox_http, CONTACTS, body)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["name"] == "John Doe"
    assert data["emails"] == body["emails"]
    assert data["phones"] == body["phones"]
    assert data["urls"] == body["urls"]
    assert data["tags"] == [VIP, NEWSLETTER]


async def test_sent_tags_replace_and_unsent_tags_stay(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    client = empty_sandbox_http
    await post(client, CONTACTS, {"internal_id": "a", "internal_account_id": "1", "tags": [VIP]})
    kept = await post(client, CONTACTS, {"internal_id": "a", "internal_account_id": "1"})
    assert kept.json()["data"]["tags"] == [VIP]
    replaced = await post(
        client, CONTACTS, {"internal_id": "a", "internal_account_id": "1", "tags": [TRIAL]}
    )
    assert replaced.json()["data"]["tags"] == [TRIAL]


async def test_unknown_keys_are_not_stored(empty_sandbox_http: httpx.AsyncClient) -> None:
    response = await post(
        empty_sandbox_http,
        CONTACTS,
        {"internal_id": "a", "internal_account_id": "1", "plan": "pro"},
    )
    assert response.status_code == 201
    assert "plan" not in response.json()["data"]
    assert "plan" not in (await records(empty_sandbox_http))[0]


REQUIRED = ["The internal id field is required."]
ACCOUNT_REQUIRED = ["The internal account id field is required."]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"internal_id": REQUIRED, "internal_account_id": ACCOUNT_REQUIRED}),
        ({"internal_id": None, "internal_account_id": "1"}, {"internal_id": REQUIRED}),
        ({"internal_id": "", "internal_account_id": "1"}, {"internal_id": REQUIRED}),
        ({"internal_id": "  ", "internal_account_id": "1"}, {"internal_id": REQUIRED}),
        ({"internal_id": "a"}, {"internal_account_id": ACCOUNT_REQUIRED}),
        (
            {"internal_id": True, "internal_account_id": "1"},
            {"internal_id": ["The internal id must be a string."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": {"id": 1}},
            {"internal_account_id": ["The internal account id must be a string."]},
        ),
        (
            {"internal_id": ["a"], "internal_account_id": "1"},
            {"internal_id": ["The internal id must be a string."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": "1", "first_name": 5},
            {"first_name": ["The first name must be a string."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": "1", "last_name": None},
            {"last_name": ["The last name must be a string."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": "1", "emails": "a@b.test"},
            {"emails": ["The emails must be an array."]},
        ),
        (
            {
                "internal_id": "a",
                "internal_account_id": "1",
                "emails": [{"label": "Work", "value": 5}],
            },
            {"emails.0.value": ["The emails.0.value must be a string."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": "1", "phones": [{"label": "Mobile"}]},
            {"phones.0.value": ["The phones.0.value field is required."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": "1", "urls": ["https://x.test"]},
            {"urls.0": ["The urls.0 must be an array."]},
        ),
        (
            {
                "internal_id": "a",
                "internal_account_id": "1",
                "emails": [
                    {"label": "Work", "value": "a@b.test"},
                    {"label": 1, "value": "c@d.test"},
                ],
            },
            {"emails.1.label": ["The emails.1.label must be a string."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": "1", "tags": "vip"},
            {"tags": ["The tags must be an array."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": "1", "tags": [VIP, str(NEWSLETTER)]},
            {"tags.1": ["The tags.1 must be an integer."]},
        ),
        (
            {"internal_id": "a", "internal_account_id": "1", "tags": [VIP, UNKNOWN_TAG]},
            {"tags.1": ["The selected tags.1 is invalid."]},
        ),
        (
            {"internal_account_id": "1", "first_name": 1, "tags": [UNKNOWN_TAG]},
            {
                "internal_id": REQUIRED,
                "first_name": ["The first name must be a string."],
                "tags.0": ["The selected tags.0 is invalid."],
            },
        ),
    ],
)
async def test_invalid_contact_is_422_in_laravel_shape_and_not_stored(
    empty_sandbox_http: httpx.AsyncClient, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    response = await post(empty_sandbox_http, CONTACTS, body)
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}
    assert await records(empty_sandbox_http) == []


async def test_refused_update_leaves_contact_unchanged(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    client = empty_sandbox_http
    await post(
        client,
        CONTACTS,
        {"internal_id": "a", "internal_account_id": "1", "first_name": "John", "tags": [VIP]},
    )
    before = await records(client)
    response = await post(
        client,
        CONTACTS,
        {
            "internal_id": "a",
            "internal_account_id": "1",
            "first_name": "Jane",
            "tags": [UNKNOWN_TAG],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"tags.0": ["The selected tags.0 is invalid."]}
    assert await records(client) == before


# -- accounts -----------------------------------------------------------------


async def test_account_is_created_then_updated(empty_sandbox_http: httpx.AsyncClient) -> None:
    client = empty_sandbox_http
    created = await post(client, ACCOUNTS, {"internal_id": 17, "name": "Acme"})
    assert created.status_code == 201
    data = created.json()["data"]
    assert set(data) == {"id", "internal_id", "name", "created_at", "updated_at"}
    assert (data["internal_id"], data["name"]) == ("17", "Acme")
    parse_time(data["created_at"])

    updated = await post(client, ACCOUNTS, {"internal_id": "17", "name": "Acme Corp"})
    assert updated.status_code == 200
    after = updated.json()["data"]
    assert (after["id"], after["name"], after["created_at"]) == (
        data["id"],
        "Acme Corp",
        data["created_at"],
    )
    assert await records(client) == [{"kind": "account", **after}]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": "Acme"}, {"internal_id": REQUIRED}),
        ({"internal_id": "1"}, {"name": ["The name field is required."]}),
        ({"internal_id": "1", "name": ""}, {"name": ["The name field is required."]}),
        ({"internal_id": "1", "name": 5}, {"name": ["The name must be a string."]}),
        (
            {"internal_id": False, "name": ["Acme"]},
            {
                "internal_id": ["The internal id must be a string."],
                "name": ["The name must be a string."],
            },
        ),
    ],
)
async def test_invalid_account_is_422_and_not_stored(
    empty_sandbox_http: httpx.AsyncClient, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    response = await post(empty_sandbox_http, ACCOUNTS, body)
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}
    assert await records(empty_sandbox_http) == []


async def test_contacts_and_accounts_are_listed_by_kind(
    empty_sandbox_http: httpx.AsyncClient,
) -> None:
    await post(empty_sandbox_http, ACCOUNTS, {"internal_id": "1", "name": "Acme"})
    await post(empty_sandbox_http, CONTACTS, {"internal_id": "a", "internal_account_id": "1"})
    assert [(r["kind"], r["internal_id"]) for r in await records(empty_sandbox_http)] == [
        ("contact", "a"),
        ("account", "1"),
    ]


async def test_seeded_sandbox_holds_no_akita_records(sandbox_http: httpx.AsyncClient) -> None:
    assert await records(sandbox_http) == []
    # The configured tags exist even so.
    response = await post(
        sandbox_http, CONTACTS, {"internal_id": "a", "internal_account_id": "1", "tags": [VIP]}
    )
    assert response.status_code == 201


# -- stats (auth, bodies and limits: test_contract.py) ------------------------


async def test_stats_count_requests_by_path_template(empty_sandbox_http: httpx.AsyncClient) -> None:
    client = empty_sandbox_http
    await post(client, CONTACTS, {"internal_id": "a", "internal_account_id": "1"})
    await post(client, CONTACTS, {"internal_id": "a"})
    await client.post(CONTACTS, json={"internal_id": "a", "internal_account_id": "1"})
    await post(client, ACCOUNTS, {"internal_id": "1", "name": "Acme"})
    stats = (await client.get("/akita/_sandbox/stats")).json()
    assert stats == {"total": 4, "requests": {"POST /v1/contacts": 3, "POST /v1/accounts": 1}}
