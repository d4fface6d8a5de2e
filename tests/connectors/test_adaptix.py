from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

import httpx
import pytest

from connectors.adaptix import AdaptixConnector
from connectors.adaptix.mapping import (
    CORE_ALIASES,
    to_company,
    to_dnc,
    to_field,
    to_owner,
    to_record,
    to_segment,
)
from connectors.errors import AuthError, ProviderUnavailable
from connectors.settings import Secret
from gateway.domain.activity import EVERYTHING, ActivityFilter, FeedPage
from gateway.domain.fields import FieldInfo
from gateway.domain.records import (
    ActivityKind,
    CompanyLink,
    ContactRecord,
    ContactWrite,
    DoNotContactEntry,
    DoNotContactReason,
    Lifecycle,
    OwnerRef,
    PostalAddress,
    Provider,
    SearchField,
    TagRef,
    UtmTag,
    UtmWrite,
    WriteStatus,
)
from sandbox import credentials
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from tests.connectors import support
from tests.connectors.support import Script, scripted
from tests.support import sandbox_settings

ADA = ContactWrite(
    email="ada@example.test",
    first_name="Ada",
    last_name="Lovelace",
    phones=("+358401234567", "+35897654321"),
    company="Analytical Engines",
    job_title="CTO",
    tags=("vip", "beta"),
)


@pytest.fixture
def adaptix(sandbox_http: httpx.AsyncClient) -> AdaptixConnector:
    return AdaptixConnector(sandbox_http, sandbox_settings(Provider.ADAPTIX))


@pytest.fixture
def empty_adaptix(empty_sandbox_http: httpx.AsyncClient) -> AdaptixConnector:
    return AdaptixConnector(empty_sandbox_http, sandbox_settings(Provider.ADAPTIX))


records = partial(support.records, provider=Provider.ADAPTIX)
calls = partial(support.calls, provider=Provider.ADAPTIX)
reset = partial(support.reset, provider=Provider.ADAPTIX)


async def record_of(http: httpx.AsyncClient, remote_id: str | None) -> dict[str, Any]:
    [found] = [r for r in await records(http) if str(r["id"]) == remote_id]
    return found


def values(record: dict[str, Any]) -> dict[str, Any]:
    all_values: dict[str, Any] = record["fields"]["all"]
    return all_values


def tag_names(record: dict[str, Any]) -> set[str]:
    return {t["tag"] for t in record["tags"]}


def adaptix_record(contact_id: int, **all_values: Any) -> dict[str, Any]:
    """A contact in Adaptix's documented shape, for answers the sandbox cannot give."""
    return {
        "id": contact_id,
        "dateAdded": "2025-01-06T09:00:00+00:00",
        "dateModified": None,
        "points": 0,
        "tags": [],
        "doNotContact": [],
        "fields": {"core": {}, "social": [], "personal": [], "professional": [], "all": all_values},
    }


async def seeded_ids(http: httpx.AsyncClient) -> list[str]:
    return sorted((str(r["id"]) for r in await records(http)), key=int)


# -- writes and reads through the emulator --------------------------------------


async def test_create_then_update_by_email_keeps_the_remote_id(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    created = await empty_adaptix.upsert(ADA)
    updated = await empty_adaptix.upsert(ContactWrite(email="ADA@example.test", job_title="CEO"))

    assert created.status is WriteStatus.CREATED
    assert updated.status is WriteStatus.UPDATED
    assert created.remote_id is not None
    assert updated.remote_id == created.remote_id
    assert created.dropped_fields == updated.dropped_fields == ()
    [record] = await records(empty_sandbox_http)
    assert str(record["id"]) == created.remote_id
    stored = values(record)
    assert (stored["firstname"], stored["lastname"]) == ("Ada", "Lovelace")
    assert (stored["mobile"], stored["phone"]) == ("+358401234567", "+35897654321")
    assert (stored["company"], stored["position"]) == ("Analytical Engines", "CEO")
    assert tag_names(record) == {"vip", "beta"}


async def test_written_contact_reads_back_mapped(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    result = await empty_adaptix.upsert(ADA)
    assert result.remote_id is not None

    found = await empty_adaptix.fetch_by_ids([result.remote_id])

    contact = found[result.remote_id]
    assert contact.remote_id == result.remote_id
    assert contact.email == "ada@example.test"
    assert contact.emails == ["ada@example.test"]
    assert (contact.first_name, contact.last_name, contact.name) == (
        "Ada",
        "Lovelace",
        "Ada Lovelace",
    )
    assert contact.phones == ["+358401234567", "+35897654321"]
    assert (contact.company, contact.job_title) == ("Analytical Engines", "CTO")
    assert sorted(t.name for t in contact.tags) == ["beta", "vip"]
    assert all(t.kind == "tag" and t.id for t in contact.tags)
    assert contact.points == 0
    assert contact.do_not_contact == []
    assert contact.created_at is not None
    assert contact.created_at.tzinfo is UTC
    stored = await record_of(empty_sandbox_http, result.remote_id)
    assert contact.raw["id"] == stored["id"]
    assert contact.raw["fields"]["all"] == stored["fields"]["all"]


async def test_unstorable_fields_are_reported_dropped(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    result = await empty_adaptix.upsert(
        ContactWrite(
            email="ada@example.test",
            external_id="usr-1",
            account_external_id="acct-1",
            phones=("+3581", "+3582", "+3583", "+3584"),
            custom_fields={"no_such_alias": "x"},
        )
    )

    assert result.status is WriteStatus.CREATED
    assert result.dropped_fields == (
        "external_id",
        "account_external_id",
        "phones[2]",
        "phones[3]",
        "custom_fields.no_such_alias",
    )
    [record] = await records(empty_sandbox_http)
    assert "+3583" not in json.dumps(record)
    assert "no_such_alias" not in json.dumps(record)
    assert "usr-1" not in json.dumps(record)


async def test_blank_values_and_dash_tags_are_dropped_not_misapplied(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    [record] = [r for r in await records(sandbox_http) if "vip" in tag_names(r)][:1]
    email = values(record)["email"]

    result = await adaptix.upsert(
        ContactWrite(email=email, first_name="  ", phones=(" ",), tags=(" -vip", "fresh"))
    )

    assert result.status is WriteStatus.UPDATED
    assert result.dropped_fields == ("first_name", "phones[0]", "tags[0]")
    after = await record_of(sandbox_http, str(record["id"]))
    assert values(after)["firstname"] == values(record)["firstname"]
    assert values(after)["mobile"] == values(record)["mobile"]
    # Sent as is, " -vip" would have removed the contact's vip tag.
    assert tag_names(after) == tag_names(record) | {"fresh"}


async def known_custom_alias(http: httpx.AsyncClient) -> str:
    response = await http.get(
        "/adaptix/api/contacts/list/fields",
        auth=(credentials.ADAPTIX_USERNAME, credentials.ADAPTIX_PASSWORD),
    )
    body = response.json()
    fields = body.get("fields", body) if isinstance(body, dict) else body
    items = fields.values() if isinstance(fields, dict) else fields
    aliases = [f["alias"] for f in items if f["alias"] not in CORE_ALIASES]
    assert aliases, "the emulator lists no field beyond the core ones"
    return str(aliases[0])


async def test_known_custom_field_is_stored_and_the_field_list_read_once(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    alias = await known_custom_alias(empty_sandbox_http)
    await reset(empty_sandbox_http)

    first = await empty_adaptix.upsert(
        ContactWrite(email="a@example.test", custom_fields={alias: "kept", "bogus": "lost"})
    )
    second = await empty_adaptix.upsert(
        ContactWrite(email="b@example.test", custom_fields={alias: "also"})
    )

    assert first.dropped_fields == ("custom_fields.bogus",)
    assert second.dropped_fields == ()
    assert first.contact is not None
    assert first.contact.custom_fields.get(alias) == "kept"
    stored = {
        r["fields"]["all"]["email"]: r["fields"]["all"] for r in await records(empty_sandbox_http)
    }
    assert stored["a@example.test"][alias] == "kept"
    assert "bogus" not in stored["a@example.test"]
    assert (await calls(empty_sandbox_http))["GET /api/contacts/list/fields"] == 1


async def test_contact_with_nothing_storable_is_skipped_without_a_call(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    result = await empty_adaptix.upsert(ContactWrite(external_id="usr-1"))

    assert result.status is WriteStatus.SKIPPED
    assert result.dropped_fields == ("external_id",)
    assert await calls(empty_sandbox_http) == {}


async def test_refused_write_is_failed_with_the_providers_message(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    result = await empty_adaptix.upsert(ContactWrite(email="not an email", first_name="Ada"))

    assert result.status is WriteStatus.FAILED
    assert result.message
    assert "email" in result.message.lower()
    assert await records(empty_sandbox_http) == []


# -- batching -------------------------------------------------------------------


async def test_upsert_many_sends_200_a_call_and_answers_in_input_order(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    inputs = [ContactWrite(email=f"p{n}@example.test", first_name=f"P{n}") for n in range(250)]

    results = await empty_adaptix.upsert_many(inputs)

    assert [r.status for r in results] == [WriteStatus.CREATED] * 250
    assert [r.contact.email for r in results if r.contact] == [c.email for c in inputs]
    assert len({r.remote_id for r in results}) == 250
    assert len(await records(empty_sandbox_http)) == 250
    assert await calls(empty_sandbox_http) == {"POST /api/contacts/batch/new": 2}

    again = await empty_adaptix.upsert_many(inputs[:3])
    assert [r.status for r in again] == [WriteStatus.UPDATED] * 3
    assert [r.remote_id for r in again] == [r.remote_id for r in results[:3]]


async def test_batch_item_error_fails_that_item_only(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    results = await empty_adaptix.upsert_many(
        [
            ContactWrite(email="a@example.test"),
            ContactWrite(email="not an email"),
            ContactWrite(email="c@example.test", external_id="usr-3"),
        ]
    )

    assert [r.status for r in results] == [
        WriteStatus.CREATED,
        WriteStatus.FAILED,
        WriteStatus.CREATED,
    ]
    assert results[1].message
    assert "email" in results[1].message.lower()
    assert results[2].dropped_fields == ("external_id",)
    assert results[2].contact is not None
    assert results[2].contact.email == "c@example.test"
    assert sorted(values(r)["email"] for r in await records(empty_sandbox_http)) == [
        "a@example.test",
        "c@example.test",
    ]


async def test_fetch_by_ids_costs_one_call_per_200(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    written = await empty_adaptix.upsert_many(
        [ContactWrite(email=f"p{n}@example.test") for n in range(250)]
    )
    ids = [r.remote_id for r in written if r.remote_id]
    await reset(empty_sandbox_http)

    hundred = await empty_adaptix.fetch_by_ids(ids[:100])
    assert await calls(empty_sandbox_http) == {"GET /api/contacts": 1}
    await reset(empty_sandbox_http)
    everyone = await empty_adaptix.fetch_by_ids(ids)
    assert await calls(empty_sandbox_http) == {"GET /api/contacts": 2}

    assert sorted(hundred) == sorted(ids[:100])
    assert sorted(everyone) == sorted(ids)
    assert all(everyone[i].remote_id == i for i in ids)


async def test_fetch_by_ids_leaves_out_missing_and_foreign_ids(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    ids = await seeded_ids(sandbox_http)
    await reset(sandbox_http)

    found = await adaptix.fetch_by_ids([ids[0], "999999", ids[1]])
    assert sorted(found) == sorted([ids[0], ids[1]])
    assert await calls(sandbox_http) == {"GET /api/contacts": 1}

    await reset(sandbox_http)
    assert await adaptix.fetch_by_ids(["gkggiGLXH", "1;2", ""]) == {}
    assert await calls(sandbox_http) == {}


async def test_fetch_by_emails_costs_one_call_and_keys_by_normalized_email(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    emails = [values(r)["email"] for r in await records(sandbox_http)][:50]
    asked = [f"  {e.upper()} " for e in emails] + ["nobody@example.test"]
    await reset(sandbox_http)

    found = await adaptix.fetch_by_emails(asked)

    assert await calls(sandbox_http) == {"GET /api/contacts": 1}
    assert sorted(found) == sorted(e.lower() for e in emails)
    assert all(found[key].email_key == key for key in found)


# -- search, list, tags ---------------------------------------------------------


async def test_search_by_each_field(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    stored = await records(sandbox_http)
    person = values(stored[0])
    company = person["company"]
    with_vip = {str(r["id"]) for r in stored if "vip" in tag_names(r)}
    with_company = {str(r["id"]) for r in stored if values(r)["company"] == company}

    by_email = await adaptix.search(SearchField.EMAIL, person["email"])
    by_company = await adaptix.search(SearchField.COMPANY, company)
    by_tag = await adaptix.search(SearchField.TAG, "vip")
    by_text = await adaptix.search(SearchField.TEXT, person["lastname"])

    assert [c.remote_id for c in by_email] == [str(stored[0]["id"])]
    assert {c.remote_id for c in by_company} == with_company
    assert {c.remote_id for c in by_tag} == with_vip
    assert str(stored[0]["id"]) in {c.remote_id for c in by_text}
    assert all(person["lastname"].lower() in json.dumps(c.raw).lower() for c in by_text)


async def test_search_pages_past_200(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    await empty_adaptix.upsert_many(
        [ContactWrite(email=f"p{n}@example.test", tags=("big one",)) for n in range(230)]
    )
    await reset(empty_sandbox_http)

    found = await empty_adaptix.search(SearchField.TAG, "big one")

    assert len({c.remote_id for c in found}) == 230
    assert await calls(empty_sandbox_http) == {"GET /api/contacts": 2}


async def test_list_contacts_walks_every_contact_in_id_order(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    ids = await seeded_ids(sandbox_http)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await adaptix.list_contacts(cursor=cursor, limit=50)
        pages += 1
        assert page.total == (len(ids) if cursor is None else None)
        assert len(page.contacts) <= 50
        assert page.positions == [c.remote_id for c in page.contacts]
        seen += [c.remote_id for c in page.contacts]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == ids
    assert pages == -(-len(ids) // 50)


async def test_a_listing_goes_on_after_the_last_contact_listed_whatever_was_deleted(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    first = await adaptix.list_contacts(cursor=None, limit=10)
    assert first.next_cursor is not None
    # Three contacts of the first page are deleted before the second page is read.
    for contact in first.contacts[2:5]:
        await adaptix.delete(contact)
    second = await adaptix.list_contacts(cursor=first.next_cursor, limit=10)
    ids = await seeded_ids(sandbox_http)
    expected = ids[ids.index(first.contacts[-1].remote_id) + 1 :][:10]
    assert [c.remote_id for c in second.contacts] == expected


async def test_list_tags_counts_tag_names_within_the_scan_limit(
    sandbox_http: httpx.AsyncClient,
) -> None:
    stored = await records(sandbox_http)
    expected: dict[str, int] = {}
    for record in sorted(stored, key=lambda r: int(r["id"]))[:30]:
        for name in tag_names(record):
            expected[name] = expected.get(name, 0) + 1
    adaptix = AdaptixConnector(sandbox_http, sandbox_settings(Provider.ADAPTIX, tag_scan_limit=30))
    await reset(sandbox_http)

    tags = await adaptix.list_tags()

    assert {t.name: t.count for t in tags} == expected
    assert all(t.kind == "tag" and t.provider is Provider.ADAPTIX for t in tags)
    assert await calls(sandbox_http) == {"GET /api/contacts": 1}


async def test_tag_and_untag(adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient) -> None:
    [contact] = (await adaptix.fetch_by_ids((await seeded_ids(sandbox_http))[:1])).values()
    before = {t.name for t in contact.tags}

    added = await adaptix.tag(contact, add=["gold member", "q3"])
    removed = await adaptix.tag(contact, remove=["q3"])

    assert added.status is removed.status is WriteStatus.UPDATED
    assert added.contact is not None
    assert {t.name for t in added.contact.tags} == before | {"gold member", "q3"}
    assert tag_names(await record_of(sandbox_http, contact.remote_id)) == before | {"gold member"}


async def test_do_not_contact_is_added_and_removed(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    remote_id = (await seeded_ids(sandbox_http))[0]

    added = await adaptix.set_do_not_contact(
        remote_id, channel="email", enabled=True, comments="asked by phone"
    )
    record = await record_of(sandbox_http, remote_id)
    removed = await adaptix.set_do_not_contact(remote_id, channel="email", enabled=False)

    assert added.status is removed.status is WriteStatus.UPDATED
    assert added.contact is not None
    assert added.contact.do_not_contact == ["email"]
    assert [(d["channel"], d["comments"]) for d in record["doNotContact"]] == [
        ("email", "asked by phone")
    ]
    assert removed.contact is not None
    assert removed.contact.do_not_contact == []
    assert (await record_of(sandbox_http, remote_id))["doNotContact"] == []
    assert removed.dropped_fields == ()


async def test_comments_on_a_removal_are_reported_dropped(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    remote_id = (await seeded_ids(sandbox_http))[0]
    await adaptix.set_do_not_contact(remote_id, channel="email", enabled=True)

    removed = await adaptix.set_do_not_contact(
        remote_id, channel="email", enabled=False, comments="resubscribed"
    )

    assert removed.status is WriteStatus.UPDATED
    assert removed.dropped_fields == ("comments",)
    assert "only on a do-not-contact entry being added" in (removed.message or "")
    assert (await record_of(sandbox_http, remote_id))["doNotContact"] == []


async def test_points_go_up_and_down(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    remote_id = (await seeded_ids(sandbox_http))[0]
    start = int((await record_of(sandbox_http, remote_id))["points"])

    up = await adaptix.add_points(remote_id, 15)
    down = await adaptix.add_points(remote_id, -4)

    assert up.status is down.status is WriteStatus.UPDATED
    assert int((await record_of(sandbox_http, remote_id))["points"]) == start + 11
    assert (await adaptix.fetch_by_ids([remote_id]))[remote_id].points == start + 11


async def test_do_not_contact_keeps_reason_channel_id_and_comments(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    remote_id = (await seeded_ids(sandbox_http))[0]

    added = await adaptix.set_do_not_contact(
        remote_id,
        channel="sms",
        enabled=True,
        comments="carrier bounce",
        reason=DoNotContactReason.BOUNCED,
        channel_id="17",
    )

    assert added.status is WriteStatus.UPDATED
    assert added.contact is not None
    [entry] = [e for e in added.contact.do_not_contact_entries if e.channel == "sms"]
    assert (entry.reason, entry.channel_id, entry.comments) == (
        DoNotContactReason.BOUNCED,
        "17",
        "carrier bounce",
    )
    assert entry.added_at is not None
    stored = (await record_of(sandbox_http, remote_id))["doNotContact"]
    [stored] = [d for d in stored if d["channel"] == "sms"]
    assert (stored["reason"], stored["channelId"]) == (2, 17)


@pytest.mark.parametrize(
    ("reason", "channel_id", "message"),
    [
        (DoNotContactReason.OTHER, None, "no do-not-contact reason OTHER"),
        (None, "x7", "not an Adaptix channel id"),
    ],
)
async def test_do_not_contact_details_adaptix_cannot_take_fail_without_a_call(
    adaptix: AdaptixConnector,
    sandbox_http: httpx.AsyncClient,
    reason: DoNotContactReason | None,
    channel_id: str | None,
    message: str,
) -> None:
    remote_id = (await seeded_ids(sandbox_http))[0]
    await reset(sandbox_http)

    result = await adaptix.set_do_not_contact(
        remote_id, channel="email", enabled=True, reason=reason, channel_id=channel_id
    )

    assert result.status is WriteStatus.FAILED
    assert message in (result.message or "")
    assert await calls(sandbox_http) == {}


async def test_points_carry_the_event_and_action_names_as_each_endpoint_spells_them() -> None:
    script = Script(httpx.Response(200, json={"success": True}))
    async with scripted(Provider.ADAPTIX, script) as adaptix:
        up = await adaptix.add_points("5", 3, event_name="Webinar", action_name="attended")
        down = await adaptix.add_points("5", -2, event_name="Refund")
        plain = await adaptix.add_points("5", 1)

    assert up.status is down.status is plain.status is WriteStatus.UPDATED
    sent = [(r.url.path, json.loads(r.content)) for r in script.requests]
    assert sent == [
        (
            "/adaptix/api/contacts/5/points/plus/3",
            {"eventName": "Webinar", "actionName": "attended"},
        ),
        ("/adaptix/api/contacts/5/points/minus/2", {"eventname": "Refund"}),
        ("/adaptix/api/contacts/5/points/plus/1", {}),
    ]


async def test_utm_tags_are_added_read_and_removed(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    remote_id = (await seeded_ids(sandbox_http))[0]
    visit = UtmWrite(
        campaign="spring",
        source="newsletter",
        medium="email",
        url="https://example.test/pricing",
        query={"ref": "banner"},
        last_active=datetime(2026, 3, 1, 12, tzinfo=UTC),
    )

    added = await adaptix.add_utm_tags(remote_id, visit)

    assert added.status is WriteStatus.UPDATED
    assert added.contact is not None
    [tag] = added.contact.utm_tags
    assert (tag.campaign, tag.source, tag.medium, tag.url, dict(tag.query)) == (
        "spring",
        "newsletter",
        "email",
        "https://example.test/pricing",
        {"ref": "banner"},
    )
    assert added.contact.last_active_at == datetime(2026, 3, 1, 12, tzinfo=UTC)
    read = (await adaptix.fetch_by_ids([remote_id]))[remote_id]
    assert [t.id for t in read.utm_tags] == [tag.id]

    removed = await adaptix.remove_utm_tag(remote_id, tag.id)
    again = await adaptix.remove_utm_tag(remote_id, tag.id)

    assert removed.status is WriteStatus.UPDATED
    assert removed.contact is not None
    assert removed.contact.utm_tags == []
    assert again.status is WriteStatus.FAILED
    assert again.message == f"Adaptix has no UTM tag {tag.id} on this contact"


async def test_utm_tags_without_a_parameter_are_skipped_without_a_call(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    remote_id = (await seeded_ids(sandbox_http))[0]
    await reset(sandbox_http)

    result = await adaptix.add_utm_tags(remote_id, UtmWrite(campaign="  ", last_active=None))

    assert result.status is WriteStatus.SKIPPED
    assert await calls(sandbox_http) == {}


async def test_segments_and_companies_cost_one_call_per_distinct_contact(
    adaptix: AdaptixConnector, sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    stored = {str(r["id"]): values(r)["email"] for r in await records(sandbox_http)}
    ids = sorted(stored, key=int)[:6]
    names = {s.id: s.name for s in sandbox.data.segments}
    expected = {
        remote_id: {
            names[s]
            for p in sandbox.data.people
            for s in p.segments
            if p.records.get("adaptix") and p.records["adaptix"].email == email
        }
        for remote_id, email in stored.items()
        if remote_id in ids
    }
    await reset(sandbox_http)

    segments = await adaptix.fetch_segments([*ids, ids[0], "999999", "x"])
    companies = await adaptix.fetch_companies(ids)

    assert {i: {t.name for t in tags} for i, tags in segments.items()} == expected
    assert {t.kind for tags in segments.values() for t in tags} <= {"segment"}
    assert "999999" not in segments  # Adaptix holds no such contact
    assert all(c[0].is_primary and c[0].name for c in companies.values() if c)
    assert await calls(sandbox_http) == {
        "GET /api/contacts/{id}/segments": 7,  # six contacts and the missing one
        "GET /api/contacts/{id}/companies": 6,
    }


def test_segments_the_contact_was_manually_removed_from_are_left_out() -> None:
    found = [
        to_segment(entry)
        for entry in (
            {"id": 1, "name": "Hot leads", "alias": "hot-leads", "manuallyRemoved": False},
            {"id": 2, "name": "Customers", "alias": "customers", "manuallyRemoved": "1"},
            {"id": 3, "name": "", "alias": "no-name"},
            {"id": 4},
        )
    ]
    assert found == [
        TagRef("Hot leads", "segment", "1"),
        None,
        TagRef("no-name", "segment", "3"),
        None,
    ]


def test_company_associations_map_with_the_primary_flag() -> None:
    found = to_company(
        {
            "company_id": "12",
            "date_associated": "2024-05-01 10:00:00",
            "date_added": "2024-04-01T09:00:00+02:00",
            "is_primary": "1",
            "companyname": "Analytical Engines",
            "companyemail": "",
            "companycity": "London",
            "score": "40",
        }
    )
    assert found == CompanyLink(
        "12",
        name="Analytical Engines",
        is_primary=True,
        created_at=datetime(2024, 4, 1, 7, tzinfo=UTC),
        associated_at=datetime(2024, 5, 1, 10, tzinfo=UTC),
        city="London",
        score=40,
    )
    assert to_company({"companyname": "No id"}) is None


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"channel": "email", "reason": 1}, DoNotContactReason.UNSUBSCRIBED),
        ({"channel": "email", "reason": "2"}, DoNotContactReason.BOUNCED),
        ({"channel": "email", "reason": 3}, DoNotContactReason.MANUAL),
        ({"channel": "email", "reason": 0}, DoNotContactReason.OTHER),
        ({"channel": "email", "reason": None}, None),
    ],
)
def test_do_not_contact_reasons_map_from_adaptix_codes(
    entry: dict[str, Any], expected: DoNotContactReason | None
) -> None:
    assert to_dnc(entry).reason is expected


async def test_delete_removes_the_contact(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    remote_id = (await seeded_ids(sandbox_http))[0]
    contact = (await adaptix.fetch_by_ids([remote_id]))[remote_id]

    deleted = await adaptix.delete(contact)
    again = await adaptix.delete(contact)

    assert deleted.status is WriteStatus.DELETED
    assert deleted.remote_id == remote_id
    assert remote_id not in await seeded_ids(sandbox_http)
    assert again.status is WriteStatus.FAILED
    assert again.message


async def test_activity_is_newest_first_and_limited(
    adaptix: AdaptixConnector, sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    ids = await seeded_ids(sandbox_http)
    everything = await adaptix.fetch_activity(ids[:40], limit=100)
    busy = max(everything, key=lambda i: len(everything[i]))
    kinds = {item.kind for i in everything for item in everything[i]}
    await reset(sandbox_http)

    limited = await adaptix.fetch_activity([busy, "not-an-id"], limit=3)

    assert kinds == {"event", "note"}
    assert len(everything[busy]) > 3
    assert list(limited) == [busy]
    stamps = [item.timestamp for item in everything[busy]]
    assert stamps == sorted(stamps, reverse=True)
    assert limited[busy] == everything[busy][:3]
    assert await calls(sandbox_http) == {
        "GET /api/contacts/{id}/activity": 1,
        "GET /api/contacts/{id}/notes": 1,
    }


# -- credentials and faults -----------------------------------------------------


async def test_wrong_password_is_an_auth_error_for_reads_and_failed_for_writes(
    sandbox_http: httpx.AsyncClient,
) -> None:
    adaptix = AdaptixConnector(
        sandbox_http, sandbox_settings(Provider.ADAPTIX, password=Secret("wrong-password"))
    )

    with pytest.raises(AuthError, match=r"API authorization denied\."):
        await adaptix.fetch_by_ids(["1"])
    result = await adaptix.upsert(ADA)
    health = await adaptix.check_health()

    assert result.status is WriteStatus.FAILED
    assert result.message == "API authorization denied."
    assert not health.ok
    assert "wrong-password" not in repr(result) + repr(health)
    assert "ada@example.test" not in json.dumps(await records(sandbox_http))


async def test_health_is_ok_with_good_credentials(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    health = await adaptix.check_health()

    assert health.ok
    assert await calls(sandbox_http) == {"GET /api/contacts": 1}


async def test_rate_limit_retry_after_is_honoured_on_a_read() -> None:
    script = Script(
        httpx.Response(
            429,
            headers={"Retry-After": "0.05"},
            json={"errors": [{"code": 429, "message": "Rate limit.", "details": []}]},
        ),
        httpx.Response(200, json={"total": "1", "contacts": {"7": adaptix_record(7)}}),
    )

    async with scripted(Provider.ADAPTIX, script) as adaptix:
        found = await adaptix.fetch_by_ids(["7"])

    assert list(found) == ["7"]
    assert len(script.requests) == 2
    assert script.times[1] - script.times[0] >= 0.05


async def test_server_error_on_a_read_is_retried() -> None:
    script = Script(
        httpx.Response(500, json={"errors": [{"code": 500, "message": "Boom.", "details": []}]}),
        httpx.Response(200, json={"total": "0", "contacts": []}),
    )

    async with scripted(Provider.ADAPTIX, script) as adaptix:
        found = await adaptix.fetch_by_ids(["7"])

    assert found == {}
    assert len(script.requests) == 2
    assert script.requests[1].url.params["search"] == "ids:7"
    assert script.requests[1].url.params["limit"] == "1"


async def test_outage_ends_in_provider_unavailable_within_the_budget(
    sandbox: Sandbox, adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox.emulators["adaptix"].set_controls(Controls(outage=True))
    started = time.monotonic()

    with pytest.raises(ProviderUnavailable):
        await adaptix.fetch_by_ids(["1"])

    assert time.monotonic() - started < adaptix.settings.retry.budget
    assert await calls(sandbox_http) == {"GET /api/contacts": adaptix.settings.retry.attempts}


async def test_failed_write_is_not_repeated(
    sandbox: Sandbox, adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox.emulators["adaptix"].set_controls(Controls(error_rate=1.0))

    single = await adaptix.upsert(ADA)
    batch = await adaptix.upsert_many([ADA, ContactWrite(email="b@example.test")])

    assert single.status is WriteStatus.FAILED
    assert single.message == "Internal server error."
    assert [r.status for r in batch] == [WriteStatus.FAILED] * 2
    assert await calls(sandbox_http) == {
        "POST /api/contacts/new": 1,
        "POST /api/contacts/batch/new": 1,
    }


# -- answers only a real Adaptix gives ------------------------------------------


async def test_batch_answer_keyed_by_index_with_gaps() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            201,
            json={
                "contacts": {
                    "0": adaptix_record(5, email="a@x.test"),
                    "2": adaptix_record(6, email="c@x.test"),
                },
                "statusCodes": {"0": 200, "1": 400, "2": 201},
                "errors": {"1": {"code": 400, "message": "email: Bad.", "details": []}},
            },
        )

    async with scripted(Provider.ADAPTIX, httpx.MockTransport(handler)) as adaptix:
        results = await adaptix.upsert_many(
            [
                ContactWrite(email="a@x.test"),
                ContactWrite(email="b"),
                ContactWrite(email="c@x.test"),
            ]
        )

    assert [(r.status, r.remote_id) for r in results] == [
        (WriteStatus.UPDATED, "5"),
        (WriteStatus.FAILED, None),
        (WriteStatus.CREATED, "6"),
    ]
    assert results[1].message == "email: Bad."


async def test_value_the_answer_does_not_hold_is_reported_dropped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        # Truncated the way a varchar(191) column would.
        stored = {**sent, "firstname": sent["firstname"][:191]}
        return httpx.Response(201, json={"contact": adaptix_record(9, **stored)})

    async with scripted(Provider.ADAPTIX, httpx.MockTransport(handler)) as adaptix:
        result = await adaptix.upsert(ContactWrite(email="a@x.test", first_name="A" * 300))

    assert result.status is WriteStatus.CREATED
    assert result.dropped_fields == ("first_name",)


async def test_mapping_of_a_full_record() -> None:
    record = {
        **adaptix_record(
            42,
            id=42,
            email="Ada@Example.test",
            title="Dr",
            firstname="Ada",
            lastname="",
            mobile="+3581",
            phone=None,
            website="https://ada.test",
            address1=" 12 St James's Square ",
            address2="",
            city="London",
            zipcode="SW1Y 4LB",
            country="United Kingdom",
            twitter="@ada",
            plan="pro",
            seats=3,
        ),
        "dateAdded": "2015-07-21T12:27:12+02:00",
        "dateModified": "2015-07-22 10:00:00",
        "lastActive": "2015-07-23T08:00:00+01:00",
        "owner": {"id": 2, "username": "lhill", "firstName": "Laura", "lastName": "Hill"},
        "points": 25,
        "tags": [{"id": 3, "tag": "vip"}],
        "doNotContact": [{"id": 1, "channel": "email", "reason": 3, "comments": ""}],
        "utmtags": [
            {
                "id": 8,
                "dateAdded": "2015-07-22T09:00:00+00:00",
                "query": [],
                "referer": None,
                "remoteHost": "host.test",
                "url": "https://ada.test/pricing",
                "urlTitle": None,
                "userAgent": None,
                "utmCampaign": "spring",
                "utmContent": None,
                "utmMedium": "email",
                "utmSource": "newsletter",
                "utmTerm": "",
            }
        ],
    }
    contact = to_record(record)

    assert contact == ContactRecord(
        provider=Provider.ADAPTIX,
        remote_id="42",
        email="Ada@Example.test",
        emails=["Ada@Example.test"],
        first_name="Ada",
        name="Ada",
        phones=["+3581"],
        urls=["https://ada.test"],
        title="Dr",
        address=PostalAddress(
            line1="12 St James's Square",
            city="London",
            postal_code="SW1Y 4LB",
            country="United Kingdom",
        ),
        website="https://ada.test",
        owner=OwnerRef("2", "Laura Hill"),
        tags=contact.tags,
        custom_fields={"twitter": "@ada", "plan": "pro", "seats": 3},
        points=25,
        do_not_contact=["email"],
        do_not_contact_entries=[
            DoNotContactEntry("email", DoNotContactReason.MANUAL, comments=None, id="1")
        ],
        utm_tags=[
            UtmTag(
                "8",
                added_at=datetime(2015, 7, 22, 9, tzinfo=UTC),
                campaign="spring",
                source="newsletter",
                medium="email",
                url="https://ada.test/pricing",
                remote_host="host.test",
            )
        ],
        created_at=contact.created_at,
        updated_at=contact.updated_at,
        last_active_at=datetime(2015, 7, 23, 7, tzinfo=UTC),
        raw=record,
    )
    assert [(t.name, t.kind, t.id) for t in contact.tags] == [("vip", "tag", "3")]
    assert contact.created_at is not None
    assert contact.created_at.isoformat() == "2015-07-21T10:27:12+00:00"
    assert contact.updated_at is not None
    assert contact.updated_at.tzinfo is UTC


def test_a_record_without_address_parts_owner_or_activity_has_none() -> None:
    contact = to_record(
        {**adaptix_record(7, email="a@x.test", address1="", city=None), "owner": None}
    )
    assert (contact.address, contact.owner, contact.last_active_at) == (None, None, None)
    assert (contact.title, contact.website, contact.custom_fields) == (None, None, {})


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ({"id": 3, "username": "okarlsson", "firstName": "Oskar", "lastName": ""}, ("3", "Oskar")),
        ({"id": 4, "username": "pnair", "firstName": None, "lastName": None}, ("4", "pnair")),
        (4, ("4", None)),  # a bare user id, as a write body gives it
        ({"username": "nobody"}, None),
        (None, None),
    ],
)
def test_owner_is_the_contacts_own_user_object_without_an_email(
    owner: Any, expected: tuple[str, str | None] | None
) -> None:
    found = to_owner(owner)
    assert (None if found is None else (found.id, found.name)) == expected
    assert found is None or found.email is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "errors": [
                    {"message": "API authorization denied.", "code": 401, "type": "access_denied"}
                ]
            },
            "API authorization denied.",
        ),
        (
            {
                "errors": [
                    {"code": 400, "message": "Bad input.", "details": {"email": ["Invalid."]}}
                ]
            },
            "Bad input. (email: Invalid.)",
        ),
        (
            {"errors": [{"code": 404, "message": "Item was not found.", "details": []}]},
            "Item was not found.",
        ),
    ],
)
async def test_error_message_reads_adaptix_shape(body: dict[str, Any], message: str) -> None:
    async with httpx.AsyncClient() as client:
        adaptix = AdaptixConnector(client, sandbox_settings(Provider.ADAPTIX))

        assert adaptix.error_message(httpx.Response(400, json=body)) == message


async def test_website_address_and_owner_are_stored(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    result = await empty_adaptix.upsert(
        ContactWrite(
            email="ada@example.test",
            urls=("https://ada.example.test", "https://blog.example.test"),
            address=PostalAddress(
                line1="12 St James's Square",
                line2="Floor 2",
                city="London",
                state="Greater London",
                postal_code="SW1Y 4JH",
                country="United Kingdom",
            ),
            owner_id="3",
            notes="Met at a fair",
            lifecycle=Lifecycle.MEMBER,
        )
    )

    assert result.status is WriteStatus.CREATED
    assert result.dropped_fields == ("notes", "lifecycle", "urls[1]")
    [record] = await records(empty_sandbox_http)
    stored = values(record)
    assert stored["website"] == "https://ada.example.test"
    assert [stored[a] for a in ("address1", "address2", "city", "state", "zipcode", "country")] == [
        "12 St James's Square",
        "Floor 2",
        "London",
        "Greater London",
        "SW1Y 4JH",
        "United Kingdom",
    ]
    assert record["owner"]["id"] == 3
    contact = result.contact
    assert contact is not None
    assert contact.owner == OwnerRef("3", "Oskar Karlsson")
    assert contact.address == PostalAddress(
        "12 St James's Square", "Floor 2", "London", "Greater London", "SW1Y 4JH", "United Kingdom"
    )
    assert contact.website == "https://ada.example.test"


async def test_an_owner_adaptix_does_not_have_fails_the_write_with_its_message(
    empty_adaptix: AdaptixConnector, empty_sandbox_http: httpx.AsyncClient
) -> None:
    result = await empty_adaptix.upsert(ContactWrite(email="ada@example.test", owner_id="999"))

    assert result.status is WriteStatus.FAILED
    assert "owner" in (result.message or "")
    assert await records(empty_sandbox_http) == []


async def test_an_address_part_the_answer_does_not_hold_is_reported_dropped() -> None:
    answer = {"contact": adaptix_record(7, email="ada@example.test", city="", website=None)}
    async with scripted(Provider.ADAPTIX, Script(httpx.Response(201, json=answer))) as adaptix:
        result = await adaptix.upsert(
            ContactWrite(
                email="ada@example.test",
                address=PostalAddress(city="London"),
                urls=("https://ada.example.test",),
            )
        )
    assert result.dropped_fields == ("urls[0]", "address.city")


# -- activity filters, the global feed, the field list ----------------------------


async def test_activity_asks_only_for_the_kinds_wanted(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    ids = await seeded_ids(sandbox_http)
    everything = await adaptix.fetch_activity(ids[:40], limit=100)
    busy = max(
        everything, key=lambda i: len({a.kind for a in everything[i]}) * 100 + len(everything[i])
    )
    await reset(sandbox_http)

    notes = await adaptix.fetch_activity(
        [busy], limit=100, wanted=ActivityFilter(frozenset({ActivityKind.NOTE}))
    )
    assert await calls(sandbox_http) == {"GET /api/contacts/{id}/notes": 1}
    await reset(sandbox_http)
    events = await adaptix.fetch_activity(
        [busy], limit=100, wanted=ActivityFilter(frozenset({ActivityKind.EVENT}))
    )
    assert await calls(sandbox_http) == {"GET /api/contacts/{id}/activity": 1}
    await reset(sandbox_http)
    nothing = await adaptix.fetch_activity([busy], limit=100, wanted=ActivityFilter(frozenset()))
    assert await calls(sandbox_http) == {}

    assert notes[busy] == [a for a in everything[busy] if a.kind is ActivityKind.NOTE]
    assert events[busy] == [a for a in everything[busy] if a.kind is ActivityKind.EVENT]
    assert notes[busy]
    assert events[busy]
    assert nothing == {busy: []}


async def test_activity_dates_go_to_adaptix_rounded_inward_in_utc() -> None:
    script = Script(httpx.Response(200, json={"events": [], "total": 0, "maxPages": 0}))
    helsinki = timezone(timedelta(hours=2))
    wanted = ActivityFilter(
        frozenset({ActivityKind.EVENT}),
        since=datetime(2025, 2, 1, 2, 0, 0, 250_000, tzinfo=helsinki),
        until=datetime(2025, 2, 28, 23, 59, 59, 750_000, tzinfo=UTC),
    )
    async with scripted(Provider.ADAPTIX, script) as adaptix:
        assert isinstance(adaptix, AdaptixConnector)
        await adaptix.fetch_activity(["7"], limit=5, wanted=wanted)
    [request] = script.requests
    assert request.url.path.endswith("/contacts/7/activity")
    params = request.url.params
    assert params["filters[dateFrom]"] == "2025-02-01 00:00:01"
    assert params["filters[dateTo]"] == "2025-02-28 23:59:59"
    assert (params["limit"], params["page"]) == ("5", "1")


def note(n: int, at: datetime) -> dict[str, Any]:
    return {"id": n, "text": f"note {n}", "type": "general", "dateTime": at.isoformat()}


async def test_notes_are_read_past_until_and_stop_at_since() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    # Ten notes a day apart, newest first, answered two a page.
    notes = [note(n, start - timedelta(days=n)) for n in range(10)]

    def handler(request: httpx.Request) -> httpx.Response:
        first = int(request.url.params["start"])
        size = int(request.url.params["limit"])
        return httpx.Response(200, json={"total": 10, "notes": notes[first : first + size]})

    transport = httpx.MockTransport(handler)
    wanted = ActivityFilter(
        frozenset({ActivityKind.NOTE}),
        since=start - timedelta(days=6),
        until=start - timedelta(days=3, hours=12),
    )
    async with scripted(Provider.ADAPTIX, transport) as adaptix:
        assert isinstance(adaptix, AdaptixConnector)
        found = await adaptix.fetch_activity(["7"], limit=2, wanted=wanted)
        wider = await adaptix.fetch_activity(["7"], limit=10, wanted=wanted)
    # Days 4 and 5 are the newest within the bounds; day 6 is at `since` itself.
    assert [a.id for a in found["7"]] == ["4", "5"]
    assert [a.id for a in wider["7"]] == ["4", "5", "6"]


def feed_event(n: int, at: datetime) -> dict[str, Any]:
    return {
        "event": "page.hit",
        "eventId": f"page.hit{n}",
        "eventLabel": "Page hit",
        "eventType": "Page hit",
        "timestamp": at.isoformat(),
        "contactId": 100 + n % 7,
        "details": [],
    }


@pytest.mark.parametrize("honoured", [True, False])
async def test_the_feed_reads_the_pages_an_offset_falls_on(honoured: bool) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    feed = [feed_event(n, start - timedelta(minutes=n)) for n in range(260)]
    asked: list[tuple[int, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        # Adaptix may hold its own page size (the docs name no `limit` for this path).
        size = int(request.url.params["limit"]) if honoured else 25
        asked.append((page, size))
        body = {
            "events": feed[(page - 1) * size : page * size],
            "total": len(feed),
            "page": page,
            "limit": size,
            "maxPages": -(-len(feed) // size),
        }
        return httpx.Response(200, json=body)

    async with scripted(Provider.ADAPTIX, httpx.MockTransport(handler)) as adaptix:
        assert isinstance(adaptix, AdaptixConnector)
        page = await adaptix.activity_feed(offset=90, limit=30, wanted=EVERYTHING)
        tail = await adaptix.activity_feed(offset=250, limit=30, wanted=EVERYTHING)
        notes = await adaptix.activity_feed(
            offset=0, limit=30, wanted=ActivityFilter(frozenset({ActivityKind.NOTE}))
        )

    assert [a.id for a in page.items] == [f"page.hit{n}" for n in range(90, 120)]
    assert [a.contact_remote_id for a in page.items[:2]] == ["106", "100"]
    assert page.total == 260
    assert [a.id for a in tail.items] == [f"page.hit{n}" for n in range(250, 260)]
    assert notes == FeedPage([], 0)
    if honoured:
        assert asked == [(1, 100), (2, 100), (3, 100)]
    else:  # pages of 25: the first answer says so, and later reads page by it
        assert asked == [(1, 25), (4, 25), (5, 25), (11, 25)]


async def test_the_feed_from_the_sandbox_is_newest_first_with_contacts(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    whole = await adaptix.activity_feed(offset=0, limit=100, wanted=EVERYTHING)
    later = await adaptix.activity_feed(offset=40, limit=100, wanted=EVERYTHING)
    stamps = [a.timestamp for a in whole.items]
    assert stamps == sorted(stamps, reverse=True)
    assert later.items[:60] == whole.items[40:]
    assert {a.contact_remote_id for a in whole.items} <= set(await seeded_ids(sandbox_http))
    assert whole.total == later.total > 100


async def test_the_field_list_is_kept_for_a_while(
    adaptix: AdaptixConnector, sandbox_http: httpx.AsyncClient
) -> None:
    await reset(sandbox_http)
    fields = await adaptix.list_fields()
    again = await adaptix.list_fields()
    assert await calls(sandbox_http) == {"GET /api/contacts/list/fields": 1}
    adaptix.fields_ttl = 0.0
    await adaptix.list_fields()
    assert await calls(sandbox_http) == {"GET /api/contacts/list/fields": 2}

    assert fields == again
    by_alias = {f.alias: f for f in fields}
    assert by_alias["lastname"] == FieldInfo(
        Provider.ADAPTIX, "lastname", "Last Name", "text", "core", "last_name"
    )
    assert by_alias["phone"].input_field == "phones"
    assert by_alias["country"].input_field is None
    assert by_alias["linkedin"].input_field == "custom_fields.linkedin"
    assert await adaptix.field_aliases() == frozenset(by_alias)


def test_a_listed_field_without_an_alias_is_left_out() -> None:
    assert to_field({"id": 3, "label": "Ghost"}) is None
    assert to_field({"id": 4, "alias": "plan"}) == FieldInfo(
        Provider.ADAPTIX, "plan", "plan", "text", None, "custom_fields.plan"
    )
