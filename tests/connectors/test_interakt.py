from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import httpx
import pytest

from connectors.interakt import InteraktConnector
from connectors.interakt.mapping import request_for
from connectors.protocol import EmailReader, IdReader, Lister, TagLister
from connectors.settings import Secret
from gateway.domain.records import ContactWrite, Lifecycle, PostalAddress, Provider, WriteStatus
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from tests.connectors import support
from tests.connectors.support import Script, scripted
from tests.support import sandbox_settings

STORED = "stored (Interakt does not say whether the contact was new)"


@pytest.fixture
def interakt(sandbox_http: httpx.AsyncClient) -> InteraktConnector:
    return InteraktConnector(sandbox_http, sandbox_settings(Provider.INTERAKT))


stored = partial(support.records, provider=Provider.INTERAKT)
calls = partial(support.calls, provider=Provider.INTERAKT)


async def test_input_with_external_id_is_a_member(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await interakt.upsert(
        ContactWrite(
            email="ada@example.test",
            external_id="u-1",
            account_external_id="acct-1",
            first_name="Ada",
            last_name="Lovelace",
            phones=("+358 40 123 4567",),
            company="Acme Corp",
            job_title="CTO",
        )
    )

    assert result.status is WriteStatus.UPDATED
    assert result.message == STORED
    assert result.dropped_fields == ()
    [record] = await stored(sandbox_http)
    assert record["kind"] == "member"
    assert record["email"] == "ada@example.test"
    assert record["attributes"] == {
        "user_id": "u-1",
        "account_id": "acct-1",
        "name": "Ada Lovelace",
        "phone": "+358 40 123 4567",
        "company": "Acme Corp",
        "job_title": "CTO",
    }
    assert await calls(sandbox_http) == {"POST /api/v1/members": 1}


async def test_input_without_external_id_is_a_lead(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await interakt.upsert(
        ContactWrite(email="lead@example.test", first_name="Bea", phones=("+1 404 555 1212",))
    )

    assert result.status is WriteStatus.UPDATED
    [record] = await stored(sandbox_http)
    assert record["kind"] == "lead"
    assert record["attributes"] == {"phone_number": "+1 404 555 1212"}
    assert await calls(sandbox_http) == {"POST /api/v1/leads": 1}


@pytest.mark.parametrize("given", [{"first_name": "Ada"}, {"last_name": "Lovelace"}])
async def test_half_a_name_is_not_written_over_the_stored_name_and_is_reported(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient, given: dict[str, str]
) -> None:
    email = "ada@example.test"
    await interakt.upsert(ContactWrite(email=email, first_name="Ada", last_name="Lovelace"))

    result = await interakt.upsert(ContactWrite(email=email, company="Analytical", **given))

    assert result.status is WriteStatus.UPDATED
    assert result.dropped_fields == tuple(given)
    assert "both first and last name" in (result.message or "")
    [record] = await stored(sandbox_http)
    assert record["attributes"]["name"] == "Ada Lovelace"
    assert record["attributes"]["company"] == "Analytical"


async def test_second_write_updates_the_same_record(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    first = await interakt.upsert(ContactWrite(email="lead@example.test", company="Globex"))
    second = await interakt.upsert(ContactWrite(email="LEAD@example.test", company="Initech"))

    assert first.status is second.status is WriteStatus.UPDATED
    assert first.message == second.message == STORED
    [record] = await stored(sandbox_http)
    assert record["attributes"]["company"] == "Initech"


@pytest.mark.parametrize("email", [None, "", "   "])
async def test_skipped_without_email_and_never_sent(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient, email: str | None
) -> None:
    result = await interakt.upsert(ContactWrite(email=email, external_id="u-1", first_name="Ada"))

    assert result.status is WriteStatus.SKIPPED
    assert result.message == "Interakt silently ignores writes without an email"
    assert await calls(sandbox_http) == {}
    assert await stored(sandbox_http) == []


async def test_null_and_object_custom_fields_are_reported_dropped_the_rest_stored(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await interakt.upsert(
        ContactWrite(
            email="ada@example.test",
            custom_fields={"plan": "pro", "seats": 5, "gone": None, "address": {"city": "Oulu"}},
        )
    )

    assert result.status is WriteStatus.UPDATED
    assert result.dropped_fields == ("custom_fields.gone", "custom_fields.address")
    [record] = await stored(sandbox_http)
    assert record["custom_data"] == {"plan": "pro", "seats": 5}


async def test_dates_are_sent_as_unix_time_and_stored_as_date_times(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    await interakt.upsert(
        ContactWrite(
            email="ada@example.test",
            custom_fields={
                "trial_ends_at": datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
                "renewed_at": "2025-01-06T09:00:00Z",
                "signed_up_at": "1467875969",
                "joined_at": "soon",
            },
        )
    )

    [record] = await stored(sandbox_http)
    assert record["custom_data"] == {
        "trial_ends_at": "2026-03-01T12:30:00Z",
        "renewed_at": "2025-01-06T09:00:00Z",
        "signed_up_at": "2016-07-07T07:19:29Z",
        "joined_at": "soon",
    }


async def test_phones_beyond_the_first_and_tags_are_reported_dropped(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await interakt.upsert(
        ContactWrite(
            email="ada@example.test", phones=("+1 1", "+1 2", "+1 3"), tags=("vip", "beta")
        )
    )

    assert result.status is WriteStatus.UPDATED
    assert result.dropped_fields == ("phones[1]", "phones[2]", "tags")
    [record] = await stored(sandbox_http)
    assert record["attributes"] == {"phone_number": "+1 1"}


async def test_wrong_key_fails_the_write_and_its_last_answer_says_so(
    sandbox_http: httpx.AsyncClient,
) -> None:
    interakt = InteraktConnector(
        sandbox_http, sandbox_settings(Provider.INTERAKT, api_key=Secret("wrong-key"))
    )

    result = await interakt.upsert(ContactWrite(email="ada@example.test"))

    assert result.status is WriteStatus.FAILED
    assert result.message == "Unauthorized"
    # Interakt has nothing to probe: its health is how it answered the gateway's calls.
    assert interakt.last_answer is not None
    assert not interakt.last_answer.ok
    assert "wrong-key" not in repr(result) + repr(interakt.last_answer)
    assert await stored(sandbox_http) == []


async def test_a_write_interakt_took_makes_its_last_answer_ok(
    interakt: InteraktConnector,
) -> None:
    await interakt.upsert(ContactWrite(email="ada@example.test"))

    assert interakt.last_answer is not None
    assert interakt.last_answer.ok


async def test_failed_write_is_not_repeated(
    sandbox: Sandbox, interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox.emulators["interakt"].set_controls(Controls(error_rate=1.0))

    result = await interakt.upsert(ContactWrite(email="ada@example.test"))

    assert result.status is WriteStatus.FAILED
    assert result.message == "Internal server error."
    assert await calls(sandbox_http) == {"POST /api/v1/leads": 1}


async def test_rate_limited_write_is_retried_after_retry_after() -> None:
    script = Script(
        httpx.Response(429, json={"error": "Too many requests."}, headers={"Retry-After": "0.05"}),
        httpx.Response(200, json={}),
    )

    async with scripted(Provider.INTERAKT, script) as interakt:
        result = await interakt.upsert(ContactWrite(email=" ada@example.test "))

    assert result.status is WriteStatus.UPDATED
    assert len(script.requests) == 2
    # Sent trimmed, as Trustmary and Lunar Send writes are: the email is the key.
    assert json.loads(script.requests[1].content) == {"email": "ada@example.test"}


async def test_upsert_many_answers_in_input_order(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    results = await interakt.upsert_many(
        [
            ContactWrite(email="a@example.test", external_id="u-a"),
            ContactWrite(first_name="No Email"),
            ContactWrite(email="b@example.test"),
        ]
    )

    assert [r.status for r in results] == [
        WriteStatus.UPDATED,
        WriteStatus.SKIPPED,
        WriteStatus.UPDATED,
    ]
    assert sorted((r["kind"], r["email"]) for r in await stored(sandbox_http)) == [
        ("lead", "b@example.test"),
        ("member", "a@example.test"),
    ]


def test_interakt_cannot_be_read_and_has_no_tags(interakt: InteraktConnector) -> None:
    for reader in (EmailReader, IdReader, Lister, TagLister):
        assert not isinstance(interakt, reader)


async def test_lifecycle_lead_writes_a_lead_and_drops_its_user_id(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await interakt.upsert(
        ContactWrite(
            email="lead@example.test",
            external_id="u-9",
            phones=("+15550100100",),
            lifecycle=Lifecycle.LEAD,
        )
    )

    assert result.status is WriteStatus.UPDATED
    assert result.dropped_fields == ("external_id",)
    [record] = await stored(sandbox_http)
    assert record["kind"] == "lead"
    assert record["attributes"] == {"phone_number": "+15550100100"}
    assert await calls(sandbox_http) == {"POST /api/v1/leads": 1}


async def test_lifecycle_member_writes_a_member_without_a_user_id(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await interakt.upsert(
        ContactWrite(
            email="member@example.test", phones=("+15550100100",), lifecycle=Lifecycle.MEMBER
        )
    )

    assert result.dropped_fields == ()
    [record] = await stored(sandbox_http)
    assert record["kind"] == "member"
    assert record["attributes"] == {"phone": "+15550100100"}
    assert await calls(sandbox_http) == {"POST /api/v1/members": 1}


async def test_standard_attributes_country_city_url_and_signedup_at_as_unix_time(
    interakt: InteraktConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await interakt.upsert(
        ContactWrite(
            email="ada@example.test",
            external_id="u-1",
            urls=("https://ada.example.test", "https://blog.example.test"),
            address=PostalAddress(line1="1 Main St", city="London", country="United Kingdom"),
            signed_up_at=datetime(2026, 1, 31, 11, 30, tzinfo=timezone(timedelta(hours=2))),
        )
    )

    assert result.dropped_fields == ("urls[1]", "address.line1")
    [record] = await stored(sandbox_http)
    assert record["attributes"] == {
        "user_id": "u-1",
        "url": "https://ada.example.test",
        "city": "London",
        "country": "United Kingdom",
        # Interakt turns a unix timestamp under a key ending in _at into a date-time.
        "signedup_at": "2026-01-31T09:30:00Z",
    }


def test_the_body_carries_signedup_at_as_an_integer() -> None:
    path, body, dropped = request_for(
        ContactWrite(email="a@example.test", signed_up_at=datetime(2009, 11, 7, 0, 18, tzinfo=UTC))
    )
    assert (path, body, dropped) == (
        "/leads",
        {"email": "a@example.test", "signedup_at": 1257553080},
        [],
    )
