"""Follow-through in an attempt: judge a part from the student's current earlier answers,
and re-judge the parts that depend on an answer when it changes.

The exercise layer decides (:mod:`grader.exercises.follow`); this module supplies what
it reads from the database: the newest readable answer to each earlier part of the same
attempt, and the quiz's credit for a ``consistent`` answer. A submission's outcome is
a function of its own answer and the attempt's current earlier answers, so re-judging
after a change and a regrade in any order give the same result.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.exercises import Judgement
from grader.exercises import Variant
from grader.exercises.follow import ancestors
from grader.exercises.follow import judge_following
from grader.models import Quiz
from grader.models import Submission

logger = logging.getLogger(__name__)

#: the submissions an answer can stand on (not refused as unreadable, not failed)
STANDING_STATUSES = ("pending", "graded")


def latest_answers(session: Session, attempt_id: int, part_ids: Iterable[str]) -> dict[str, str]:
    """The answer each of these parts stands on: its newest right answer if it ever had
    one, else its newest answer that was not refused as unreadable.

    A part once answered right keeps its credit (the best answer counts), so it counts
    as right here too: changing it to a wrong value afterwards must not open follow-
    through for the parts after it.
    """
    ids = list(part_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Submission.part_id, Submission.raw_answer, Submission.verdict)
        .where(
            Submission.attempt_id == attempt_id,
            Submission.part_id.in_(ids),
            Submission.status.in_(STANDING_STATUSES),
        )
        .order_by(Submission.id)
    )
    by_part: dict[str, list[tuple[str, str | None]]] = {}
    for part_id, raw, verdict in rows:
        by_part.setdefault(part_id, []).append((raw, verdict))
    return {
        part_id: answer
        for part_id, answers in by_part.items()
        if (answer := standing_answer(answers)) is not None
    }


def standing_answer(answers: Iterable[tuple[str, str | None]]) -> str | None:
    """Of one part's (raw answer, verdict) pairs in storage order, the one it stands on:
    the newest right answer if there ever was one, else the newest (None: none)."""
    newest = right = None
    for raw, verdict in answers:
        newest = raw
        if verdict == "correct":
            right = raw
    return right if right is not None else newest


def credit(quiz: Quiz) -> float:
    """The quiz's credit for a ``consistent`` answer (0..1)."""
    value = quiz.follow_through_credit
    return 1.0 if value is None else min(max(float(value), 0.0), 1.0)


def follow_through(
    session: Session, submission: Submission, variant: Variant, quiz: Quiz, base: Judgement
) -> Judgement:
    """``base`` (the plain judgement), or ``consistent`` given the attempt's earlier answers."""
    part_id = submission.part_id
    if base.status != "incorrect" or variant.part(part_id).follow is None:
        return base
    answers = latest_answers(session, submission.attempt_id, ancestors(variant, part_id))
    return judge_following(
        variant, part_id, submission.raw_answer, answers, credit=credit(quiz), base=base
    )
