"""The ``api`` blueprint object, apart from its views so every module can import it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: path segment for a database id: 1 .. 2**31-1, so a huge number is a 404, never a
#: database overflow error
ID = "int(min=1, max=2147483647)"
MAX_ID = 2**31 - 1
