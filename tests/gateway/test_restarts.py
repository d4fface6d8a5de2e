"""Writes across restarts, with the gateway as a real process: killed mid-bulk and
mid-fan-out, stopped with SIGTERM while providers are slow; and `contact-gateway import`."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli import main
from sandbox.app import Sandbox
from sandbox.config import sandbox_document, to_toml
from tests.gateway.conftest import serve_gateway
from tests.gateway.test_durable_writes import controls, copies, gql, person, wait_for
from tests.gateway.test_serve_e2e import running, wait_ready
from tests.support import free_port, serve_in_thread

pytestmark = pytest.mark.e2e

JOB = """query($id: ID!) { bulkJob(id: $id) { status total succeeded failed queued pending } }"""
UPSERT = """mutation($input: ContactInput!, $providers: [Provider!]) {
  upsertContact(input: $input, providers: $providers) {
    operationId results { provider status message } } }"""
LATEST = """{ writeOperations(first: 1) { edges { node { id status
  legs { provider status attempts } } } } }"""


@pytest.fixture
def sandbox_url(empty_sandbox: Sandbox) -> Iterator[str]:
    with serve_in_thread(empty_sandbox.app) as url:
        yield url


def write_config(tmp_path: Path, sandbox_url: str, **writes: Any) -> Path:
    document = sandbox_document(sandbox_url)
    for table in document["providers"].values():
        table.pop("rate_limit", None)
        table["retry"] = {"attempts": 2, "backoff": 0.05, "max_backoff": 0.1, "budget": 3}
    document["store"] = {"url": f"sqlite:///{tmp_path / 'store.db'}"}
    document["writes"] = {
        "first_retry": 0.2,
        "max_retry_interval": 0.5,
        "poll_interval": 0.1,
        "lease": 1.5,
        **writes,
    }
    path = tmp_path / "gateway.toml"
    path.write_text(to_toml(document))
    return path


@pytest.fixture
def gateway(tmp_path: Path, sandbox_url: str) -> Iterator[Any]:
    """Starts `contact-gateway serve` on the config (again after a kill, same store)."""
    processes: list[subprocess.Popen[str]] = []
    contexts: list[Any] = []  # kept: a dropped one kills its process
    port = free_port()

    def start(config: Path) -> tuple[str, subprocess.Popen[str]]:
        context = running("serve", "--config", str(config), "--port", str(port))
        contexts.append(context)
        process = context.__enter__()
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/healthz", process)
        return url, process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        if process.stdout is not None and not process.stdout.closed:
            process.communicate()  # reads and closes its pipes
    for context in contexts:
        context.__exit__(None, None, None)


def test_a_gateway_killed_mid_bulk_writes_every_input_exactly_once_after_a_restart(
    tmp_path: Path, sandbox_url: str, gateway: Any
) -> None:
    config = write_config(tmp_path, sandbox_url, bulk_chunk=4)
    inputs = [person(f"killed.{i}@example.com") for i in range(40)]
    controls(sandbox_url, "lunarsend", latency_ms=60)
    controls(sandbox_url, "trustmary", latency_ms=30)
    url, first = gateway(config)

    job = gql(
        url,
        """mutation($inputs: [ContactInput!]!) { startBulkUpsert(inputs: $inputs,
          providers: [LUNARSEND, TRUSTMARY, ADAPTIX]) { id } }""",
        {"inputs": inputs},
    )["startBulkUpsert"]["id"]
    midway = wait_for(lambda: (s := gql(url, JOB, {"id": job})["bulkJob"])["succeeded"] >= 20 and s)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    assert midway["pending"] > 0, "the job finished before the kill"

    url, _ = gateway(config)
    done = wait_for(lambda: (s := gql(url, JOB, {"id": job})["bulkJob"])["status"] == "DONE" and s)

    assert (done["succeeded"], done["failed"]) == (120, 0)
    for item in inputs:
        for provider in ("lunarsend", "trustmary", "adaptix"):
            assert copies(sandbox_url, provider, item["email"]) == 1, (provider, item)


def test_a_gateway_killed_mid_fan_out_resumes_the_unfinished_leg_when_it_starts_again(
    tmp_path: Path, sandbox_url: str, gateway: Any
) -> None:
    config = write_config(tmp_path, sandbox_url)
    controls(sandbox_url, "adaptix", latency_ms=5000)
    url, first = gateway(config)
    email = "fan.out.killed@example.com"

    def kill_soon() -> None:
        time.sleep(0.8)
        first.send_signal(signal.SIGKILL)

    threading.Thread(target=kill_soon).start()
    body = {"query": UPSERT, "variables": {"input": person(email)}}
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{url}/graphql", json=body, timeout=30)
    first.communicate()
    controls(sandbox_url, "adaptix", latency_ms=0)

    url, _ = gateway(config)
    done = wait_for(
        lambda: (
            (op := gql(url, LATEST)["writeOperations"]["edges"][0]["node"])["status"] == "DONE"
            and op
        )
    )

    legs = {leg["provider"]: leg for leg in done["legs"]}
    assert legs["ADAPTIX"]["status"] in ("CREATED", "UPDATED")
    assert copies(sandbox_url, "adaptix", email) == 1


def sigterm_during(
    process: subprocess.Popen[str], url: str, body: dict[str, Any]
) -> tuple[httpx.Response, float, float, str]:
    """POST `body` to the gateway and send it SIGTERM 0.8 s into the request: the
    answer, the seconds from the signal to it and to the process's end, its stderr."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(httpx.post, f"{url}/graphql", json=body, timeout=30)
        time.sleep(0.8)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        response = answer.result()
        answered_in = time.monotonic() - started
        _, err = process.communicate(timeout=20)
        stopped_in = time.monotonic() - started
    return response, answered_in, stopped_in, err


def test_sigterm_answers_the_write_in_flight_with_its_slow_leg_queued_and_it_lands_later(
    tmp_path: Path, sandbox_url: str, gateway: Any
) -> None:
    config = write_config(tmp_path, sandbox_url, stop_grace=1)
    controls(sandbox_url, "adaptix", latency_ms=8000)
    url, first = gateway(config)
    email = "stopping@example.com"

    response, _, stopped_in, err = sigterm_during(
        first, url, {"query": UPSERT, "variables": {"input": person(email)}}
    )

    assert response.status_code == 200, response.text
    payload = response.json()["data"]["upsertContact"]
    results = {r["provider"]: r for r in payload["results"]}
    assert results["ADAPTIX"]["status"] == "QUEUED"
    assert "stopping" in results["ADAPTIX"]["message"]
    assert results["LUNARSEND"]["status"] == "CREATED"
    assert first.returncode == 0, err
    assert "Traceback" not in err, err[err.index("Traceback") - 500 :][:3000]
    assert stopped_in < 8, "the process waited for the slow provider"

    controls(sandbox_url, "adaptix", latency_ms=0)
    url, _ = gateway(config)
    wait_for(
        lambda: (
            gql(
                url,
                "query($id: ID!) { writeOperation(id: $id) { status } }",
                {"id": payload["operationId"]},
            )["writeOperation"]["status"]
            == "DONE"
        )
    )
    assert copies(sandbox_url, "adaptix", email) == 1


def test_sigterm_cuts_a_read_still_waiting_for_a_provider_after_the_grace(
    tmp_path: Path, sandbox_url: str, gateway: Any
) -> None:
    config = write_config(tmp_path, sandbox_url, stop_grace=1)
    controls(sandbox_url, "adaptix", latency_ms=8000)
    url, first = gateway(config)
    query = '{ contact(email: "ada.lovelace.0@stark.test") { email } }'

    try:
        response, answered_in, _, _ = sigterm_during(first, url, {"query": query})
    finally:
        controls(sandbox_url, "adaptix", latency_ms=0)

    # The grace (1 s) and a second more, then the operation is cut: not 8 s.
    assert response.status_code == 503, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_STOPPING"
    assert response.headers["retry-after"] == "5"
    assert 1.5 < answered_in < 6


# -- contact-gateway import ------------------------------------------------------------------


def test_import_writes_a_csv_file_and_reports_bad_rows_by_line(
    tmp_path: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        "email,firstName,lastName,tags,customFields.plan",
        "csv.one@example.com,Ada,One,vip;beta,gold",
        "not an email,Bad,Row,,",
        "csv.two@example.com,Bob,Two,,",
        "csv.three@example.com,Cy,Three",
        "",
        "csv.four@example.com,Di,Four,,silver",
    ]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(rows) + "\n")

    with serve_gateway(sandbox) as url:
        status = main(["import", str(path), "--url", url, "--providers", "adaptix,lunarsend"])
        out = capsys.readouterr().out

    assert status == 1, out  # bad rows were skipped
    assert f"{path}: line 3: skipped: email" in out
    assert f"{path}: line 5: skipped: has 3 cells, the header 5" in out
    assert "done: 6 of 6 writes landed or were skipped, 0 failed; 2 rows skipped" in out
    emails = {r["fields"]["all"]["email"] for r in sandbox.emulators["adaptix"].records()}
    assert {"csv.one@example.com", "csv.two@example.com", "csv.four@example.com"} <= emails
    lunarsend = [r["email"] for r in sandbox.emulators["lunarsend"].records()]
    assert "csv.one@example.com" in lunarsend
    assert "not an email" not in lunarsend


def test_import_runs_the_gateway_in_process_from_a_config(
    tmp_path: Path, sandbox_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, sandbox_url)
    path = tmp_path / "people.jsonl"
    lines = [json.dumps(person(f"jsonl.{i}@example.com")) for i in range(5)]
    path.write_text("\n".join([*lines, "{not json", '["a list"]']) + "\n")

    status = main(
        [
            "import",
            str(path),
            "--config",
            str(config),
            "--providers",
            "trustmary",
            "--job-size",
            "2",
        ]
    )

    out = capsys.readouterr().out
    assert status == 1, out
    assert "line 6: skipped: not JSON" in out
    assert "line 7: skipped: not a JSON object" in out
    assert out.count("started job ") == 3
    assert "done: 5 of 5 writes landed or were skipped, 0 failed; 2 rows skipped" in out
    for i in range(5):
        assert copies(sandbox_url, "trustmary", f"jsonl.{i}@example.com") == 1


def test_an_interrupted_import_is_resumed_by_its_job_id(
    tmp_path: Path, sandbox_url: str, gateway: Any
) -> None:
    config = write_config(tmp_path, sandbox_url)
    url, _ = gateway(config)
    controls(sandbox_url, "lunarsend", latency_ms=150)
    path = tmp_path / "people.jsonl"
    path.write_text("\n".join(json.dumps(person(f"resume.{i}@example.com")) for i in range(30)))

    with running("import", str(path), "--url", url, "--providers", "lunarsend") as importer:
        assert importer.stdout is not None
        started = importer.stdout.readline()
        assert started.startswith("started job "), started
        time.sleep(0.5)
        importer.send_signal(signal.SIGINT)
        out, _ = importer.communicate(timeout=20)
    job = started.split()[2].rstrip(":")

    assert importer.returncode == 130
    assert f"--resume {job}" in out
    resumed = subprocess.run(
        [*running_args(), "import", "--resume", job, "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "done: 30 of 30 writes landed or were skipped, 0 failed" in resumed.stdout
    for i in range(30):
        assert copies(sandbox_url, "lunarsend", f"resume.{i}@example.com") == 1


def running_args() -> list[str]:
    import sys

    return [sys.executable, "-m", "gateway.cli"]
