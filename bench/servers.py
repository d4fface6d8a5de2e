"""The processes a benchmark runs: the sandbox and the gateway, each a real uvicorn server.

Every server listens on 127.0.0.1 on a port the kernel chose (`--port 0`; the
port is read back from uvicorn's start-up line), runs in its own session so a
Ctrl-C in the terminal reaches only the harness, and is stopped by the
harness: SIGINT (a graceful stop, so a profiled gateway writes its profile),
then SIGKILL to its process group if it is still there after a few seconds.

The gateway is `contact-gateway serve --config FILE` (as `python -m gateway`,
its default logging included) with the providers in FILE pointed at a sandbox
started separately, so the harness can set that sandbox's controls.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette

from connectors.settings import RateLimit
from gateway.domain.records import Provider
from sandbox.app import Sandbox
from sandbox.config import sandbox_document, to_toml

TRACE_SAMPLE = 0.1
HOST = "127.0.0.1"
ENV_SEED = "CONTACT_GATEWAY_BENCH_SEED"
ROOT = Path(__file__).resolve().parent.parent
_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
_STARTED = "Application startup complete"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def sandbox_app() -> Starlette:
    """The sandbox app for `uvicorn --factory`, seeded from `CONTACT_GATEWAY_BENCH_SEED`
    ("none" for empty stores; default 0)."""
    raw = os.environ.get(ENV_SEED, "0")
    return Sandbox(seed=None if raw == "none" else int(raw)).app


class ServerError(RuntimeError):
    """A server did not start or did not answer."""


@dataclass
class Server:
    """One running uvicorn process (with its workers, when there are several)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    workers: int = 1
    peak_rss_mb: dict[int, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the process itself, or its spawned workers."""
        if self.workers <= 1:
            return [self.process.pid]
        return [pid for pid in children(self.process.pid) if "spawn_main" in _cmdline(pid)] or [
            self.process.pid
        ]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the serving processes so far."""
        return sum(self.cpu_by_worker().values())

    def cpu_by_worker(self) -> dict[int, float]:
        """User + system CPU time so far, per serving process."""
        return {pid: cpu_seconds(pid) for pid in self.worker_pids()}

    def sample_memory(self) -> None:
        """Remember each worker's peak RSS (VmHWM) as of now."""
        for pid in self.worker_pids():
            peak = peak_rss_mb(pid)
            if peak is not None:
                self.peak_rss_mb[pid] = max(peak, self.peak_rss_mb.get(pid, 0.0))

    @contextlib.contextmanager
    def profiling(self, path: Path, *, timeout: float = 30.0) -> Iterator[None]:
        """Profile the (one) worker while the block runs; the profile is in `path` after.

        Raises:
            ServerError: the profile was not written in time.
        """
        done = path.with_name(path.name + ".done")
        done.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + timeout
        while not done.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise ServerError(f"{self.name} wrote no profile:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, *, grace: float = 10.0) -> None:
        """Stop gracefully, then by force; every process of its session is gone after."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGINT)
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(self.process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def start_server(
    name: str,
    module: str,
    arguments: Sequence[str],
    *,
    workdir: Path,
    env: Mapping[str, str] | None = None,
    workers: int = 1,
    profile_to: Path | None = None,
    timeout: float = 30.0,
    checkout: Path = ROOT,
) -> Server:
    """Start `python -m MODULE ARGUMENTS` (a uvicorn server listening on 127.0.0.1 and
    port 0) and return once it serves, with the port it was given.

    Args:
        name: for the log file and messages.
        module: what to run, e.g. "uvicorn" or "gateway".
        arguments: its arguments.
        workdir: where the log goes.
        env: extra environment variables.
        workers: uvicorn worker processes it starts (to wait for each).
        profile_to: run under `bench.profiled`, whose profiler `Server.profiling`
            switches on and off; the profile is written here (one worker).
        timeout: seconds to wait for the start.
        checkout: the copy of this repository whose code runs (`bench.compare` starts
            another one's gateway).

    Raises:
        ServerError: it exited or did not start in time (the message has its log's end).
    """
    log = workdir / f"{name}.log"
    command = ["-m", module, *arguments]
    if profile_to is not None:
        command = ["-m", "bench.profiled", str(profile_to), module, *arguments]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=checkout,
            env={
                **os.environ,
                **(env or {}),
                "PYTHONUNBUFFERED": "1",
                **({} if checkout == ROOT else {"PYTHONPATH": str(checkout)}),
            },
            start_new_session=True,
        )
    server = Server(name, process, log, workers=workers)
    try:
        _wait_started(server, timeout)
    except BaseException:
        server.stop(grace=2)
        raise
    return server


def _wait_started(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(f"{server.name} exited at start:\n{server.log_tail()}")
        text = server.log.read_text(encoding="utf-8", errors="replace")
        match = _RUNNING.search(text)
        if match and text.count(_STARTED) >= server.workers:
            server.port = int(match.group(1))
            return
        time.sleep(0.05)
    raise ServerError(f"{server.name} did not start within {timeout:g}s:\n{server.log_tail()}")


S = TypeVar("S", bound="Server")


def wait_answering(
    server: S,
    answers: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.5,
) -> S:
    """`server` once `answers()` is true (a transport error counts as not yet).

    Raises:
        ServerError: it exited or did not answer in time (the message has its log's
            end); it is stopped then.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(f"{server.name} exited at start:\n{server.log_tail()}")
        try:
            if answers():
                return server
        except httpx.TransportError:
            pass
        time.sleep(interval)
    server.stop(grace=2)
    raise ServerError(f"{server.name} did not answer within {timeout:g}s:\n{server.log_tail()}")


def start_sandbox(workdir: Path, *, seed: int | None = 0, name: str = "sandbox") -> Server:
    """The five emulators in one uvicorn process (state is in memory: one worker)."""
    env = {ENV_SEED: "none" if seed is None else str(seed)}
    arguments = ["bench.servers:sandbox_app", "--factory", "--host", HOST, "--port", "0"]
    arguments += ["--no-access-log", "--log-level", "info"]
    return start_server(name, "uvicorn", arguments, workdir=workdir, env=env)


def start_gateway(
    workdir: Path,
    config: str,
    *,
    name: str = "gateway",
    workers: int = 1,
    profile_to: Path | None = None,
    checkout: Path = ROOT,
) -> Server:
    """`contact-gateway serve --config FILE` with `config` (TOML text) on a free port,
    answering once `/healthz` does; without a `[store]`, its store is a new SQLite file
    in `workdir`. `checkout`: the copy of this repository whose gateway it is."""
    path = workdir / f"{name}.toml"
    path.write_text(with_store(config, workdir / f"{name}.db"), encoding="utf-8")
    arguments = ["serve", "--config", str(path), "--host", HOST, "--port", "0"]
    arguments += ["--workers", str(workers)]
    server = start_server(
        name,
        "gateway",
        arguments,
        workdir=workdir,
        workers=workers,
        profile_to=profile_to,
        checkout=checkout,
    )
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            response = client.get("/healthz")
        if response.status_code != 200:
            raise ServerError(f"{name}: /healthz answered {response.status_code}")
    except BaseException:
        server.stop(grace=2)
        raise
    return server


def with_store(config: str, path: Path) -> str:
    """`config` (TOML text) with a `[store]` in the SQLite file `path`, unless it names
    one: a gateway the bench starts remembers nothing from another, and writes nothing
    into the working directory (the store's default place)."""
    if "store" in tomllib.loads(config):
        return config
    return config.rstrip("\n") + "\n\n" + to_toml({"store": {"url": f"sqlite:///{path}"}})


def gateway_config(
    sandbox_url: str,
    *,
    providers: Sequence[Provider] = tuple(Provider),
    rate_limit: RateLimit | None = None,
    rate_limits: Mapping[Provider, RateLimit] | None = None,
    concurrency: int | None = None,
    store: bool = True,
    cache_ttl: float | None = None,
    limits: Mapping[str, float] | None = None,
    traces: bool = False,
) -> str:
    """A gateway configuration (TOML) with `providers` pointed at a running sandbox.

    Args:
        sandbox_url: e.g. `http://127.0.0.1:40123`.
        providers: the providers to enable.
        rate_limit: the client-side rate limit for every enabled provider.
        rate_limits: client-side rate limits for some providers (over `rate_limit`).
        concurrency: calls in flight per provider (the gateway's default when None).
        store: false writes `[store] enabled = false` (no store at all); true leaves
            `[store]` out, for `start_gateway` to give the gateway a file of its own.
        cache_ttl: `[cache] ttl`, seconds; the record cache stays off when None.
        limits: `[limits]` keys to set (`max_provider_calls`, `timeout`, ...); the
            gateway's defaults for the others.
        traces: traces on at `TRACE_SAMPLE` (10%) sampling, every span made for a
            sampled request dropped (`[telemetry] exporter = "none"`).
    """
    document = sandbox_document(sandbox_url, providers)
    for key, table in document["providers"].items():
        limit = (rate_limits or {}).get(Provider(key), rate_limit)
        if limit is not None:
            table["rate_limit"] = {"requests": limit.requests, "per_seconds": limit.per_seconds}
        if concurrency is not None:
            table["concurrency"] = concurrency
    if not store:
        document["store"] = {"enabled": False}
    if cache_ttl is not None:
        document["cache"] = {"ttl": cache_ttl}
    if limits:
        document["limits"] = dict(limits)
    if traces:
        document["telemetry"] = {"exporter": "none", "sample_ratio": TRACE_SAMPLE}
    return to_toml(document)


# -- the sandbox's controls, as the harness uses them ---------------------------


class SandboxControls:
    """The sandbox's test endpoints (`/<key>/_sandbox/...`), over HTTP from the harness."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)

    def close(self) -> None:
        self.client.close()

    def set(
        self,
        key: str,
        *,
        latency_ms: float = 0.0,
        rate_limit: RateLimit | None = None,
    ) -> None:
        body: dict[str, Any] = {"latency_ms": latency_ms, "error_rate": 0.0, "outage": False}
        body["rate_limit"] = (
            {"requests": int(rate_limit.requests), "per_seconds": rate_limit.per_seconds}
            if rate_limit
            else None
        )
        self.client.post(f"/{key}/_sandbox/controls", json=body).raise_for_status()

    def reset_stats(self) -> None:
        self.client.post("/_sandbox/reset").raise_for_status()

    def stats(self, key: str) -> dict[str, int]:
        response = self.client.get(f"/{key}/_sandbox/stats")
        response.raise_for_status()
        requests: dict[str, int] = response.json()["requests"]
        return requests

    def records(self, key: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/{key}/_sandbox/records")
        response.raise_for_status()
        records: list[dict[str, Any]] = response.json()["records"]
        return records


# -- /proc ----------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _stat_fields(int(entry))
        if stat is not None and int(stat[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def _stat_fields(pid: int) -> list[str] | None:
    """`/proc/<pid>/stat` after the command name: [state, ppid, pgrp, ...]."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            text = stat.read()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (0 when it is gone)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (VmHWM) in MiB."""
    return _status_mb(pid, "VmHWM")


def rss_mb(pid: int) -> float | None:
    """The process's resident set size now (VmRSS) in MiB."""
    return _status_mb(pid, "VmRSS")


def _status_mb(pid: int, field: str) -> float | None:
    """A size field of `/proc/<pid>/status` (given there in kB) in MiB."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
