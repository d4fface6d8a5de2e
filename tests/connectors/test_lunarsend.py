from __future__ import annotations

import asyncio
from datetime import UTC
from functools import partial
from typing import Any

import httpx
import pytest

from connectors.errors import AuthError, RateLimited
from connectors.lunarsend.client import NEEDS_FIRST_NAME, LunarSendConnector
from connectors.lunarsend.mapping import EDIT_ONLY_MESSAGE, NAME_SPLIT_MESSAGE
from connectors.settings import RateLimit, RetryPolicy, Secret
from gateway.domain.records import ContactRecord, ContactWrite, Provider, SearchField, WriteStatus
from sandbox import credentials
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from sandbox.emulator import RateLimit as EmulatorRateLimit
from tests.connectors import support
from tests.connectors.support import Script, scripted
from tests.support import SANDBOX_URL, InFlight, sandbox_settings

SEARCH = "GET /api/contacts"
CREATE = "POST /api/contacts"
EDIT = "POST /api/contacts/edit"
DELETE = "DELETE /api/contacts"
UNKNOWN_ID = "00000000000000000000"


@pytest.fixture
def lunarsend(sandbox_http: httpx.AsyncClient) -> LunarSendConnector:
    return LunarSendConnector(sandbox_http, sandbox_settings(Provider.LUNARSEND))


stored = partial(support.records, provider=Provider.LUNARSEND)
calls = partial(support.calls, provider=Provider.LUNARSEND)
reset = partial(support.reset, provider=Provider.LUNARSEND)


async def stored_by_id(http: httpx.AsyncClient, remote_id: str) -> dict[str, Any]:
    [record] = [r for r in await stored(http) if r["id"] == remote_id]
    return record


# -- writes ---------------------------------------------------------------------


async def test_new_email_is_created_and_reads_back(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    await reset(sandbox_http)

    result = await lunarsend.upsert(
        ContactWrite(
            email="nora@example.test",
            first_name="Nora",
            last_name="Quist",
            phones=("+358401111111", "+358402222222"),
            company="Quist Oy",
            job_title="CEO",
            external_id="usr-1",
            account_external_id="acct-1",
            tags=("vip",),
            custom_fields={"plan": "gold"},
        )
    )

    assert result.status is WriteStatus.CREATED
    assert result.remote_id is not None
    assert len(result.remote_id) == 20
    assert result.remote_id.isdigit()
    assert result.dropped_fields == (
        "phones[1]",
        "external_id",
        "account_external_id",
        "tags",
        "custom_fields",
    )
    assert await calls(sandbox_http) == {SEARCH: 1, CREATE: 1}
    record = await stored_by_id(sandbox_http, result.remote_id)
    assert {k: record[k] for k in ("first_name", "last_name", "email", "phone")} == {
        "first_name": "Nora",
        "last_name": "Quist",
        "email": "nora@example.test",
        "phone": "+358401111111",
    }
    assert (record["company"], record["job_title"], record["notes"]) == ("Quist Oy", "CEO", None)
    contact = (await lunarsend.fetch_by_ids([result.remote_id]))[result.remote_id]
    assert (contact.first_name, contact.last_name, contact.name) == ("Nora", "Quist", "Nora Quist")
    assert contact.phones == ["+358401111111"]
    assert (contact.company, contact.job_title) == ("Quist Oy", "CEO")
    assert contact.inline_activity == []


async def test_create_without_a_first_name_is_skipped(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    await reset(sandbox_http)

    result = await lunarsend.upsert(ContactWrite(email="nameless@example.test", company="X"))

    assert result.status is WriteStatus.SKIPPED
    assert result.message == NEEDS_FIRST_NAME
    assert await calls(sandbox_http) == {SEARCH: 1}


async def test_upsert_without_email_is_skipped_without_a_call(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    await reset(sandbox_http)

    result = await lunarsend.upsert(ContactWrite(first_name="Nobody"))

    assert result.status is WriteStatus.SKIPPED
    assert await calls(sandbox_http) == {}


async def test_existing_email_is_edited_and_non_editable_fields_reported_dropped(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    before = next(r for r in await stored(sandbox_http) if r["job_title"] and r["company"])
    await reset(sandbox_http)

    result = await lunarsend.upsert(
        ContactWrite(
            email=before["email"],
            last_name="Newlast",
            phones=("+15550001",),
            company="Another Company",
            job_title="Astronaut",
            tags=("vip",),
        )
    )

    assert result.status is WriteStatus.UPDATED
    assert result.remote_id == before["id"]
    assert result.dropped_fields == ("company", "job_title", "tags")
    assert result.message == EDIT_ONLY_MESSAGE
    assert await calls(sandbox_http) == {SEARCH: 1, EDIT: 1}
    after = await stored_by_id(sandbox_http, before["id"])
    # The first name is kept from the stored record: the edit sends a full name.
    assert (after["first_name"], after["last_name"]) == (before["first_name"], "Newlast")
    assert after["phone"] == "+15550001"
    assert (after["company"], after["job_title"]) == (before["company"], before["job_title"])
    assert after["email"] == before["email"]


async def test_email_recased_on_an_existing_contact_is_edited(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    before = (await stored(sandbox_http))[0]

    result = await lunarsend.upsert(ContactWrite(email=before["email"].upper()))

    assert result.status is WriteStatus.UPDATED
    assert (await stored_by_id(sandbox_http, before["id"]))["email"] == before["email"].upper()


async def test_only_non_editable_fields_for_an_existing_contact_is_skipped(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    before = (await stored(sandbox_http))[0]
    await reset(sandbox_http)

    result = await lunarsend.upsert(
        ContactWrite(email=before["email"], company="Elsewhere", job_title="Chef")
    )

    assert result.status is WriteStatus.SKIPPED
    assert result.message == EDIT_ONLY_MESSAGE
    assert result.dropped_fields == ("company", "job_title")
    assert await calls(sandbox_http) == {SEARCH: 1}
    assert await stored_by_id(sandbox_http, before["id"]) == before


async def test_a_first_name_lunar_send_would_split_is_not_sent(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    # Lunar Send edits a name as one text split at its first space: "Mary Ann Quist"
    # would be stored as "Mary" and "Ann Quist".
    before = (await stored(sandbox_http))[0]
    await reset(sandbox_http)

    alone = await lunarsend.upsert(ContactWrite(email=before["email"], first_name="Mary Ann"))
    with_phone = await lunarsend.upsert(
        ContactWrite(email=before["email"], first_name="Mary Ann", phones=("+15550002",))
    )

    assert alone.status is WriteStatus.SKIPPED
    assert alone.dropped_fields == ("first_name",)
    assert alone.message == NAME_SPLIT_MESSAGE
    assert with_phone.status is WriteStatus.UPDATED
    assert with_phone.dropped_fields == ("first_name",)
    assert with_phone.message == NAME_SPLIT_MESSAGE
    assert await calls(sandbox_http) == {SEARCH: 2, EDIT: 1}
    after = await stored_by_id(sandbox_http, before["id"])
    assert (after["first_name"], after["last_name"]) == (before["first_name"], before["last_name"])
    assert after["phone"] == "+15550002"


async def test_a_last_name_with_spaces_is_edited(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    before = (await stored(sandbox_http))[0]

    result = await lunarsend.upsert(ContactWrite(email=before["email"], last_name="van Dyke"))

    assert result.status is WriteStatus.UPDATED
    assert result.dropped_fields == ()
    after = await stored_by_id(sandbox_http, before["id"])
    assert (after["first_name"], after["last_name"]) == (before["first_name"], "van Dyke")


async def test_a_create_raced_by_another_writer_edits_what_it_created(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    asgi = httpx.ASGITransport(app=sandbox.app)
    raced = False

    async def handler(request: httpx.Request) -> httpx.Response:
        # Another client creates the same email between our search and our create.
        nonlocal raced
        if request.method == "POST" and request.url.path.endswith("/api/contacts") and not raced:
            raced = True
            await sandbox_http.post(
                "/lunarsend/api/contacts",
                json={"first_name": "Quick", "email": "race@example.test"},
                headers={"x-api-key": credentials.LUNARSEND_API_KEY},
            )
        return await asgi.handle_async_request(request)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url=SANDBOX_URL
    ) as client:
        lunarsend = LunarSendConnector(client, sandbox_settings(Provider.LUNARSEND))
        result = await lunarsend.upsert(ContactWrite(email="race@example.test", first_name="Slow"))

    # The contact is there (the other writer made it): this write is an edit of it.
    assert result.status is WriteStatus.UPDATED
    kept = [r for r in await stored(sandbox_http) if r["email"] == "race@example.test"]
    assert len(kept) == 1
    assert kept[0]["first_name"] == "Slow"


async def test_delete_handles_the_string_answer(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    record = (await stored(sandbox_http))[5]
    contact = (await lunarsend.fetch_by_ids([record["id"]]))[record["id"]]

    deleted = await lunarsend.delete(contact)
    again = await lunarsend.delete(contact)

    assert deleted.status is WriteStatus.DELETED
    assert (deleted.remote_id, deleted.message) == (record["id"], None)
    assert record["id"] not in {r["id"] for r in await stored(sandbox_http)}
    assert again.status is WriteStatus.FAILED
    assert again.message == "not found"


# -- reads ----------------------------------------------------------------------


async def test_record_mapping_with_notes_as_inline_activity(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    records = await stored(sandbox_http)
    with_notes = next(r for r in records if r["notes"])
    without = next(r for r in records if not r["notes"])

    found = await lunarsend.fetch_by_ids([with_notes["id"], without["id"]])

    contact = found[with_notes["id"]]
    assert contact.email == with_notes["email"]
    assert contact.emails == [with_notes["email"]]
    assert (contact.first_name, contact.last_name) == (
        with_notes["first_name"],
        with_notes["last_name"],
    )
    assert contact.phones == [with_notes["phone"]]
    assert contact.company == with_notes["company"]
    assert contact.created_at is not None
    assert contact.created_at.tzinfo is UTC
    assert (
        contact.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z" == with_notes["created_at"]
    )
    assert contact.raw == with_notes
    [note] = contact.inline_activity
    assert (note.kind, note.type, note.label) == ("note", "note", None)
    assert note.contact_remote_id == with_notes["id"]
    assert note.timestamp == contact.created_at
    assert note.details == {"text": with_notes["notes"]}
    assert found[without["id"]].inline_activity == []


async def test_one_search_per_id(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    ids = [r["id"] for r in (await stored(sandbox_http))[:3]]
    await reset(sandbox_http)

    found = await lunarsend.fetch_by_ids([*ids, ids[0], UNKNOWN_ID])

    assert set(found) == set(ids)
    assert all(found[i].remote_id == i for i in ids)
    assert await calls(sandbox_http) == {SEARCH: 4}


async def test_one_search_per_email_keyed_by_normalized_email(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    emails = [r["email"] for r in (await stored(sandbox_http))[:3]]
    await reset(sandbox_http)

    found = await lunarsend.fetch_by_emails(
        [emails[0].upper(), f" {emails[1]} ", emails[2], emails[0], "missing@example.test"]
    )

    assert set(found) == {e.lower() for e in emails}
    assert found[emails[0].lower()].email == emails[0]
    assert await calls(sandbox_http) == {SEARCH: 4}


async def test_search_by_company_is_one_case_insensitive_call(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    records = await stored(sandbox_http)
    company = records[0]["company"]
    expected = {r["id"] for r in records if (r["company"] or "").casefold() == company.casefold()}
    await reset(sandbox_http)

    found = await lunarsend.search(SearchField.COMPANY, company.upper())

    assert {c.remote_id for c in found} == expected
    assert await calls(sandbox_http) == {SEARCH: 1}


async def test_search_by_email(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    record = (await stored(sandbox_http))[2]

    [contact] = await lunarsend.search(SearchField.EMAIL, record["email"].upper())

    assert contact.remote_id == record["id"]


def test_searches_only_by_email_and_company(lunarsend: LunarSendConnector) -> None:
    # Lunar Send matches one field's value exactly: no text or tag search.
    assert lunarsend.search_fields == {SearchField.EMAIL, SearchField.COMPANY}


# -- auth, health, rate limits ------------------------------------------------------


@pytest.fixture
def wrong_key(sandbox_http: httpx.AsyncClient) -> LunarSendConnector:
    return LunarSendConnector(
        sandbox_http, sandbox_settings(Provider.LUNARSEND, api_key=Secret("wrong-key"))
    )


async def test_wrong_key_raises_on_reads(wrong_key: LunarSendConnector) -> None:
    with pytest.raises(AuthError, match="Missing or invalid API key"):
        await wrong_key.fetch_by_ids([UNKNOWN_ID])
    with pytest.raises(AuthError):
        await wrong_key.fetch_by_emails(["a@example.test"])
    with pytest.raises(AuthError):
        await wrong_key.search(SearchField.COMPANY, "Acme Corp")


async def test_wrong_key_fails_writes_and_changes_nothing(
    wrong_key: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    before = await stored(sandbox_http)

    created = await wrong_key.upsert(ContactWrite(email="a@example.test", first_name="A"))
    deleted = await wrong_key.delete(ContactRecord(Provider.LUNARSEND, before[0]["id"]))

    assert created.status is deleted.status is WriteStatus.FAILED
    assert created.message == "Missing or invalid API key."
    assert "wrong-key" not in repr(created)
    assert await stored(sandbox_http) == before


async def test_health(
    lunarsend: LunarSendConnector, wrong_key: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    await reset(sandbox_http)

    ok = await lunarsend.check_health()
    refused = await wrong_key.check_health()

    assert ok.ok
    assert not refused.ok
    assert refused.message == "Missing or invalid API key."
    assert await calls(sandbox_http) == {SEARCH: 2}


async def test_retry_after_is_honoured_on_a_read() -> None:
    record = {"id": "12345678901234567890", "first_name": "A", "email": "a@example.test"}
    script = Script(
        httpx.Response(
            429,
            headers={"Retry-After": "0.2"},
            json={"error": "rate_limited", "message": "Rate limit exceeded."},
        ),
        httpx.Response(200, json={"data": [record]}),
    )

    async with scripted(Provider.LUNARSEND, script) as lunarsend:
        found = await lunarsend.fetch_by_ids([record["id"]])

    assert found[record["id"]].first_name == "A"
    assert [r.headers["x-api-key"] for r in script.requests] == [credentials.LUNARSEND_API_KEY] * 2
    assert [r.url.params["searchby"] for r in script.requests] == ["id"] * 2
    # The policy's own backoff is at most 0.05s here: the pause is the provider's.
    assert script.times[1] - script.times[0] >= 0.2


async def test_unpaced_reads_over_the_limit_are_rate_limited(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox.emulators["lunarsend"].set_controls(Controls(rate_limit=EmulatorRateLimit(2, 1.0)))
    ids = [r["id"] for r in (await stored(sandbox_http))[:3]]
    lunarsend = LunarSendConnector(
        sandbox_http,
        sandbox_settings(Provider.LUNARSEND, retry=RetryPolicy(attempts=1, budget=0.5)),
    )

    with pytest.raises(RateLimited, match="Rate limit exceeded"):
        await lunarsend.fetch_by_ids(ids)


async def test_pacer_keeps_reads_under_the_documented_limit(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox.emulators["lunarsend"].set_controls(Controls(rate_limit=EmulatorRateLimit(2, 1.0)))
    ids = [r["id"] for r in (await stored(sandbox_http))[:4]]
    await reset(sandbox_http)
    lunarsend = LunarSendConnector(
        sandbox_http, sandbox_settings(Provider.LUNARSEND, rate_limit=RateLimit(2, 1.0))
    )

    found = await lunarsend.fetch_by_ids(ids)

    assert set(found) == set(ids)
    # Exactly one call per id, with the emulator enforcing 2/s: a 429 would have cost a retry.
    assert await calls(sandbox_http) == {SEARCH: 4}


async def test_concurrent_upserts_stay_within_the_concurrency_bound(sandbox: Sandbox) -> None:
    sandbox.emulators["lunarsend"].set_controls(Controls(latency_ms=20))
    transport = InFlight(sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL) as http:
        lunarsend = LunarSendConnector(http, sandbox_settings(Provider.LUNARSEND, concurrency=2))
        inputs = [ContactWrite(email=f"p{n}@example.test", first_name=f"P{n}") for n in range(4)]
        results = await asyncio.wait_for(lunarsend.upsert_many(inputs), timeout=5)

    assert [r.status for r in results] == [WriteStatus.CREATED] * 4
    assert transport.peak == 2


async def test_notes_are_written_on_create_and_reported_dropped_on_an_edit(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    created = await lunarsend.upsert(
        ContactWrite(email="notes@example.test", first_name="Nora", notes="Met at a fair")
    )
    assert created.status is WriteStatus.CREATED
    assert created.dropped_fields == ()
    assert created.remote_id is not None
    assert (await stored_by_id(sandbox_http, created.remote_id))["notes"] == "Met at a fair"
    contact = (await lunarsend.fetch_by_ids([created.remote_id]))[created.remote_id]
    assert [a.details["text"] for a in contact.inline_activity] == ["Met at a fair"]

    edited = await lunarsend.upsert(
        ContactWrite(email="notes@example.test", phones=("+15550100100",), notes="Called back")
    )

    assert edited.status is WriteStatus.UPDATED
    assert edited.dropped_fields == ("notes",)
    assert edited.message == EDIT_ONLY_MESSAGE
    after = await stored_by_id(sandbox_http, created.remote_id)
    assert (after["notes"], after["phone"]) == ("Met at a fair", "+15550100100")


async def test_notes_alone_for_an_existing_contact_is_skipped_without_an_edit(
    lunarsend: LunarSendConnector, sandbox_http: httpx.AsyncClient
) -> None:
    before = (await stored(sandbox_http))[0]
    await reset(sandbox_http)

    result = await lunarsend.upsert(ContactWrite(email=before["email"], notes="Called back"))

    assert result.status is WriteStatus.SKIPPED
    assert result.dropped_fields == ("notes",)
    assert await calls(sandbox_http) == {SEARCH: 1}
