"""The load generator: a raw asyncio HTTP/1.1 keep-alive client, run as its own process.

httpx costs more CPU per request than the gateway spends answering a small
query, so on a 2-core machine it would measure itself. This client writes
prepared request bytes on kept-alive connections and parses only the status
line, the headers it needs and the body length.

Closed loop: `concurrency` clients each send one unit of work, wait for the
answer, record the latency and send the next, until `duration` seconds or
`count` units have passed (after a `warmup` that is not recorded). A unit is
one request, or several sent at once on separate connections (the latency is
then until the last answer), which is how the direct provider lookups are
timed against the gateway's fan-out. A request may name another server's port:
one client cycling through units for two servers times both under the same
conditions, request by request (`LoadResult.units` says which unit each
latency is of).

    python -m bench.loadgen < spec.json > result.json
"""

from __future__ import annotations

import asyncio
import itertools
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

_HEAD_END = b"\r\n\r\n"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to send.

    Args:
        method: GET, POST, ...
        path: the path with its query string, e.g. `/graphql`.
        headers: extra headers (Host, Content-Length and Connection are added).
        body: the body, sent as UTF-8.
        port: the port of the server it goes to, when not the load's (`LoadSpec.port`).
    """

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    port: int | None = None


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """What to send and for how long.

    Args:
        port: the server's port on `host`.
        units: units of work, cycled through; each is one or more requests sent at once.
        concurrency: clients, each with its own keep-alive connection(s).
        duration: seconds to measure for (when `count` is None).
        count: units to measure (instead of a duration).
        warmup: seconds of unrecorded load first.
        timeout: seconds to wait for any one answer.
        check_graphql: count 200 answers whose body holds a GraphQL `errors` entry.
        keep_bodies: keep the bodies of the first this many answered units (their first
            request's answer), for the harness to read.
        host: where the server listens; loopback only.
    """

    port: int
    units: Sequence[Sequence[Request]]
    concurrency: int = 1
    duration: float | None = 5.0
    count: int | None = None
    warmup: float = 0.0
    timeout: float = 60.0
    check_graphql: bool = False
    keep_bodies: int = 0
    host: str = "127.0.0.1"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LoadSpec:
        raw = json.loads(text)
        raw["units"] = [[Request(**r) for r in unit] for unit in raw["units"]]
        return cls(**raw)


@dataclass(slots=True)
class LoadResult:
    """What the load generator measured.

    Attributes:
        latencies_ms: one per unit that was answered 200, in completion order.
        statuses: answers by HTTP status ("error" for a broken connection or timeout).
        graphql_errors: 200 answers carrying GraphQL errors (when checked).
        sample: the first unexpected answer, shortened, to say what went wrong.
        elapsed_s: the measured span.
        cpu_s: the load generator's own CPU time (user + system) during that span.
        warmup_units: units answered during the warmup (not in the latencies).
        bodies: the kept answers' bodies (see `LoadSpec.keep_bodies`).
        units: for each latency, the index of its unit in `LoadSpec.units`.
    """

    latencies_ms: list[float]
    statuses: dict[str, int]
    graphql_errors: int
    sample: str | None
    elapsed_s: float
    cpu_s: float
    warmup_units: int = 0
    bodies: list[str] = field(default_factory=list)
    units: list[int] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def cpu_us_per_unit(self) -> float:
        return self.cpu_s * 1e6 / self.ok if self.ok else 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LoadResult:
        return cls(**json.loads(text))


def encode(request: Request, host: str, port: int) -> bytes:
    """The request's bytes on the wire (keep-alive, explicit Content-Length)."""
    body = (request.body or "").encode()
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    if body or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 as this client understands it."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Read one response: (status, whether the server keeps the connection, body)."""
    head = await reader.readuntil(_HEAD_END)
    lines = head[: -len(_HEAD_END)].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    status = int(parts[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    keep = headers.get(b"connection", b"").lower() != b"close" and parts[0] == b"HTTP/1.1"
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                break
            chunks.append((await reader.readexactly(size + 2))[:-2])
        body = b"".join(chunks)
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await reader.read()
        keep = False
    return status, keep, body


class Connection:
    """One keep-alive connection, opened on first use and again after the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await self._send(raw)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
            # The server may close an idle kept-alive connection: one fresh try.
            return await self._send(raw)

    async def _send(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        status, keep, body = await read_response(self.reader)
        if not keep:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class _Run:
    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.ports = [[r.port or spec.port for r in unit] for unit in spec.units]
        self.units = [
            [encode(r, spec.host, port) for r, port in zip(unit, ports, strict=True)]
            for unit, ports in zip(spec.units, self.ports, strict=True)
        ]
        self.unit_indexes: list[int] = []
        self.next_unit = itertools.cycle(range(len(self.units)))
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.graphql_errors = 0
        self.bodies: list[str] = []
        self.sample: str | None = None
        self.recording = False
        self.warm = 0
        self.remaining: int | None = None
        self.deadline = 0.0

    def more(self) -> bool:
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        return time.perf_counter() < self.deadline

    async def client(self) -> None:
        # A connection per request position and server, kept alive across units.
        pool: dict[tuple[int, int], Connection] = {}
        try:
            while self.more():
                index = next(self.next_unit)
                connections = []
                for position, port in enumerate(self.ports[index]):
                    connection = pool.get((position, port))
                    if connection is None:
                        connection = pool[position, port] = Connection(self.spec.host, port)
                    connections.append(connection)
                await self.one(index, connections)
        finally:
            for connection in pool.values():
                connection.close()

    async def one(self, index: int, connections: list[Connection]) -> None:
        unit = self.units[index]
        recording = self.recording
        started = time.perf_counter()
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(*(c.send(raw) for c, raw in zip(connections, unit, strict=False))),
                self.spec.timeout,
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ProtocolError) as exc:
            for connection in connections:
                connection.close()
            if recording:
                self.statuses["error"] += 1
                self.sample = self.sample or f"{type(exc).__name__}: {exc}"[:300]
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        if not recording:
            self.warm += 1
            return
        bad = [(status, body) for status, body in answers if status != 200]
        for status, _ in answers:
            self.statuses[str(status)] += 1
        if bad:
            self.sample = self.sample or f"HTTP {bad[0][0]}: {bad[0][1][:300]!r}"
            return
        if self.spec.check_graphql and any(b'"errors"' in body for _, body in answers):
            self.graphql_errors += 1
            body = next(body for _, body in answers if b'"errors"' in body)
            self.sample = self.sample or body[:300].decode(errors="replace")
        self.latencies.append(elapsed_ms)
        self.unit_indexes.append(index)
        if len(self.bodies) < self.spec.keep_bodies:
            self.bodies.append(answers[0][1].decode(errors="replace"))

    async def phase(self, *, seconds: float | None, count: int | None, recording: bool) -> None:
        self.recording = recording
        self.remaining = count
        self.deadline = time.perf_counter() + (seconds or 0.0)
        await asyncio.gather(*(self.client() for _ in range(self.spec.concurrency)))


async def run_load(spec: LoadSpec) -> LoadResult:
    """Apply the load in this process and measure it."""
    run = _Run(spec)
    if spec.warmup > 0:
        await run.phase(seconds=spec.warmup, count=None, recording=False)
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    await run.phase(seconds=spec.duration, count=spec.count, recording=True)
    elapsed = time.perf_counter() - started
    return LoadResult(
        latencies_ms=[round(v, 4) for v in run.latencies],
        statuses=dict(run.statuses),
        graphql_errors=run.graphql_errors,
        sample=run.sample,
        elapsed_s=elapsed,
        cpu_s=_cpu_seconds() - cpu_before,
        warmup_units=run.warm,
        bodies=run.bodies,
        units=run.unit_indexes,
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_in_subprocess(spec: LoadSpec, *, python: str = sys.executable) -> LoadResult:
    """Run the load from a separate process (so it never shares the harness's core time).

    Raises:
        RuntimeError: the load generator failed or did not finish in time.
    """
    budget = (spec.duration or 0) + spec.warmup + spec.timeout + 30 + (spec.count or 0) * 0.25
    try:
        done = subprocess.run(
            [python, "-m", "bench.loadgen"],
            input=spec.to_json(),
            capture_output=True,
            text=True,
            timeout=budget,
            check=False,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"the load generator did not finish within {budget:.0f}s") from exc
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr.strip()[-800:]}")
    return LoadResult.from_json(done.stdout)


def main() -> int:
    spec = LoadSpec.from_json(sys.stdin.read())
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        result = asyncio.run(run_load(spec))
    else:
        result = uvloop.run(run_load(spec))
    sys.stdout.write(result.to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
