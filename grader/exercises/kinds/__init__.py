"""The registry of answer kinds: one line per kind, keyed by the part's ``type``.

A new answer type is one module here plus one line below.
"""

from __future__ import annotations

from grader.exercises.kinds.base import AnswerKind
from grader.exercises.kinds.choice import ChoiceKind
from grader.exercises.kinds.expression import ExpressionKind
from grader.exercises.kinds.matrix import MatrixKind
from grader.exercises.kinds.multiselect import MultiselectKind
from grader.exercises.kinds.numeric import NumericKind
from grader.exercises.kinds.vector import VectorKind

ANSWER_KINDS: dict[str, AnswerKind] = {
    NumericKind.name: NumericKind(),
    VectorKind.name: VectorKind(),
    MatrixKind.name: MatrixKind(),
    ExpressionKind.name: ExpressionKind(),
    ChoiceKind.name: ChoiceKind(),
    MultiselectKind.name: MultiselectKind(),
}


def kind_of(type_name: str) -> AnswerKind:
    """The kind of a part's ``type`` (KeyError for an unknown type, a corrupted record)."""
    return ANSWER_KINDS[type_name]


__all__ = ["ANSWER_KINDS", "AnswerKind", "kind_of"]
