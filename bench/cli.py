"""`python -m bench` (and `contact-gateway bench`): run the scenarios, print one table.

Exit status: 0 when every scenario measured (whatever the figures), 1 when one
could not (a server failed, answers were wrong; the others still run) or the
`--out` file could not be written, 2 for bad arguments, 130 when interrupted.
Every server started is stopped before it returns.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import TypeVar

from bench.harness import Harness, Options, Outcome
from bench.report import Report, table, write_json
from bench.scenarios import DEFAULT, SCENARIOS, estimate_seconds

N = TypeVar("N", int, float)


class _Stopped(BaseException):
    """SIGTERM or the overall time limit: stop measuring, stop the servers.

    A BaseException, like KeyboardInterrupt: it ends the run, not just a scenario.
    """


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark contact-gateway against the sandbox on 127.0.0.1: fan-out "
        "latency, provider calls per query, throughput and overhead, a large answer, a "
        "rate-limited bulk upsert, abusive requests, the identity store's overhead, the "
        "record cache, memory, and the store's growth. Prints one table; never fails on a "
        "time.",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="run only this scenario (repeatable); default: all but cached and growth, in the "
        "order listed",
    )
    parser.add_argument(
        "--runs",
        type=_positive(int),
        default=3,
        help="measurements per figure; figures are medians",
    )
    parser.add_argument(
        "--bulk-size",
        type=_positive(int),
        default=2000,
        help="contacts in the bulk upsert (default 2000)",
    )
    parser.add_argument(
        "--seconds",
        type=_positive(float),
        default=4.0,
        help="length of each timed load (default 4)",
    )
    parser.add_argument(
        "--list-sizes",
        type=_sizes,
        default=(10, 100, 500),
        metavar="N,N,...",
        help="page sizes for the provider-calls scenario (default 10,100,500)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="also write the figures as JSON to this file, and the charts some "
        "scenarios draw (hive.png) beside it",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--max-seconds",
        type=_positive(float),
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


def _positive(kind: Callable[[str], N]) -> Callable[[str], N]:
    """An argparse type: a number of `kind` (int or float) above 0."""

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
        return value

    return parse


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
    if args.keep_logs:
        try:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.error(f"--keep-logs {args.keep_logs}: {exc.strerror}")
    if args.out and not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: {args.out.parent} is not a directory")
    names = list(dict.fromkeys(args.scenario or DEFAULT))
    options = Options(
        runs=args.runs,
        bulk_size=args.bulk_size,
        seconds=args.seconds,
        list_sizes=args.list_sizes,
        charts=str(args.out.parent) if args.out else None,
    )
    report = Report(args={"scenarios": names, **asdict(options)})
    total = sum(estimate_seconds(n, options) for n in names)
    _say(f"bench: {', '.join(names)}; about {total:.0f} s")
    status = 0
    with tempfile.TemporaryDirectory(prefix="contact-gateway-bench-") as tmp:
        harness = Harness(args.keep_logs or Path(tmp), options, say=_say)
        try:
            with _signals(args.max_seconds):
                for name in names:
                    _say(f"bench: {name} (about {estimate_seconds(name, options):.0f} s)")
                    status = max(status, run_scenario(harness, name, SCENARIOS[name], report))
        except (KeyboardInterrupt, _Stopped) as exc:
            _say(f"bench: stopped ({exc or 'interrupted'}); stopping the servers")
            status = 130
        finally:
            harness.close()
    print(table(report.figures, markdown=args.markdown))
    if args.out:
        try:
            write_json(report, args.out)
        except OSError as exc:
            _say(f"bench: cannot write {args.out}: {exc.strerror}")
            return max(status, 1)
        _say(f"bench: wrote {args.out}")
    return status


def run_scenario(
    harness: Harness, name: str, scenario: Callable[[Harness], Outcome], report: Report
) -> int:
    """Run one scenario into `report`; 1 (said, servers stopped) when it could not measure.

    Whatever it raised, the run goes on with the next scenario; the traceback is
    kept in the report's details, not shown.
    """
    started = time.monotonic()
    try:
        outcome = scenario(harness)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        harness.say(f"bench: {name} could not measure: {reason}")
        report.details[name] = {"error": reason, "traceback": traceback.format_exc()}
        harness.close()
        return 1
    outcome.details["seconds"] = round(time.monotonic() - started, 1)
    report.figures.extend(outcome.figures)
    report.details[name] = outcome.details
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
