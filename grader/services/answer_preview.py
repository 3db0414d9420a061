"""How an answer will be read, before it is sent: the "interpreted as" preview.

Only parses (our own checker's parser, never the judge): the reply says how the text was
read and nothing about the key. Apart from grading so that the grading rules import no
attempt or course service (the preview needs the attempt, and who may see it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from grader.errors import NotFound
from grader.models import User
from grader.services.attempts import get_attempt

MAX_PREVIEW_LENGTH = 2000
PREVIEWED_TYPES = ("expression", "numeric", "vector", "matrix")


def preview_answer(
    session: Session, user: User, attempt_id: int, part_id: str, text: str
) -> dict[str, Any]:
    """How the checker reads an answer before it is submitted ("interpreted as").

    Returns ``{"ok", "latex", "text", "variables", "message", "offset"}``; nothing about
    the key. Choice parts are not previewed (``ok`` with no LaTeX).

    Raises:
        NotFound: no such attempt or part, or not the user's to see.
    """
    attempt = get_attempt(session, user, attempt_id)
    part = next((p for p in attempt.variant.get("parts", []) if p["id"] == part_id), None)
    if part is None:
        raise NotFound(f"attempt {attempt_id} has no part {part_id!r}")
    empty: dict[str, Any] = {
        "ok": False,
        "latex": None,
        "text": None,
        "variables": [],
        "message": "",
        "offset": None,
    }
    if not text.strip():
        return empty | {"message": "Type an answer to see how it is read."}
    if len(text) > MAX_PREVIEW_LENGTH:
        return empty | {"message": f"The answer is longer than {MAX_PREVIEW_LENGTH} characters."}
    if part["type"] not in PREVIEWED_TYPES:
        return empty | {"ok": True}
    check = part.get("check", {})
    # Names a student may use: the declared variables and the defined names (z1, h, ...).
    names = (*check.get("variables", ()), *check.get("definitions", {}))
    data = _checker_preview(text, tuple(names), part["type"])
    if part["type"] != "expression" and data.get("ok") and data.get("variables"):
        found = ", ".join(data["variables"])
        plural = "s" if len(data["variables"]) > 1 else ""
        return empty | {"message": f"Numbers are expected here, not the name{plural} {found}."}
    return data


def _checker_preview(text: str, variables: tuple[str, ...], kind: str) -> dict[str, Any]:
    try:
        from grader.checking import preview
    except ImportError:  # the checker without its preview API: read plain numbers only
        return _number_preview(text, kind)
    result = preview(text, variables=variables)
    data: dict[str, Any] = result.to_json() if hasattr(result, "to_json") else dict(vars(result))
    data.setdefault("text", None)
    data["variables"] = list(data.get("variables") or [])
    return data


def _number_preview(text: str, kind: str) -> dict[str, Any]:
    base: dict[str, Any] = {"text": None, "variables": [], "offset": None}
    if kind == "numeric":
        try:
            value = float(text.strip())
        except ValueError:
            return base | {"ok": False, "latex": None, "message": "Not a number yet."}
        return base | {"ok": True, "latex": repr(value), "message": ""}
    return base | {"ok": False, "latex": None, "message": "Preview is not available."}
