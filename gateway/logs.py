"""Log lines for the gateway and uvicorn: key=value text, or JSON.

    ts=2025-01-31T12:00:00Z level=info logger=contact_gateway.access request_id=7f3a
      method=POST path=/graphql status=200 client=127.0.0.1:50412 operation=query
      document=... duration_ms=4.2 provider_calls=adaptix:1 ...

    {"ts": "2025-01-31T12:00:00Z", "level": "info", "logger": "contact_gateway.access",
     "request_id": "7f3a", "method": "POST", "path": "/graphql", "status": "200", ...}

(each line here wrapped for reading).
Both formats carry the same fields. Each request answered is one access line
(`log_access`): its method, path, status and client, then, for a GraphQL
request, its operation's fields (`resolvers.runtime.extensions`; an operation
run outside a request logs them alone, as `contact_gateway.operation`). A line
logged while a request is answered carries its `request_id` (`gateway.telemetry.requests`).
`log_config(level, format)` is a `logging.config.dictConfig` dictionary; uvicorn
applies it in every worker process.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import Scope
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from gateway.telemetry.requests import Answering, current_request_id

access_logger = logging.getLogger("contact_gateway.access")

# A value never spans lines: a newline, even inside quotes, makes the message `msg="..."`.
_PAIR = r'[a-z_][a-z0-9_.]*=(?:"(?:[^"\\\n]|\\.)*"|[^\s"]*)'
_PAIRS = re.compile(rf"{_PAIR}(?: {_PAIR})*")
_ONE_PAIR = re.compile(r'([a-z_][a-z0-9_.]*)=("(?:[^"\\\n]|\\.)*"|[^\s"]*)')

FORMATS = ("text", "json")

# The thread `contact-gateway serve` runs the sandbox's uvicorn server in (sandbox mode).
SANDBOX_THREAD = "sandbox"


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def fields(record: logging.LogRecord) -> dict[str, str]:
    """A record's fields, in order: ts, level, logger, request_id (when answering a
    request), then the message's own key=value pairs (or `msg`)."""
    stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    found = {"ts": f"{stamp[:-3]}Z", "level": record.levelname.lower(), "logger": record.name}
    request_id = getattr(record, "request_id", None) or current_request_id()
    if request_id:
        found["request_id"] = request_id
    args = record.args
    if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        client, method, path, _version, status = args
        found.update(method=str(method), path=str(path), status=str(status), client=str(client))
        return found
    message = record.getMessage()
    if _PAIRS.fullmatch(message):
        for key, value in _ONE_PAIR.findall(message):
            found[key] = _unquote(value)
    else:
        found["msg"] = message
    return found


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
    return value


class KeyValueFormatter(logging.Formatter):
    """One line per record: timestamp, level, logger, request id, then the message as
    key=value pairs.

    A message that already is key=value pairs (the access and operation lines) is
    kept as it is; any other message becomes `msg="..."`. Uvicorn's access records
    (the sandbox's) become `method=... path=... status=... client=...`. (The same
    fields as `fields`, without building them one by one: a line is written per
    request.)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The timestamp's text up to its seconds, made once a second, not once a line.
        self._second = -1
        self._prefix = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second, self._prefix = second, f"ts={stamp}."
        millis = int((record.created - second) * 1000)
        head = f"{self._prefix}{millis:03d}Z level={record.levelname.lower()} logger={record.name}"
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            head += f" request_id={_text(request_id)}"
        line = f"{head} {self._body(record)}"
        if record.exc_info:
            line += " exc=" + _quote(self.formatException(record.exc_info))
        return line

    def _body(self, record: logging.LogRecord) -> str:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            return f"method={method} path={_text(str(path))} status={status} client={client}"
        message = record.getMessage()
        if _PAIRS.fullmatch(message):
            return message
        return f"msg={_quote(message)}"


class JSONFormatter(logging.Formatter):
    """One JSON object per line, with the same fields as `KeyValueFormatter`."""

    def format(self, record: logging.LogRecord) -> str:
        found: dict[str, Any] = fields(record)
        if record.exc_info:
            found["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(found).decode()


# A value written as it is: not empty, no space, quote, newline, backslash or `=`.
_PLAIN_VALUE = re.compile(r'[^ "\n\\=]+')


def _text(value: str) -> str:
    return value if _PLAIN_VALUE.fullmatch(value) else _quote(value)


def log_access(scope: Scope, status: int, request: Answering) -> None:
    """The access line of a request answered with `status` (0: none was sent), with its
    operation's fields when it ran one; the operation's level (a warning for a
    client's mistake), else info."""
    request.logged = True
    operation = request.operation
    level = operation[0] if operation is not None else logging.INFO
    if not access_logger.isEnabledFor(level):
        return
    path = _text(get_path_with_query_string(scope))  # type: ignore[arg-type]
    line = f"method={scope['method']} path={path} status={status or '-'}"
    line += f" client={get_client_addr(scope) or '-'}"  # type: ignore[arg-type]
    if operation is not None:
        line += " " + operation[1] % operation[2]
    # Formatted here: a path's percent signs are not a format for the logging module. The
    # id goes on the record: a handler may format it later, out of the request's context.
    access_logger.log(level, line, extra={"request_id": request.id})


def lean_records() -> None:
    """Leave out of every log record what no line here shows: the calling function's
    file and line (found by walking the stack on every call), the thread, the process
    and the multiprocessing names. The logging module's own switches (the Logging
    HOWTO's "Optimization"); for a process that serves, set once at its start."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


class QuietSandbox(logging.Filter):
    """Drops the sandbox server's own uvicorn lines below WARNING (its access log, start, stop).

    Uvicorn's loggers are process-wide, so in sandbox mode the gateway's and the
    sandbox's servers share them; the thread tells them apart (the one logging, as a
    filter runs in it: records leave the thread's name out, `lean_records`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            threading.current_thread().name == SANDBOX_THREAD
            and record.name.startswith("uvicorn")
            and record.levelno < logging.WARNING
        )


def log_config(
    level: str = "info", format: str = "text", *, quiet_sandbox: bool = True
) -> dict[str, Any]:
    """A `dictConfig` that sends every log line to stderr as key=value pairs or JSON.

    Args:
        level: the lowest level shown, e.g. "info" or "debug".
        format: "text" (key=value pairs) or "json" (one object per line).
        quiet_sandbox: drop the lines of a sandbox served in this process below
            WARNING (`QuietSandbox`); a gateway serving a configuration has no sandbox
            thread, and its lines skip the filter.

    Returns:
        The configuration dictionary (uvicorn's `log_config`).
    """
    upper = level.upper()
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "formatter": format,
        "stream": "ext://sys.stderr",
    }
    if quiet_sandbox and upper != "DEBUG":
        handler["filters"] = ["quiet_sandbox"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"()": "gateway.logs.KeyValueFormatter"},
            "json": {"()": "gateway.logs.JSONFormatter"},
        },
        "filters": {"quiet_sandbox": {"()": "gateway.logs.QuietSandbox"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "contact_gateway": {"handlers": ["stderr"], "level": upper, "propagate": False},
            # One line per provider call would drown the operation log; they count calls.
            "httpx": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "httpcore": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
