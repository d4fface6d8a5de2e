from __future__ import annotations

from datetime import UTC
from functools import partial
from typing import Any

import httpx
import pytest

from connectors.errors import AuthError, BadInput, RateLimited
from connectors.settings import RetryPolicy, Secret
from connectors.trustmary import TrustmaryConnector
from connectors.trustmary.mapping import to_record
from gateway.domain.records import (
    ContactRecord,
    ContactStatus,
    ContactType,
    ContactWrite,
    Provider,
    WriteStatus,
)
from sandbox.app import Sandbox
from sandbox.emulator import Controls, RateLimit
from sandbox.trustmary import TrustmaryEmulator
from tests.connectors import support
from tests.connectors.support import Script, scripted
from tests.support import sandbox_settings

CONTACTS = "GET /v1/contacts"
POST = "POST /v1/contacts"
LISTS = "GET /v1/lists"


@pytest.fixture
def trustmary(sandbox_http: httpx.AsyncClient) -> TrustmaryConnector:
    return TrustmaryConnector(sandbox_http, sandbox_settings(Provider.TRUSTMARY))


stored = partial(support.records, provider=Provider.TRUSTMARY)
calls = partial(support.calls, provider=Provider.TRUSTMARY)
reset = partial(support.reset, provider=Provider.TRUSTMARY)


async def stored_by_email(http: httpx.AsyncClient, email: str) -> dict[str, Any]:
    [record] = [r for r in await stored(http) if r["email"].lower() == email.lower()]
    return record


def list_ids(sandbox: Sandbox) -> dict[str, str]:
    assert sandbox.data is not None
    return {item.name: item.id for item in sandbox.data.lists}


def fill(sandbox: Sandbox, count: int) -> list[str]:
    """Store `count` contacts straight through the emulator; their emails in page order."""
    emulator = sandbox.emulators["trustmary"]
    assert isinstance(emulator, TrustmaryEmulator)
    emails = [f"person{n:05d}@bulk.test" for n in range(count)]
    for email in emails:
        emulator.upsert({"email": email, "name": "Bulk Person"})
    return emails


# -- writes ---------------------------------------------------------------------


async def test_create_then_update_with_other_cased_email(
    trustmary: TrustmaryConnector, sandbox_http: httpx.AsyncClient
) -> None:
    created = await trustmary.upsert(
        ContactWrite(
            email="Nora.Quist@Example.test",
            external_id="usr-777",
            first_name="Nora",
            last_name="Quist",
            phones=("+358401111111", "+358402222222"),
            company="Quist Oy",
            job_title="CEO",
            account_external_id="acct-9",
            custom_fields={"plan": "gold"},
        )
    )
    updated = await trustmary.upsert(
        ContactWrite(email="nora.quist@EXAMPLE.TEST", company="Quist Group")
    )

    assert created.status is WriteStatus.CREATED
    assert updated.status is WriteStatus.UPDATED
    assert created.remote_id is not None
    assert updated.remote_id == created.remote_id
    assert created.dropped_fields == (
        "phones[1]",
        "account_external_id",
        "job_title",
        "custom_fields",
    )
    assert updated.dropped_fields == ()
    record = await stored_by_email(sandbox_http, "nora.quist@example.test")
    assert record["id"] == created.remote_id
    assert record["name"] == "Nora Quist"
    assert record["eid"] == "usr-777"
    assert record["phone"] == "+358401111111"
    assert record["company"] == "Quist Group"
    contact = updated.contact
    assert contact is not None
    assert (contact.first_name, contact.last_name, contact.company) == (
        "Nora",
        "Quist",
        "Quist Group",
    )


async def test_upsert_without_email_is_skipped_without_a_call(
    trustmary: TrustmaryConnector, sandbox_http: httpx.AsyncClient
) -> None:
    await reset(sandbox_http)

    result = await trustmary.upsert(ContactWrite(first_name="Nobody", company="Nowhere"))

    assert result.status is WriteStatus.SKIPPED
    assert result.message is not None
    assert "email" in result.message
    assert (await calls(sandbox_http)) == {}


async def test_refused_email_is_failed_with_the_providers_message(
    trustmary: TrustmaryConnector, sandbox_http: httpx.AsyncClient
) -> None:
    before = await stored(sandbox_http)

    result = await trustmary.upsert(ContactWrite(email="not-an-email", first_name="X"))

    assert result.status is WriteStatus.FAILED
    assert result.message == "Invalid email: not-an-email"
    assert await stored(sandbox_http) == before


async def test_one_name_part_keeps_the_other_stored_part(
    trustmary: TrustmaryConnector, sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    [record, *_] = await stored(sandbox_http)
    first = record["name"].split(" ")[0]

    result = await trustmary.upsert(ContactWrite(email=record["email"], last_name="Newname"))

    assert result.status is WriteStatus.UPDATED
    assert (await stored_by_email(sandbox_http, record["email"]))["name"] == f"{first} Newname"


async def test_tags_become_list_ids_and_unknown_names_are_dropped(
    trustmary: TrustmaryConnector, sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    ids = list_ids(sandbox)
    await reset(sandbox_http)

    first = await trustmary.upsert(
        ContactWrite(email="lists@example.test", tags=("NPS survey", "No such list", "staff"))
    )
    second = await trustmary.upsert(
        ContactWrite(email="lists2@example.test", tags=("Customers 2026",))
    )

    assert first.status is WriteStatus.CREATED
    assert first.dropped_fields == ("tags[1]",)
    assert second.dropped_fields == ()
    assert (await stored_by_email(sandbox_http, "lists@example.test"))["lists"] == [
        ids["NPS survey"],
        ids["Staff"],
    ]
    assert (await stored_by_email(sandbox_http, "lists2@example.test"))["lists"] == [
        ids["Customers 2026"]
    ]
    # The list names are read once per connector, not once per write.
    assert (await calls(sandbox_http))[LISTS] == 1


async def test_list_names_are_fetched_once_for_a_concurrent_batch(
    trustmary: TrustmaryConnector, sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    # Latency makes the writes overlap, as they would against the real API.
    sandbox.emulators["trustmary"].set_controls(Controls(latency_ms=20))
    await reset(sandbox_http)

    results = await trustmary.upsert_many(
        [ContactWrite(email=f"batch{n}@example.test", tags=("Staff",)) for n in range(5)]
    )

    assert [r.status for r in results] == [WriteStatus.CREATED] * 5
    assert await calls(sandbox_http) == {LISTS: 1, POST: 5}


async def test_tag_adds_and_removes_lists_by_name(
    trustmary: TrustmaryConnector, sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    ids = list_ids(sandbox)
    await trustmary.upsert(ContactWrite(email="tagged@example.test", tags=("NPS survey",)))
    [contact] = (await trustmary.fetch_by_emails(["tagged@example.test"])).values()

    result = await trustmary.tag(contact, add=["Staff", "Nope"], remove=["nps survey"])

    assert result.status is WriteStatus.UPDATED
    assert result.dropped_fields == ("tags[1]",)
    assert result.message is not None
    assert "Nope" in result.message
    assert (await stored_by_email(sandbox_http, "tagged@example.test"))["lists"] == [ids["Staff"]]


async def test_tag_with_only_unknown_lists_fails_without_a_write(
    trustmary: TrustmaryConnector, sandbox_http: httpx.AsyncClient
) -> None:
    [contact] = (
        await trustmary.fetch_by_emails([(await stored(sandbox_http))[0]["email"]])
    ).values()
    await reset(sandbox_http)

    result = await trustmary.tag(contact, add=["Nope"])

    assert result.status is WriteStatus.FAILED
    assert result.dropped_fields == ("tags[0]",)
    assert POST not in await calls(sandbox_http)


async def test_list_tags_are_the_lists_with_counts(
    trustmary: TrustmaryConnector, sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    tags = await trustmary.list_tags()

    records = await stored(sandbox_http)
    expected = {
        name: sum(1 for r in records if list_id in r["lists"] and r["status"] != "deleted")
        for name, list_id in list_ids(sandbox).items()
    }
    assert {t.name: t.count for t in tags} == expected
    assert {t.name: t.id for t in tags} == list_ids(sandbox)
    assert {t.kind for t in tags} == {"list"}


async def test_delete_marks_the_contact_deleted_and_hides_it(
    trustmary: TrustmaryConnector, sandbox_http: httpx.AsyncClient
) -> None:
    email = (await stored(sandbox_http))[3]["email"]
    [contact] = (await trustmary.fetch_by_emails([email])).values()

    result = await trustmary.delete(contact)

    assert result.status is WriteStatus.DELETED
    assert result.message is not None
    assert "status deleted" in result.message
    assert result.remote_id == contact.remote_id
    assert (await stored_by_email(sandbox_http, email))["status"] == "deleted"
    assert await trustmary.fetch_by_emails([email]) == {}
    # Tagging is an upsert in Trustmary: it must not bring the deleted contact back.
    assert result.contact is not None
    retag = await trustmary.tag(result.contact, add=["Staff"])
    assert retag.status is WriteStatus.FAILED
    assert (await stored_by_email(sandbox_http, email))["status"] == "deleted"


async def test_delete_of_an_unknown_email_fails_as_not_found(
    trustmary: TrustmaryConnector,
) -> None:
    ghost = ContactRecord(Provider.TRUSTMARY, "zzzzzzzzz", email="ghost@example.test")

    result = await trustmary.delete(ghost)

    assert result.status is WriteStatus.FAILED
    assert result.message == "not found"


# -- reads ----------------------------------------------------------------------


async def test_record_mapping(
    trustmary: TrustmaryConnector, sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    assert sandbox.data is not None
    person = next(p for p in sandbox.data.in_provider("trustmary") if p.index % 2 == 0)
    seed = person.records["trustmary"]

    found = await trustmary.fetch_by_emails([seed.email.upper()])

    contact = found[seed.email.lower()]
    record = await stored_by_email(sandbox_http, seed.email)
    assert contact.remote_id == record["id"]
    assert (contact.first_name, contact.last_name) == (seed.first_name, seed.last_name)
    assert contact.name == f"{seed.first_name} {seed.last_name}"
    assert contact.email == seed.email
    assert contact.emails == [seed.email]
    assert contact.phones == [seed.phone]
    assert contact.company == seed.company
    assert contact.external_id == person.external_id
    assert (contact.status, contact.type) == (
        ContactStatus.ACTIVE,
        ContactType(person.contact_type),
    )
    assert contact.created_at == seed.created_at.replace(
        microsecond=seed.created_at.microsecond // 1000 * 1000
    )
    assert contact.created_at is not None
    assert contact.created_at.tzinfo is UTC
    assert contact.updated_at is not None
    assert contact.raw["id"] == record["id"]
    assert contact.raw["name"] == record["name"]


@pytest.mark.parametrize(
    ("raw_type", "raw_status", "expected"),
    [
        ("customer", "active", (ContactType.CUSTOMER, ContactStatus.ACTIVE)),
        ("employee", "error", (ContactType.EMPLOYEE, ContactStatus.ERROR)),
        ("customer", "deleted", (ContactType.CUSTOMER, ContactStatus.DELETED)),
        ("Customer", "UNSUBSCRIBED", (ContactType.CUSTOMER, ContactStatus.UNSUBSCRIBED)),
        # Values Trustmary does not document are OTHER; the record's raw keeps them.
        ("partner", "bouncing", (ContactType.OTHER, ContactStatus.OTHER)),
        (None, "", (None, None)),
    ],
)
def test_type_and_status_map_to_the_documented_values(
    raw_type: str | None, raw_status: str | None, expected: tuple[Any, Any]
) -> None:
    record = {"id": "gkggiGLXH", "email": "a@x.test", "type": raw_type, "status": raw_status}
    contact = to_record(record)
    assert (contact.type, contact.status) == expected
    assert (contact.raw["type"], contact.raw["status"]) == (raw_type, raw_status)


def test_name_without_a_space_is_a_first_name(trustmary: TrustmaryConnector) -> None:
    contact = to_record(
        {"id": "abc", "email": "x@y.test", "name": "Cher", "created_at": "2020-10-22T14:55:52.638Z"}
    )

    assert (contact.first_name, contact.last_name, contact.name) == ("Cher", None, "Cher")
    assert contact.created_at is not None
    assert contact.created_at.isoformat() == "2020-10-22T14:55:52.638000+00:00"


async def test_one_email_costs_one_lookup_call(
    trustmary: TrustmaryConnector, sandbox_http: httpx.AsyncClient
) -> None:
    email = (await stored(sandbox_http))[0]["email"]
    await reset(sandbox_http)

    found = await trustmary.fetch_by_emails([email.upper(), email])

    assert found[email.lower()].email == email
    assert await calls(sandbox_http) == {CONTACTS: 1}


async def test_emails_cost_the_fewer_of_one_call_each_or_every_page(
    empty_sandbox: Sandbox, empty_sandbox_http: httpx.AsyncClient
) -> None:
    emails = fill(empty_sandbox, 2500)  # three pages
    trustmary = TrustmaryConnector(empty_sandbox_http, sandbox_settings(Provider.TRUSTMARY))

    # Until a read has reached the end, one page is the best guess: read pages.
    found = await trustmary.fetch_by_emails([emails[0], emails[2400], "missing@bulk.test"])
    assert set(found) == {emails[0], emails[2400]}
    assert await calls(empty_sandbox_http) == {CONTACTS: 3}

    # Now three pages are known: two emails are cheaper one by one...
    await reset(empty_sandbox_http)
    assert set(await trustmary.fetch_by_emails([emails[5], emails[1500]])) == {
        emails[5],
        emails[1500],
    }
    assert await calls(empty_sandbox_http) == {CONTACTS: 2}

    # ...and from three on, pages are no dearer.
    await reset(empty_sandbox_http)
    wanted = [emails[1], emails[2], emails[3]]
    assert set(await trustmary.fetch_by_emails(wanted)) == set(wanted)
    assert await calls(empty_sandbox_http) == {CONTACTS: 1}


async def test_many_emails_are_found_by_reading_pages(
    empty_sandbox: Sandbox, empty_sandbox_http: httpx.AsyncClient
) -> None:
    emails = fill(empty_sandbox, 1500)
    trustmary = TrustmaryConnector(empty_sandbox_http, sandbox_settings(Provider.TRUSTMARY))
    on_first_page = [*emails[:10], emails[999]]
    on_second_page = [*emails[:10], emails[1499]]

    first = await trustmary.fetch_by_emails(on_first_page)
    first_calls = await calls(empty_sandbox_http)
    await reset(empty_sandbox_http)
    both = await trustmary.fetch_by_emails([*on_second_page, "missing@bulk.test"])
    both_calls = await calls(empty_sandbox_http)

    assert set(first) == set(on_first_page)
    # 11 emails: per-email lookups would cost 11 calls; one page holds them all.
    assert first_calls == {CONTACTS: 1}
    assert set(both) == set(on_second_page)
    assert both_calls == {CONTACTS: 2}


async def test_list_contacts_pages_of_1000_ignore_limit(
    empty_sandbox: Sandbox, empty_sandbox_http: httpx.AsyncClient
) -> None:
    emails = fill(empty_sandbox, 2000)
    trustmary = TrustmaryConnector(empty_sandbox_http, sandbox_settings(Provider.TRUSTMARY))

    first = await trustmary.list_contacts(cursor=None, limit=10)
    second = await trustmary.list_contacts(cursor=first.next_cursor, limit=10)
    third = await trustmary.list_contacts(cursor=second.next_cursor, limit=10)

    assert (len(first.contacts), len(second.contacts), third.contacts) == (1000, 1000, [])
    assert first.next_cursor is not None
    assert second.next_cursor is not None
    assert third.next_cursor is None
    assert [c.email for c in first.contacts + second.contacts] == emails
    assert first.positions[-1] == first.next_cursor
    assert await calls(empty_sandbox_http) == {CONTACTS: 3}


async def test_a_listing_goes_on_after_the_last_contact_listed_whatever_was_deleted(
    empty_sandbox: Sandbox, empty_sandbox_http: httpx.AsyncClient
) -> None:
    emails = fill(empty_sandbox, 1500)
    trustmary = TrustmaryConnector(empty_sandbox_http, sandbox_settings(Provider.TRUSTMARY))
    first = await trustmary.list_contacts(cursor=None, limit=10)
    resume_after = first.positions[799]  # a client read 800 of the first page
    # Five contacts listed before it, and the last three it listed, are deleted.
    for contact in [*first.contacts[100:105], *first.contacts[797:800]]:
        assert contact.email is not None
        await empty_sandbox_http.request(
            "DELETE",
            "/trustmary/v1/contacts",
            json={"email": contact.email},
            headers={"Authorization": "Apikey sandbox-trustmary-key"},
        )
    rest: list[str] = []
    cursor: str | None = resume_after
    while cursor is not None:
        page = await trustmary.list_contacts(cursor=cursor, limit=10)
        rest += [c.email or "" for c in page.contacts]
        cursor = page.next_cursor
    assert rest == emails[800:]


async def test_last_short_page_ends_the_listing(
    empty_sandbox: Sandbox, empty_sandbox_http: httpx.AsyncClient
) -> None:
    fill(empty_sandbox, 1001)
    trustmary = TrustmaryConnector(empty_sandbox_http, sandbox_settings(Provider.TRUSTMARY))

    second = await trustmary.list_contacts(cursor="1000", limit=50)

    assert [c.email for c in second.contacts] == ["person01000@bulk.test"]
    assert second.next_cursor is None


async def test_bad_cursor_is_bad_input(trustmary: TrustmaryConnector) -> None:
    with pytest.raises(BadInput):
        await trustmary.list_contacts(cursor="page-two", limit=10)


# -- auth, health, rate limits ------------------------------------------------------


@pytest.fixture
def wrong_key(sandbox_http: httpx.AsyncClient) -> TrustmaryConnector:
    return TrustmaryConnector(
        sandbox_http, sandbox_settings(Provider.TRUSTMARY, api_key=Secret("wrong-key"))
    )


async def test_wrong_key_raises_on_reads(wrong_key: TrustmaryConnector) -> None:
    with pytest.raises(AuthError, match="Unauthorized"):
        await wrong_key.fetch_by_emails(["a@example.test"])
    with pytest.raises(AuthError):
        await wrong_key.list_contacts(cursor=None, limit=10)
    with pytest.raises(AuthError):
        await wrong_key.list_tags()


async def test_wrong_key_fails_writes_and_stores_nothing(
    wrong_key: TrustmaryConnector, sandbox_http: httpx.AsyncClient
) -> None:
    before = await stored(sandbox_http)

    result = await wrong_key.upsert(ContactWrite(email="a@example.test", tags=("Staff",)))

    assert result.status is WriteStatus.FAILED
    assert result.message == "Unauthorized"
    assert "wrong-key" not in repr(result)
    assert await stored(sandbox_http) == before


async def test_health(trustmary: TrustmaryConnector, wrong_key: TrustmaryConnector) -> None:
    ok = await trustmary.check_health()
    refused = await wrong_key.check_health()

    assert ok.ok
    assert ok.latency_ms is not None
    assert not refused.ok
    assert refused.message == "Unauthorized"


async def test_retry_after_is_honoured_on_a_read() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "0.2"}, json={"error": "Too many requests"}),
        httpx.Response(200, json={"contacts": [{"id": "abcdefghi", "email": "a@example.test"}]}),
    )

    async with scripted(Provider.TRUSTMARY, script) as trustmary:
        found = await trustmary.fetch_by_emails(["a@example.test"])

    assert found["a@example.test"].remote_id == "abcdefghi"
    assert [r.headers["Authorization"] for r in script.requests] == [
        "Apikey sandbox-trustmary-key"
    ] * 2
    # The policy's own backoff is at most 0.05s here: the pause is the provider's.
    assert script.times[1] - script.times[0] >= 0.2


async def test_emulator_rate_limit_surfaces_as_rate_limited(
    sandbox: Sandbox, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox.emulators["trustmary"].set_controls(Controls(rate_limit=RateLimit(1, 60)))
    trustmary = TrustmaryConnector(
        sandbox_http,
        sandbox_settings(Provider.TRUSTMARY, retry=RetryPolicy(attempts=1)),
    )

    await trustmary.list_contacts(cursor=None, limit=10)
    with pytest.raises(RateLimited) as refused:
        await trustmary.list_contacts(cursor=None, limit=10)

    assert refused.value.retry_after is not None
    assert refused.value.retry_after > 0


@pytest.mark.parametrize("kind", [ContactType.EMPLOYEE, ContactType.CUSTOMER])
async def test_type_is_stored_and_read_back(
    trustmary: TrustmaryConnector, sandbox_http: httpx.AsyncClient, kind: ContactType
) -> None:
    result = await trustmary.upsert(
        ContactWrite(email="staff@example.test", type=kind, urls=("https://x.test",))
    )

    assert result.status is WriteStatus.CREATED
    assert result.dropped_fields == ("urls",)
    assert (await stored_by_email(sandbox_http, "staff@example.test"))["type"] == kind.value
    assert result.contact is not None
    assert result.contact.type is kind
