"""The typed outcome of judging one answer (what ``judge`` returns and services store).

The persisted JSON keeps the shape the earlier ``PartResult`` had (``status``, ``score``,
``note``, ``feedback``, ``verdict``), so stored submissions read as before; ``note`` is
derived from the typed fields, never parsed back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from grader.checking import Verdict


class Status(StrEnum):
    """The checker's four outcomes, and follow-through's ``consistent``.

    ``consistent``: wrong against the key, right against the key recomputed from the
    student's own (wrong) earlier answers.
    """

    CORRECT = "correct"
    INCORRECT = "incorrect"
    INVALID = "invalid"
    UNDETERMINED = "undetermined"
    CONSISTENT = "consistent"


@dataclass(frozen=True)
class Followed:
    """An earlier, wrong answer that a ``consistent`` answer was judged from."""

    part: str
    label: str
    value: str

    def to_json(self) -> dict[str, str]:
        """JSON-safe dict."""
        return {"part": self.part, "label": self.label, "value": self.value}


@dataclass(frozen=True)
class Judgement:
    """One judged answer.

    Attributes:
        status: the outcome; only correct and incorrect cost an attempt.
        score: credit earned, 0..1 (multiply by the part's points).
        verdict: the checker's verdict against the key.
        feedback: the sentence to show the student.
        mistake: the code of the declared mistake the answer matched, if any.
        diagnosis: the checker's diagnosis code when no declared mistake matched.
        diagnosis_message: the checker's sentence for that diagnosis.
    """

    status: Status
    score: float
    verdict: Verdict
    feedback: str
    mistake: str | None = None
    diagnosis: str | None = None
    diagnosis_message: str | None = None
    #: the wrong earlier answers a ``consistent`` answer follows from
    follows: tuple[Followed, ...] = ()
    #: the first wrong step upstream of this part (its part id), when one is known
    first_wrong: str | None = None

    @property
    def note(self) -> str:
        """The persisted machine-readable code (``mistake:<code>``, ``diagnosis:<code>``...)."""
        if self.mistake is not None:
            return f"mistake:{self.mistake}"
        if self.diagnosis is not None and self.status is Status.INCORRECT:
            return f"diagnosis:{self.diagnosis}"
        return str(self.status)

    @property
    def entries(self) -> tuple[str, ...] | None:
        """Per-entry status of a vector or matrix answer (row-major)."""
        return self.verdict.entries

    def diagnosis_json(self) -> dict[str, str] | None:
        """What went wrong, as stored with the submission's feedback."""
        if self.mistake is not None:
            return {"code": self.mistake, "message": self.feedback}
        if self.diagnosis is not None and self.status is Status.INCORRECT:
            return {"code": self.diagnosis, "message": self.feedback}
        if self.verdict.diagnosis is not None:
            return self.verdict.diagnosis.to_json()
        return None

    def feedback_fields(self) -> dict[str, Any]:
        """The student-facing feedback record (without its schema version)."""
        return {
            "status": str(self.status),
            "message": self.feedback,
            "latex": self.verdict.latex,
            "diagnosis": self.diagnosis_json(),
            "entries": list(self.entries) if self.entries is not None else None,
            "offset": self.verdict.offset,
            "variables": list(self.verdict.variables),
            "follows": [f.to_json() for f in self.follows],
            "first_wrong": self.first_wrong,
        }

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict (the shape ``PartResult.to_json`` had, plus the typed fields)."""
        return {
            "status": str(self.status),
            "score": self.score,
            "note": self.note,
            "feedback": self.feedback,
            "verdict": self.verdict.to_json(),
            "mistake": self.mistake,
            "diagnosis": self.diagnosis,
            "follows": [f.to_json() for f in self.follows],
            "first_wrong": self.first_wrong,
        }
