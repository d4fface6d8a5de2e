"""`GraphQLView`: GraphQL over HTTP, guarded.

Strawberry's ASGI view does the GraphQL; this one stands in front of it:

- **Who:** with `[auth]`, every GraphQL request needs `Authorization: Bearer <key>`
  (HTTP 401, `UNAUTHENTICATED`, otherwise); GraphiQL's page itself is static and
  served without it.
- **CSRF:** a POST must be JSON (Strawberry refuses simple content types); a GET
  that carries a query must have a JSON content type or a preflight header
  (`GraphQL-Require-Preflight`, as Apollo Router asks), so a browser cannot be
  made to send it cross-site without a CORS preflight.
- **Size:** a body over `limits.max_body_bytes` is refused (413) while it arrives.
- **Shape:** a body that is not a JSON object (a bare scalar, invalid UTF-8, nesting
  past orjson's depth limit) is a 400 with a plain message, never a 500.
- **Time:** `limits.timeout` bounds the operation (the connectors stop at the
  deadline and the answer is partial; this view's own timer is the backstop), and
  an operation whose client has hung up is cancelled: it makes no more provider calls.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway import graphiql, idempotency
from gateway.auth import Authenticator, Unauthenticated
from gateway.config import GatewaySettings
from gateway.telemetry import metrics
from resolvers.runtime.context import Context, Principal, Runtime
from resolvers.schema import schema

logger = logging.getLogger("contact_gateway.http")

# Seconds past `limits.timeout` before the view gives up on an operation whose
# provider calls should all have been cut at the deadline already.
BACKSTOP = 1.0
# Seconds an operation runs before the view starts listening for the client hanging
# up. Most operations are answered sooner, even queued behind others at full load (a
# merged lookup's p99 at 32 clients is ~60 ms); a task for each of them costs ~1% of a
# lookup's CPU, for a notice that would save at most this long of a hung-up
# operation's provider calls.
WATCH_AFTER = 0.25
JSON_TYPES = ("application/json", "application/graphql-response+json")
# What a POST may run, as Strawberry's view has it.
_BY_POST = frozenset(OperationType.from_http("POST"))


def _state(request: HTTPConnection) -> dict[str, Any]:
    """The request's state (the lifespan's `runtime`, the `principal` once known), read
    as the dict it is: `request.state` is an object whose every attribute read misses
    first and every absent one raises."""
    return request.scope.setdefault("state", {})  # type: ignore[no-any-return]


def _graphql_error(status: int, message: str, code: str, **headers: str) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


class _Replay:
    """The request's `receive`, with the body already read played back once; later
    calls wait for the client to hang up (which the watcher reports)."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self.body = body
        self.played = False
        self.receive = receive
        self.gone = asyncio.Event()

    async def __call__(self) -> Message:
        if not self.played:
            self.played = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def watch(self) -> None:
        """Returns when the client disconnects."""
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.gone.set()
                return


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with the gateway's guards, context and GraphiQL page.

    Args:
        static_dir: where GraphiQL's assets are looked for (served under `/static`).
        settings: the server switches, `[auth]` and `[limits]`.
    """

    def __init__(self, *, static_dir: Path, settings: GatewaySettings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.server.graphiql else None,
            allow_queries_via_get=True,
            subscription_protocols=(),
        )
        self.static_dir = static_dir
        self.limits = settings.limits
        self.preflight = settings.server.preflight_headers
        self.authenticator = Authenticator(settings.auth) if settings.auth.enabled else None

    def encode_json(self, data: object) -> bytes:
        # orjson is several times faster than json.dumps on large answers.
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses invalid UTF-8 and nesting past 1024 levels with a JSONDecodeError,
        # which Strawberry answers with a 400, where the json module raised a RecursionError.
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        if not isinstance(parsed.get("operationName"), str | None):
            # Strawberry checks `query`, `variables` and `extensions`, not this one: a
            # `true` here reached graphql-core and came back as an error without a code.
            raise HTTPException(
                400,
                "The GraphQL operation's `operationName` must be a string or null, if provided.",
            )
        return parsed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        refusal = self._screen(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        try:
            body = await self._body(request)
        except ClientDisconnect:
            return
        if body is None:
            limit = self.limits.max_body_bytes
            too_large = f"The request body is larger than the limit of {limit} bytes"
            metrics.LIMIT_REJECTIONS.labels("max_body_bytes").inc()
            await PlainTextResponse(too_large, status_code=413)(scope, receive, send)
            return
        replay = _Replay(body, receive)
        request = Request(scope, replay)  # its body is read: the replay plays it back
        key = request.headers.get(idempotency.HEADER)
        if key is not None and request.method == "POST":
            response = await self._idempotent(request, replay, key, body)
        else:
            response = await self._answer(request, replay)
        if response is not None:
            await response(scope, replay, send)

    async def _idempotent(
        self, request: Request, replay: _Replay, header: str, body: bytes
    ) -> Response | None:
        """`_answer`, under an idempotency key (`gateway.idempotency`)."""
        state = _state(request)
        runtime = state.get("runtime")
        if not isinstance(runtime, Runtime):
            return await self._answer(request, replay)
        principal: Principal | None = state.get("principal")
        verdict = await idempotency.claim(
            runtime.journal,
            header,
            principal.name if principal else None,
            body,
            ttl=runtime.writes.idempotency_ttl,
            max_tokens=self.limits.max_tokens,
        )
        if verdict is None:
            return await self._answer(request, replay)
        if isinstance(verdict, idempotency.Refusal):
            return _graphql_error(verdict.status, verdict.message, verdict.code)
        if verdict.replay is not None:
            return Response(
                verdict.replay,
                media_type="application/json",
                headers={idempotency.REPLAYED: "true"},
            )
        response = None
        try:
            response = await self._answer(request, replay)
        finally:
            if runtime.journal is not None:
                await idempotency.keep(
                    runtime.journal,
                    verdict.key,
                    response.status_code if response is not None else 0,
                    bytes(response.body) if response is not None else None,
                )
        return response

    def _screen(self, request: Request) -> Response | None:
        """A refusal for a request that may not be answered at all, or None."""
        if request.method == "GET" and "query" in request.query_params:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in JSON_TYPES and not any(
                request.headers.get(name) for name in self.preflight
            ):
                return PlainTextResponse(
                    "A GET query needs a JSON Content-Type or the GraphQL-Require-Preflight "
                    "header (CSRF protection)",
                    status_code=400,
                )
        if self.authenticator is not None and self._needs_credentials(request):
            try:
                _state(request)["principal"] = self.authenticator.authenticate(
                    request.headers.get("authorization")
                )
            except Unauthenticated as exc:
                return _graphql_error(
                    401, str(exc), "UNAUTHENTICATED", **{"WWW-Authenticate": "Bearer"}
                )
        return None

    def _needs_credentials(self, request: Request) -> bool:
        # GraphiQL's page is the same for everyone and holds no data.
        return request.method != "GET" or "query" in request.query_params

    async def _body(self, request: Request) -> bytes | None:
        """The whole body, or None once it is past the limit (never read further)."""
        limit = self.limits.max_body_bytes
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _answer(self, request: Request, replay: _Replay) -> Response | None:
        """The operation's response; None when the client left before it was ready.

        The operation runs in this task. A watcher listens for the client hanging up;
        it, the runtime's cut-off (`Runtime.stop`) and a backstop past the operation's
        own timeout cancel the operation, whichever comes first. The watcher (a task)
        starts once the operation has run `WATCH_AFTER` seconds: most operations are
        answered sooner, and a hang-up before then is seen the moment it starts.
        """
        task = asyncio.current_task()
        assert task is not None
        stopped = False
        answered = False

        def stop(_: object = None) -> None:
            nonlocal stopped
            if not (stopped or answered):
                stopped = True
                task.cancel()

        watcher: asyncio.Future[None] | None = None

        def watch() -> None:
            nonlocal watcher
            watcher = asyncio.ensure_future(replay.watch())
            watcher.add_done_callback(stop)

        runtime = _state(request).get("runtime")
        cut = runtime.cut_off() if isinstance(runtime, Runtime) else None
        if cut is not None:
            cut.add_done_callback(stop)
        loop = asyncio.get_running_loop()
        watching = loop.call_later(WATCH_AFTER, watch)
        backstop = loop.call_later(self.limits.timeout + BACKSTOP, stop)
        try:
            response = await self._run(request, replay.body)
        except asyncio.CancelledError:
            if not stopped:
                raise  # cancelled from outside: the server is going away
            response = None
        finally:
            answered = True
            watching.cancel()
            backstop.cancel()
            if watcher is not None:
                watcher.remove_done_callback(stop)
                watcher.cancel()
            if cut is not None:
                cut.remove_done_callback(stop)
        if stopped and task.uncancel() > 0:
            raise asyncio.CancelledError  # cancelled from outside as well
        if response is not None:
            return response
        if replay.gone.is_set():
            logger.info("event=client_gone method=%s path=%s", request.method, request.url.path)
            return None
        if cut is not None and cut.done():
            return _graphql_error(
                503,
                "The gateway is stopping and the operation did not finish in time; send it "
                "again (writes already made are in the journal, the rest are queued)",
                "SERVICE_STOPPING",
                **{"Retry-After": "5"},
            )
        metrics.LIMIT_REJECTIONS.labels("timeout").inc()
        return _graphql_error(
            200,
            f"The operation did not finish within {self.limits.timeout:g} s",
            "OPERATION_TIMEOUT",
        )

    async def _run(self, request: Request, body: bytes) -> Response:
        try:
            if request.method == "POST" and self._plain_json(request):
                return await self._post(request, body)
            response = await self.run(request)
        except HTTPException as exc:
            return self._refusal(request, exc)
        return response

    def _plain_json(self, request: Request) -> bool:
        """Whether the request is a POST Strawberry would read as one JSON operation
        answered with one JSON body (no upload, no stream): what `_post` answers."""
        if self._stream_transport_map:
            return False
        # The media type as Strawberry's parse_content_type reads it (case kept), without
        # building an email.message.Message for every request.
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip()
        return "application/json" in content_type

    async def _post(self, request: Request, body: bytes) -> Response:
        """A JSON POST answered as Strawberry's `run` answers it (the same checks, errors,
        status and body), without the adapters, sub-response and data classes it builds
        for every request: a tenth of a small query's CPU."""
        data = self.parse_json(body)
        query, variables, extensions = (data.get(k) for k in ("query", "variables", "extensions"))
        if not isinstance(query, str | None):
            raise HTTPException(
                400, "The GraphQL operation's `query` must be a string or null, if provided."
            )
        if not isinstance(variables, dict | None):
            raise HTTPException(
                400,
                "The GraphQL operation's `variables` must be an object or null, if provided.",
            )
        if not isinstance(extensions, dict | None):
            raise HTTPException(
                400,
                "The GraphQL operation's `extensions` must be an object or null, if provided.",
            )
        context = await self.get_context(request, response=None)
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=data.get("operationName"),
                allowed_operation_types=_BY_POST,
                operation_extensions=extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason("POST")) from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc
        return Response(self.encode_json(process_result(result)), media_type="application/json")

    def _refusal(self, request: Request, exc: HTTPException) -> Response:
        # GraphQL over HTTP: a mutation sent with GET is 405 Method Not Allowed.
        if request.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
            return PlainTextResponse(exc.reason, status_code=405, headers={"Allow": "POST"})
        return PlainTextResponse(exc.reason, status_code=exc.status_code)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        state = _state(request)
        runtime = state.get("runtime")
        if not isinstance(runtime, Runtime):
            raise RuntimeError("the gateway has not started: run the app with its lifespan")
        principal: Principal | None = state.get("principal")
        return Context(runtime, request=request, response=response, principal=principal)

    async def render_graphql_ide(self, request: Request) -> Response:
        page = graphiql.render(self.static_dir, root_path=request.scope.get("root_path", ""))
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})
