"""How an answer will be read, before it is sent: the "interpreted as" preview.

Only parses (our own checker's parser, never the judge): the reply says how the text was
read and nothing about the key. Apart from grading so that the grading rules import no
attempt or course service (the preview needs the attempt, and who may see it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from grader.errors import NotFound
from grader.exercises import kind_of
from grader.models import User
from grader.services.attempts import get_attempt

MAX_PREVIEW_LENGTH = 2000


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
    kind = kind_of(part["type"])
    if not kind.previewed:
        return empty | {"ok": True}
    check = part.get("check", {})
    # Names a student may use: the declared variables and the defined names (z1, h, ...).
    names = (*check.get("variables", ()), *check.get("definitions", {}))
    data = _checker_preview(text, tuple(names))
    if kind.numeric and data.get("ok") and data.get("variables"):
        found = ", ".join(data["variables"])
        plural = "s" if len(data["variables"]) > 1 else ""
        return empty | {"message": f"Numbers are expected here, not the name{plural} {found}."}
    return data


def _checker_preview(text: str, variables: tuple[str, ...]) -> dict[str, Any]:
    from grader.checking import preview

    data: dict[str, Any] = preview(text, variables=variables).to_json()
    data["variables"] = list(data.get("variables") or [])
    return data
