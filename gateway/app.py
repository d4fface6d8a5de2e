"""The ASGI app: GraphQL over HTTP, GraphiQL, liveness and readiness.

    POST /graphql            GraphQL over HTTP (GET too, for queries only)
    GET  /graphql            GraphiQL, when a browser asks for HTML
    GET  /static/vendor/...  GraphiQL's assets (see `gateway.assets`)
    GET  /healthz            the process answers: 200 {"status": "ok"}
    GET  /readyz             the store and a provider answer: 200, else 503 (from the
                             background check, `resolvers.runtime.health`)
    GET  /metrics            Prometheus metrics (`gateway.telemetry.metrics`)

One `httpx.AsyncClient` per provider (`connectors.http`) is opened at startup
and closed at shutdown (the app's lifespan); every GraphQL request gets a fresh
`resolvers.runtime.context.Context`, so nothing is cached across requests.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from opentelemetry.sdk.trace.export import SpanExporter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.base import HTTPConnector
from connectors.http import build_client
from connectors.protocol import Connector
from connectors.registry import build_connector
from connectors.settings import RateLimit
from connectors.sharing import SharedPace
from gateway import assets
from gateway.config import GatewaySettings, load_config
from gateway.domain.records import Provider
from gateway.logs import lean_records
from gateway.requests import RequestIds
from gateway.store import Store, open_store
from gateway.store.cache import RecordCache
from gateway.store.identities import Identities
from gateway.store.journal import Journal
from gateway.store.redis_cache import Cache, RedisRecordCache
from gateway.telemetry import metrics, tracing
from gateway.view import GraphQLView
from resolvers.runtime.context import Runtime
from resolvers.services import background

__all__ = ["ENV_CONFIG", "create_app", "create_app_from_env"]

ENV_CONFIG = "CONTACT_GATEWAY_CONFIG"
# Set by `serve --workers N` for its workers (each takes 1/N of a rate limit without Redis).
ENV_WORKERS = "CONTACT_GATEWAY_WORKERS"

logger = logging.getLogger("contact_gateway.gateway")

try:
    _VERSION = metadata.version("contact-gateway")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    _VERSION = "0"
USER_AGENT = f"contact-gateway/{_VERSION}"
# Beyond the writes' grace, for their outcomes to be written down.
STOP_MARGIN = 2.0


class _StaticFiles(StaticFiles):
    """StaticFiles that answer 404 (not 500) while the directory does not exist yet."""

    async def check_config(self) -> None:
        try:
            await super().check_config()
        except RuntimeError:
            # Fetching the assets creates it later; until then every file is simply absent.
            return


def _workers() -> int:
    """How many worker processes serve this deployment on this machine (`serve --workers`)."""
    try:
        return max(1, int(os.environ.get(ENV_WORKERS, "1")))
    except ValueError:
        return 1


def _cache(settings: GatewaySettings, store: Store | None, redis: Any) -> Cache | None:
    """The record cache: in Redis when there is one (shared by every instance), else in
    the store; none without `[cache] ttl`."""
    ttl = settings.cache.ttl
    if not ttl:
        return None
    if redis is not None:
        return RedisRecordCache(redis, prefix=settings.redis.prefix, ttl=ttl)
    return RecordCache(store, ttl=ttl) if store is not None else None


async def _stop(runtime: Runtime, work: asyncio.Future[Any]) -> None:
    """Stop the background work and wait for writes still in flight: each gets the
    grace (`[writes] stop_grace`), then what is unfinished is queued for the next start."""
    runtime.stop()
    pending = {work, *runtime.in_flight}
    _, late = await asyncio.wait(pending, timeout=runtime.writes.stop_grace + STOP_MARGIN)
    for task in late:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if work.done() and not work.cancelled():
        failure = work.exception()
        if failure is not None and not isinstance(failure, asyncio.CancelledError):
            logger.error("event=background_failed", exc_info=failure)


@contextmanager
def _stop_on_signal(runtime: Runtime) -> Iterator[None]:
    """On SIGTERM or SIGINT, start stopping at once (writes in flight get their grace
    while the server waits for open requests), then let the server's own handler run."""
    if threading.current_thread() is not threading.main_thread():
        yield  # a server in a thread (tests): its owner stops it
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handle(sig: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(runtime.stop)
        earlier = previous[signal.Signals(sig)]
        if callable(earlier):
            earlier(sig, frame)
        elif sig == signal.SIGINT:
            raise KeyboardInterrupt

    for sig in previous:
        signal.signal(sig, handle)
    try:
        yield
    finally:
        for sig, earlier in previous.items():
            signal.signal(sig, earlier)


def create_app(
    settings: GatewaySettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    static_dir: str | os.PathLike[str] | None = None,
    span_exporter: SpanExporter | None = None,
) -> Starlette:
    """Build the gateway's ASGI app.

    Args:
        settings: the enabled providers and the field precedence.
        transport: an httpx transport for every provider client; tests pass
            `httpx.ASGITransport(app=sandbox.app)` to reach an in-process sandbox.
            By default each client opens real connections (`connectors.http`).
        static_dir: the directory served under `/static`, where GraphiQL's
            assets are looked for in `vendor/`; default `gateway/static`.
        span_exporter: where spans go, instead of `[telemetry]`'s exporter (tests keep
            them in memory); traces are on with it.

    Returns:
        A Starlette app. Its lifespan opens one keep-alive `httpx.AsyncClient`
        per enabled provider (`connectors.http.build_client`) and closes them
        all at shutdown.
    """
    static = Path(static_dir) if static_dir is not None else assets.STATIC_DIR
    traces = tracing.tracer_provider(settings.telemetry, exporter=span_exporter)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            redis = None
            if settings.redis.url is not None:
                # Imported only here: the Redis client is ~6 MB of a worker's memory.
                import redis.asyncio as aioredis

                redis = aioredis.from_url(settings.redis.url.get())
                stack.push_async_callback(redis.aclose)
            workers = _workers()
            connectors: dict[Provider, Connector] = {}
            for provider, connector_settings in settings.providers.items():
                limit = connector_settings.rate_limit
                if limit is not None and redis is None and workers > 1:
                    # No Redis to share the limit through: each worker takes an even share.
                    connector_settings = replace(
                        connector_settings,
                        rate_limit=RateLimit(limit.requests, limit.per_seconds * workers),
                    )
                    logger.info(
                        "event=rate_limit_split provider=%s workers=%d per_worker=%d/%gs",
                        provider.value,
                        workers,
                        limit.requests,
                        limit.per_seconds * workers,
                    )
                client = await stack.enter_async_context(
                    build_client(
                        connector_settings,
                        user_agent=USER_AGENT,
                        transport=transport,
                        tracer_provider=traces,
                        provider=provider.value,
                    )
                )
                connector = build_connector(provider, client, connector_settings)
                if limit is not None and redis is not None and isinstance(connector, HTTPConnector):
                    key = f"{settings.redis.prefix}pace:{provider.value}"
                    connector.share_pace(SharedPace(redis, key, limit, fallback_share=1 / workers))
                connectors[provider] = connector
            store = None
            if settings.store.enabled:
                store = open_store(settings.store.url)
                stack.push_async_callback(store.close)
                await store.migrate()
            runtime = Runtime(
                connectors,
                settings.precedence,
                limits=settings.limits,
                introspection=settings.server.introspection,
                identities=Identities(store) if store else None,
                cache=_cache(settings, store, redis),
                journal=Journal(store) if store else None,
                writes=settings.writes,
                health_interval=settings.server.health_interval,
                tracer=tracing.tracer(traces),
                phone_region=settings.input.default_phone_region,
            )
            if traces is not None:
                stack.callback(traces.shutdown)  # the spans still batched are sent
            stack.enter_context(_stop_on_signal(runtime))
            work = asyncio.gather(background.run(runtime), runtime.health.run(runtime.stopping))
            stack.push_async_callback(_stop, runtime, work)
            logger.info(
                "event=startup providers=%s",
                ",".join(p.value for p in connectors) or "none",
            )
            yield {"runtime": runtime}
            logger.info("event=shutdown")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    async def readyz(request: Request) -> Response:
        runtime: Runtime = request.state.runtime
        if runtime.stopping.is_set():
            # Stopping: no new work should be sent here.
            body = {"ready": False, "stopping": True}
            return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
        body = runtime.health.report()
        return JSONResponse(
            body, status_code=200 if body["ready"] else 503, headers={"Cache-Control": "no-store"}
        )

    async def metrics_endpoint(request: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    async def index(request: Request) -> Response:
        return RedirectResponse(request.scope.get("root_path", "") + "/graphql")

    middleware = [Middleware(RequestIds)]
    if traces is not None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        middleware.append(
            Middleware(
                OpenTelemetryMiddleware,
                tracer_provider=traces,
                excluded_urls="healthz,readyz,metrics,static",
                server_request_hook=tracing.server_request_hook,
                # A span per ASGI message (each body chunk sent) costs more than it tells.
                exclude_spans=["receive", "send"],
            )
        )
    if settings.server.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.server.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "idempotency-key",
                    *settings.server.preflight_headers,
                ],
                expose_headers=["idempotent-replayed"],
                max_age=600,
            )
        )
    view = GraphQLView(static_dir=static, settings=settings)
    return GatewayApp(
        view,
        middleware=middleware,
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/graphql", view, methods=list(GRAPHQL_METHODS)),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Mount("/static", app=_StaticFiles(directory=static, check_dir=False), name="static"),
        ],
        lifespan=lifespan,
    )


GRAPHQL_METHODS = ("GET", "POST")


class GatewayApp(Starlette):
    """The gateway's Starlette app, with GraphQL requests taken straight to their view.

    Starlette's own stack (its error and exception middleware, and the router trying
    each route in turn) is about a twentieth of a small query's CPU, and a GraphQL
    request needs none of it: the view answers every outcome itself. Such a request
    goes through the app's middleware (request ids, traces, CORS), built here exactly
    as Starlette builds it, to the same view; anything else (other paths and
    methods, the lifespan, an app mounted under a root path) goes to Starlette.
    """

    def __init__(self, view: GraphQLView, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        graphql: ASGIApp = view
        for layer in reversed(self.user_middleware):
            graphql = layer.cls(graphql, *layer.args, **layer.kwargs)
        self._graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] in GRAPHQL_METHODS
            and not scope.get("root_path")
        ):
            scope["app"] = self
            await self._graphql(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


# Collector thresholds for a serving worker (Python's default is (700, 10, 10)).
GC_THRESHOLDS = (10_000, 20, 20)


def tune_gc() -> None:
    """Collect less often, and never scan what start-up built.

    A large answer allocates hundreds of thousands of short-lived objects; at the
    default thresholds the collector runs hundreds of times per request and now
    and then walks every object in the process (the schema, the modules), which
    made the CPU of the same 1000-contact query vary from 62 to 95 ms. Frozen
    start-up objects and rarer collections make it a steady 62 ms; the peak
    memory is measured by the benchmark.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


# glibc's M_ARENA_MAX (mallopt's parameter number), and the arenas a worker keeps.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def tune_malloc() -> None:
    """At most `MALLOC_ARENAS` malloc arenas (glibc only; elsewhere nothing changes).

    glibc gives threads that allocate arenas of their own, up to 8 per core, and
    keeps what each arena once held: a worker has the event loop, the store's
    thread and the executor threads that resolve host names. With two arenas a
    bulk job's peak RSS was 155 MB instead of 163 (one run each); the worker's
    threads rarely allocate at the same time, so two cost no contention.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):
        pass


def create_app_from_env() -> Starlette:
    """The app for `uvicorn --factory` and for each worker of `contact-gateway serve`.

    Reads the configuration file named by `CONTACT_GATEWAY_CONFIG` (in sandbox
    mode, `contact-gateway serve` writes one that points at its sandbox).

    Returns:
        The gateway app.

    Raises:
        ConfigError: the configuration file is not usable.
        RuntimeError: the variable is not set.
    """
    config = os.environ.get(ENV_CONFIG)
    if not config:
        raise RuntimeError(
            f"set {ENV_CONFIG} to a configuration file (contact-gateway serve does this for you)"
        )
    tune_malloc()
    lean_records()
    app = create_app(load_config(config))
    tune_gc()
    return app
