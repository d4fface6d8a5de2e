"""Plain key=value log lines for the gateway, uvicorn and the operation log.

    ts=2025-01-31T12:00:00Z level=info logger=contact_gateway.operation operation=query ...
    ts=2025-01-31T12:00:00Z level=info logger=uvicorn.access method=POST path=/graphql status=200

`log_config(level)` is a `logging.config.dictConfig` dictionary; uvicorn applies
it in every worker process.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

# A value never spans lines: a newline, even inside quotes, makes the message `msg="..."`.
_PAIR = r'[a-z_][a-z0-9_.]*=(?:"(?:[^"\\\n]|\\.)*"|[^\s"]*)'
_PAIRS = re.compile(rf"{_PAIR}(?: {_PAIR})*")

# The thread `contact-gateway serve` runs the sandbox's uvicorn server in (sandbox mode).
SANDBOX_THREAD = "sandbox"


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class KeyValueFormatter(logging.Formatter):
    """One line per record: timestamp, level, logger, then the message as key=value pairs.

    A message that already is key=value pairs (the operation log) is kept as it
    is; any other message becomes `msg="..."`. Uvicorn's access records become
    `method=... path=... status=... client=...`.
    """

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        head = f"ts={stamp[:-3]}Z level={record.levelname.lower()} logger={record.name}"
        body = self._body(record)
        line = f"{head} {body}"
        if record.exc_info:
            line += " exc=" + _quote(self.formatException(record.exc_info))
        return line

    def _body(self, record: logging.LogRecord) -> str:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            return (
                f"method={method} path={_quote(str(path)) if ' ' in str(path) else path} "
                f"status={status} client={client}"
            )
        message = record.getMessage()
        if _PAIRS.fullmatch(message):
            return message
        return f"msg={_quote(message)}"


class QuietSandbox(logging.Filter):
    """Drops the sandbox server's own uvicorn lines below WARNING (its access log, start, stop).

    Uvicorn's loggers are process-wide, so in sandbox mode the gateway's and the
    sandbox's servers share them; the thread tells them apart.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.threadName == SANDBOX_THREAD
            and record.name.startswith("uvicorn")
            and record.levelno < logging.WARNING
        )


def log_config(level: str = "info") -> dict[str, Any]:
    """A `dictConfig` that sends every log line to stderr as key=value pairs.

    Args:
        level: the lowest level shown, e.g. "info" or "debug".

    Returns:
        The configuration dictionary (uvicorn's `log_config`).
    """
    upper = level.upper()
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "formatter": "kv",
        "stream": "ext://sys.stderr",
    }
    if upper != "DEBUG":
        handler["filters"] = ["quiet_sandbox"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"kv": {"()": "gateway.logs.KeyValueFormatter"}},
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
