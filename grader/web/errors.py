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
from sqlalchemy.exc import OperationalError
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

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = _render(
            status, exc.name, exc.description or exc.name, exc.name.lower().replace(" ", "_")
        )
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError) -> Response:
        logger.error("database error on %s %s: %s", request.method, request.path, exc.orig)
        response = _render(
            503,
            "Service unavailable",
            "The database is not answering right now. Nothing you sent was lost if you saw "
            "no confirmation: please try again in a moment.",
            "service_unavailable",
        )
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
