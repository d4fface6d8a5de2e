"""Writes that are never lost, across real sockets: lost answers, outages mended in the
background, the Lunar Send create race, bulk jobs, idempotency keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import GatewaySettings, read_document
from sandbox import credentials
from sandbox.app import Sandbox
from sandbox.config import sandbox_document
from tests.gateway.conftest import serve_gateway
from tests.support import fresh_store_url, serve_in_thread

pytestmark = pytest.mark.e2e

UPSERT = """mutation($input: ContactInput!, $providers: [Provider!]) {
  upsertContact(input: $input, providers: $providers) {
    operationId results { provider status message remoteId } } }"""
OPERATION = """query($id: ID!) { writeOperation(id: $id) { status
  legs { provider status attempts lastError } } }"""
JOB = """query($id: ID!) { bulkJob(id: $id) { id status inputs total succeeded failed queued
  pending startedAt finishedAt estimatedFinishAt } }"""
FAST_WRITES = {"first_retry": 0.2, "max_retry_interval": 0.5, "poll_interval": 0.1, "lease": 3}


def settings_for(base: str, *, timeout: float = 5.0, **writes: Any) -> GatewaySettings:
    """Every provider in the sandbox at `base`, unpaced, with quick retries."""
    document = sandbox_document(base)
    for table in document["providers"].values():
        table.pop("rate_limit", None)
        table["timeout"] = timeout
        table["retry"] = {"attempts": 2, "backoff": 0.05, "max_backoff": 0.1, "budget": 3}
    document["store"] = {"url": fresh_store_url()}
    document["writes"] = {**FAST_WRITES, **writes}
    return read_document(document, source="test")


@pytest.fixture
def sandbox_url(sandbox: Sandbox) -> Iterator[str]:
    """The seeded sandbox under a real uvicorn."""
    with serve_in_thread(sandbox.app) as url:
        yield url


def gql(url: str, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def controls(sandbox_url: str, provider: str, **values: Any) -> None:
    response = httpx.post(f"{sandbox_url}/{provider}/_sandbox/controls", json=values)
    assert response.is_success, response.text


def stored(sandbox_url: str, provider: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = httpx.get(f"{sandbox_url}/{provider}/_sandbox/records").json()[
        "records"
    ]
    return records


def copies(sandbox_url: str, provider: str, email: str) -> int:
    """How many records at `provider` hold `email`."""
    found = 0
    for record in stored(sandbox_url, provider):
        if provider == "adaptix":
            value = record["fields"]["all"].get("email")
        else:
            value = record.get("email")
        found += value == email
    return found


def wait_for(check: Any, *, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {timeout} s: {check}")
        time.sleep(0.1)


def person(email: str) -> dict[str, Any]:
    return {
        "email": email,
        "firstName": "Lost",
        "lastName": "Answer",
        "externalId": f"eid-{email}",
        "accountExternalId": "acct-lost",
    }


def test_answers_lost_after_the_provider_stored_the_record_are_never_failed(
    sandbox_url: str,
) -> None:
    email = "lost.answer@example.com"
    with serve_in_thread(create_app(settings_for(sandbox_url, timeout=0.5))) as url:
        for provider in ("akita", "interakt", "trustmary", "adaptix", "lunarsend"):
            controls(sandbox_url, provider, hold_write_answers_ms=1500)

        payload = gql(url, UPSERT, {"input": person(email)})["upsertContact"]
        results = {r["provider"]: r for r in payload["results"]}

        # Readable providers are read back: the record holds the write, so it landed.
        for provider in ("TRUSTMARY", "ADAPTIX", "LUNARSEND"):
            assert results[provider]["status"] == "UPDATED", results[provider]
            assert "read back" in results[provider]["message"]
        # Akita and Interakt cannot be read: an idempotent retry is queued.
        assert results["AKITA"]["status"] == "QUEUED"
        assert results["INTERAKT"]["status"] == "QUEUED"
        for provider in ("akita", "interakt", "trustmary", "adaptix", "lunarsend"):
            controls(sandbox_url, provider, hold_write_answers_ms=0)

        done = wait_for(
            lambda: (
                (op := gql(url, OPERATION, {"id": payload["operationId"]})["writeOperation"])[
                    "status"
                ]
                == "DONE"
                and op
            )
        )

    assert {leg["provider"]: leg["status"] for leg in done["legs"]} == {
        "AKITA": "UPDATED",
        "INTERAKT": "UPDATED",
        "TRUSTMARY": "UPDATED",
        "ADAPTIX": "UPDATED",
        "LUNARSEND": "UPDATED",
    }
    for provider in ("interakt", "trustmary", "adaptix", "lunarsend"):
        assert copies(sandbox_url, provider, email) == 1, provider
    akita = [r for r in stored(sandbox_url, "akita") if r.get("internal_id") == f"eid-{email}"]
    assert len(akita) == 1


def test_an_outage_during_a_write_is_mended_in_the_background_with_no_client_action(
    sandbox_url: str,
) -> None:
    email = "outage.mended@example.com"
    with serve_in_thread(create_app(settings_for(sandbox_url))) as url:
        controls(sandbox_url, "adaptix", outage=True)
        controls(sandbox_url, "trustmary", rate_limit={"requests": 1, "per_seconds": 30})
        spent = httpx.get(
            f"{sandbox_url}/trustmary/v1/contacts",
            params={"email": "x@example.com"},
            headers={"Authorization": f"Apikey {credentials.TRUSTMARY_API_KEY}"},
        )
        assert spent.status_code == 200  # the window's one request: the gateway's get 429

        payload = gql(url, UPSERT, {"input": person(email)})["upsertContact"]
        results = {r["provider"]: r for r in payload["results"]}
        assert results["ADAPTIX"]["status"] == "QUEUED"
        assert results["TRUSTMARY"]["status"] == "QUEUED"  # 429 past the retry budget

        controls(sandbox_url, "adaptix", outage=False)
        controls(sandbox_url, "trustmary", rate_limit=None)
        done = wait_for(
            lambda: (
                (op := gql(url, OPERATION, {"id": payload["operationId"]})["writeOperation"])[
                    "status"
                ]
                == "DONE"
                and op
            )
        )

    legs = {leg["provider"]: leg for leg in done["legs"]}
    assert legs["ADAPTIX"]["status"] == "CREATED"
    assert legs["ADAPTIX"]["attempts"] >= 2
    assert legs["TRUSTMARY"]["status"] == "CREATED"
    assert copies(sandbox_url, "adaptix", email) == 1
    assert copies(sandbox_url, "trustmary", email) == 1


def test_fifty_concurrent_upserts_of_one_new_email_make_one_lunar_send_contact(
    sandbox_url: str,
) -> None:
    email = "race@example.com"
    with serve_in_thread(create_app(settings_for(sandbox_url))) as url:

        async def all_at_once() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(timeout=60) as http:
                answers = await asyncio.gather(
                    *(
                        http.post(
                            f"{url}/graphql",
                            json={
                                "query": UPSERT,
                                "variables": {"input": person(email), "providers": ["LUNARSEND"]},
                            },
                        )
                        for _ in range(50)
                    )
                )
            return [a.json()["data"]["upsertContact"]["results"][0] for a in answers]

        results = asyncio.run(all_at_once())

    statuses = [r["status"] for r in results]
    assert "FAILED" not in statuses, [r for r in results if r["status"] == "FAILED"][:3]
    assert statuses.count("CREATED") == 1
    assert copies(sandbox_url, "lunarsend", email) == 1
    assert len({r["remoteId"] for r in results}) == 1


def test_a_bulk_job_returns_at_once_and_reports_progress_until_done(sandbox_url: str) -> None:
    inputs = [person(f"bulk.{i}@example.com") for i in range(45)]
    with serve_in_thread(create_app(settings_for(sandbox_url, bulk_chunk=10))) as url:
        controls(sandbox_url, "lunarsend", latency_ms=100)
        started = gql(
            url,
            """mutation($inputs: [ContactInput!]!) { startBulkUpsert(inputs: $inputs,
              providers: [LUNARSEND, ADAPTIX]) { id status inputs total pending } }""",
            {"inputs": inputs},
        )["startBulkUpsert"]
        assert (started["inputs"], started["total"], started["pending"]) == (45, 90, 90)
        assert started["status"] in ("PENDING", "RUNNING")

        seen = []
        job = wait_for(
            lambda: (
                (seen.append(j := gql(url, JOB, {"id": started["id"]})["bulkJob"]) or j)["status"]
                == "DONE"
                and j
            )
        )

    assert (job["succeeded"], job["failed"], job["queued"], job["pending"]) == (90, 0, 0, 0), job
    assert job["finishedAt"] is not None
    assert job["estimatedFinishAt"] is None
    running = [j for j in seen if j["status"] == "RUNNING"]
    assert running, "the job was never seen running"
    assert all(0 < j["succeeded"] + j["pending"] <= 90 for j in running)
    for item in inputs:
        assert copies(sandbox_url, "lunarsend", item["email"]) == 1
        assert copies(sandbox_url, "adaptix", item["email"]) == 1


# -- idempotency keys -----------------------------------------------------------------------


def post(url: str, query: str, variables: Any, key: str | None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    )


def writes_made(sandbox: Sandbox) -> int:
    return sum(
        n
        for emulator in sandbox.emulators.values()
        for label, n in emulator.stats.requests.items()
        if not label.startswith("GET")
    )


def test_the_same_key_and_request_answer_the_first_answer_and_write_nothing(
    sandbox: Sandbox,
) -> None:
    variables = {"input": person("idem@example.com")}
    with serve_gateway(sandbox) as url:
        first = post(url, UPSERT, variables, "order-1")
        writes = writes_made(sandbox)
        again = post(url, UPSERT, variables, "order-1")
        other = post(url, UPSERT, {"input": person("idem.other@example.com")}, "order-1")
        fresh = post(url, UPSERT, variables, "order-2")

    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422
    assert other.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert fresh.status_code == 200
    assert "Idempotent-Replayed" not in fresh.headers
    assert (
        fresh.json()["data"]["upsertContact"]["operationId"]
        != (first.json()["data"]["upsertContact"]["operationId"])
    )
    assert writes_made(sandbox) > writes  # only the new key wrote


def test_a_key_whose_first_request_still_runs_is_in_use(sandbox: Sandbox) -> None:
    variables = {"input": person("slow.idem@example.com"), "providers": ["ADAPTIX"]}
    sandbox.emulators["adaptix"].controls.latency_ms = 800
    with serve_gateway(sandbox) as url:

        async def both() -> tuple[httpx.Response, httpx.Response]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                body = {"query": UPSERT, "variables": variables}
                headers = {"Idempotency-Key": "slow-1"}
                first = asyncio.ensure_future(http.post("/graphql", json=body, headers=headers))
                await asyncio.sleep(0.3)
                second = await http.post("/graphql", json=body, headers=headers)
                return await first, second

        first, second = asyncio.run(both())
        after = post(url, UPSERT, variables, "slow-1")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert after.headers["Idempotent-Replayed"] == "true"
    assert after.json() == first.json()


def test_a_request_refused_before_it_ran_keeps_nothing_under_its_key(sandbox: Sandbox) -> None:
    with serve_gateway(sandbox) as url:
        refused = post(url, UPSERT, {"input": {"email": "not an email"}}, "fix-me")
        mended = post(url, UPSERT, {"input": person("mended@example.com")}, "fix-me")
        query = post(url, "{ providers { provider } }", None, "fix-me")

    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert mended.status_code == 200
    assert "errors" not in mended.json()
    assert "Idempotent-Replayed" not in mended.headers
    # A query is safe to send again: the key is not looked at.
    assert query.status_code == 200
    assert "Idempotent-Replayed" not in query.headers


@pytest.mark.parametrize("key", [b"", b"x" * 201, "caf\u00e9".encode(), b"two words"])
def test_a_malformed_key_is_refused(sandbox: Sandbox, key: bytes) -> None:
    with serve_gateway(sandbox) as url:
        response = httpx.post(
            f"{url}/graphql",
            json={"query": UPSERT, "variables": {"input": person("k@example.com")}},
            headers=[(b"Idempotency-Key", key)],
        )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_key_whose_client_left_mid_write_replays_and_writes_nothing_again(
    sandbox: Sandbox,
) -> None:
    """The writes of a request whose client hung up are carried out all the same: the
    retry with the same key is told so, and nothing is written twice."""
    email = "left.idem@example.com"
    variables = {"input": person(email), "providers": ["ADAPTIX"]}
    sandbox.emulators["adaptix"].controls.latency_ms = 600
    with serve_gateway(sandbox) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{url}/graphql",
                json={"query": UPSERT, "variables": variables},
                headers={"Idempotency-Key": "left-1"},
                timeout=0.2,
            )
        sandbox.emulators["adaptix"].controls.latency_ms = 0
        writes = writes_made(sandbox)
        again = wait_for(
            lambda: (r := post(url, UPSERT, variables, "left-1")).status_code != 409 and r
        )

    assert again.headers["Idempotent-Replayed"] == "true"
    codes = [e["extensions"]["code"] for e in again.json()["errors"]]
    assert codes == ["IDEMPOTENT_REQUEST_UNANSWERED"]
    assert writes_made(sandbox) == writes  # the retry wrote nothing
    stored = [r for r in sandbox.emulators["adaptix"].records() if email in str(r)]
    assert len(stored) == 1


@pytest.mark.parametrize(
    ("status", "body", "kept"),
    [
        (200, b'{"data": {"upsertContact": {}}}', "first"),
        (
            200,
            b'{"data": null, "errors": [{"extensions": {"code": "OPERATION_TIMEOUT"}}]}',
            "first",
        ),
        (200, b'{"data": null, "errors": [{"extensions": {"code": "BAD_USER_INPUT"}}]}', None),
        (401, b'{"errors": [{"extensions": {"code": "UNAUTHENTICATED"}}]}', None),
        (413, None, None),
        (0, None, "unanswered"),
        (503, b'{"errors": [{"extensions": {"code": "SERVICE_STOPPING"}}]}', "unanswered"),
    ],
)
def test_what_a_key_keeps(status: int, body: bytes | None, kept: str | None) -> None:
    from gateway import idempotency

    expected = {"first": body.decode() if body else None, "unanswered": idempotency.UNANSWERED}
    assert idempotency.kept(status, body) == (expected[kept] if kept else None)
