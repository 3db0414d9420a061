"""The web layer: blueprints, templates, error pages. Thin over ``grader.services``."""

from __future__ import annotations

from flask import Flask

from grader.web import errors
from grader.web import health


def init_app(app: Flask) -> None:
    """Register error handlers and every blueprint."""
    errors.init_app(app)
    app.register_blueprint(health.bp)
