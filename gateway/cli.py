"""`contact-gateway`: serve the gateway, run the sandbox, export the schema.

    contact-gateway serve [--config FILE]      # no config: sandbox mode
    contact-gateway sandbox [--port 8100]      # the five provider emulators
    contact-gateway migrate [--config FILE]    # the store's pending migrations
    contact-gateway export-schema [--check]    # schema.graphql from the code
    contact-gateway import FILE --url URL      # a CSV or JSON Lines file as bulk jobs

Sandbox mode: without `--config` (or `CONTACT_GATEWAY_CONFIG`), `serve` starts
the sandbox under its own uvicorn server in a thread of this process (one
state for every worker), writes a configuration that points every provider at
it into a temporary directory, and says so in the log. Only this mode and the
`bench` command import `sandbox` (and `bench`), and only when run.
"""

from __future__ import annotations

import argparse
import difflib
import ipaddress
import logging
import logging.config
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from gateway.logs import FORMATS, SANDBOX_THREAD, log_config

logger = logging.getLogger("contact_gateway.cli")

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
SCHEMA_FILE = "schema.graphql"


def schema_sdl() -> str:
    """The schema as SDL, printed from its introspection result.

    Going through introspection (rather than Strawberry's printer) makes the file
    exactly what a client that introspects the gateway would reconstruct.
    """
    import graphql

    from resolvers.schema import schema

    return graphql.print_schema(graphql.build_client_schema(schema.introspect())) + "\n"  # type: ignore[arg-type]


class _Signals:
    """Records SIGINT/SIGTERM so the process ends with status 0 after a clean stop.

    Uvicorn re-raises the signal that stopped it once it has shut down; with
    the default handlers SIGTERM would then kill the process (status -15).
    """

    def __init__(self) -> None:
        self.received: list[int] = []

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    """Whether `host` only ever reaches this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _sandbox_providers(base_url: str) -> list[tuple[str, str, str]]:
    """(key, base URL, "name=value ..." credentials) per provider of a sandbox at `base_url`."""
    from sandbox import credentials
    from sandbox.config import sandbox_document

    tables = sandbox_document(base_url)["providers"]
    return [
        (key, tables[key]["base_url"], " ".join(f"{name}={value}" for name, value in creds.items()))
        for key, creds in credentials.describe().items()
    ]


@contextmanager
def _sandbox_thread(sock: socket.socket) -> Iterator[str]:
    """Serve a seeded sandbox on `sock` under its own uvicorn server in a thread; yield its URL."""
    import uvicorn

    from sandbox.app import Sandbox

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        Sandbox(seed=0).app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=SANDBOX_THREAD, daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _run_uvicorn(settings: dict[str, Any], *, host: str, port: int, workers: int) -> int:
    """Serve the app `settings` (uvicorn.Config arguments) names: in this process, or in
    `workers` processes with a socket each (`gateway.workers`)."""
    from uvicorn import Config, Server

    from gateway.app import ENV_WORKERS
    from gateway.telemetry.metrics import ENV_MULTIPROC
    from gateway.workers import Supervisor

    if workers > 1:
        # Each worker keeps its metrics in files here; /metrics adds them all up.
        metrics_dir = tempfile.mkdtemp(prefix="contact-gateway-metrics-")
        os.environ[ENV_MULTIPROC] = metrics_dir
        os.environ[ENV_WORKERS] = str(workers)
        try:
            supervisor = Supervisor(settings, host=host, port=port, workers=workers)
        except OSError as exc:
            logger.error("cannot listen on %s:%d (%s)", host, port, exc.strerror)
            shutil.rmtree(metrics_dir, ignore_errors=True)
            return 1
        try:
            return supervisor.run()
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    server = Server(Config(**settings, host=host, port=port))
    server.run()
    # uvicorn has logged why (e.g. the port is in use, the app failed to start).
    return 0 if server.started else 1


def _serve(args: argparse.Namespace) -> int:
    from gateway.app import ENV_CONFIG
    from gateway.config import ConfigError, load_config
    from resolvers.runtime.policy import WritePolicy

    config_path = args.config or os.environ.get(ENV_CONFIG) or None
    authenticated = False
    writes = WritePolicy()
    if config_path:
        try:
            settings = load_config(config_path)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
        authenticated = settings.auth.enabled
        writes = settings.writes
        os.environ[ENV_CONFIG] = os.path.abspath(config_path)
        # Once, before any worker starts: pending migrations, or a clear refusal.
        status = _prepare_store(settings.store.url) if settings.store.enabled else 0
        if status:
            return status
    if not (authenticated or args.allow_anonymous or is_loopback(args.host)):
        print(
            f"refusing to serve {args.host} without [auth]: anyone who reaches it could read, "
            "write and delete every provider's contacts; configure [auth] keys, or pass "
            "--allow-anonymous",
            file=sys.stderr,
        )
        return 2

    # Only sandbox mode serves the sandbox in this process, whose lines are filtered.
    logs = log_config(args.log_level, args.log_format, quiet_sandbox=not config_path)
    logging.config.dictConfig(logs)
    signals = _Signals()
    signals.install()

    def run_gateway() -> int:
        if signals.received:
            return 0
        return _run_uvicorn(
            {
                "app": "gateway.app:create_app_from_env",
                "factory": True,
                "log_level": args.log_level,
                "log_config": logs,
                "loop": "auto",
                "http": "auto",
                "lifespan": "on",
                # No `server: uvicorn` on every response: what software answers is no
                # client's business (the OWASP Secure Headers advice).
                "server_header": False,
                # The gateway writes each request's access line itself, with its
                # operation's fields (`gateway.requests`): one line a request.
                "access_log": False,
                # Open requests get the writes' grace, a second to answer with what
                # was queued, and a margin; only then does uvicorn cancel them.
                "timeout_graceful_shutdown": math.ceil(writes.stop_grace) + 4,
            },
            host=args.host,
            port=args.port,
            workers=args.workers,
        )

    if config_path:
        enabled = ",".join(p.value for p in settings.providers)
        logger.info("mode=config config=%s providers=%s", config_path, enabled)
        return run_gateway()

    try:
        sock = _bind("127.0.0.1", args.sandbox_port)
    except OSError as exc:
        print(
            f"cannot start the sandbox on 127.0.0.1:{args.sandbox_port} ({exc.strerror}); "
            "pass --sandbox-port 0 for any free port, or --config FILE for real providers",
            file=sys.stderr,
        )
        return 1
    from sandbox.config import sandbox_document, to_toml

    with (
        _sandbox_thread(sock) as sandbox_url,
        tempfile.TemporaryDirectory(prefix="contact-gateway-sandbox-") as workdir,
    ):
        config_file = Path(workdir) / "contact-gateway.toml"
        document = sandbox_document(sandbox_url)
        document["store"] = {"url": f"sqlite:///{Path(workdir) / 'store.db'}"}
        config_file.write_text(to_toml(document), encoding="utf-8")
        os.environ[ENV_CONFIG] = str(config_file)
        logger.info(
            'mode=sandbox sandbox_url=%s config=%s msg="no configuration given (--config or %s): '
            'every provider is the seeded in-process sandbox"',
            sandbox_url,
            config_file,
            ENV_CONFIG,
        )
        for key, base_url, creds in _sandbox_providers(sandbox_url):
            logger.info("mode=sandbox provider=%s base_url=%s %s", key, base_url, creds)
        return run_gateway()


def _prepare_store(url: str) -> int:
    """Apply the store's pending migrations; 0, or the exit status after one line saying
    why the store cannot be used."""
    import asyncio

    from gateway.store import StoreError, StoreUnavailable, open_store

    async def migrate() -> str | None:
        store = open_store(url)
        try:
            before = await store.revision()
            await store.migrate()
            after = await store.revision()
        finally:
            await store.close()
        return None if before == after else after

    try:
        migrated = asyncio.run(migrate())
    except StoreError as exc:
        print(f"store {_safe_url(url)}: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"store {_safe_url(url)}: {exc}", file=sys.stderr)
        return 1
    if migrated:
        logger.info("event=store_migrated store=%s revision=%s", _safe_url(url), migrated)
    return 0


def _safe_url(url: str) -> str:
    """A store URL fit for a log line: its password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(the configured URL)"


def _migrate(args: argparse.Namespace) -> int:
    from gateway.app import ENV_CONFIG
    from gateway.config import DEFAULT_STORE, ConfigError, load_config

    logging.config.dictConfig(log_config("info"))
    config_path = args.config or os.environ.get(ENV_CONFIG) or None
    url = DEFAULT_STORE
    if config_path:
        try:
            url = load_config(config_path).store.url
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
    status = _prepare_store(url)
    if status == 0:
        print(f"store {_safe_url(url)} is up to date")
    return status


def _sandbox(args: argparse.Namespace) -> int:
    import uvicorn

    from sandbox import credentials
    from sandbox.app import Sandbox

    logging.config.dictConfig(log_config(args.log_level))
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port} ({exc.strerror})", file=sys.stderr)
        return 1
    base_url = f"http://{args.host}:{sock.getsockname()[1]}"
    seed = None if args.empty else args.seed
    print(
        f"contact-gateway sandbox at {base_url} "
        f"({'empty stores' if seed is None else f'seed {seed}'}); providers and credentials:"
    )
    for key, provider_url, creds in _sandbox_providers(base_url):
        print(f"  {key:<10} {provider_url}  {creds}")
    print(f"  akita tag ids: {', '.join(f'{n}={i}' for n, i in credentials.AKITA_TAG_IDS.items())}")
    sys.stdout.flush()
    signals = _Signals()
    signals.install()
    config = uvicorn.Config(
        Sandbox(seed=seed).app,
        log_config=log_config(args.log_level),
        log_level=args.log_level,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    sdl = schema_sdl()
    out: str = args.out
    if args.check:
        try:
            current = Path(out).read_text(encoding="utf-8")
        except FileNotFoundError:
            print(f"{out} does not exist: run `contact-gateway export-schema`", file=sys.stderr)
            return 1
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{out} cannot be read ({_reason(exc)})", file=sys.stderr)
            return 1
        if current == sdl:
            print(f"{out} matches the code's schema")
            return 0
        print(
            f"{out} differs from the code's schema: run `contact-gateway export-schema` "
            "to update it",
            file=sys.stderr,
        )
        diff = difflib.unified_diff(
            current.splitlines(), sdl.splitlines(), f"{out}", "code", lineterm="", n=1
        )
        for line in list(diff)[:60]:
            print(line, file=sys.stderr)
        return 1
    if out == "-":
        sys.stdout.write(sdl)
        return 0
    try:
        Path(out).write_text(sdl, encoding="utf-8")
    except OSError as exc:
        print(f"{out} cannot be written ({_reason(exc)})", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number within `low..high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, not {value}")
        return value

    return parse


_positive = _whole(1)
_port = _whole(0, 65535)


def _import(args: argparse.Namespace) -> int:
    from rich.console import Console

    from gateway.app import ENV_CONFIG
    from gateway.importer import ImportFailed, run

    console = Console(highlight=False, soft_wrap=True)
    if not args.file and not args.resume:
        print("import: give FILE, or --resume JOB", file=sys.stderr)
        return 2
    providers = None
    if args.providers:
        providers = [p.strip().upper() for p in args.providers.split(",") if p.strip()]
    try:
        return run(
            file=args.file if not args.resume else None,
            url=args.url,
            config=args.config or os.environ.get(ENV_CONFIG) or None,
            api_key=args.api_key,
            providers=providers,
            resume=args.resume,
            job_size=args.job_size,
            console=console,
        )
    except ImportFailed as exc:
        print(f"import: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contact-gateway",
        description="A GraphQL gateway that federates contacts across providers.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the gateway (with no configuration: against the built-in sandbox)",
        description="Run the gateway. Without --config or CONTACT_GATEWAY_CONFIG it runs in "
        "sandbox mode: every provider is a seeded in-process emulator.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve.add_argument("--port", type=_port, default=8000, help="default: %(default)s")
    serve.add_argument(
        "--workers", type=_positive, default=1, help="processes; default: %(default)s"
    )
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    serve.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="key=value text lines, or one JSON object per line; default: %(default)s",
    )
    serve.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve an address other than this machine's without [auth] (not recommended)",
    )
    serve.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML configuration file (default: $CONTACT_GATEWAY_CONFIG; none: sandbox mode)",
    )
    serve.add_argument(
        "--sandbox-port",
        type=_port,
        default=8100,
        help="sandbox mode: the sandbox's port on 127.0.0.1, 0 for any free one "
        "(default: %(default)s)",
    )
    serve.set_defaults(handler=_serve)

    sandbox = commands.add_parser(
        "sandbox", help="run the five provider emulators on one port, under /<provider>"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    sandbox.add_argument("--port", type=_port, default=8100, help="default: %(default)s")
    sandbox.add_argument("--seed", type=int, default=0, help="seed data set; default: 0")
    sandbox.add_argument("--empty", action="store_true", help="start with every store empty")
    sandbox.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    sandbox.set_defaults(handler=_sandbox)

    migrate = commands.add_parser(
        "migrate",
        help="apply the store's pending migrations (serve does this too, at start)",
    )
    migrate.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML configuration file (default: $CONTACT_GATEWAY_CONFIG; none: "
        "sqlite:///contact-gateway.db)",
    )
    migrate.set_defaults(handler=_migrate)

    export = commands.add_parser(
        "export-schema", help="write the GraphQL schema (SDL) as clients see it"
    )
    export.add_argument(
        "--out", default=SCHEMA_FILE, help="file to write, - for stdout (default: %(default)s)"
    )
    export.add_argument(
        "--check", action="store_true", help="exit 1 when the file differs from the code"
    )
    export.set_defaults(handler=_export_schema)

    importer = commands.add_parser(
        "import",
        help="write a CSV or JSON Lines file of contacts as bulk jobs, with progress",
        description="Write the contacts of FILE (CSV with a header row, or JSON Lines; "
        "columns named like ContactInput fields) through bulk jobs, showing their "
        "progress. Bad rows are reported by line and skipped.",
    )
    importer.add_argument("file", nargs="?", metavar="FILE", help="the contacts to write")
    importer.add_argument("--url", help="a running gateway, e.g. http://127.0.0.1:8000")
    importer.add_argument(
        "--config", metavar="FILE", help="no --url: run the gateway of this file in-process"
    )
    importer.add_argument(
        "--api-key", help="with the gateway's [auth] (default: $CONTACT_GATEWAY_API_KEY)"
    )
    importer.add_argument(
        "--providers", help="comma-separated provider keys to write to (default: all)"
    )
    importer.add_argument(
        "--resume",
        metavar="JOB",
        action="append",
        default=[],
        help="follow a job started before, e.g. after an interruption (repeat for several)",
    )
    importer.add_argument(
        "--job-size", type=_positive, default=2000, help="rows per job; default: %(default)s"
    )
    importer.set_defaults(handler=_import)

    # Listed for --help; main() hands everything after "bench" to the benchmark command.
    commands.add_parser(
        "bench", help="benchmark the gateway against the sandbox (same as python -m bench)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `contact-gateway`; returns the process exit status.

    Args:
        argv: the arguments after the program name; default `sys.argv[1:]`.

    Returns:
        0 on success (also after a clean stop on SIGINT/SIGTERM), 1 on a failed
        check or a port that cannot be used, 2 for a bad configuration or usage.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        from bench import main as bench_main

        return bench_main(argv[1:])
    args = _parser().parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
