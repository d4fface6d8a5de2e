"""`contact-gateway import FILE`: a file of contacts written as bulk jobs, with progress.

The file is CSV with a header row, or JSON Lines (one object a line; `.jsonl`,
`.ndjson`, or any file whose first character is `{`). Columns and keys are
`ContactInput` fields as GraphQL names them (`email`, `firstName`, `externalId`,
...). In CSV, `phones`, `tags` and `urls` hold several values separated by `;`,
a custom field is a column `customFields.<alias>` (or `customFields` holding a
JSON object), an address part a column `address.<part>` (`address.city`); an
empty cell is left out. `type` and `lifecycle` take their value's name in any
case (`customer`), `signedUpAt` an ISO 8601 date-time with an offset.

Every row is checked as the gateway would check it before anything is sent: a
bad row is reported with its line number and skipped, the others are written.
The rows go to the gateway as bulk jobs (`startBulkUpsert`, `--job-size` rows
each), which run in the gateway: the command shows their progress (done/total,
rate, time left) until every write has its final result, then what failed, by
line. Interrupted, it prints how to `--resume` the jobs, which went on running.

Against a running gateway (`--url`, with `--api-key` or `CONTACT_GATEWAY_API_KEY`
where it has `[auth]`), or in-process (`--config`): the gateway then runs in
this process on a loopback port for as long as the import does, and a job left
unfinished is taken up by the next `import --resume` or `serve` with the same store.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

ENV_API_KEY = "CONTACT_GATEWAY_API_KEY"
FIELDS = {
    "email": "email",
    "externalId": "external_id",
    "accountExternalId": "account_external_id",
    "firstName": "first_name",
    "lastName": "last_name",
    "phones": "phones",
    "company": "company",
    "jobTitle": "job_title",
    "tags": "tags",
    "customFields": "custom_fields",
    "urls": "urls",
    "notes": "notes",
    "type": "type",
    "lifecycle": "lifecycle",
    "address": "address",
    "signedUpAt": "signed_up_at",
    "ownerId": "owner_id",
}
LISTS = frozenset({"phones", "tags", "urls"})
CUSTOM = "customFields."
ADDRESS = "address."
ADDRESS_PARTS = {
    "line1": "line1",
    "line2": "line2",
    "city": "city",
    "state": "state",
    "postalCode": "postal_code",
    "country": "country",
}

START = """mutation($inputs: [ContactInput!]!, $providers: [Provider!]) {
  startBulkUpsert(inputs: $inputs, providers: $providers) { id total } }"""
JOB = """query($id: ID!) { bulkJob(id: $id) { id status inputs total succeeded failed queued
  pending estimatedFinishAt } }"""
FAILED_LEGS = """query($id: ID!, $offset: Int!) { writeOperation(id: $id) {
  legs(status: FAILED, first: 1000, offset: $offset) { input provider lastError } } }"""


class ImportFailed(Exception):
    """The import cannot go on; the message says why (exit status 2)."""


@dataclass
class Rows:
    """The rows of a file that can be sent, and the ones that cannot."""

    inputs: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # each input's line in the file
    bad: list[tuple[int, str]] = field(default_factory=list)


def read_file(path: str) -> Rows:
    """Every row of `path`, checked; bad rows kept aside with their line number."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFailed(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"{path}: cannot be read ({type(exc).__name__})") from None
    rows = Rows()
    jsonl = path.endswith((".jsonl", ".ndjson")) or text.lstrip().startswith("{")
    for line, raw in _json_lines(text) if jsonl else _csv_rows(path, text):
        try:
            value = raw if isinstance(raw, dict) else None
            if value is None:
                raise ValueError(str(raw))
            checked = check(value)
        except ValueError as exc:
            rows.bad.append((line, str(exc)))
            continue
        rows.inputs.append(checked)
        rows.lines.append(line)
    return rows


def _json_lines(text: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not JSON ({exc.msg})"
            continue
        yield number, value if isinstance(value, dict) else "not a JSON object"


def _csv_rows(path: str, text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    unknown = [
        h
        for h in header
        if h not in FIELDS
        and not h.startswith(CUSTOM)
        and not (h.startswith(ADDRESS) and h[len(ADDRESS) :] in ADDRESS_PARTS)
    ]
    if unknown:
        raise ImportFailed(
            f"{path}: line 1: unknown column {unknown[0]!r} (columns: {', '.join(FIELDS)}, "
            f"{CUSTOM}<alias>, or {ADDRESS}<{'|'.join(ADDRESS_PARTS)}>)"
        )
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield line, f"has {len(cells)} cells, the header {len(header)}"
            continue
        row: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        address: dict[str, Any] = {}
        for name, cell in zip(header, cells, strict=True):
            if not cell.strip():
                continue
            if name.startswith(CUSTOM):
                custom[name[len(CUSTOM) :]] = cell.strip()
            elif name.startswith(ADDRESS):
                address[name[len(ADDRESS) :]] = cell
            elif name in LISTS:
                row[name] = [v.strip() for v in cell.split(";") if v.strip()]
            elif name == "customFields":
                try:
                    row[name] = json.loads(cell)
                except json.JSONDecodeError:
                    row[name] = cell
            else:
                row[name] = cell
        if custom:
            merged = row.get("customFields")
            row["customFields"] = {**(merged if isinstance(merged, dict) else {}), **custom}
        if address:
            row["address"] = address
        yield line, row


def check(row: dict[str, Any]) -> dict[str, Any]:
    """`row` as a `ContactInput` (GraphQL names), checked as the gateway checks it.

    Raises:
        ValueError: what is wrong, naming the field.
    """
    from resolvers.runtime.errors import BadUserInput, BadUserInputs
    from resolvers.types.inputs import AddressInput, ContactInput, ContactLifecycleEnum
    from resolvers.types.scalars import ContactTypeEnum

    unknown = [key for key in row if key not in FIELDS]
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    enums: dict[str, Any] = {"type": ContactTypeEnum, "lifecycle": ContactLifecycleEnum}
    values: dict[str, Any] = {}
    sent = {key: value for key, value in row.items() if value is not None}
    for key, value in sent.items():
        if key in LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{key} must be a list of strings")
        elif key == "customFields":
            if not isinstance(value, dict):
                raise ValueError("customFields must be a JSON object")
        elif key == "address":
            value = _address(value)
            values[FIELDS[key]] = AddressInput(**value)
            continue
        elif not isinstance(value, str):
            raise ValueError(f"{key} must be a string")
        elif key in enums:
            value = value.strip().upper()
            if value not in enums[key].__members__:
                names = ", ".join(enums[key].__members__)
                raise ValueError(f"{key} must be one of {names}")
            values[FIELDS[key]] = enums[key][value]
            sent[key] = value  # as GraphQL spells the enum value
            continue
        elif key == "signedUpAt":
            try:
                values[FIELDS[key]] = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"{key} is not an ISO 8601 date-time") from None
            continue
        values[FIELDS[key]] = value
    try:
        # The gateway's phone region is its own: a national number is left to it.
        ContactInput(**values).to_write("row", phone_region=None)
    except BadUserInput as exc:
        problems = exc.errors() if isinstance(exc, BadUserInputs) else [exc]
        raise ValueError("; ".join(p.message.removeprefix("row.") for p in problems)) from None
    return sent


def _address(value: Any) -> dict[str, Any]:
    """An `address` object's parts by their Python names.

    Raises:
        ValueError: not an object of known parts holding strings.
    """
    if not isinstance(value, dict):
        raise ValueError("address must be a JSON object")
    parts: dict[str, Any] = {}
    for key, part in value.items():
        if key not in ADDRESS_PARTS:
            raise ValueError(f"unknown field 'address.{key}'")
        if part is None:
            continue
        if not isinstance(part, str):
            raise ValueError(f"address.{key} must be a string")
        parts[ADDRESS_PARTS[key]] = part
    return parts


# -- talking to the gateway --------------------------------------------------------------


class Gateway:
    """GraphQL over HTTP to a gateway."""

    def __init__(self, url: str, api_key: str | None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=120)

    def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.http.post("/graphql", json={"query": query, "variables": variables})
        except httpx.TransportError as exc:
            raise ImportFailed(
                f"the gateway at {self.http.base_url} cannot be reached: {exc}"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise ImportFailed(
                f"the gateway answered HTTP {response.status_code}: {response.text[:200]}"
            ) from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            first = errors[0]
            code = (first.get("extensions") or {}).get("code", "ERROR")
            raise ImportFailed(f"the gateway refused: {code}: {first.get('message')}")
        data: dict[str, Any] = body["data"]
        return data

    def close(self) -> None:
        self.http.close()


@contextmanager
def in_process(config: str) -> Iterator[str]:
    """The gateway of `config`, served by this process on a loopback port; its URL."""
    import uvicorn

    from gateway.app import create_app
    from gateway.config import ConfigError, load_config

    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise ImportFailed(str(exc)) from None
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise ImportFailed("the gateway did not start (see the messages above)")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


def start_jobs(
    gateway: Gateway, inputs: Sequence[dict[str, Any]], providers: list[str] | None, size: int
) -> list[tuple[str, int]]:
    """Start one job per `size` inputs; each job's id and its first input's index."""
    jobs = []
    for start in range(0, len(inputs), size):
        variables = {"inputs": list(inputs[start : start + size]), "providers": providers}
        job = gateway.call(START, variables)["startBulkUpsert"]
        jobs.append((job["id"], start))
    return jobs


def follow(
    gateway: Gateway, jobs: Sequence[str], console: Console, *, poll: float = 0.5
) -> list[dict[str, Any]]:
    """Show the jobs' progress until every write has its final result; their last state."""
    states = [gateway.call(JOB, {"id": job})["bulkJob"] for job in jobs]
    if any(state is None for state in states):
        missing = [job for job, state in zip(jobs, states, strict=True) if state is None]
        raise ImportFailed(f"no bulk job has the id {missing[0]}")
    total = sum(s["total"] for s in states)
    live = console.is_terminal
    columns = (
        TextColumn("[bold]writes"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]:.1f}/s"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
    )
    started = time.monotonic()
    printed = 0.0
    with Progress(*columns, console=console, disable=not live) as progress:
        task = progress.add_task("writes", total=total, rate=0.0, note="")
        while True:
            done = sum(s["succeeded"] + s["failed"] for s in states)
            queued = sum(s["queued"] for s in states)
            failed = sum(s["failed"] for s in states)
            elapsed = max(time.monotonic() - started, 1e-6)
            parts = (f"{failed} failed" if failed else "", f"{queued} queued" if queued else "")
            note = ", ".join(part for part in parts if part)
            progress.update(task, completed=done, rate=done / elapsed, note=note)
            if not live and (time.monotonic() - printed >= 5 or done == total):
                printed = time.monotonic()
                console.print(f"{done}/{total} writes done ({note or 'no failures'})")
            if all(s["status"] in ("DONE", "FAILED") for s in states):
                return states
            time.sleep(poll)
            states = [gateway.call(JOB, {"id": job})["bulkJob"] for job in jobs]


def failures(gateway: Gateway, job: str) -> list[dict[str, Any]]:
    """The job's writes that failed for good."""
    found: list[dict[str, Any]] = []
    while True:
        page = gateway.call(FAILED_LEGS, {"id": job, "offset": len(found)})["writeOperation"]
        legs = page["legs"] if page else []
        found.extend(legs)
        if len(legs) < 1000:
            return found


def run(
    *,
    file: str | None,
    url: str | None,
    config: str | None,
    api_key: str | None,
    providers: list[str] | None,
    resume: list[str],
    job_size: int,
    console: Console,
) -> int:
    """The `import` command; returns the exit status (0: every write landed or was
    skipped, 1: some failed or rows were bad, 2: nothing could be done, 130: interrupted)."""
    rows = read_file(file) if file else Rows()
    for line, problem in rows.bad:
        console.print(f"{file}: line {line}: skipped: {problem}", highlight=False)
    if not resume and not rows.inputs:
        raise ImportFailed(f"{file}: no row to import")
    key = api_key or os.environ.get(ENV_API_KEY) or None
    with _gateway(url, config) as base:
        gateway = Gateway(base, key)
        try:
            if resume:
                jobs = [(job, 0) for job in resume]
            else:
                jobs = start_jobs(gateway, rows.inputs, providers, job_size)
                for job, start in jobs:
                    end = min(start + job_size, len(rows.inputs))
                    console.print(
                        f"started job {job}: rows {start + 1} to {end} of {len(rows.inputs)}",
                        highlight=False,
                    )
            try:
                states = follow(gateway, [job for job, _ in jobs], console)
            except KeyboardInterrupt:
                ids = " ".join(f"--resume {job}" for job, _ in jobs)
                console.print(
                    f"interrupted; the jobs go on in the gateway. Follow them again with: "
                    f"contact-gateway import {ids}",
                    highlight=False,
                )
                return 130
            failed = 0
            for (job, start), state in zip(jobs, states, strict=True):
                if not state["failed"]:
                    continue
                for leg in failures(gateway, job):
                    failed += 1
                    index = start + leg["input"]
                    where = (
                        f"{file}: line {rows.lines[index]}"
                        if not resume and index < len(rows.lines)
                        else f"job {job} input {leg['input']}"
                    )
                    console.print(
                        f"{where}: {leg['provider']}: failed: {leg['lastError']}", highlight=False
                    )
        finally:
            gateway.close()
    total = sum(s["total"] for s in states)
    console.print(
        f"done: {total - failed} of {total} writes landed or were skipped, {failed} failed"
        + (f"; {len(rows.bad)} rows skipped" if rows.bad else ""),
        highlight=False,
    )
    return 1 if failed or rows.bad else 0


@contextmanager
def _gateway(url: str | None, config: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    if not config:
        raise ImportFailed(
            "give --url of a running gateway, or --config to run one in this process"
        )
    with in_process(config) as base:
        yield base
