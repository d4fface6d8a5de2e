"""What every scenario shares: its options, the servers it starts, and what it returns."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loadgen import LoadResult, LoadSpec, Request, run_in_subprocess
from bench.report import Figure
from bench.servers import ROOT, SandboxControls, Server, start_gateway, start_sandbox


@dataclass(frozen=True, slots=True)
class Options:
    """How hard and how long to measure.

    Args:
        runs: measurements per figure; a figure is their median.
        bulk_size: contacts in the bulk upsert.
        seconds: length of each timed load (throughput, latency).
        list_sizes: the page sizes N of `contacts(first: N)` whose provider calls are counted.
        charts: the folder scenarios draw their charts into (none drawn when None).
    """

    runs: int = 3
    bulk_size: int = 2000
    seconds: float = 4.0
    list_sizes: tuple[int, ...] = (10, 100, 500)
    charts: str | None = None


class BenchError(RuntimeError):
    """A scenario could not measure: a server failed or answers were wrong."""


@dataclass
class Outcome:
    """A scenario's figures, and the raw numbers behind them for the JSON file."""

    figures: list[Figure]
    details: dict[str, Any] = field(default_factory=dict)


def graphql(query: str, variables: Mapping[str, Any] | None = None) -> Request:
    """A GraphQL-over-HTTP POST to the gateway."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = dict(variables)
    return Request("POST", "/graphql", {"Content-Type": "application/json"}, json.dumps(body))


class Harness:
    """Starts servers for the scenarios and stops every one of them, whatever happens.

    A gateway's workers' peak RSS is read before it is stopped, so the memory
    figure covers every gateway the run started.
    """

    def __init__(
        self, workdir: Path, options: Options, *, say: Callable[[str], None] | None = None
    ) -> None:
        self.workdir = workdir
        self.options = options
        self.say = say or (lambda text: print(text, file=sys.stderr, flush=True))
        self.servers: list[Server] = []
        self.gateways: set[str] = set()
        self.peak_rss_mb: dict[str, float] = {}
        self.controls: dict[str, SandboxControls] = {}

    def sandbox(self, *, seed: int | None = 0) -> tuple[Server, SandboxControls]:
        server = start_sandbox(self.workdir, seed=seed, name=self._name("sandbox"))
        self.servers.append(server)
        controls = self.controls[server.name] = SandboxControls(server.url)
        return server, controls

    def gateway(
        self,
        config: str,
        *,
        workers: int = 1,
        profile_to: Path | None = None,
        label: str = "",
        checkout: Path = ROOT,
    ) -> Server:
        name = self._name(f"gateway-{label}" if label else "gateway")
        server = start_gateway(
            self.workdir,
            config,
            name=name,
            workers=workers,
            profile_to=profile_to,
            checkout=checkout,
        )
        self.servers.append(server)
        self.gateways.add(server.name)
        return server

    def peer(self, start: Callable[[], Server]) -> Server:
        """Another gateway to measure against: started by `start`, stopped like ours, and
        its answers checked for GraphQL errors as ours are."""
        server = start()
        self.servers.append(server)
        self.gateways.add(server.name)
        return server

    def load(
        self,
        server: Server,
        units: Sequence[Sequence[Request]],
        what: str,
        *,
        concurrency: int = 1,
        duration: float | None = None,
        count: int | None = None,
        warmup: float = 0.0,
        timeout: float = 60.0,
        keep_bodies: int = 0,
    ) -> LoadResult:
        """Load `server` from a separate load generator process (see `LoadSpec`).

        Args:
            server: a sandbox or a gateway this harness started; a gateway's
                answers that carry GraphQL errors count as failed.
            units: what to send, cycled through.
            what: names the load in an error.
            concurrency: clients.
            duration: seconds to measure for, or else
            count: units to measure.
            warmup: seconds of unrecorded load first.
            timeout: seconds to wait for any one answer.
            keep_bodies: answers' bodies to keep.

        Raises:
            BenchError: an answer failed or carried GraphQL errors, or none came:
                figures from broken answers would lie.
        """
        spec = LoadSpec(
            port=server.port,
            units=units,
            concurrency=concurrency,
            duration=duration,
            count=count,
            warmup=warmup,
            timeout=timeout,
            check_graphql=server.name in self.gateways,
            keep_bodies=keep_bodies,
        )
        result = run_in_subprocess(spec)
        if result.failed or result.graphql_errors or not result.ok:
            raise BenchError(
                f"{what}: {result.ok} ok, {result.failed} failed, "
                f"{result.graphql_errors} with GraphQL errors; first: {result.sample}"
            )
        return result

    def stop(self, server: Server) -> None:
        if server.name in self.gateways:
            server.sample_memory()
            if server.peak_rss_mb:
                self.peak_rss_mb[server.name] = max(server.peak_rss_mb.values())
        if (controls := self.controls.pop(server.name, None)) is not None:
            controls.close()
        server.stop()
        if server in self.servers:
            self.servers.remove(server)

    def close(self) -> None:
        """Stop every server still running, newest first."""
        while self.servers:
            self.stop(self.servers[-1])

    def _name(self, base: str) -> str:
        taken = {s.name for s in self.servers} | set(self.peak_rss_mb)
        name, n = base, 1
        while name in taken or (self.workdir / f"{name}.log").exists():
            n += 1
            name = f"{base}-{n}"
        return name
