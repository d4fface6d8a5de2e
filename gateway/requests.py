"""Request ids: every response carries `x-request-id`, and every log line written
while a request is answered carries it as `request_id`.

A client's own id is kept when it is sane (1 to 128 letters, digits and
`-_.:`), so a caller can follow its request through the gateway's logs; any
other gets a new one (32 hex digits).

Each request is one access line once it is answered (`gateway.logs.log_access`):
method, path, status and client, and the fields of the GraphQL operation it ran
(left in `gateway.telemetry.requests` by the operation log), in one line.
"""

from __future__ import annotations

import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logs import log_access
from gateway.telemetry.requests import Answering, begin, end

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class RequestIds:
    """ASGI middleware: gives each HTTP request its id and its access line (see the module)."""

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
        request = Answering(raw.decode())
        token = begin(request)
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                message["headers"] = [*headers, (HEADER, raw)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = status or 500  # what the server answers for an app that failed
            raise
        finally:
            try:
                log_access(scope, status, request)
            finally:
                end(token)
