"""`PooledTransport` against real sockets: small HTTP servers on 127.0.0.1 that answer
the way real servers do, including the ways they misbehave."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvloop

from connectors.transport import PooledTransport
from tests.rawhttp import Exchange, running


async def ok(exchange: Exchange) -> None:
    exchange.answer(
        b'{"echo": "' + exchange.body + b'", "path": "' + exchange.target.encode() + b'"}'
    )


@asynccontextmanager
async def client(**options: int | float) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=PooledTransport(**options), timeout=httpx.Timeout(2.0)
    ) as http:
        yield http


async def keep_alive_round_trips() -> tuple[list[int], list[dict[str, str]], int]:
    async with running(ok) as server, client() as http:
        answers = []
        for i in range(5):
            response = await http.post(f"{server.url}/items?n={i}", content=b"x" * i)
            answers.append(response.json())
        return [e.port for e in server.requests], answers, server.connections


async def test_requests_reuse_one_connection_and_answers_are_whole() -> None:
    ports, answers, connections = await keep_alive_round_trips()
    assert connections == 1
    assert len(set(ports)) == 1
    assert answers == [{"echo": "x" * i, "path": f"/items?n={i}"} for i in range(5)]


def test_the_same_under_uvloop() -> None:
    """uvicorn runs the gateway on uvloop, whose transports are its own classes."""
    ports, answers, connections = uvloop.run(keep_alive_round_trips())
    assert connections == 1
    assert len(set(ports)) == 1
    assert answers[4] == {"echo": "xxxx", "path": "/items?n=4"}


async def test_at_most_max_connections_exchanges_at_once() -> None:
    async def slow(exchange: Exchange) -> None:
        await asyncio.sleep(0.05)
        exchange.answer()

    async with running(slow) as server, client(max_connections=2) as http:
        answers = await asyncio.gather(*(http.get(server.url) for _ in range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert server.peak == 2
    assert server.connections == 2


async def test_waiting_for_a_slot_longer_than_the_pool_timeout_fails() -> None:
    async def slow(exchange: Exchange) -> None:
        await asyncio.sleep(0.3)
        exchange.answer()

    async with running(slow) as server, client(max_connections=1) as http:
        first = asyncio.ensure_future(http.get(server.url))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await http.get(server.url, timeout=httpx.Timeout(2.0, pool=0.05))
        assert (await first).status_code == 200


async def test_a_slow_answer_is_a_read_timeout_and_its_connection_is_not_reused() -> None:
    async def slow_first(exchange: Exchange) -> None:
        if len(exchange.server.requests) == 1:
            await asyncio.sleep(0.5)
        exchange.answer()

    async with running(slow_first) as server, client() as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(server.url, timeout=httpx.Timeout(2.0, read=0.1))
        response = await http.get(server.url)
    assert response.status_code == 200
    assert server.connections == 2


async def test_nobody_listening_is_a_connect_error() -> None:
    async with running(ok) as server:
        url = server.url
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(url)


async def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    async def close_after(exchange: Exchange) -> None:
        exchange.answer()
        await exchange.writer.drain()
        exchange.writer.close()

    async with running(close_after) as server, client() as http:
        first = await http.get(server.url)
        await asyncio.sleep(0.05)  # the close reaches the client while it is idle
        second = await http.post(server.url, content=b"write")
    assert (first.status_code, second.status_code) == (200, 200)
    assert server.connections == 2


async def test_a_read_sent_as_the_server_hangs_up_is_sent_again_a_write_is_not() -> None:
    async def hang_up_on_second(exchange: Exchange) -> None:
        # The second request on a connection: close without answering, as a server
        # does when its keep-alive timer fires just as the request arrives.
        per_connection = [e for e in exchange.server.requests if e.writer is exchange.writer]
        if len(per_connection) == 2:
            exchange.writer.close()
            return
        exchange.answer()

    async with running(hang_up_on_second) as server, client() as http:
        await http.get(server.url)
        retried = await http.get(server.url + "/again")
        assert retried.status_code == 200
        assert [e.target for e in server.requests] == ["/", "/again", "/again"]

        await http.get(server.url + "/third")
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(server.url + "/write", content=b"once")
        assert [e.target for e in server.requests].count("/write") == 1


async def test_a_body_ended_by_closing_the_connection_is_read_whole() -> None:
    async def unframed(exchange: Exchange) -> None:
        exchange.writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + b"a" * 70000)
        await exchange.writer.drain()
        exchange.writer.close()

    async with running(unframed) as server, client() as http:
        response = await http.get(server.url)
    assert response.content == b"a" * 70000


async def test_chunked_and_gzip_bodies_are_decoded() -> None:
    async def chunked(exchange: Exchange) -> None:
        data = gzip.compress(b'{"hello": "world"}')
        exchange.writer.write(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-encoding: gzip\r\n\r\n"
            + f"{len(data[:5]):x}\r\n".encode()
            + data[:5]
            + b"\r\n"
            + f"{len(data[5:]):x}\r\n".encode()
            + data[5:]
            + b"\r\n0\r\n\r\n"
        )

    async with running(chunked) as server, client() as http:
        response = await http.get(server.url)
        again = await http.get(server.url)
    assert response.json() == {"hello": "world"} == again.json()
    assert server.connections == 1


async def test_a_malformed_answer_is_a_protocol_error() -> None:
    async def garbage(exchange: Exchange) -> None:
        exchange.writer.write(b"HTTP/1.1 banana\r\n\r\n")

    async with running(garbage) as server, client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(server.url)


async def test_error_statuses_and_headers_come_through() -> None:
    async def limited(exchange: Exchange) -> None:
        exchange.answer(b'{"error": "rate_limited"}', status=429, headers="Retry-After: 2\r\n")

    async with running(limited) as server, client() as http:
        response = await http.get(server.url)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {"error": "rate_limited"}


async def test_closing_the_transport_closes_its_idle_connections() -> None:
    async with running(ok) as server:
        async with client() as http:
            await http.get(server.url)
            await asyncio.sleep(0.05)
            assert server.hung_up == 0
        for _ in range(100):
            if server.hung_up:
                break
            await asyncio.sleep(0.01)
        assert server.hung_up == 1
