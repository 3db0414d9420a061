"""Every ``request.get_json()`` answers a too-deeply nested body with a clear 400.

Python's JSON parser raises ``RecursionError`` (not ``ValueError``) on deep nesting, which
Flask's ``get_json(silent=True)`` lets through as a 500 with a traceback. Installed as the
app's request class, so the preview, the editor's endpoints and any later JSON endpoint
are covered without each remembering (``/api/v1`` parses bodies itself and does the same).
"""

from __future__ import annotations

from typing import Any

from flask import Request

from grader.errors import BadRequest


class JsonSafeRequest(Request):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise BadRequest("the JSON body is nested too deeply") from None
