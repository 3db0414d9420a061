"""Grading one stored submission, and the scoring rules every other service shares.

Rules (one place, so the student pages, the gradebook and the regrade job agree):

* **Judging** reads the variant stored with the attempt (``Variant.from_json``), never a
  regenerated one, so editing an exercise never changes a grade already given.
* **Invalid** answers (unreadable) and **undetermined** ones (the checker could not decide
  in its time budget) are stored with ``counts_as_try=False`` and a score of 0: they cost
  no attempt and no penalty.
* **Retry penalty**: each earlier graded try on the same part removes
  ``quiz.penalty_per_retry`` from the credit (subtractive, as STACK does, floored at 0):
  ``score = max(0, raw - penalty * previous_tries)``.
* **Late policy** (``quiz.late_policy``): ``{"mode": "refuse"}`` closes the quiz at its
  due date; ``{"mode": "penalty", "penalty": p, "until": iso}`` accepts late answers until
  ``until`` (forever when absent) and multiplies their credit by ``1 - p``;
  ``{"mode": "none"}`` accepts late answers without penalty (they are still marked late).
  An empty policy means ``refuse``: a due date closes the quiz unless the instructor says
  otherwise.
* **A part's credit** is its newest manual override if there is one, else the best score
  among its graded submissions (:func:`part_credit`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader import metrics
from grader.errors import NotFound
from grader.exercises import Judgement
from grader.exercises import Variant
from grader.exercises import judge
from grader.exercises import kind_of
from grader.models import GradeOverride
from grader.models import Quiz
from grader.models import Submission
from grader.models import User
from grader.models import utcnow
from grader.services import follow

logger = logging.getLogger(__name__)

FEEDBACK_SCHEMA_VERSION = 1
#: credits within this of 1 count as full credit (float noise in mistake credits)
SNAP = 1e-6
LATE_MODES = ("refuse", "penalty", "none")


# --------------------------------------------------------------------------- late policy


@dataclasses.dataclass(frozen=True)
class LatePolicy:
    """A quiz's late policy, parsed once with defaults for missing keys."""

    mode: str = "refuse"
    penalty: float = 0.0
    until: dt.datetime | None = None


def late_policy(quiz: Quiz) -> LatePolicy:
    """Parse ``quiz.late_policy``; unknown modes fall back to ``refuse`` (the safe side)."""
    raw: Mapping[str, Any] = quiz.late_policy or {}
    mode = raw.get("mode") or "refuse"
    if mode not in LATE_MODES:
        logger.warning("quiz_id=%s has unknown late mode %r; refusing late work", quiz.id, mode)
        mode = "refuse"
    penalty = min(max(float(raw.get("penalty") or 0.0), 0.0), 1.0)
    until = raw.get("until")
    until_at: dt.datetime | None = None
    if until:
        until_at = dt.datetime.fromisoformat(str(until))
        if until_at.tzinfo is None:
            until_at = until_at.replace(tzinfo=dt.UTC)
    return LatePolicy(mode=mode, penalty=penalty if mode == "penalty" else 0.0, until=until_at)


def closes_at(quiz: Quiz) -> dt.datetime | None:
    """The last moment the quiz accepts answers (None: it never closes)."""
    if quiz.due_at is None:
        return None
    policy = late_policy(quiz)
    if policy.mode == "refuse":
        return quiz.due_at
    return policy.until


def is_late(quiz: Quiz, when: dt.datetime) -> bool:
    """True after the due date."""
    return quiz.due_at is not None and when > quiz.due_at


def accepts_answers(quiz: Quiz, when: dt.datetime) -> bool:
    """Published, opened, and not closed at ``when``."""
    if not quiz.is_published:
        return False
    if quiz.opens_at is not None and when < quiz.opens_at:
        return False
    end = closes_at(quiz)
    return end is None or when <= end


# --------------------------------------------------------------------------- scoring


def final_score(raw: float, *, quiz: Quiz, previous_tries: int, late: bool) -> float:
    """Credit after the retry penalty and the late penalty, in 0..1."""
    score = max(0.0, raw - quiz.penalty_per_retry * previous_tries)
    if late:
        score *= 1.0 - late_policy(quiz).penalty
    if abs(score - 1.0) < SNAP:
        score = 1.0
    return min(max(score, 0.0), 1.0)


def part_credit(
    submissions: Iterable[Submission], override: GradeOverride | None = None
) -> float | None:
    """A part's credit (0..1): the newest override, else the best graded score, else None.

    ``override`` must be the newest override for the part (see :func:`newest_overrides`).
    """
    if override is not None:
        return override.score
    scores = [s.score for s in submissions if s.status == "graded" and s.score is not None]
    return max(scores) if scores else None


def newest_overrides(
    session: Session, attempt_ids: Iterable[int]
) -> dict[tuple[int, str], GradeOverride]:
    """The newest override per (attempt_id, part_id), in one query."""
    ids = list(attempt_ids)
    if not ids:
        return {}
    rows = session.scalars(_overrides_query(), {"attempt_ids": ids})
    return {(o.attempt_id, o.part_id): o for o in rows}


# Built once: every quiz page and submit runs these, and building a statement costs more
# CPU than running it (see grader.services.auth._live_sign_in_query).
@functools.cache
def _overrides_query() -> Select[tuple[GradeOverride]]:
    return (
        select(GradeOverride)
        .where(GradeOverride.attempt_id.in_(bindparam("attempt_ids", expanding=True)))
        .order_by(GradeOverride.created_at, GradeOverride.id)
    )


@functools.cache
def _previous_tries_query() -> Select[tuple[int]]:
    return select(func.count(Submission.id)).where(
        Submission.attempt_id == bindparam("attempt_id"),
        Submission.part_id == bindparam("part_id"),
        Submission.id < bindparam("submission_id"),
        Submission.status == "graded",
        Submission.counts_as_try.is_(True),
    )


def counts_as_try(status: str) -> bool:
    """Only answers the checker could read and decide use an attempt."""
    return status in ("correct", "incorrect", "consistent")


# --------------------------------------------------------------------------- grading


def feedback_json(result: Judgement) -> dict[str, Any]:
    """What the student is shown about one judged answer (stored on the submission)."""
    return {"schema_version": FEEDBACK_SCHEMA_VERSION, **result.feedback_fields()}


def previous_tries(session: Session, submission: Submission) -> int:
    """Graded tries on the same part stored before this submission."""
    count = session.scalar(
        _previous_tries_query(),
        {
            "attempt_id": submission.attempt_id,
            "part_id": submission.part_id,
            "submission_id": submission.id,
        },
    )
    return int(count or 0)


def grade_submission(
    session: Session,
    submission: Submission,
    *,
    commit: bool = True,
    now: dt.datetime | None = None,
    follow_up: bool = False,
) -> Submission:
    """Judge a stored submission against its attempt's stored variant and record the result.

    Sets ``verdict``, ``raw_score``, ``note``, ``feedback``, ``counts_as_try``, ``status``
    and the final ``score`` (retry penalty per earlier graded try on that part, then the
    late penalty from the submission's stored ``is_late``). Regrading is safe: run it
    over an attempt's submissions in id order and the penalties come out the same.

    Args:
        commit: commit when done (a bulk regrade may pass False and commit in batches).
        now: the ``graded_at`` timestamp (tests pin it).
        follow_up: then re-judge the answers to the parts that depend on this one
            (follow-through; commits).

    Raises:
        KeyError: the stored variant has no such part (a corrupted row, a bug).
        Exception: whatever the judge raises; nothing is written then.
    """
    attempt = submission.attempt
    variant = Variant.from_json(attempt.variant)
    quiz = attempt.quiz_item.quiz
    started = time.perf_counter()
    result = judge(variant, submission.part_id, submission.raw_answer)
    result = follow.follow_through(session, submission, variant, quiz, result)
    metrics.GRADING_SECONDS.observe(time.perf_counter() - started)
    # Counted before anything changes, so the count does not autoflush a half-set row.
    earlier = previous_tries(session, submission) if counts_as_try(result.status) else 0
    submission.verdict = result.status
    submission.raw_score = float(result.score)
    submission.note = result.note[:120]
    submission.feedback = feedback_json(result)
    submission.graded_at = now or utcnow()
    if counts_as_try(result.status):
        submission.status = "graded"
        submission.counts_as_try = True
        submission.score = final_score(
            float(result.score),
            quiz=quiz,
            previous_tries=earlier,
            late=submission.is_late,
        )
    else:
        # Unreadable or undecidable: stored so the student sees why, free of charge.
        submission.status = "invalid" if result.status == "invalid" else "graded"
        submission.counts_as_try = False
        submission.raw_score = 0.0
        submission.score = 0.0
    session.flush()
    if commit:
        session.commit()
    metrics.SUBMISSIONS_GRADED.labels(status=result.status).inc()
    if follow_up:
        follow.rejudge_dependents(session, submission, now=now)
    logger.info(
        "graded submission_id=%s attempt_id=%s part=%s verdict=%s score=%s",
        submission.id,
        submission.attempt_id,
        submission.part_id,
        submission.verdict,
        submission.score,
    )
    return submission


# --------------------------------------------------------------------------- preview

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
    from grader.services.attempts import get_attempt

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
