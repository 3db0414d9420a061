"""The ``api`` blueprint object, apart from its views so every module can import it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from grader.errors import NotFound

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: converter for a database id in a path
ID = "int"
MAX_ID = 2**31 - 1


@bp.url_value_preprocessor
def _ids_in_range(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Ids are 1 .. 2**31-1: a larger number is a 404 here, never a database overflow.

    (Done here rather than with ``int(min=1, max=...)`` in the rules: werkzeug answers an
    out-of-range value with 405 when the same path has a rule for another method.)
    """
    for name, value in (values or {}).items():
        if name.endswith("_id") and isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise NotFound(f"no {name.removesuffix('_id')} {value}")
