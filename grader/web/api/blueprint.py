"""The ``api`` blueprint object, apart from its views so every module can import it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: converter for a database id in a path
ID = "int"
