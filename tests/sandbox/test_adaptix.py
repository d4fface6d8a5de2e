from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from sandbox.adaptix import AdaptixEmulator
from sandbox.app import Sandbox
from sandbox.credentials import ADAPTIX_PASSWORD, ADAPTIX_USERNAME
from tests.support import serve_in_thread

BASE = "/adaptix/api"
AUTH = httpx.BasicAuth(ADAPTIX_USERNAME, ADAPTIX_PASSWORD)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
CONTACT_KEYS = {
    "id",
    "isPublished",
    "dateAdded",
    "dateModified",
    "createdBy",
    "createdByUser",
    "modifiedBy",
    "modifiedByUser",
    "owner",
    "points",
    "lastActive",
    "dateIdentified",
    "color",
    "ipAddresses",
    "tags",
    "utmtags",
    "doNotContact",
    "fields",
}
CORE = {
    "title",
    "firstname",
    "lastname",
    "company",
    "position",
    "email",
    "mobile",
    "phone",
    "points",
    "address1",
    "address2",
    "city",
    "state",
    "zipcode",
    "country",
    "website",
}
EVENT_KEYS = {"event", "eventId", "eventLabel", "eventType", "timestamp", "contactId", "details"}
UNAUTHORIZED = {
    "errors": [{"message": "API authorization denied.", "code": 401, "type": "access_denied"}]
}
NOT_FOUND = {"errors": [{"code": 404, "message": "Item was not found.", "details": []}]}
SEEDED = 180


def emulator(sandbox: Sandbox) -> AdaptixEmulator:
    found = sandbox.emulators["adaptix"]
    assert isinstance(found, AdaptixEmulator)
    return found


async def call(
    client: httpx.AsyncClient, method: str, path: str, status: int = 200, **kwargs: Any
) -> Any:
    response = await client.request(method, f"{BASE}{path}", auth=AUTH, **kwargs)
    assert response.status_code == status, response.text
    return response.json()


async def get(client: httpx.AsyncClient, path: str, status: int = 200, **params: Any) -> Any:
    return await call(client, "GET", path, status, params=params)


async def records(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/adaptix/_sandbox/records")
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()["records"]
    return result


async def contact(client: httpx.AsyncClient, contact_id: int) -> dict[str, Any]:
    result: dict[str, Any] = (await get(client, f"/contacts/{contact_id}"))["contact"]
    return result


def value(record: dict[str, Any], alias: str) -> Any:
    return record["fields"]["all"][alias]


def assert_error(body: Any, status: int, *detail_keys: str) -> dict[str, Any]:
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == status
    assert isinstance(error["message"], str)
    assert error["message"]
    if detail_keys:
        assert set(error["details"]) == set(detail_keys)
        for problems in error["details"].values():
            assert problems
            assert all(isinstance(p, str) for p in problems)
    return dict(error)


# -- reading one contact ------------------------------------------------------------


async def test_get_contact_has_the_documented_shape(sandbox_http: httpx.AsyncClient) -> None:
    body = await get(sandbox_http, "/contacts/1")
    assert set(body) == {"contact"}
    record = body["contact"]
    assert set(record) == CONTACT_KEYS
    assert record["id"] == 1
    assert record["isPublished"] is True
    for key in ("dateAdded", "dateModified", "dateIdentified", "lastActive"):
        assert ISO.match(record[key]), key
    assert set(record["owner"]) == {"id", "username", "firstName", "lastName"}
    assert all(set(t) == {"id", "tag"} for t in record["tags"])
    assert all(isinstance(t["id"], int) for t in record["tags"])
    fields = record["fields"]
    assert set(fields) == {"core", "social", "personal", "professional", "all"}
    assert fields["personal"] == []
    assert fields["professional"] == []
    assert set(fields["core"]) >= CORE
    assert {"twitter", "linkedin"} <= set(fields["social"])
    email = fields["core"]["email"]
    assert set(email) == {"id", "label", "alias", "type", "group", "value"}
    assert (email["alias"], email["group"], email["value"]) == (
        "email",
        "core",
        value(record, "email"),
    )
    assert fields["all"]["id"] == 1
    assert fields["all"]["points"] == record["points"]


async def test_seeded_contacts_carry_the_seed_people(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    people = sandbox.data.in_provider("adaptix")
    stored = await records(sandbox_http)
    assert len(stored) == len(people) == SEEDED
    assert [r["id"] for r in stored] == list(range(1, SEEDED + 1))
    for person, record in zip(people, stored, strict=True):
        seed = person.records["adaptix"]
        assert value(record, "firstname") == seed.first_name
        assert value(record, "lastname") == seed.last_name
        assert value(record, "email") == seed.email
        assert value(record, "mobile") == seed.phone
        assert value(record, "position") == seed.job_title
        assert value(record, "company") == seed.company
        assert [t["tag"] for t in record["tags"]] == list(person.tags)
        assert record["points"] == person.points
    owners = {r["owner"]["id"] if r["owner"] else None for r in stored}
    assert None in owners
    assert len(owners - {None}) >= 2
    unsubscribed = [r for r in stored if any(d["reason"] == 1 for d in r["doNotContact"])]
    assert [r["id"] for r in unsubscribed] == list(range(23, SEEDED + 1, 23))
    entry = unsubscribed[0]["doNotContact"][0]
    assert set(entry) == {"id", "dateAdded", "reason", "comments", "channel", "channelId"}
    assert entry["channel"] == "email"


@pytest.mark.parametrize("path", ["/contacts/9999", "/contacts/0", "/contacts/abc", "/contacts/-1"])
async def test_unknown_contact_is_a_404(sandbox_http: httpx.AsyncClient, path: str) -> None:
    assert await get(sandbox_http, path, 404) == NOT_FOUND


# -- listing and searching ---------------------------------------------------------


async def test_list_defaults_to_30_in_id_order_with_a_string_total(
    sandbox_http: httpx.AsyncClient,
) -> None:
    body = await get(sandbox_http, "/contacts")
    assert set(body) == {"total", "contacts"}
    assert body["total"] == str(SEEDED)
    assert list(body["contacts"]) == [str(n) for n in range(1, 31)]
    assert all(body["contacts"][key]["id"] == int(key) for key in body["contacts"])


async def test_list_pages_with_start_and_limit(sandbox_http: httpx.AsyncClient) -> None:
    body = await get(sandbox_http, "/contacts", start=170, limit=50)
    assert body["total"] == str(SEEDED)
    assert list(body["contacts"]) == [str(n) for n in range(171, 181)]


async def test_empty_result_is_an_empty_object(
    sandbox_http: httpx.AsyncClient, empty_sandbox_http: httpx.AsyncClient
) -> None:
    assert await get(empty_sandbox_http, "/contacts") == {"total": "0", "contacts": {}}
    found = await get(sandbox_http, "/contacts", search="email:nobody@nowhere.test")
    assert found == {"total": "0", "contacts": {}}


async def test_ids_search_fetches_many_in_one_call(sandbox_http: httpx.AsyncClient) -> None:
    ids = list(range(2, 80, 2))
    body = await get(
        sandbox_http, "/contacts", search="ids:" + ",".join(map(str, [*ids, 9999])), limit=100
    )
    assert body["total"] == str(len(ids))
    assert list(body["contacts"]) == [str(n) for n in ids]
    # Without a limit only the default 30 come back, while total counts them all.
    capped = await get(sandbox_http, "/contacts", search="ids:" + ",".join(map(str, ids)))
    assert capped["total"] == str(len(ids))
    assert len(capped["contacts"]) == 30


async def test_where_in_fetches_many_emails_case_insensitively(
    sandbox_http: httpx.AsyncClient,
) -> None:
    stored = await records(sandbox_http)
    wanted = [stored[n] for n in (4, 40, 140)]
    emails = ",".join(value(r, "email").upper() for r in wanted)
    params = {
        "where[0][col]": "email",
        "where[0][expr]": "in",
        "where[0][val]": emails,
        "limit": 10,
    }
    body = await get(sandbox_http, "/contacts", **params)
    assert body["total"] == "3"
    assert list(body["contacts"]) == [str(r["id"]) for r in wanted]


async def test_where_email_in_follows_every_change_of_email(
    sandbox_http: httpx.AsyncClient,
) -> None:
    def by_email(*emails: str, **more: Any) -> dict[str, Any]:
        return {
            "where[0][col]": "email",
            "where[0][expr]": "in",
            "where[0][val]": ",".join(emails),
            **more,
        }

    async def found(**params: Any) -> list[str]:
        return list((await get(sandbox_http, "/contacts", **params))["contacts"])

    old = value(await contact(sandbox_http, 12), "email")
    await call(sandbox_http, "PATCH", "/contacts/12/edit", json={"email": "Moved@Example.TEST"})
    assert await found(**by_email("moved@example.test", old)) == ["12"]
    assert await found(**by_email(old)) == []
    made = await call(sandbox_http, "POST", "/contacts/new", 201, json={"email": "new@x.test"})
    new_id = str(made["contact"]["id"])
    assert await found(**by_email("NEW@x.test", "moved@example.test")) == ["12", new_id]
    # Every other condition still applies to what the email finds.
    also = {"where[1][col]": "id", "where[1][expr]": "gt", "where[1][val]": "12"}
    assert await found(**by_email("new@x.test", "moved@example.test", **also)) == [new_id]
    await call(sandbox_http, "DELETE", "/contacts/12/delete")
    assert await found(**by_email("moved@example.test")) == []


def firstname(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: value(r, "firstname") == name


@pytest.mark.parametrize(
    ("col", "expr", "val", "expected"),
    [
        ("id", "eq", "7", lambda r: r["id"] == 7),
        ("id", "lt", "4", lambda r: r["id"] < 4),
        ("id", "lte", "3", lambda r: r["id"] <= 3),
        ("id", "gt", "177", lambda r: r["id"] > 177),
        ("id", "gte", "178", lambda r: r["id"] >= 178),
        ("id", "in", "5, 9,3", lambda r: r["id"] in (3, 5, 9)),
        ("firstname", "eq", "ADA", firstname("Ada")),
        ("firstname", "neq", "ada", lambda r: value(r, "firstname") != "Ada"),
        ("firstname", "in", "ada,BEN", lambda r: value(r, "firstname") in ("Ada", "Ben")),
        ("firstname", "notIn", "ada,BEN", lambda r: value(r, "firstname") not in ("Ada", "Ben")),
        ("lastname", "lt", "b", lambda r: value(r, "lastname") < "B"),
        ("email", "like", "ada.%", firstname("Ada")),
        ("email", "like", "%.1_@%", lambda r: re.search(r"\.1\d@", value(r, "email"))),
        ("lastname", "like", "_OVE%", lambda r: value(r, "lastname")[1:4] == "ove"),
        # As LIKE, not as a regex: a run of wildcards once took exponential time, and
        # `.` or `(` are plain characters.
        ("email", "like", "%" * 30 + "ada.%", firstname("Ada")),
        ("email", "like", "%a%a%a%a%a%a%a%a%a%a%a%a%a%a%q", lambda r: False),
        ("points", "gte", "100", lambda r: r["points"] >= 100),
        ("phone", "isNull", None, lambda r: True),
        ("phone", "isNotNull", None, lambda r: False),
        ("mobile", "isNull", None, lambda r: False),
        ("date_added", "lt", "2025-01-07 00:00:00", lambda r: r["dateAdded"] < "2025-01-07"),
        ("date_added", "gte", "2025-03-01", lambda r: r["dateAdded"] >= "2025-03-01"),
    ],
)
async def test_where_expressions(
    sandbox_http: httpx.AsyncClient,
    col: str,
    expr: str,
    val: str | None,
    expected: Callable[[dict[str, Any]], bool],
) -> None:
    wanted = [r["id"] for r in await records(sandbox_http) if expected(r)]
    params = {"where[0][col]": col, "where[0][expr]": expr, "limit": 500}
    if val is not None:
        params["where[0][val]"] = val
    body = await get(sandbox_http, "/contacts", **params)
    assert [int(k) for k in body["contacts"]] == wanted
    assert body["total"] == str(len(wanted))
    if expr not in ("isNull", "isNotNull") and not (val or "").endswith("q"):
        assert 0 < len(wanted) < SEEDED


async def test_where_values_with_commas(sandbox_http: httpx.AsyncClient) -> None:
    await call(sandbox_http, "PATCH", "/contacts/9/edit", json={"company": "Acme, Inc."})
    params = {"where[0][col]": "company", "where[0][expr]": "eq", "where[0][val]": "acme, inc."}
    assert list((await get(sandbox_http, "/contacts", **params))["contacts"]) == ["9"]
    listed = [
        ("where[0][col]", "company"),
        ("where[0][expr]", "in"),
        ("where[0][val][]", "Acme, Inc."),
        ("where[0][val][]", "Nobody Ltd"),
    ]
    body = await call(sandbox_http, "GET", "/contacts", params=listed)
    assert list(body["contacts"]) == ["9"]


async def test_where_conditions_combine_with_search(sandbox_http: httpx.AsyncClient) -> None:
    params = {
        "search": "firstname:ada",
        "where[0][col]": "id",
        "where[0][expr]": "gt",
        "where[0][val]": "50",
        "where[1][col]": "id",
        "where[1][expr]": "lt",
        "where[1][val]": "130",
    }
    wanted = [
        str(r["id"])
        for r in await records(sandbox_http)
        if value(r, "firstname") == "Ada" and 50 < r["id"] < 130
    ]
    assert len(wanted) >= 2
    assert list((await get(sandbox_http, "/contacts", **params))["contacts"]) == wanted


async def test_search_commands(sandbox_http: httpx.AsyncClient) -> None:
    stored = await records(sandbox_http)
    target = stored[9]

    async def found(search: str) -> list[int]:
        body = await get(sandbox_http, "/contacts", search=search, limit=500)
        return [int(k) for k in body["contacts"]]

    assert await found("email:" + value(target, "email").upper()) == [target["id"]]
    assert await found("email:" + value(target, "email")[:-2]) == []
    acme = [r["id"] for r in stored if value(r, "company") == "Acme Corp"]
    assert acme
    assert await found('company:"acme corp"') == acme
    assert await found("company:acme") == []
    vip = [r["id"] for r in stored if "vip" in [t["tag"] for t in r["tags"]]]
    assert vip
    assert await found("tag:VIP") == vip
    lovelace = [r["id"] for r in stored if value(r, "lastname") == "Lovelace"]
    assert await found("lastname:LOVE") == lovelace
    assert await found("lovelace") == lovelace
    assert await found("ada lovelace") == [
        i for i in lovelace if value(stored[i - 1], "firstname") == "Ada"
    ]
    # Plain text matches names, email and company, not other fields such as position.
    assert set(await found("stark.test")) == {
        r["id"] for r in stored if value(r, "email").endswith("@stark.test")
    }
    assert await found("engineer") == []


async def test_order_by_snake_case_column(sandbox_http: httpx.AsyncClient) -> None:
    stored = await records(sandbox_http)
    body = await get(sandbox_http, "/contacts", orderBy="lastname", orderByDir="desc", limit=500)
    names = [value(c, "lastname").casefold() for c in body["contacts"].values()]
    assert names == sorted((value(r, "lastname").casefold() for r in stored), reverse=True)
    newest = await get(sandbox_http, "/contacts", orderBy="date_added", orderByDir="DESC", limit=3)
    assert list(newest["contacts"]) == ["180", "179", "178"]
    reverse_ids = await get(sandbox_http, "/contacts", orderByDir="desc", limit=2)
    assert list(reverse_ids["contacts"]) == ["180", "179"]


async def test_minimal_drops_the_lists(sandbox_http: httpx.AsyncClient) -> None:
    body = await get(sandbox_http, "/contacts", minimal="true", limit=1)
    record = body["contacts"]["1"]
    assert set(record["fields"]) == {"all"}
    assert "tags" not in record
    assert value(record, "email") == value(await contact(sandbox_http, 1), "email")


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"limit": "-1"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"start": "abc"}, "start"),
        ({"start": "-5"}, "start"),
        ({"orderBy": "dateAdded"}, "orderBy"),
        ({"orderBy": "nope"}, "orderBy"),
        ({"orderBy": "id", "orderByDir": "sideways"}, "orderByDir"),
        ({"publishedOnly": "maybe"}, "publishedOnly"),
        ({"minimal": "2"}, "minimal"),
        ({"search": "ids:1,two"}, "search"),
        ({"where[0][col]": "id", "where[0][expr]": "between", "where[0][val]": "1"}, "where[0]"),
        ({"where[0][col]": "shoe_size", "where[0][expr]": "eq", "where[0][val]": "1"}, "where[0]"),
        ({"where[0][col]": "id", "where[0][expr]": "eq"}, "where[0]"),
        ({"where[0][col]": "id", "where[0][val]": "1"}, "where[0]"),
        ({"where[0][col]": "id", "where[0][expr]": "eq", "where[0][val]": "x"}, "where[0]"),
        (
            {"where[0][col]": "date_added", "where[0][expr]": "gt", "where[0][val]": "soon"},
            "where[0]",
        ),
        ({"where[0][column]": "id"}, "where"),
        ({"order[0][col]": "nope"}, "order[0]"),
    ],
)
async def test_bad_list_params_are_400(
    sandbox_http: httpx.AsyncClient, params: dict[str, str], detail: str
) -> None:
    assert_error(await get(sandbox_http, "/contacts", 400, **params), 400, detail)


HUGE = "9" * 30


@pytest.mark.parametrize(
    ("method", "path", "options", "status", "detail"),
    [
        ("GET", f"/contacts/{HUGE}", {}, 404, None),
        ("PUT", f"/contacts/{HUGE}/edit", {"json": {"firstname": "X"}}, 404, None),
        ("POST", f"/contacts/1/utm/{HUGE}/remove", {}, 404, None),
        ("POST", f"/contacts/1/points/plus/{HUGE}", {}, 400, "points"),
        ("GET", "/contacts", {"params": {"limit": HUGE}}, 400, "limit"),
        ("GET", "/contacts", {"params": {"search": f"ids:1,{HUGE}"}}, 400, "search"),
        (
            "GET",
            "/contacts",
            {"params": {"where[0][col]": "id", "where[0][expr]": "eq", "where[0][val]": HUGE}},
            400,
            "where[0]",
        ),
        ("DELETE", "/contacts/batch/delete", {"params": {"ids": f"2,{HUGE}"}}, 400, "ids"),
        ("PATCH", "/contacts/1/edit", {"json": {"owner": HUGE}}, 400, "owner"),
        ("POST", "/contacts/1/dnc/email/add", {"json": {"channelId": HUGE}}, 400, "channelId"),
        # Before year 1 once it is read in UTC.
        (
            "PATCH",
            "/contacts/1/edit",
            {"json": {"lastActive": "0001-01-01T00:00:00+01:00"}},
            400,
            "lastActive",
        ),
        (
            "GET",
            "/contacts",
            {
                "params": {
                    "where[0][col]": "date_added",
                    "where[0][expr]": "gt",
                    "where[0][val]": "0001-01-01T00:00:00+05:00",
                }
            },
            400,
            "where[0]",
        ),
        (
            "GET",
            "/contacts/activity",
            {"params": {"filters[dateFrom]": "0001-01-01T00:00:00+05:00"}},
            400,
            "filters[dateFrom]",
        ),
    ],
)
async def test_numbers_and_dates_out_of_range_are_refused_in_the_error_shape(
    sandbox_http: httpx.AsyncClient,
    method: str,
    path: str,
    options: dict[str, Any],
    status: int,
    detail: str | None,
) -> None:
    before = await records(sandbox_http)
    answer = await call(sandbox_http, method, path, status, **options)
    if detail is None:
        assert answer == NOT_FOUND
    else:
        assert_error(answer, status, detail)
    assert await records(sandbox_http) == before


# -- creating ----------------------------------------------------------------------


async def test_create_answers_201_with_the_contact(sandbox_http: httpx.AsyncClient) -> None:
    body = {
        "firstname": " Grace ",
        "lastname": "Hopper",
        "email": "grace@navy.test",
        "mobile": "+1555",
        "tags": ["vip", "new-tag"],
        "owner": 2,
        "ipAddress": "203.0.113.9",
        "lastActive": "2026-01-02 03:04:05",
        "favourite_colour": "blue",
    }
    created = (await call(sandbox_http, "POST", "/contacts/new", 201, json=body))["contact"]
    assert set(created) == CONTACT_KEYS
    assert created["id"] == SEEDED + 1
    assert value(created, "firstname") == "Grace"
    assert value(created, "email") == "grace@navy.test"
    assert "favourite_colour" not in created["fields"]["all"]
    assert [t["tag"] for t in created["tags"]] == ["vip", "new-tag"]
    assert created["owner"]["id"] == 2
    assert list(created["ipAddresses"]) == ["203.0.113.9"]
    assert created["lastActive"] == "2026-01-02T03:04:05+00:00"
    assert ISO.match(created["dateAdded"])
    assert created["dateModified"] is None
    assert created["dateIdentified"] is not None
    assert created["createdByUser"]
    assert await contact(sandbox_http, created["id"]) == created
    assert (await records(sandbox_http))[-1] == created


async def test_create_with_an_existing_email_updates_and_answers_200(
    sandbox_http: httpx.AsyncClient,
) -> None:
    before = await contact(sandbox_http, 5)
    body = {"email": value(before, "email").upper(), "position": "Chief Tester"}
    updated = (await call(sandbox_http, "POST", "/contacts/new", 200, json=body))["contact"]
    assert updated["id"] == 5
    assert value(updated, "position") == "Chief Tester"
    assert value(updated, "email") == value(before, "email").upper()
    assert value(updated, "firstname") == value(before, "firstname")
    assert len(await records(sandbox_http)) == SEEDED


async def test_create_without_email_is_allowed(empty_sandbox_http: httpx.AsyncClient) -> None:
    created = await call(
        empty_sandbox_http, "POST", "/contacts/new", 201, json={"firstname": "Anon"}
    )
    assert created["contact"]["id"] == 1
    again = await call(empty_sandbox_http, "POST", "/contacts/new", 201, json={"firstname": "Anon"})
    assert again["contact"]["id"] == 2


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": 5}, "email"),
        ({"firstname": 5}, "firstname"),
        ({"firstname": {"first": "x"}}, "firstname"),
        ({"firstname": ["x"]}, "firstname"),
        ({"lastname": True}, "lastname"),
        ({"city": "x" * 192}, "city"),
        ({"points": "many"}, "points"),
        ({"points": 1.5}, "points"),
        ({"tags": "vip"}, "tags"),
        ({"tags": [1, 2]}, "tags"),
        ({"tags": ["-"]}, "tags"),
        ({"owner": 999}, "owner"),
        ({"owner": "boss"}, "owner"),
        ({"ipAddress": "999.1.1.1"}, "ipAddress"),
        ({"ipAddress": 12}, "ipAddress"),
        ({"lastActive": "someday"}, "lastActive"),
        ({"lastActive": 1700000000}, "lastActive"),
        ({"overwriteWithBlank": "perhaps"}, "overwriteWithBlank"),
    ],
)
async def test_invalid_write_is_400_keyed_by_field_and_stores_nothing(
    sandbox_http: httpx.AsyncClient, body: dict[str, Any], detail: str
) -> None:
    before = await records(sandbox_http)
    full = {"firstname": "Valid", "email": "valid@example.test", **body}
    answer = await call(sandbox_http, "POST", "/contacts/new", 400, json=full)
    error = assert_error(answer, 400, detail)
    assert error["message"].startswith(f"{detail}: ")
    patched = await call(sandbox_http, "PATCH", "/contacts/1/edit", 400, json=body)
    assert_error(patched, 400, detail)
    assert await records(sandbox_http) == before


# -- editing ----------------------------------------------------------------------------


async def test_patch_updates_given_fields_and_tags(sandbox_http: httpx.AsyncClient) -> None:
    before = await contact(sandbox_http, 2)
    old_tags = [t["tag"] for t in before["tags"]]
    assert len(old_tags) == 2
    body = {"city": "Helsinki", "tags": [f"-{old_tags[0].upper()}", "fresh"], "position": ""}
    after = (await call(sandbox_http, "PATCH", "/contacts/2/edit", json=body))["contact"]
    assert value(after, "city") == "Helsinki"
    assert [t["tag"] for t in after["tags"]] == [old_tags[1], "fresh"]
    # A blank value is skipped unless overwriteWithBlank is true.
    assert value(after, "position") == value(before, "position")
    assert value(after, "firstname") == value(before, "firstname")
    assert ISO.match(after["dateModified"])
    assert after["dateModified"] != before["dateModified"]
    cleared = await call(
        sandbox_http, "PATCH", "/contacts/2/edit", json={"position": "", "overwriteWithBlank": True}
    )
    assert value(cleared["contact"], "position") is None


async def test_tag_ids_are_shared_between_contacts(sandbox_http: httpx.AsyncClient) -> None:
    one = await call(sandbox_http, "PATCH", "/contacts/3/edit", json={"tags": ["Shared-Tag"]})
    two = await call(sandbox_http, "PATCH", "/contacts/5/edit", json={"tags": ["shared-tag"]})
    (tag_one,) = one["contact"]["tags"]
    (tag_two,) = two["contact"]["tags"]
    assert tag_one == tag_two == {"id": tag_one["id"], "tag": "Shared-Tag"}


async def test_patch_missing_is_404_and_put_missing_creates(
    sandbox_http: httpx.AsyncClient,
) -> None:
    assert (
        await call(sandbox_http, "PATCH", "/contacts/5000/edit", 404, json={"firstname": "X"})
        == NOT_FOUND
    )
    assert len(await records(sandbox_http)) == SEEDED
    created = await call(sandbox_http, "PUT", "/contacts/5000/edit", 201, json={"firstname": "X"})
    assert created["contact"]["id"] == SEEDED + 1
    assert value(created["contact"], "firstname") == "X"
    assert len(await records(sandbox_http)) == SEEDED + 1


async def test_put_existing_replaces_the_fields(sandbox_http: httpx.AsyncClient) -> None:
    before = await contact(sandbox_http, 4)
    after = (await call(sandbox_http, "PUT", "/contacts/4/edit", 200, json={"firstname": "Only"}))[
        "contact"
    ]
    assert after["id"] == 4
    assert value(after, "firstname") == "Only"
    assert value(after, "lastname") is None
    assert value(after, "email") is None
    assert after["tags"] == before["tags"]
    assert after["points"] == before["points"]


async def test_edit_cannot_take_another_contacts_email(sandbox_http: httpx.AsyncClient) -> None:
    before = await records(sandbox_http)
    taken = value(before[0], "email").upper()
    for method in ("PATCH", "PUT"):
        answer = await call(sandbox_http, method, "/contacts/2/edit", 400, json={"email": taken})
        assert_error(answer, 400, "email")
    assert await records(sandbox_http) == before
    own = await call(sandbox_http, "PATCH", "/contacts/1/edit", json={"email": taken})
    assert value(own["contact"], "email") == taken


async def test_an_email_belongs_to_whoever_holds_it_after_edits_and_deletes(
    sandbox_http: httpx.AsyncClient,
) -> None:
    emails = {n: value(await contact(sandbox_http, n), "email") for n in (2, 3, 4, 5)}

    async def new(email: str) -> tuple[int, int]:
        response = await sandbox_http.post(
            f"{BASE}/contacts/new", auth=AUTH, json={"email": email, "city": "Oulu"}
        )
        return response.status_code, response.json()["contact"]["id"]

    await call(sandbox_http, "PATCH", "/contacts/2/edit", json={"email": "moved@x.test"})
    assert await new("MOVED@x.test") == (200, 2)
    await call(sandbox_http, "PUT", "/contacts/3/edit", json={"firstname": "Only"})
    blank = {"email": "", "overwriteWithBlank": True}
    await call(sandbox_http, "PATCH", "/contacts/4/edit", json=blank)
    await call(sandbox_http, "DELETE", "/contacts/5/delete")
    # The old emails are free again: each makes a new contact, once.
    for n in (2, 3, 4, 5):
        status, created = await new(emails[n].upper())
        assert (status, created > SEEDED) == (201, True), n
        assert await new(emails[n]) == (200, created)
    assert len(await records(sandbox_http)) == SEEDED + 3


async def test_owner_can_be_set_and_cleared(sandbox_http: httpx.AsyncClient) -> None:
    owned = await call(sandbox_http, "PATCH", "/contacts/4/edit", json={"owner": "3"})
    assert owned["contact"]["owner"]["id"] == 3
    cleared = await call(sandbox_http, "PATCH", "/contacts/4/edit", json={"owner": None})
    assert cleared["contact"]["owner"] is None


# -- batches ------------------------------------------------------------------------------


async def test_batch_new_reports_each_item(sandbox_http: httpx.AsyncClient) -> None:
    existing = await contact(sandbox_http, 7)
    items = [
        {"firstname": "New", "email": "new@batch.test"},
        {"email": value(existing, "email"), "city": "Oulu"},
        {"email": "broken"},
        "not an object",
        {"firstname": "Second", "email": "NEW@batch.test"},
    ]
    body = await call(sandbox_http, "POST", "/contacts/batch/new", 201, json=items)
    assert set(body) == {"contacts", "statusCodes", "errors"}
    assert body["statusCodes"] == [201, 200, 400, 400, 200]
    assert set(body["errors"]) == {"2", "3"}
    assert body["errors"]["2"]["code"] == 400
    assert set(body["errors"]["2"]["details"]) == {"email"}
    assert [c["id"] for c in body["contacts"]] == [SEEDED + 1, 7, SEEDED + 1]
    assert value(body["contacts"][1], "city") == "Oulu"
    assert value(body["contacts"][2], "firstname") == "Second"
    assert len(await records(sandbox_http)) == SEEDED + 1


async def test_batch_over_200_is_refused_whole(sandbox_http: httpx.AsyncClient) -> None:
    items = [{"email": f"bulk{n}@batch.test"} for n in range(201)]
    answer = await call(sandbox_http, "POST", "/contacts/batch/new", 400, json=items)
    error = assert_error(answer, 400)
    assert error["message"] == "A max of 200 entities are supported at a time."
    assert len(await records(sandbox_http)) == SEEDED
    for method in ("PATCH", "PUT"):
        edits = [{"id": n, "city": "X"} for n in range(1, 202)]
        assert_error(await call(sandbox_http, method, "/contacts/batch/edit", 400, json=edits), 400)
    assert all(value(r, "city") is None for r in await records(sandbox_http))
    ok = await call(sandbox_http, "POST", "/contacts/batch/new", 201, json=items[:200])
    assert ok["statusCodes"] == [201] * 200


async def test_batch_new_needs_an_array(sandbox_http: httpx.AsyncClient) -> None:
    answer = await call(
        sandbox_http, "POST", "/contacts/batch/new", 400, json={"email": "x@y.test"}
    )
    assert_error(answer, 400)


async def test_batch_patch_edits_by_id(sandbox_http: httpx.AsyncClient) -> None:
    items = [
        {"id": 1, "city": "Turku"},
        {"id": 9999, "city": "Nowhere"},
        {"city": "No id"},
        {"id": "2", "tags": ["x"]},
    ]
    body = await call(sandbox_http, "PATCH", "/contacts/batch/edit", 200, json=items)
    assert body["statusCodes"] == [200, 404, 400, 200]
    assert body["errors"]["1"] == NOT_FOUND["errors"][0]
    assert set(body["errors"]["2"]["details"]) == {"id"}
    assert [c["id"] for c in body["contacts"]] == [1, 2]
    assert value(await contact(sandbox_http, 1), "city") == "Turku"
    assert len(await records(sandbox_http)) == SEEDED


async def test_batch_put_creates_missing_and_replaces_existing(
    sandbox_http: httpx.AsyncClient,
) -> None:
    items = [{"id": 3, "firstname": "Replaced"}, {"id": 9999, "firstname": "Made"}]
    body = await call(sandbox_http, "PUT", "/contacts/batch/edit", 200, json=items)
    assert body["statusCodes"] == [200, 201]
    assert body["errors"] == {}
    replaced, made = body["contacts"]
    assert (replaced["id"], value(replaced, "firstname"), value(replaced, "email")) == (
        3,
        "Replaced",
        None,
    )
    assert (made["id"], value(made, "firstname")) == (SEEDED + 1, "Made")


# -- deleting ---------------------------------------------------------------------------


async def test_delete_answers_the_deleted_contact(sandbox_http: httpx.AsyncClient) -> None:
    before = await contact(sandbox_http, 1)
    assert (await get(sandbox_http, "/contacts/1/activity"))["total"] > 0
    deleted = await call(sandbox_http, "DELETE", "/contacts/1/delete")
    assert deleted == {"contact": before}
    assert await get(sandbox_http, "/contacts/1", 404) == NOT_FOUND
    assert all(
        e["contactId"] != 1
        for e in (await get(sandbox_http, "/contacts/activity", limit=1000))["events"]
    )
    assert await call(sandbox_http, "DELETE", "/contacts/1/delete", 404) == NOT_FOUND
    assert len(await records(sandbox_http)) == SEEDED - 1


async def test_batch_delete(sandbox_http: httpx.AsyncClient) -> None:
    body = await call(sandbox_http, "DELETE", "/contacts/batch/delete", params={"ids": "2,3,9999"})
    assert [c["id"] for c in body["contacts"]] == [2, 3]
    assert body["errors"] == {"2": NOT_FOUND["errors"][0]}
    remaining = {r["id"] for r in await records(sandbox_http)}
    assert not remaining & {2, 3}
    assert len(remaining) == SEEDED - 2


@pytest.mark.parametrize(
    "params", [{}, {"ids": ""}, {"ids": "1,abc"}, {"ids": ",".join(map(str, range(1, 202)))}]
)
async def test_batch_delete_bad_ids_is_400(
    sandbox_http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    assert_error(
        await call(sandbox_http, "DELETE", "/contacts/batch/delete", 400, params=params), 400
    )
    assert len(await records(sandbox_http)) == SEEDED


# -- do not contact, UTM tags, points ------------------------------------------------------


async def test_dnc_add_and_remove(sandbox_http: httpx.AsyncClient) -> None:
    added = await call(sandbox_http, "POST", "/contacts/3/dnc/email/add")
    (entry,) = added["contact"]["doNotContact"]
    assert (entry["channel"], entry["reason"], entry["comments"]) == ("email", 3, None)
    assert ISO.match(entry["dateAdded"])
    sms = await call(
        sandbox_http,
        "POST",
        "/contacts/3/dnc/sms/add",
        json={"reason": 1, "comments": "Asked by phone", "channelId": 12},
    )
    by_channel = {d["channel"]: d for d in sms["contact"]["doNotContact"]}
    assert (by_channel["sms"]["reason"], by_channel["sms"]["comments"]) == (1, "Asked by phone")
    assert by_channel["sms"]["channelId"] == 12
    removed = await call(sandbox_http, "POST", "/contacts/3/dnc/email/remove")
    assert [d["channel"] for d in removed["contact"]["doNotContact"]] == ["sms"]
    assert (await contact(sandbox_http, 3))["doNotContact"] == removed["contact"]["doNotContact"]


async def test_dnc_refusals(sandbox_http: httpx.AsyncClient) -> None:
    assert await call(sandbox_http, "POST", "/contacts/9999/dnc/email/add", 404) == NOT_FOUND
    bad = await call(sandbox_http, "POST", "/contacts/3/dnc/email/add", 400, json={"reason": 7})
    assert_error(bad, 400, "reason")
    bad = await call(sandbox_http, "POST", "/contacts/3/dnc/email/add", 400, json={"comments": 5})
    assert_error(bad, 400, "comments")
    assert (await contact(sandbox_http, 3))["doNotContact"] == []


async def test_utm_add_and_remove(sandbox_http: httpx.AsyncClient) -> None:
    agent = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"
    body = {
        "utm_campaign": "spring",
        "utm_source": "newsletter",
        "useragent": agent,
        "query": "a=1&b=2",
        "lastActive": "2026-02-03T04:05:06+00:00",
    }
    added = (await call(sandbox_http, "POST", "/contacts/3/utm/add", json=body))["contact"]
    (utm,) = added["utmtags"]
    assert (utm["utmCampaign"], utm["utmSource"], utm["utmMedium"]) == (
        "spring",
        "newsletter",
        None,
    )
    assert utm["query"] == {"a": "1", "b": "2"}
    assert added["lastActive"] == "2026-02-03T04:05:06+00:00"
    devices = await get(sandbox_http, "/contacts/3/devices")
    assert any(
        d["device"] == "smartphone" and d["deviceOsName"] == "Android" for d in devices["devices"]
    )
    assert (
        await call(sandbox_http, "POST", f"/contacts/3/utm/{utm['id'] + 1000}/remove", 404)
        == NOT_FOUND
    )
    removed = await call(sandbox_http, "POST", f"/contacts/3/utm/{utm['id']}/remove")
    assert removed["contact"]["utmtags"] == []


async def test_utm_add_needs_parameters(sandbox_http: httpx.AsyncClient) -> None:
    assert_error(await call(sandbox_http, "POST", "/contacts/3/utm/add", 400, json={}), 400)
    assert_error(
        await call(sandbox_http, "POST", "/contacts/3/utm/add", 400, json={"utm_source": 3}),
        400,
        "utm_source",
    )
    assert (await contact(sandbox_http, 3))["utmtags"] == []


async def test_points_plus_and_minus(sandbox_http: httpx.AsyncClient) -> None:
    start = (await contact(sandbox_http, 6))["points"]
    assert await call(sandbox_http, "POST", "/contacts/6/points/plus/15") == {"success": True}
    answer = await call(
        sandbox_http,
        "POST",
        "/contacts/6/points/minus/4",
        json={"eventname": "API", "actionname": "Sub"},
    )
    assert answer == {"success": True}
    after = await contact(sandbox_http, 6)
    assert after["points"] == start + 11
    assert value(after, "points") == start + 11
    assert await call(sandbox_http, "POST", "/contacts/9999/points/plus/1", 404) == NOT_FOUND
    assert_error(
        await call(sandbox_http, "POST", "/contacts/6/points/plus/lots", 400), 400, "points"
    )
    assert_error(await call(sandbox_http, "POST", "/contacts/6/points/plus/-3", 400), 400, "points")
    assert (await contact(sandbox_http, 6))["points"] == start + 11


async def test_points_stay_within_a_32_bit_column(sandbox_http: httpx.AsyncClient) -> None:
    top = 2**31 - 1
    at_top = await call(sandbox_http, "PATCH", "/contacts/6/edit", json={"points": top})
    assert at_top["contact"]["points"] == top
    before = await records(sandbox_http)
    over = await call(sandbox_http, "POST", "/contacts/6/points/plus/1", 400)
    assert_error(over, 400, "points")
    too_big = await call(sandbox_http, "PATCH", "/contacts/6/edit", 400, json={"points": top + 1})
    assert_error(too_big, 400, "points")
    too_small = await call(
        sandbox_http,
        "POST",
        "/contacts/new",
        400,
        json={"email": "low@x.test", "points": "-2147483649"},
    )
    assert_error(too_small, 400, "points")
    assert await records(sandbox_http) == before
    assert await call(sandbox_http, "POST", f"/contacts/6/points/minus/{top}") == {"success": True}
    assert (await contact(sandbox_http, 6))["points"] == 0


# -- owners, fields, notes, segments, automations, companies, devices ---------------------------


async def test_list_owners_and_fields(empty_sandbox_http: httpx.AsyncClient) -> None:
    owners = await get(empty_sandbox_http, "/contacts/list/owners")
    assert isinstance(owners, list)
    assert len(owners) >= 2
    assert all(set(o) == {"id", "firstName", "lastName"} for o in owners)
    fields = await get(empty_sandbox_http, "/contacts/list/fields")
    assert all(
        set(f) == {"id", "label", "alias", "type", "group", "order"} for f in fields.values()
    )
    assert all(key == str(f["id"]) for key, f in fields.items())
    aliases = {f["alias"] for f in fields.values()}
    assert aliases >= CORE
    assert {"twitter", "linkedin"} <= aliases
    assert {f["group"] for f in fields.values()} == {"core", "social"}


async def test_notes_shape_order_and_search(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    people = sandbox.data.in_provider("adaptix")
    contact_id = next(n for n, p in enumerate(people, start=1) if len(p.notes) == 2)
    body = await get(sandbox_http, f"/contacts/{contact_id}/notes")
    assert body["total"] == 2
    assert all(set(n) == {"id", "text", "type", "dateTime"} for n in body["notes"])
    stamps = [n["dateTime"] for n in body["notes"]]
    assert stamps == sorted(stamps, reverse=True)
    assert {n["text"] for n in body["notes"]} == {n.text for n in people[contact_id - 1].notes}
    oldest_first = await get(
        sandbox_http, f"/contacts/{contact_id}/notes", orderBy="dateTime", orderByDir="asc"
    )
    assert oldest_first["notes"] == body["notes"][::-1]
    one = await get(sandbox_http, f"/contacts/{contact_id}/notes", limit=1, start=1)
    assert (one["total"], one["notes"]) == (2, body["notes"][1:])
    word = body["notes"][0]["text"].split(":")[0]
    searched = await get(sandbox_http, f"/contacts/{contact_id}/notes", search=word.upper())
    assert body["notes"][0] in searched["notes"]
    assert_error(
        await get(sandbox_http, f"/contacts/{contact_id}/notes", 400, orderBy="nope"),
        400,
        "orderBy",
    )
    assert await get(sandbox_http, "/contacts/9999/notes", 404) == NOT_FOUND


async def test_segments_and_automations(sandbox: Sandbox, sandbox_http: httpx.AsyncClient) -> None:
    assert sandbox.data is not None
    people = sandbox.data.in_provider("adaptix")
    member = next(n for n, p in enumerate(people, start=1) if {1, 2} <= set(p.segments))
    body = await get(sandbox_http, f"/contacts/{member}/segments")
    assert body["total"] == len(people[member - 1].segments)
    assert list(body["lists"]) == [str(s) for s in people[member - 1].segments]
    segment = body["lists"]["1"]
    assert set(segment) == {"id", "name", "alias", "dateAdded", "manuallyAdded", "manuallyRemoved"}
    assert (segment["id"], segment["alias"]) == (1, "newsletter-subscribers")
    automations = await get(sandbox_http, f"/contacts/{member}/automations")
    assert automations["total"] == 2
    first = automations["automations"]["1"]
    assert set(first) == {
        "id",
        "name",
        "dateAdded",
        "manuallyAdded",
        "manuallyRemoved",
        "listMembership",
    }
    assert first["listMembership"] == [1]
    loner = next(n for n, p in enumerate(people, start=1) if not p.segments)
    assert await get(sandbox_http, f"/contacts/{loner}/segments") == {"total": 0, "lists": {}}
    assert await get(sandbox_http, f"/contacts/{loner}/automations") == {
        "total": 0,
        "automations": {},
    }
    assert await get(sandbox_http, "/contacts/9999/segments", 404) == NOT_FOUND


async def test_companies_follow_the_company_field(sandbox_http: httpx.AsyncClient) -> None:
    before = await get(sandbox_http, "/contacts/1/companies")
    (first,) = before["companies"]
    assert set(first) == {
        "company_id",
        "date_associated",
        "date_added",
        "is_primary",
        "companyname",
        "companyemail",
        "companycity",
        "score",
    }
    assert (first["companyname"], first["is_primary"]) == (
        value(await contact(sandbox_http, 1), "company"),
        True,
    )
    await call(sandbox_http, "PATCH", "/contacts/1/edit", json={"company": "Brand New Oy"})
    after = await get(sandbox_http, "/contacts/1/companies")
    assert after["total"] == 2
    assert [(c["companyname"], c["is_primary"]) for c in after["companies"]] == [
        (first["companyname"], False),
        ("Brand New Oy", True),
    ]


async def test_devices_shape(sandbox_http: httpx.AsyncClient) -> None:
    body = await get(sandbox_http, "/contacts/1/devices")
    assert body["total"] == len(body["devices"]) == 1
    assert set(body["devices"][0]) == {
        "id",
        "clientInfo",
        "device",
        "deviceOsName",
        "deviceOsShortName",
        "deviceOsPlatform",
    }
    assert await get(sandbox_http, "/contacts/9999/devices", 404) == NOT_FOUND
    assert await get(sandbox_http, "/contacts/9999/companies", 404) == NOT_FOUND


# -- activity -------------------------------------------------------------------------------


async def test_contact_activity_shape_and_order(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    people = sandbox.data.in_provider("adaptix")
    contact_id = next(n for n, p in enumerate(people, start=1) if len(p.events) >= 4)
    body = await get(sandbox_http, f"/contacts/{contact_id}/activity")
    assert set(body) == {
        "events",
        "filters",
        "order",
        "types",
        "total",
        "page",
        "limit",
        "maxPages",
    }
    events = body["events"]
    assert body["total"] == len(events) == len(people[contact_id - 1].events)
    assert (body["page"], body["limit"], body["maxPages"]) == (1, 25, 1)
    assert body["order"] == ["timestamp", "DESC"]
    assert all(set(e) == EVENT_KEYS for e in events)
    assert all(e["contactId"] == contact_id for e in events)
    assert all(ISO.match(e["timestamp"]) for e in events)
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    assert {"page.hit", "email.read"} <= set(body["types"])
    ascending = await get(
        sandbox_http,
        f"/contacts/{contact_id}/activity",
        **{"order[0]": "timestamp", "order[1]": "ASC"},
    )
    assert ascending["events"] == events[::-1]
    # The deprecated path answers the same.
    assert await get(sandbox_http, f"/contacts/{contact_id}/events") == body


async def test_activity_filters_and_pages(sandbox_http: httpx.AsyncClient) -> None:
    everything = await get(sandbox_http, "/contacts/activity", limit=10000)
    events = everything["events"]
    assert everything["total"] == len(events) > 100
    assert len({e["eventId"] for e in events}) == len(events)
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps, reverse=True)

    default = await get(sandbox_http, "/contacts/activity")
    assert default["events"] == events[:25]
    assert default["maxPages"] == -(-len(events) // 25)
    second = await get(sandbox_http, "/contacts/activity", page=2, limit=7)
    assert second["events"] == events[7:14]
    assert (second["page"], second["limit"]) == (2, 7)

    hits = await get(
        sandbox_http, "/contacts/activity", limit=10000, **{"filters[includeEvents][]": "page.hit"}
    )
    assert hits["total"] == sum(e["event"] == "page.hit" for e in events)
    assert {e["event"] for e in hits["events"]} == {"page.hit"}
    params = [
        ("filters[excludeEvents][]", "page.hit"),
        ("filters[excludeEvents][]", "email.read"),
        ("limit", "10000"),
    ]
    rest = await call(sandbox_http, "GET", "/contacts/activity", params=params)
    assert rest["filters"]["excludeEvents"] == ["page.hit", "email.read"]
    assert rest["total"] == sum(e["event"] not in ("page.hit", "email.read") for e in events)

    window = {
        "filters[dateFrom]": "2025-02-01 00:00:00",
        "filters[dateTo]": "2025-02-28",
        "limit": 10000,
    }
    february = await get(sandbox_http, "/contacts/activity", **window)
    assert february["total"] == sum(e["timestamp"].startswith("2025-02") for e in events) > 0
    assert february["filters"]["dateFrom"] == "2025-02-01T00:00:00+00:00"

    with_url = [e for e in events if e["details"]]
    url = with_url[0]["details"]["url"]
    searched = await get(sandbox_http, "/contacts/activity", **{"filters[search]": url.upper()})
    assert with_url[0] in searched["events"]


async def test_a_contacts_activity_takes_date_bounds_to_the_second(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    people = sandbox.data.in_provider("adaptix")
    contact_id = next(n for n, p in enumerate(people, start=1) if len(p.events) >= 4)
    events = (await get(sandbox_http, f"/contacts/{contact_id}/activity"))["events"]
    stamps = sorted(datetime.fromisoformat(e["timestamp"]) for e in events)
    low, high = stamps[1], stamps[-2]
    bounds = {
        "filters[dateFrom]": f"{low:%Y-%m-%d %H:%M:%S}",
        "filters[dateTo]": f"{high:%Y-%m-%d %H:%M:%S}",
    }
    bounded = await get(sandbox_http, f"/contacts/{contact_id}/activity", **bounds)
    # Both bounds are inclusive, to the second; other contacts' events stay out.
    assert bounded["total"] == sum(low <= s <= high for s in stamps) == len(stamps) - 2
    assert {e["contactId"] for e in bounded["events"]} == {contact_id}
    assert bounded["filters"]["dateTo"] == high.isoformat()


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "x"},
        {"limit": "-1"},
        {"filters[dateFrom]": "last week"},
        {"filters[dateTo]": "2025-13-01"},
        {"orderBy": "mood"},
        {"order[0]": "timestamp", "order[1]": "UP"},
    ],
)
async def test_bad_activity_params_are_400(
    sandbox_http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    assert_error(await get(sandbox_http, "/contacts/activity", 400, **params), 400)
    assert_error(await get(sandbox_http, "/contacts/1/activity", 400, **params), 400)


async def test_activity_for_a_missing_contact_is_404(sandbox_http: httpx.AsyncClient) -> None:
    assert await get(sandbox_http, "/contacts/9999/activity", 404) == NOT_FOUND
    assert await get(sandbox_http, "/contacts/9999/events", 404) == NOT_FOUND


# -- rate limit, stats (auth, bodies and limits: test_contract.py) -------------------------


async def test_rate_limit_set_through_controls(sandbox_http: httpx.AsyncClient) -> None:
    set_limit = await sandbox_http.post(
        "/adaptix/_sandbox/controls", json={"rate_limit": {"requests": 1, "per_seconds": 60}}
    )
    assert set_limit.status_code == 200
    await get(sandbox_http, "/contacts/list/owners")
    refused = await sandbox_http.post(
        f"{BASE}/contacts/new", auth=AUTH, json={"email": "late@x.test"}
    )
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    # 1 a minute is 60 an hour.
    assert (
        refused.json()["errors"][0]["message"]
        == "You exceeded the rate limit of 60 API calls per hour."
    )
    assert len(await records(sandbox_http)) == SEEDED


async def test_stats_label_requests_by_path_template(sandbox_http: httpx.AsyncClient) -> None:
    await sandbox_http.post("/adaptix/_sandbox/reset")
    await get(sandbox_http, "/contacts/activity")
    await get(sandbox_http, "/contacts/list/owners")
    await get(sandbox_http, "/contacts/list/fields")
    await get(sandbox_http, "/contacts/5")
    await get(sandbox_http, "/contacts/6")
    await get(sandbox_http, "/contacts/5/activity")
    await call(sandbox_http, "PATCH", "/contacts/batch/edit", json=[{"id": 5, "city": "X"}])
    await call(sandbox_http, "PATCH", "/contacts/5/edit", json={"city": "Y"})
    await call(sandbox_http, "DELETE", "/contacts/batch/delete", params={"ids": "7"})
    await call(sandbox_http, "DELETE", "/contacts/8/delete")
    await call(sandbox_http, "POST", "/contacts/5/dnc/email/add")
    stats = (await sandbox_http.get("/adaptix/_sandbox/stats")).json()
    assert stats == {
        "total": 11,
        "requests": {
            "GET /api/contacts/activity": 1,
            "GET /api/contacts/list/owners": 1,
            "GET /api/contacts/list/fields": 1,
            "GET /api/contacts/{id}": 2,
            "GET /api/contacts/{id}/activity": 1,
            "PATCH /api/contacts/batch/edit": 1,
            "PATCH /api/contacts/{id}/edit": 1,
            "DELETE /api/contacts/batch/delete": 1,
            "DELETE /api/contacts/{id}/delete": 1,
            "POST /api/contacts/{id}/dnc/{channel}/add": 1,
        },
    }


@pytest.mark.e2e
def test_served_over_a_real_socket(sandbox: Sandbox) -> None:
    with serve_in_thread(sandbox.app) as base, httpx.Client(base_url=base, timeout=5) as client:
        response = client.get("/adaptix/api/contacts/1", auth=(ADAPTIX_USERNAME, ADAPTIX_PASSWORD))
        assert response.status_code == 200
        assert response.json()["contact"]["id"] == 1
        listed = client.get(
            "/adaptix/api/contacts", params={"search": "ids:1,2", "limit": 5}, auth=AUTH
        )
        assert listed.json()["total"] == "2"
        assert client.get("/adaptix/api/contacts/1").status_code == 401
