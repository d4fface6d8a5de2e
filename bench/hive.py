"""The peer the `hive` scenario measures against: Hive Gateway in front of the sandbox.

`bench/peers/hive/run.sh` composes a Mesh supergraph of the three readable
providers and serves it with Hive Gateway (one worker) and a hand-written
merged `contact(email)`. Its CPU is read over its whole process tree (the
shell, node and any worker it forks), as contact-gateway's is.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.servers import HOST, Server, children, cpu_seconds, wait_answering

PEER = Path(__file__).resolve().parent / "peers" / "hive"
# `npm ci` the first time takes one to two minutes; the supergraph is composed at each start.
START_TIMEOUT = 300.0

# The same merged lookup in both gateways: the fields the peer's merge gives.
OURS = """
query($email: String!) {
  contact(email: $email) { email firstName lastName company phones sources { provider remoteId } }
}
"""
THEIRS = """
query($email: String!) {
  contact(email: $email) { email firstName lastName company phone sources { provider id } }
}
"""


def missing() -> str | None:
    """Why the peer cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed to run Hive Gateway"
    if not (PEER / "run.sh").exists():
        return f"{PEER / 'run.sh'} is missing"
    return None


def tree(pid: int) -> list[int]:
    """`pid` and every live descendant."""
    found, pending = [], [pid]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children(pid))
    return found


def tree_cpu_seconds(server: Server) -> float:
    """User + system CPU of a server's whole process tree so far."""
    return sum(cpu_seconds(pid) for pid in tree(server.process.pid))


@dataclass
class TreeServer(Server):
    """A server whose serving processes are its process and every descendant."""

    def worker_pids(self) -> list[int]:
        return tree(self.process.pid)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def start_hive(workdir: Path, providers_url: str, *, name: str = "hive") -> TreeServer:
    """Hive Gateway on a free port in front of `providers_url`, once it answers a query.

    Raises:
        ServerError: it exited or did not answer in time (the message has its log's end).
    """
    port = free_port()
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["bash", str(PEER / "run.sh"), providers_url, str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "FORK": "1"},
            start_new_session=True,
        )
    server = TreeServer(name, process, log, port=port)

    def answers() -> bool:
        query = {"query": "{ __typename }"}
        return httpx.post(f"{server.url}/graphql", json=query, timeout=2).status_code == 200

    return wait_answering(server, answers, timeout=START_TIMEOUT)
