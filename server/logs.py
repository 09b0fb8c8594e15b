"""Logging set-up for the processes `circles` starts: text for people, or
JSON (CIRCLES_LOG_FORMAT=json), one object a line, for a log collector.

Every line carries the request id of the work under way (models/tracing.py):
the web request's, or in the worker the one recorded on the queued row it is
handling. Text lines show it as `[request_id]` after the logger's name.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import IO

from models import tracing

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"
ACCESS_LOGGER = "hypercorn.access"
# The attributes every LogRecord has: the rest came through `extra=` and go into a JSON line as they are.
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "request_id", "request_tag",
}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on each record (`request_id`, and `request_tag` for text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(record, "request_id", None) or tracing.current() or _access_request_id(record)
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id else ""
        return True


def _access_request_id(record: logging.LogRecord) -> str | None:
    """hypercorn's access log line, written after the request's task ended,
    carries the response's X-Request-Id among its atoms (the record's args)."""
    if record.name == ACCESS_LOGGER and isinstance(record.args, Mapping):
        return record.args.get("{x-request-id}o") or None
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message,
    request_id, then whatever `extra=` gave (activity_id, remote_host...) and
    the exception's traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in vars(record).items():
            if name not in STANDARD_ATTRIBUTES and name not in line:
                line[name] = value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def handler_for(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing `log_format` ("text" or "json") lines, with request ids, to stderr or `stream`."""
    handler = logging.StreamHandler(stream)
    handler.circles = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure(level: str, log_format: str = "text") -> None:
    """As logging.basicConfig: nothing is added when logging was set up
    already (pytest's capture), except over an earlier call of this one."""
    root = logging.getLogger()
    for ours in [h for h in root.handlers if getattr(h, "circles", False)]:
        root.removeHandler(ours)
    if not root.handlers:
        root.addHandler(handler_for(log_format))
    root.setLevel(level)
    # tortoise logs every query at DEBUG: only show them when DEBUG is asked for.
    logging.getLogger("tortoise").setLevel(level if level == "DEBUG" else "WARNING")
