"""A small HTTP/1.1 server on 127.0.0.1 whose answers a test writes by hand, to show
how a client meets real servers, including the ways they misbehave."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Handler = Callable[["Exchange"], Awaitable[None]]


class Exchange:
    """One request as the server read it, and the means to answer it."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server
    ) -> None:
        self.reader, self.writer, self.server = reader, writer, server
        self.method = ""
        self.target = ""
        self.headers: dict[str, str] = {}
        self.body = b""

    @property
    def port(self) -> int:
        return int(self.writer.get_extra_info("peername")[1])

    async def read(self) -> bool:
        line = await self.reader.readline()
        if not line:
            return False
        self.method, self.target, _ = line.decode().split(" ", 2)
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.body = await self.reader.readexactly(int(self.headers.get("content-length", 0)))
        return True

    def answer(self, body: bytes = b"ok", *, status: int = 200, headers: str = "") -> None:
        self.writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n{headers}\r\n".encode() + body
        )


class Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Exchange] = []
        self.in_flight = 0
        self.peak = 0
        self.connections = 0
        self.hung_up = 0  # connections the client closed
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                exchange = Exchange(reader, writer, self)
                if not await exchange.read():
                    self.hung_up += 1
                    break
                self.requests.append(exchange)
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                try:
                    await self.handler(exchange)
                finally:
                    self.in_flight -= 1
                if writer.is_closing():
                    break
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def running(handler: Handler) -> AsyncIterator[Server]:
    server = Server(handler)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
