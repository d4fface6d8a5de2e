"""`serve --workers N`: N processes, each with a listening socket of its own.

With one socket shared by every worker (uvicorn's own supervisor), the kernel
wakes whichever worker is waiting, and under load one worker took either about
half or nearly all connections (455 to 650 requests a second from run to run
with two). Here each worker binds its own socket to the same address with
`SO_REUSEPORT`, and the kernel spreads new connections over them evenly, by a
hash of each connection's addresses.

The supervisor starts the workers (spawned, each running uvicorn on its
socket), starts a new one in place of one that dies, and on SIGTERM or SIGINT
passes SIGTERM on to them (each then stops as `serve` does: new requests are
refused, writes in flight get their grace) and waits for them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

logger = logging.getLogger("uvicorn.error")

# A worker that dies sooner than this after it started is not started again at once.
RESTART_BACKOFF = 1.0


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that other sockets may bind too (`SO_REUSEPORT`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _serve_one(settings: dict[str, Any], sock: socket.socket) -> None:
    """A worker: uvicorn on its own socket."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor says when to stop
    config = uvicorn.Config(**settings)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Runs `workers` uvicorn workers on host:port, each on a socket of its own.

    Args:
        settings: `uvicorn.Config` keyword arguments (an app import string, with
            `factory` where it is a factory), without host, port or workers.
        host: the address to listen on.
        port: the port; 0 picks a free one for every worker.
        workers: how many.
    """

    def __init__(self, settings: dict[str, Any], *, host: str, port: int, workers: int) -> None:
        self.settings = settings
        self.sockets = [reuse_port_socket(host, port)]
        self.port = self.sockets[0].getsockname()[1]
        self.sockets += [reuse_port_socket(host, self.port) for _ in range(workers - 1)]
        self.host = host
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        self.started: list[float] = []
        self.stopping = False

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; returns the exit status."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        logger.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown, self.port)
        logger.info("Started parent process [%d]", os.getpid())
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for index in range(len(self.sockets)):
                self.processes.append(self._start(index))
                self.started.append(time.monotonic())
            while not self.stopping:
                self._keep_alive()
                time.sleep(0.2)
            for process in self.processes:
                if process.is_alive() and process.pid is not None:
                    os.kill(process.pid, signal.SIGTERM)
            for process in self.processes:
                process.join()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in self.sockets:
                sock.close()
        logger.info("Stopping parent process [%d]", os.getpid())
        return 0

    def _start(self, index: int) -> BaseProcess:
        process = self.context.Process(
            target=_serve_one, args=(self.settings, self.sockets[index]), daemon=False
        )
        process.start()
        return process

    def _keep_alive(self) -> None:
        for index, process in enumerate(self.processes):
            if process.is_alive() or self.stopping:
                continue
            if time.monotonic() - self.started[index] < RESTART_BACKOFF:
                continue
            logger.warning(
                "Child process [%s] died (exit code %s); starting another",
                process.pid,
                process.exitcode,
            )
            self.processes[index] = self._start(index)
            self.started[index] = time.monotonic()

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        logger.info("Received %s, exiting.", signal.Signals(sig).name)
        self.stopping = True
