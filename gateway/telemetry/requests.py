"""The request being answered, wherever code runs for it: its id, and the operation
line its access line will carry (`gateway.requests` sets it for each HTTP request;
`gateway.logs` reads it)."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Answering:
    """The request being answered: its id, and its operation's log line (level, format,
    arguments) for its access line to carry; `logged` once that line is written (work
    the request left running, which shares its context, then logs its own lines)."""

    id: str
    operation: tuple[int, str, tuple[Any, ...]] | None = None
    logged: bool = False


_current: ContextVar[Answering | None] = ContextVar("request", default=None)


def begin(request: Answering) -> Token[Answering | None]:
    """`request` is the one being answered, until `end`."""
    return _current.set(request)


def end(token: Token[Answering | None]) -> None:
    _current.reset(token)


def answering() -> Answering | None:
    """The request being answered, if any."""
    return _current.get()


def current_request_id() -> str | None:
    """The id of the request being answered, if any."""
    request = _current.get()
    return request.id if request is not None else None
