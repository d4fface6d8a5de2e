"""`python -m bench` (and `contact-gateway bench`): run the scenarios, print one table.

Exit status: 0 when every scenario measured (whatever the figures), 1 when one
could not (a server failed, answers were wrong), 2 for bad arguments, 130 when
interrupted. Every server started is stopped before it returns.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import httpx

from bench.harness import Harness, Options
from bench.report import Report, table, write_json
from bench.scenarios import SCENARIOS, estimate_seconds
from bench.servers import ServerError


class _Stopped(Exception):
    """SIGTERM or the overall time limit: stop measuring, stop the servers."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark contact-gateway against the sandbox on 127.0.0.1: fan-out "
        "latency, provider calls per query, throughput and overhead, a large answer, a "
        "rate-limited bulk upsert and memory. Prints one table; never fails on a time.",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="run only this scenario (repeatable); default: all, in the order listed",
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="measurements per figure; figures are medians"
    )
    parser.add_argument(
        "--bulk-size", type=int, default=2000, help="contacts in the bulk upsert (default 2000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="length of each timed load (default 4)"
    )
    parser.add_argument(
        "--list-sizes",
        type=_sizes,
        default=(10, 100, 500),
        metavar="N,N,...",
        help="page sizes for the provider-calls scenario (default 10,100,500)",
    )
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=1200,
        help="stop everything after this long (default 1200)",
    )
    parser.add_argument(
        "--keep-logs", type=Path, help="keep the servers' logs and the profile in this directory"
    )
    return parser


@contextmanager
def _signals(limit: float) -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(
            "time limit reached" if signum == signal.SIGALRM else f"signal {signum} received"
        )

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGALRM)}
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for number, handler in previous.items():
            signal.signal(number, handler)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of page sizes: {text!r}") from None
    if not sizes or any(not 0 < n <= 1000 for n in sizes):
        raise argparse.ArgumentTypeError("page sizes must be within 1..1000")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.runs < 1 or args.bulk_size < 1 or args.seconds <= 0 or args.max_seconds <= 0:
        parser.error("--runs and --bulk-size must be at least 1, --seconds positive")
    names = list(dict.fromkeys(args.scenario or SCENARIOS))
    options = Options(
        runs=args.runs, bulk_size=args.bulk_size, seconds=args.seconds, list_sizes=args.list_sizes
    )
    report = Report(
        args={
            "scenarios": names,
            "runs": args.runs,
            "bulk_size": args.bulk_size,
            "seconds": args.seconds,
            "list_sizes": list(args.list_sizes),
        }
    )
    say = _say
    total = sum(estimate_seconds(n, args.runs, args.bulk_size, args.seconds) for n in names)
    say(f"bench: {', '.join(names)}; about {total:.0f} s")
    status = 0
    with tempfile.TemporaryDirectory(prefix="contact-gateway-bench-") as tmp:
        workdir = Path(args.keep_logs) if args.keep_logs else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        harness = Harness(workdir, options, say=say)
        try:
            with _signals(args.max_seconds):
                for name in names:
                    status = max(status, _run(harness, name, report, args))
        except (KeyboardInterrupt, _Stopped) as exc:
            say(f"bench: stopped ({exc or 'interrupted'}); stopping the servers")
            status = 130
        finally:
            harness.close()
    print(table(report.figures, markdown=args.markdown))
    if args.out:
        write_json(report, args.out)
        say(f"bench: wrote {args.out}")
    return status


def _run(harness: Harness, name: str, report: Report, args: argparse.Namespace) -> int:
    estimate = estimate_seconds(name, args.runs, args.bulk_size, args.seconds)
    harness.say(f"bench: {name} (about {estimate:.0f} s)")
    started = time.monotonic()
    try:
        outcome = SCENARIOS[name](harness)
    except (ServerError, RuntimeError, OSError, ValueError, KeyError, httpx.HTTPError) as exc:
        harness.say(f"bench: {name} could not measure: {exc}")
        report.details[name] = {"error": str(exc), "traceback": traceback.format_exc()}
        harness.close()
        return 1
    outcome.details["seconds"] = round(time.monotonic() - started, 1)
    report.figures.extend(outcome.figures)
    report.details[name] = outcome.details
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
