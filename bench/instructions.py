"""Instructions per request, counted by valgrind's callgrind: a figure no neighbour moves.

CPU time per request moves by a quarter from one run to the next on a shared
machine (and Hive's with it); the instructions the gateway's process executes
for the same requests move by about one percent. The gateway runs under
`valgrind --tool=callgrind` with counting off; after a warm-up the count is
switched on (`callgrind_control -i on`), a fixed number of merged lookups is
sent from the load generator, and switched off again. Kernel time (socket
calls) is not in it; everything the process runs in user space is, including
uvicorn, aiohttp and the interpreter.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from bench.servers import HOST, ROOT, Server, ServerError, wait_answering, with_store

# Seconds for the gateway to start: everything runs about 40 times slower under valgrind.
START_TIMEOUT = 300.0
_COLLECTED = re.compile(r"Collected : (\d+)")


def missing() -> str | None:
    """Why the count cannot be made here, or None."""
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            return f"{tool} is needed (Debian's valgrind package)"
    return None


def start_counted(workdir: Path, config: str, port: int, *, name: str = "counted") -> Server:
    """`contact-gateway serve` under callgrind, counting nothing yet, once it answers."""
    path = workdir / f"{name}.toml"
    path.write_text(with_store(config, workdir / f"{name}.db"), encoding="utf-8")
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={workdir / name}.callgrind",
                *(sys.executable, "-m", "gateway", "serve", "--config", str(path)),
                *("--host", HOST, "--port", str(port)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
    server = Server(name, process, log, port=port)

    def answers() -> bool:
        return httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200

    return wait_answering(server, answers, timeout=START_TIMEOUT, interval=1.0)


def counting(server: Server, on: bool) -> None:
    """Switch callgrind's count on or off in the server's process."""
    switch = "on" if on else "off"
    subprocess.run(
        ["callgrind_control", "-i", switch, str(server.process.pid)],
        check=True,
        capture_output=True,
        timeout=30,
    )


def collected(server: Server) -> int:
    """Stop the server and read how many instructions were counted."""
    server.stop(grace=60)
    found = _COLLECTED.findall(server.log.read_text(encoding="utf-8", errors="replace"))
    if not found:
        raise ServerError(f"{server.name}: callgrind reported no count:\n{server.log_tail()}")
    return int(found[-1])
