from __future__ import annotations

import asyncio
import json
from datetime import UTC
from functools import partial
from typing import Any

import httpx
import pytest

from connectors.akita import AkitaConnector
from connectors.protocol import EmailReader, IdReader, Lister, Searcher
from connectors.settings import Secret
from gateway.domain.records import ContactType, ContactWrite, Provider, TagInfo, WriteStatus
from sandbox.app import Sandbox
from sandbox.emulator import Controls
from tests.connectors import support
from tests.connectors.support import Script, scripted
from tests.support import SANDBOX_URL, sandbox_settings

ADA = ContactWrite(
    external_id="u-1",
    account_external_id="acct-1",
    first_name="Ada",
    last_name="Lovelace",
    email="ada@example.test",
    phones=("+358 40 123 4567", "+358 9 765 4321"),
)


@pytest.fixture
def akita(sandbox_http: httpx.AsyncClient) -> AkitaConnector:
    return AkitaConnector(sandbox_http, sandbox_settings(Provider.AKITA))


async def stored(http: httpx.AsyncClient, kind: str) -> list[dict[str, Any]]:
    return [r for r in await support.records(http, Provider.AKITA) if r["kind"] == kind]


calls = partial(support.calls, provider=Provider.AKITA)


async def test_create_then_update_keeps_the_remote_id(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    created = await akita.upsert(ADA)
    updated = await akita.upsert(
        ContactWrite(external_id="u-1", account_external_id="acct-1", first_name="Augusta")
    )

    assert created.status is WriteStatus.CREATED
    assert updated.status is WriteStatus.UPDATED
    assert created.remote_id is not None
    assert updated.remote_id == created.remote_id
    assert created.dropped_fields == updated.dropped_fields == ()
    [record] = await stored(sandbox_http, "contact")
    assert record["internal_id"] == "u-1"
    assert record["internal_account_id"] == "acct-1"
    assert (record["first_name"], record["last_name"]) == ("Augusta", "Lovelace")
    # A lone first name must not replace the stored full name with half of it.
    assert record["name"] == "Ada Lovelace"
    assert record["emails"] == [{"label": "Email", "value": "ada@example.test"}]
    assert [p["value"] for p in record["phones"]] == ["+358 40 123 4567", "+358 9 765 4321"]


async def test_write_answer_is_mapped_to_a_contact(akita: AkitaConnector) -> None:
    result = await akita.upsert(ADA)

    contact = result.contact
    assert contact is not None
    assert contact.remote_id == result.remote_id
    assert (contact.external_id, contact.account_external_id) == ("u-1", "acct-1")
    assert contact.email == "ada@example.test"
    assert contact.name == "Ada Lovelace"
    assert contact.phones == ["+358 40 123 4567", "+358 9 765 4321"]
    assert contact.created_at is not None
    assert contact.created_at.tzinfo is UTC
    assert contact.raw["internal_id"] == "u-1"


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        (ContactWrite(email="a@x.test"), "Akita needs externalId and accountExternalId"),
        (ContactWrite(external_id="u-1"), "Akita needs accountExternalId"),
        (ContactWrite(account_external_id="acct-1", external_id="  "), "Akita needs externalId"),
    ],
)
async def test_skipped_without_external_ids_and_never_sent(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient, contact: ContactWrite, reason: str
) -> None:
    result = await akita.upsert(contact)

    assert result.status is WriteStatus.SKIPPED
    assert result.message == reason
    assert await calls(sandbox_http) == {}


async def test_tags_are_sent_as_api_ids_and_unknown_names_dropped(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await akita.upsert(
        ContactWrite(external_id="u-1", account_external_id="a", tags=("vip", "nope", "beta"))
    )

    assert result.status is WriteStatus.CREATED
    assert result.dropped_fields == ("tags[1]",)
    [record] = await stored(sandbox_http, "contact")
    assert record["tags"] == [345, 349]
    assert result.contact is not None
    assert [(t.name, t.id) for t in result.contact.tags] == [("vip", "345"), ("beta", "349")]


async def test_only_unknown_tag_names_leave_the_stored_tags_alone(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    await akita.upsert(ContactWrite(external_id="u-1", account_external_id="a", tags=("vip",)))
    result = await akita.upsert(
        ContactWrite(external_id="u-1", account_external_id="a", tags=("nope",))
    )

    assert result.dropped_fields == ("tags[0]",)
    [record] = await stored(sandbox_http, "contact")
    assert record["tags"] == [345]


async def test_job_title_and_custom_fields_are_reported_dropped(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await akita.upsert(
        ContactWrite(
            external_id="u-1",
            account_external_id="a",
            job_title="CTO",
            custom_fields={"plan": "pro"},
        )
    )

    assert result.status is WriteStatus.CREATED
    assert set(result.dropped_fields) == {"job_title", "custom_fields"}
    [record] = await stored(sandbox_http, "contact")
    assert "CTO" not in json.dumps(record)
    assert "pro" not in json.dumps(record)


async def test_company_is_stored_as_the_account_name(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await akita.upsert(
        ContactWrite(external_id="u-1", account_external_id="acct-9", company="Acme Corp")
    )

    assert result.status is WriteStatus.CREATED
    assert result.dropped_fields == ()
    [account] = await stored(sandbox_http, "account")
    assert (account["internal_id"], account["name"]) == ("acct-9", "Acme Corp")
    [contact] = await stored(sandbox_http, "contact")
    assert contact["internal_account_id"] == "acct-9"
    assert result.contact is not None
    assert result.contact.company == "Acme Corp"
    assert await calls(sandbox_http) == {"POST /v1/accounts": 1, "POST /v1/contacts": 1}


async def test_refused_account_still_writes_the_contact_and_reports_company_dropped(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await akita.upsert(
        ContactWrite(external_id="u-1", account_external_id="a", first_name="Ada", company=" ")
    )

    assert result.status is WriteStatus.CREATED
    assert result.dropped_fields == ("company",)
    assert result.message is not None
    assert "company not stored" in result.message
    assert "name: The name field is required." in result.message
    assert await stored(sandbox_http, "account") == []
    [contact] = await stored(sandbox_http, "contact")
    assert contact["first_name"] == "Ada"


async def test_validation_error_is_failed_with_the_providers_message(
    sandbox_http: httpx.AsyncClient,
) -> None:
    akita = AkitaConnector(sandbox_http, sandbox_settings(Provider.AKITA, tag_ids={"vip": 999}))

    result = await akita.upsert(
        ContactWrite(external_id="u-1", account_external_id="a", tags=("vip",))
    )

    assert result.status is WriteStatus.FAILED
    assert result.message == (
        "The given data was invalid. (tags.0: The selected tags.0 is invalid.)"
    )
    assert await stored(sandbox_http, "contact") == []


async def test_wrong_key_fails_the_write_and_its_last_answer_says_so(
    sandbox_http: httpx.AsyncClient,
) -> None:
    akita = AkitaConnector(
        sandbox_http, sandbox_settings(Provider.AKITA, api_key=Secret("wrong-key"))
    )
    assert akita.last_answer is None

    result = await akita.upsert(ADA)

    assert result.status is WriteStatus.FAILED
    assert result.message == "Unauthenticated."
    # Akita has nothing to probe: its health is how it answered the gateway's calls.
    assert akita.last_answer is not None
    assert not akita.last_answer.ok
    assert "wrong-key" not in repr(result) + repr(akita.last_answer)
    assert await stored(sandbox_http, "contact") == []


async def test_a_write_akita_took_makes_its_last_answer_ok(akita: AkitaConnector) -> None:
    await akita.upsert(ADA)

    assert akita.last_answer is not None
    assert akita.last_answer.ok


async def test_failed_write_is_not_repeated(
    sandbox: Sandbox, akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    sandbox.emulators["akita"].set_controls(Controls(error_rate=1.0))

    result = await akita.upsert(ADA)

    assert result.status is WriteStatus.FAILED
    assert result.message == "Internal server error."
    assert await calls(sandbox_http) == {"POST /v1/contacts": 1}


async def test_rate_limited_write_is_retried_after_retry_after() -> None:
    script = Script(
        httpx.Response(
            429, json={"message": "Too Many Attempts."}, headers={"Retry-After": "0.05"}
        ),
        httpx.Response(201, json={"data": {"id": 7, "internal_id": "u-1"}}),
    )

    async with scripted(Provider.AKITA, script) as akita:
        result = await akita.upsert(ADA)

    assert result.status is WriteStatus.CREATED
    assert result.remote_id == "7"
    assert len(script.requests) == 2


async def test_upsert_many_answers_in_input_order_within_the_concurrency_bound() -> None:
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        body = json.loads(request.content)
        return httpx.Response(201, json={"data": {"id": int(body["internal_id"])}})

    inputs = [ContactWrite(external_id=str(n), account_external_id="a") for n in range(1, 7)]
    inputs.insert(3, ContactWrite(email="no-ids@example.test"))
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url=SANDBOX_URL
    ) as client:
        akita = AkitaConnector(client, sandbox_settings(Provider.AKITA, concurrency=2))
        results = await akita.upsert_many(inputs)

    assert [r.remote_id for r in results] == ["1", "2", "3", None, "4", "5", "6"]
    assert results[3].status is WriteStatus.SKIPPED
    assert peak == 2


async def test_upsert_many_writes_each_account_once(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    inputs = [
        ContactWrite(external_id=f"u-{n}", account_external_id=account, company=company)
        for n, (account, company) in enumerate(
            [("a-1", "Acme"), ("a-1", "Acme"), ("a-2", "Globex"), ("a-1", "Acme")]
        )
    ]

    results = await akita.upsert_many([*inputs, ContactWrite(company="No ids")])

    assert [r.status for r in results] == [WriteStatus.CREATED] * 4 + [WriteStatus.SKIPPED]
    assert [r.contact.company for r in results[:4] if r.contact] == [
        "Acme",
        "Acme",
        "Globex",
        "Acme",
    ]
    assert await calls(sandbox_http) == {"POST /v1/accounts": 2, "POST /v1/contacts": 4}
    assert sorted((a["internal_id"], a["name"]) for a in await stored(sandbox_http, "account")) == [
        ("a-1", "Acme"),
        ("a-2", "Globex"),
    ]


async def test_tags_come_from_the_configured_map_without_a_call(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    tags = await akita.list_tags()

    assert TagInfo(Provider.AKITA, "vip", kind="tag", id="345") in tags
    assert len(tags) == 5
    assert await calls(sandbox_http) == {}


def test_akita_cannot_be_read(akita: AkitaConnector) -> None:
    for reader in (EmailReader, IdReader, Lister, Searcher):
        assert not isinstance(akita, reader)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            422,
            {
                "message": "The given data was invalid.",
                "errors": {
                    "internal_id": ["The internal id field is required."],
                    "tags.0": ["The tags.0 must be an integer."],
                },
            },
            "The given data was invalid. (internal_id: The internal id field is required.; "
            "tags.0: The tags.0 must be an integer.)",
        ),
        (401, {"message": "Unauthenticated."}, "Unauthenticated."),
        (502, None, "Bad Gateway"),
    ],
)
async def test_error_message_reads_laravels_shape(
    akita: AkitaConnector, status: int, body: Any, message: str
) -> None:
    response = httpx.Response(status, json=body) if body is not None else httpx.Response(status)

    assert akita.error_message(response) == message


async def test_a_200_without_the_documented_json_is_not_a_success() -> None:
    page = httpx.Response(200, text="<html>maintenance</html>")
    async with scripted(Provider.AKITA, Script(page)) as akita:
        result = await akita.upsert(ADA)
    assert result.status is WriteStatus.FAILED
    assert "without the documented JSON" in (result.message or "")
    # Akita upserts by internal_id: the journal may try again without a duplicate.
    assert (result.retriable, result.outcome_unknown) == (True, True)


async def test_urls_are_stored_as_labelled_values_and_the_rest_reported_dropped(
    akita: AkitaConnector, sandbox_http: httpx.AsyncClient
) -> None:
    result = await akita.upsert(
        ContactWrite(
            external_id="u-1",
            account_external_id="acct-1",
            urls=("https://ada.example.test", "https://blog.example.test/ada"),
            notes="Met at a fair",
            type=ContactType.CUSTOMER,
            owner_id="2",
        )
    )

    assert result.status is WriteStatus.CREATED
    assert result.dropped_fields == ("notes", "type", "owner_id")
    [record] = await stored(sandbox_http, "contact")
    assert record["urls"] == [
        {"label": "Website", "value": "https://ada.example.test"},
        {"label": "Website", "value": "https://blog.example.test/ada"},
    ]
    assert result.contact is not None
    assert result.contact.urls == ["https://ada.example.test", "https://blog.example.test/ada"]
