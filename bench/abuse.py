"""The abusive requests of the `abuse` scenario, and a client that times their refusal.

Each is a request the gateway was once found to answer at great cost: selections
nested through `account { contacts { ... } }`, hundreds or a hundred thousand
aliases of `contact(email:)`, bodies of megabytes. The client writes the body
while it reads the answer, on a fresh connection, so that a refusal that comes
before the body is all sent (a 413 read from Content-Length) is timed as such,
and a server that stops reading cannot stall it. (httpx sends the whole body
before it reads, and loses the answer when the server hangs up first.)
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 64 * 1024
ADA = "ada.lovelace.0@stark.test"


@dataclass(frozen=True, slots=True)
class Abuse:
    """One abusive request.

    Args:
        name: a short stable name, used in figure names.
        what: how it reads in a note.
        body: the JSON request body.
        chunked: send it without a Content-Length, in chunks (a refusal must then
            come from counting what arrives).
    """

    name: str
    what: str
    body: bytes
    chunked: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """How the gateway answered one abusive request.

    Args:
        status: the HTTP status; 0 when no complete answer came.
        code: the first GraphQL error's `extensions.code`, "-" for an answer without
            one (a plain-text 413), or what ended a connection that gave no answer.
        limit: that error's `extensions.limit`, when it names one.
        seconds: from the first byte sent to the last byte of the answer.
        sent: body bytes written when the answer was complete.
    """

    status: int
    code: str
    limit: str | None
    seconds: float
    sent: int

    @property
    def refusal(self) -> str:
        """e.g. "200 OPERATION_LIMIT_EXCEEDED (max_depth)", "413" or "no answer (...)"."""
        if not self.status:
            return f"no answer ({self.code})"
        text = f"{self.status}" if self.code == "-" else f"{self.status} {self.code}"
        return f"{text} ({self.limit})" if self.limit else text


def nested_accounts(levels: int) -> str:
    """`contact(email:)` with `account { contacts { edges { node { ... } } } }` nested
    `levels` times under it."""
    inner = "id"
    for _ in range(levels):
        inner = f"account {{ contacts {{ edges {{ node {{ {inner} }} }} }} }}"
    return f'{{ contact(email: "{ADA}") {{ {inner} }} }}'


def aliases(count: int) -> str:
    """`count` aliases of `contact(email:)` in one operation."""
    return "{ " + " ".join(f'a{i}: contact(email: "{ADA}") {{ id }}' for i in range(count)) + " }"


def _body(query: str) -> bytes:
    return json.dumps({"query": query}).encode()


def _padded(size: int) -> bytes:
    """A trivial query padded with spaces to a body of `size` bytes."""
    head, tail = b'{"query": "{ __typename }', b'"}'
    return head + b" " * (size - len(head) - len(tail)) + tail


def _long_query(size: int) -> bytes:
    """A query document of `size` bytes (to within one field): one field asked again
    and again."""
    return _body("{ " + "__typename " * ((size - 3) // 11) + "}")


def abuses() -> list[Abuse]:
    """The abusive requests, cheapest first."""
    return [
        Abuse("nested12", "account/contacts nested 12 deep", _body(nested_accounts(12))),
        Abuse("nested16", "account/contacts nested 16 deep", _body(nested_accounts(16))),
        Abuse("aliases500", "500 aliases of contact(email:)", _body(aliases(500))),
        Abuse("aliases100k", "100,000 aliases of contact(email:)", _body(aliases(100_000))),
        Abuse("query5mb", "a 5 MB query", _long_query(5_000_000)),
        Abuse("body50mb", "a 50 MB body", _padded(50_000_000)),
        Abuse("body50mb_chunked", "a 50 MB body, chunked", _padded(50_000_000), chunked=True),
    ]


def _chunks(body: bytes, chunked: bool) -> Iterator[bytes]:
    for start in range(0, len(body), CHUNK):
        part = body[start : start + CHUNK]
        yield b"%x\r\n%b\r\n" % (len(part), part) if chunked else part
    if chunked:
        yield b"0\r\n\r\n"


def send(port: int, abuse: Abuse, *, timeout: float = 60.0, host: str = "127.0.0.1") -> Answer:
    """Send `abuse` to the gateway on `port` on a fresh connection and time its answer.

    The body is written by a thread while this one reads: a server may answer before
    it has read the body, and then hang up on the rest.

    Returns:
        The answer; status 0, with the exception's name as its code, when the server hung
        up before a complete answer or gave none within `timeout` seconds.
    """
    framing = (
        "Transfer-Encoding: chunked" if abuse.chunked else f"Content-Length: {len(abuse.body)}"
    )
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    ).encode()
    sent = 0

    def write() -> None:
        nonlocal sent
        with contextlib.suppress(OSError):  # the server hung up on the rest, as it may
            sock.sendall(head)
            for chunk in _chunks(abuse.body, abuse.chunked):
                sock.sendall(chunk)
                sent += len(chunk)

    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer = threading.Thread(target=write, name="abuse-writer", daemon=True)
        started = time.perf_counter()
        writer.start()
        try:
            response = http.client.HTTPResponse(sock)
            response.begin()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            # Hanging up (or, past `timeout`, not answering) is an answer too.
            status, raw = 0, type(exc).__name__.encode()
        finally:
            seconds = time.perf_counter() - started
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # ends a write the server stopped reading
            writer.join(timeout)
    code, limit = ("-" if status else raw.decode()), None
    if raw.startswith(b"{"):
        errors = json.loads(raw).get("errors") or [{}]
        extensions = errors[0].get("extensions") or {}
        code, limit = str(extensions.get("code", "-")), extensions.get("limit")
    return Answer(status, code, limit, seconds, min(sent, len(abuse.body)))
