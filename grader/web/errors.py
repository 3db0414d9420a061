"""Map errors to responses: an HTML page for browsers, problem+json for API clients.

Domain errors (``GraderError``) carry their status. HTTP errors from Flask/Werkzeug
(404, 405, 413) keep theirs. Anything else is a bug: logged with its traceback and
answered with a 500 that shows no stack trace.
"""

from __future__ import annotations

import logging

from flask import Flask
from flask import Response
from flask import jsonify
from flask import render_template
from flask import request
from sqlalchemy.exc import DataError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from grader.errors import GraderError
from grader.errors import TooManyRequests

logger = logging.getLogger(__name__)


def wants_json() -> bool:
    """API, LTI service and JSON-preferring clients get problem+json."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def problem(status: int, title: str, detail: str, code: str, **extra: object) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": f"about:blank#{code}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _render(status: int, title: str, detail: str, code: str, **extra: object) -> Response:
    if wants_json():
        response = problem(status, title, detail, code, **extra)
    else:
        html = render_template("error.html", status=status, title=title, detail=detail)
        response = Response(html, status=status, mimetype="text/html")
    return response


DATABASE_DOWN = (
    "The database is not answering right now. Nothing you sent was lost if you saw "
    "no confirmation: please try again in a moment."
)

#: PostgreSQL SQLSTATEs that mean "the database cannot serve now, try again": connection
#: exceptions (08: refused, lost), insufficient resources (53: too many connections, out
#: of memory), operator intervention (57P01-57P05: shutting down, crashed, starting up or
#: in recovery), read-only (25006), and serialization failures and deadlocks (40001, 40P01)
_UNAVAILABLE_STATES = ("08", "53", "57P", "25006", "40001", "40P01")
#: what drivers say, without a SQLSTATE, when the server is not there or not ready
_UNAVAILABLE_TEXT = (
    "starting up",
    "shutting down",
    "in recovery",
    "recovery mode",
    "not yet accepting connections",
    "too many clients",
    "too many connections",
    "connection refused",
    "could not connect",
    "connection failed",
    "server closed the connection",
    "terminating connection",
    "connection is closed",
    "connection is lost",
    "consuming input failed",
    "database is locked",
)


def unavailable_detail(exc: DBAPIError) -> str | None:
    """What to tell the user when the database cannot serve (down, read-only, full).

    Every state of a database that is not there or not ready (refused, starting up,
    shutting down, in recovery, too many connections, a connection lost mid-request)
    gets the same "not answering, try again" text; read-only and a full disk say so.
    None when the error is not about availability (then it is a bug and a 500).
    """
    state = str(getattr(exc.orig, "sqlstate", "") or "")
    text = str(exc.orig).lower()
    if state == "25006" or "readonly database" in text or "read-only" in text:
        return (
            "The database is read-only right now (maintenance). Your last answer was not "
            "saved: please try again in a few minutes."
        )
    if state == "53100" or "disk is full" in text or "no space left" in text:
        return (
            "The database is out of space right now. Your last answer was not saved: please "
            "try again in a few minutes."
        )
    if (
        isinstance(exc, (OperationalError, InterfaceError))
        or exc.connection_invalidated
        or state.startswith(_UNAVAILABLE_STATES)
        or any(words in text for words in _UNAVAILABLE_TEXT)
    ):
        return DATABASE_DOWN
    return None


def http_error_response(exc: HTTPException) -> Response:
    """The page (or problem+json) for an HTTP error; blueprints that handle an error
    themselves for some routes fall back to this for the others."""
    status = exc.code or 500
    response = _render(
        status, exc.name, exc.description or exc.name, exc.name.lower().replace(" ", "_")
    )
    if status == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    return response


def init_app(app: Flask) -> None:
    """Register the handlers on the app."""

    @app.errorhandler(GraderError)
    def _grader_error(exc: GraderError) -> Response:
        extra: dict[str, object] = {k: v for k, v in exc.detail.items() if k != "retry_after"}
        response = _render(
            exc.status, exc.code.replace("_", " ").capitalize(), exc.message, exc.code, **extra
        )
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(PendingRollbackError)
    def _earlier_database_failure(exc: PendingRollbackError) -> Response:
        # An earlier statement of this request failed (the database went away mid-way)
        # and the session was used again: the outage, not this line, is the cause.
        logger.exception("database failed earlier in %s %s", request.method, request.path)
        response = _render(
            503,
            "Service unavailable",
            DATABASE_DOWN,
            "service_unavailable",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(PoolTimeoutError)
    def _pool_exhausted(exc: PoolTimeoutError) -> Response:
        # Every pooled connection stayed busy for the pool's whole timeout: the database
        # cannot serve this request now (the same answer as when it is down).
        logger.error("no database connection free on %s %s: %s", request.method, request.path, exc)
        response = _render(503, "Service unavailable", DATABASE_DOWN, "service_unavailable")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(DBAPIError)
    def _database_unavailable(exc: DBAPIError) -> Response:
        detail = unavailable_detail(exc)
        if detail is None and isinstance(exc, DataError):
            # The request carried a value the database refuses to store (a NUL
            # character, a number beyond its integers): the client's error, not ours.
            logger.warning(
                "database refused a value on %s %s: %s", request.method, request.path, exc.orig
            )
            return _render(
                400,
                "Bad request",
                "Something you sent cannot be stored (a NUL character, or a number out of "
                "range). Please check what you typed.",
                "bad_request",
            )
        if detail is None:  # a bug (bad SQL, a broken constraint): the generic 500
            return _unexpected(exc)
        logger.error("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        response = _render(503, "Service unavailable", detail, "service_unavailable")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(
            500,
            "Internal server error",
            "Something went wrong on our side. It has been logged; please try again.",
            "internal_error",
        )
