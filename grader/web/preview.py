"""``POST /api/preview``: how an answer will be read, shown live as the student types.

Our own JavaScript calls it (debounced) with the CSRF token in the ``X-CSRFToken``
header; the answer is parsed, never judged, and the reply carries nothing of the key.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from grader.db import get_session
from grader.errors import BadRequest
from grader.services import answer_preview
from grader.web.ids import is_id
from grader.web.security import login_required
from grader.web.security import require_user

bp = Blueprint("preview", __name__)


@bp.post("/api/preview")
@login_required
def preview() -> Response:
    """Body ``{"attempt_id": int, "part_id": str, "text": str}``; answers the preview JSON."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object with attempt_id, part_id and text")
    attempt_id, part_id, text = body.get("attempt_id"), body.get("part_id"), body.get("text")
    if not is_id(attempt_id) or not isinstance(part_id, str) or not isinstance(text, str):
        raise BadRequest("attempt_id must be a positive integer, part_id and text strings")
    result = answer_preview.preview_answer(get_session(), require_user(), attempt_id, part_id, text)
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response
