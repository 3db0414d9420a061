"""Database ids in URLs and request bodies: 1 .. 2**31 - 1.

Both databases' INTEGER columns stop at 2**31 - 1, so a larger id can name no row; it
answers 404 instead of reaching the database and failing there as a 500. Checked in a
URL value preprocessor rather than with ``int(min=1, max=...)`` in the rules, because
werkzeug answers an out-of-range value with 405 when the same path has a rule for
another method.
"""

from __future__ import annotations

from typing import Any
from typing import TypeGuard

from grader.errors import NotFound

MAX_ID = 2**31 - 1


def is_id(value: object) -> TypeGuard[int]:
    """True for an int (not a bool) that a row could have as its id."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def refuse_out_of_range_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Register with ``app.url_value_preprocessor``: out-of-range ids are a 404."""
    for name, value in (values or {}).items():
        if isinstance(value, int) and not is_id(value):
            raise NotFound(f"no {name.removesuffix('_id')} {value}")
