"""The web layer: blueprints, templates, error pages. Thin over ``grader.services``."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from grader.web import api
from grader.web import auth
from grader.web import display
from grader.web import embedded_worker
from grader.web import errors
from grader.web import health
from grader.web import ids
from grader.web import instructor
from grader.web import lti
from grader.web import metrics
from grader.web import preview
from grader.web import request_ids
from grader.web import security
from grader.web import security_headers
from grader.web import sentry
from grader.web import static_cache
from grader.web import student
from grader.web.json_requests import JsonSafeRequest
from grader.web.markdown import render_inline
from grader.web.markdown import render_markdown


def format_datetime(value: dt.datetime | None) -> str:
    """``Mon 2 Mar 2026, 14:00 UTC``; every stored time is UTC."""
    if value is None:
        return ""
    value = value.astimezone(dt.UTC)
    return f"{value:%a} {value.day} {value:%b %Y, %H:%M} UTC"


def init_app(app: Flask) -> None:
    """Register error handlers, security, template helpers and every blueprint."""
    app.request_class = JsonSafeRequest
    request_ids.init_app(app)
    errors.init_app(app)
    metrics.init_app(app)
    security.init_app(app)
    static_cache.init_app(app)
    security_headers.init_app(app)
    app.url_value_preprocessor(ids.refuse_out_of_range_ids)
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_inline, "markdown_inline")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(display.format_points, "points")
    embedded_worker.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(student.bp)
    app.register_blueprint(preview.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(lti.bp)
    app.register_blueprint(instructor.bp)
    sentry.init_app(app)
