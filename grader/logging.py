"""One logging setup for the app, the CLI and the worker.

Text for a terminal, JSON lines for a log collector (``GRADER_LOG_FORMAT=json``).
Modules log through ``logging.getLogger(__name__)`` and put ids, never secrets, in
their messages. Inside a web request every line carries the request's id (``request_id``,
set by :mod:`grader.web.request_ids` and echoed in the ``X-Request-ID`` response header),
so one request's lines can be found across workers and matched to the proxy's log.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar

_HANDLER_NAME = "grader"

#: the current web request's id; None outside a request (CLI, worker)
REQUEST_ID: ContextVar[str | None] = ContextVar("grader_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and exception text."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "-")
        if request_id != "-":
            payload["request_id"] = request_id
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Install one handler on the ``grader`` logger; calling it again replaces it."""
    logger = logging.getLogger("grader")
    logger.setLevel(level.upper())
    for handler in list(logger.handlers):
        if handler.get_name() == _HANDLER_NAME:
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
    logger.addHandler(handler)
    # Propagate so pytest and gunicorn can capture too; the root has no handler by default.
    logger.propagate = True
