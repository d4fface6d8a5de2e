"""Two checkouts' gateways measured at once: what a code change does to CPU per request.

    git worktree add /tmp/before HEAD~3
    .venv/bin/python -m bench.compare /tmp/before            # this checkout against it
    .venv/bin/python -m bench.compare /tmp/before --runs 12 --seconds 3 --clients 16

On a shared machine the same code's CPU per request moves by a quarter from one
run to the next, and by 10% between two runs a few seconds apart: alternating
runs of two versions cannot see a change of a few percent. Here both gateways
(`python -m gateway serve` started in each checkout, each with a store of its
own) answer the merged lookup of `--scenario hive` at the same time, each from
its own load generator, against one sandbox: whatever the machine does, it does
to both. Each run reports each gateway's CPU per request (its process tree, user
+ system) and their ratio; the median ratio is the figure (same code against
itself reads within about 2%). The checkout given must have its dependencies
(a worktree of this repository uses this one's `.venv`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import hive as peer
from bench.harness import Harness, Options, graphql
from bench.loadgen import LoadResult, Request
from bench.scenarios import three_provider_emails
from bench.servers import Server, ServerError, gateway_config


@dataclass(frozen=True, slots=True)
class Run:
    """One run: each gateway's CPU per request (ms) and req/s, this checkout's first."""

    ours_ms: float
    theirs_ms: float
    ours_rps: float
    theirs_rps: float

    @property
    def ratio(self) -> float:
        """This checkout's CPU per request over the other's."""
        return self.ours_ms / self.theirs_ms


def summary(runs: Sequence[Run]) -> dict[str, float]:
    """The medians over `runs`: CPU per request of each, and of the per-run ratios."""
    if not runs:
        raise ValueError("no runs to sum up")
    return {
        "ours_ms": statistics.median(r.ours_ms for r in runs),
        "theirs_ms": statistics.median(r.theirs_ms for r in runs),
        "ratio": statistics.median(r.ratio for r in runs),
    }


def compare(
    other: Path,
    *,
    runs: int,
    seconds: float,
    clients: int,
    say: Callable[[str], None] = print,
) -> list[Run]:
    """Measure this checkout's gateway and `other`'s side by side, `runs` times."""
    found: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        h = Harness(Path(tmp), Options())
        try:
            sandbox, _ = h.sandbox()
            config = gateway_config(sandbox.url)
            servers = {
                "ours": h.gateway(config, label="this"),
                "theirs": h.gateway(config, label="other", checkout=other),
            }
            units = [[graphql(peer.OURS, {"email": e})] for e in three_provider_emails()]
            for name, server in servers.items():
                h.load(server, units, f"{name} warm-up", concurrency=clients, duration=3)
            for run in range(runs):
                before = {n: s.cpu_seconds() for n, s in servers.items()}
                results: dict[str, LoadResult] = {}
                threads = [
                    threading.Thread(
                        target=_load, args=(h, n, servers[n], units, clients, seconds, results)
                    )
                    for n in servers
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                if len(results) != len(servers):
                    raise ServerError("a load did not finish; see the messages above")
                ms = {
                    n: (s.cpu_seconds() - before[n]) * 1000 / results[n].ok
                    for n, s in servers.items()
                }
                found.append(
                    Run(ms["ours"], ms["theirs"], results["ours"].rps, results["theirs"].rps)
                )
                last = found[-1]
                say(
                    f"run {run + 1}: this {last.ours_ms:.3f} ms ({last.ours_rps:.0f}/s), "
                    f"other {last.theirs_ms:.3f} ms ({last.theirs_rps:.0f}/s), "
                    f"ratio {last.ratio:.3f}"
                )
        finally:
            h.close()
    return found


def _load(
    h: Harness,
    key: str,
    server: Server,
    units: list[list[Request]],
    clients: int,
    seconds: float,
    results: dict[str, LoadResult],
) -> None:
    results[key] = h.load(server, units, server.name, concurrency=clients, duration=seconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("other", type=Path, help="the other checkout (e.g. a git worktree)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=16, help="per gateway")
    args = parser.parse_args(argv)
    if not (args.other / "gateway" / "__main__.py").exists():
        parser.error(f"{args.other} is not a checkout of contact-gateway")
    if args.runs < 1 or args.seconds <= 0 or args.clients < 1:
        parser.error("--runs, --seconds and --clients must be positive")
    runs = compare(args.other.resolve(), runs=args.runs, seconds=args.seconds, clients=args.clients)
    medians = summary(runs)
    print(
        f"median CPU per request: this {medians['ours_ms']:.3f} ms, other "
        f"{medians['theirs_ms']:.3f} ms; median ratio {medians['ratio']:.3f} over {len(runs)} runs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
