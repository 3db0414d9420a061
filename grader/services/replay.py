"""Replaying a stored verdict: judge a stored submission again, exactly as the web did.

A disputed grade is reproduced from the command line (``grader replay --submission ID``)
with the same code path the web used: the variant stored with the attempt, the same
``judge`` (with follow-through from the attempt's current earlier answers) and the same
feedback record. Read-only: nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from grader.errors import NotFound
from grader.exercises import Judgement
from grader.exercises import Variant
from grader.exercises import judge
from grader.models import Submission
from grader.services import follow
from grader.services.grading import feedback_json


@dataclass(frozen=True)
class Replay:
    """A stored submission judged again, next to what was stored."""

    submission_id: int
    variant: Variant
    part_id: str
    raw_answer: str
    judgement: Judgement
    stored: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The judgement, its feedback record, what was stored and whether they agree."""
        replayed = judgement_json(self.judgement)
        same = all(self.stored[k] == replayed[k] for k in ("status", "score", "note", "feedback"))
        return {
            "submission": self.submission_id,
            "exercise": self.variant.exercise_id,
            "version": self.variant.spec_version,
            "seed": self.variant.seed,
            "part": self.part_id,
            "answer": self.raw_answer,
            "judgement": replayed,
            "stored": self.stored,
            "matches": same,
        }


def judgement_json(judgement: Judgement) -> dict[str, Any]:
    """A judgement as replay prints it: the typed fields plus the stored feedback record."""
    counts = judgement.status in ("correct", "incorrect", "consistent")
    return {
        **judgement.to_json(),
        "score": float(judgement.score) if counts else 0.0,
        "feedback": feedback_json(judgement),
        "message": judgement.feedback,
    }


def replay_submission(session: Session, submission_id: int) -> Replay:
    """Judge a stored submission again against its attempt's stored variant.

    Raises:
        NotFound: no such submission.
    """
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise NotFound(f"no submission {submission_id}")
    variant = Variant.from_json(sub.attempt.variant)
    judgement = judge(variant, sub.part_id, sub.raw_answer)
    # follow-through from the attempt's current earlier answers, as grading does
    judgement = follow.follow_through(session, sub, variant, sub.attempt.quiz_item.quiz, judgement)
    stored = {
        "status": sub.verdict,
        "score": sub.raw_score,
        "note": sub.note,
        "feedback": sub.feedback,
    }
    return Replay(sub.id, variant, sub.part_id, sub.raw_answer, judgement, stored)
