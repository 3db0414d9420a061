"""How far a student has got in an attempt: each part's tries, best credit and standing.

Apart from :mod:`grader.services.attempts` so the pages built on progress (the quiz page,
the graph form of :mod:`grader.services.graph_answers`) can read it without importing
each other.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Attempt
from grader.models import GradeOverride
from grader.models import QuizItem
from grader.models import Submission
from grader.services import grading


@functools.cache
def _submissions_query() -> Select[Submission]:
    return (
        select(Submission)
        .where(Submission.attempt_id.in_(bindparam("attempt_ids", expanding=True)))
        .order_by(Submission.id)
    )


def part_weights(quiz_item: QuizItem, variant: dict[str, Any]) -> dict[str, float]:
    """Points per part: the item's ``part_points`` when set, else the exercise's own
    part points scaled so they add up to the item's points."""
    parts = variant.get("parts", [])
    if quiz_item.part_points:
        return {p["id"]: float(quiz_item.part_points.get(p["id"], 0.0)) for p in parts}
    total = sum(float(p.get("points", 1.0)) for p in parts) or 1.0
    return {p["id"]: quiz_item.points * float(p.get("points", 1.0)) / total for p in parts}


@dataclasses.dataclass
class PartProgress:
    """One part of one attempt, as the student sees it."""

    part_id: str
    points: float
    tries_used: int
    tries_left: int | None  # None: unlimited
    credit: float | None  # 0..1, None before any graded answer
    last: Submission | None
    override: GradeOverride | None = None
    submissions: list[Submission] = dataclasses.field(default_factory=list)

    @property
    def earned(self) -> float:
        """Points earned so far."""
        return (self.credit or 0.0) * self.points

    @property
    def solved(self) -> bool:
        """Full credit reached."""
        return self.credit is not None and self.credit >= 1.0

    @property
    def answered(self) -> bool:
        """The student has a graded answer here that counted as a try (right or wrong)."""
        return any(s.status == "graded" and s.counts_as_try for s in self.submissions)

    @property
    def correct(self) -> bool:
        """Answered correctly (whatever the retry penalty left of the credit), or full
        credit by an override."""
        return self.solved or any(
            s.status == "graded" and s.verdict == "correct" for s in self.submissions
        )

    @property
    def by_follow_through(self) -> bool:
        """The credit came from follow-through: an answer right only given the student's
        own wrong earlier answer, none simply right, and no override."""
        graded = [s.verdict for s in self.submissions if s.status == "graded"]
        return self.override is None and "consistent" in graded and "correct" not in graded

    @property
    def finished(self) -> bool:
        """Nothing more to do here: answered correctly, or out of tries. (A correct
        answer after a penalty is done: no try needs burning to see the solution.)"""
        return self.correct or self.tries_left == 0


@dataclasses.dataclass
class AttemptProgress:
    """Every part of one attempt, with totals."""

    attempt: Attempt
    parts: list[PartProgress]

    @property
    def earned(self) -> float:
        return sum(p.earned for p in self.parts)

    @property
    def possible(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def finished(self) -> bool:
        return all(p.finished for p in self.parts)

    def part(self, part_id: str) -> PartProgress:
        for p in self.parts:
            if p.part_id == part_id:
                return p
        raise KeyError(part_id)


def tries_used(submissions: Iterable[Submission]) -> int:
    """Tries used: graded answers that counted, and pending ones (they will count)."""
    return sum(
        1 for s in submissions if s.counts_as_try and s.status in ("pending", "graded", "error")
    )


def build_progress(
    attempt: Attempt,
    submissions: Sequence[Submission],
    overrides: dict[tuple[int, str], GradeOverride],
) -> AttemptProgress:
    """Progress from rows already loaded (no queries: callers batch them)."""
    quiz_item = attempt.quiz_item
    allowed = quiz_item.quiz.attempts_allowed
    weights = part_weights(quiz_item, attempt.variant)
    by_part: dict[str, list[Submission]] = {pid: [] for pid in weights}
    for s in sorted(submissions, key=lambda s: s.id):
        by_part.setdefault(s.part_id, []).append(s)
    parts = []
    for pid, points in weights.items():
        subs = by_part.get(pid, [])
        used = tries_used(subs)
        override = overrides.get((attempt.id, pid))
        parts.append(
            PartProgress(
                part_id=pid,
                points=points,
                tries_used=used,
                tries_left=None if allowed is None else max(allowed - used, 0),
                credit=grading.part_credit(subs, override),
                last=subs[-1] if subs else None,
                override=override,
                submissions=subs,
            )
        )
    return AttemptProgress(attempt=attempt, parts=parts)


def attempt_progress(session: Session, attempt: Attempt) -> AttemptProgress:
    """Scores so far, tries used and left, per part of one attempt (two queries)."""
    submissions = list(
        session.scalars(
            select(Submission).where(Submission.attempt_id == attempt.id).order_by(Submission.id)
        )
    )
    return build_progress(attempt, submissions, grading.newest_overrides(session, [attempt.id]))


def progress_for_attempts(
    session: Session, attempts: Sequence[Attempt]
) -> dict[int, AttemptProgress]:
    """Progress of many attempts in a constant number of queries, keyed by attempt id."""
    ids = [a.id for a in attempts]
    if not ids:
        return {}
    by_attempt: dict[int, list[Submission]] = {i: [] for i in ids}
    for s in session.scalars(_submissions_query(), {"attempt_ids": ids}):
        by_attempt[s.attempt_id].append(s)
    overrides = grading.newest_overrides(session, ids)
    return {a.id: build_progress(a, by_attempt[a.id], overrides) for a in attempts}
