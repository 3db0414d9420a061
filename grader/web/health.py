"""``GET /healthz``: is the process up, and does the database answer."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import jsonify

from grader.db import ENGINE_KEY
from grader.db import ping
from grader.version import __version__

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with ``database: "ok"`` when all is well, 503 when the database is down."""
    database_ok = ping(current_app.extensions[ENGINE_KEY])
    body = {
        "status": "ok" if database_ok else "degraded",
        "version": __version__,
        "database": "ok" if database_ok else "unavailable",
    }
    return jsonify(body), (200 if database_ok else 503)
