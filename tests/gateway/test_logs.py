"""The key=value log lines every gateway process writes."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import pytest

from gateway.logs import SANDBOX_THREAD, KeyValueFormatter, QuietSandbox, log_access, log_config
from gateway.telemetry.requests import Answering, begin, end
from resolvers.runtime.context import Context
from resolvers.schema import schema
from tests.conftest import GatewayFactory

STAMP = r"ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def record(name: str, msg: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args or None, None)


@pytest.mark.parametrize(
    ("msg", "args", "body"),
    [
        ("operation=query name=%s ms=%.1f", ("One", 2.5), "operation=query name=One ms=2.5"),
        ('mode=sandbox msg="the sandbox"', (), 'mode=sandbox msg="the sandbox"'),
        ("Started server process [%d]", (42,), 'msg="Started server process [42]"'),
        ("a=b\n", (), 'msg="a=b\\n"'),
        ('said "hi"\nthen left', (), 'msg="said \\"hi\\"\\nthen left"'),
        ('k="a\nb"', (), 'msg="k=\\"a\\nb\\""'),
    ],
    ids=[
        "pairs",
        "quoted-pair",
        "plain",
        "pairs-then-newline",
        "quotes-and-newline",
        "newline-in-a-quoted-value",
    ],
)
def test_each_record_is_one_line_of_pairs(msg: str, args: tuple[object, ...], body: str) -> None:
    line = KeyValueFormatter().format(record("contact_gateway.operation", msg, *args))

    assert re.fullmatch(
        rf"{STAMP} level=info logger=contact_gateway\.operation {re.escape(body)}", line
    ), line


def test_an_access_record_becomes_method_path_status_and_client() -> None:
    access = record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "POST",
        "/graphql",
        "1.1",
        200,
    )

    line = KeyValueFormatter().format(access)

    assert line.endswith(
        " logger=uvicorn.access method=POST path=/graphql status=200 client=127.0.0.1:5000"
    )


def test_the_sandbox_threads_uvicorn_lines_are_dropped_below_warning() -> None:
    quiet = QuietSandbox()

    def kept_in(thread: str, *records: logging.LogRecord) -> list[bool]:
        # A filter runs in the thread that logs (records need not carry its name).
        kept: list[bool] = []
        worker = threading.Thread(
            target=lambda: kept.extend(map(quiet.filter, records)), name=thread
        )
        worker.start()
        worker.join()
        return kept

    assert kept_in(
        SANDBOX_THREAD,
        record("uvicorn.access", "x"),
        record("contact_gateway.cli", "x"),
        record("uvicorn.error", "x", level=logging.WARNING),
    ) == [False, True, True]
    assert kept_in("MainThread", record("uvicorn.access", "x")) == [True]


def test_only_sandbox_mode_filters_the_lines() -> None:
    def filters(config: dict[str, Any]) -> list[str]:
        return list(config["handlers"]["stderr"].get("filters", []))

    assert filters(log_config("info")) == ["quiet_sandbox"]
    assert filters(log_config("info", quiet_sandbox=False)) == []
    assert filters(log_config("debug")) == []


def test_each_line_has_its_own_time_to_the_millisecond() -> None:
    formatter = KeyValueFormatter()
    stamps = []
    for created in (1_767_225_599.9996, 1_767_225_600.0004, 1_767_225_600.25, 1_767_225_599.5):
        line = record("contact_gateway.operation", "a=b")
        line.created = created
        stamps.append(formatter.format(line).split(" ")[0])

    assert stamps == [
        "ts=2025-12-31T23:59:59.999Z",
        "ts=2026-01-01T00:00:00.000Z",
        "ts=2026-01-01T00:00:00.250Z",
        "ts=2025-12-31T23:59:59.500Z",
    ]


def scope(path: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "client": ("10.0.0.7", 5123),
    }


def test_an_access_line_carries_the_request_its_operation_and_its_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="contact_gateway")
    request = Answering("r-1", (logging.WARNING, "operation=%s errors=%s", ("q", "BAD")))
    plain = Answering("r-2")
    token = begin(request)
    try:
        log_access(scope("/graphql"), 200, request)
    finally:
        end(token)
    token = begin(plain)
    try:
        # A query string with percent signs and spaces, a request never answered.
        log_access(scope("/a b", b"x=1%25&y=%s"), 0, plain)
    finally:
        end(token)

    first, second = (r for r in caplog.records if r.name == "contact_gateway.access")
    assert first.levelno == logging.WARNING
    assert first.getMessage() == (
        "method=GET path=/graphql status=200 client=10.0.0.7:5123 operation=q errors=BAD"
    )
    assert second.levelno == logging.INFO
    line = KeyValueFormatter().format(second)
    assert line.endswith(
        'request_id=r-2 method=GET path="/a%20b?x=1%25&y=%s" status=- client=10.0.0.7:5123'
    )


async def test_an_operation_settled_after_its_requests_line_logs_a_line_of_its_own(
    make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="contact_gateway")
    request = Answering("r-3")
    token = begin(request)
    try:
        log_access(scope("/graphql"), 200, request)  # the request is answered and logged
        # Work it left running (a task shares its context) runs an operation later.
        result = await schema.execute("{ __typename }", context_value=Context(make_gateway()))
    finally:
        end(token)

    assert result.errors is None
    assert request.operation is None
    lines = [r for r in caplog.records if r.name == "contact_gateway.operation"]
    assert len(lines) == 1
    assert "operation=query" in lines[0].getMessage()
