"""Run a module with cProfile switched on and off by signals, so start-up is left out.

    python -m bench.profiled PROFILE_FILE MODULE [arguments...]

SIGUSR1 starts profiling the main thread's CPU time (where an ASGI server's
event loop runs); SIGUSR2 stops it and writes PROFILE_FILE, then PROFILE_FILE.done so the
harness knows it is complete.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
import time
from pathlib import Path
from types import FrameType


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m bench.profiled PROFILE_FILE MODULE [arguments...]", file=sys.stderr)
        return 2
    out = Path(argv[0])
    # CPU time of the main thread, not wall time: a machine busy with the sandbox and
    # the load generator would otherwise charge the gateway for time it was not running.
    profiler = cProfile.Profile(time.thread_time)

    def start(signum: int, frame: FrameType | None) -> None:
        profiler.enable()

    def stop(signum: int, frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(out)
        out.with_name(out.name + ".done").touch()

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
