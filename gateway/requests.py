"""Request ids: every response carries `x-request-id`, and every log line written
while a request is answered carries it as `request_id`.

A client's own id is kept when it is sane (1 to 128 letters, digits and
`-_.:`), so a caller can follow its request through the gateway's logs; any
other gets a new one (32 hex digits).
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered, if any."""
    return _current.get()


class RequestIds:
    """ASGI middleware: gives each HTTP request its id (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == HEADER), None)
        # 128 random bits, as a UUID4 carries (without building one: ~2 us a request).
        raw = (
            given if given is not None and _SANE.fullmatch(given) else os.urandom(16).hex().encode()
        )
        request_id = raw.decode()
        token = _current.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                message["headers"] = [*headers, (HEADER, raw)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
