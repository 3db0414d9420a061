"""Vector answers: a list of numbers, like ``[0.1, -2]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from grader.exercises.kinds.numeric import ArrayKind


class VectorKind(ArrayKind):
    """A list of numbers."""

    name = "vector"
    depth = 1
    junk: ClassVar[tuple[str, ...]] = ("", "[1, ", "2 +")

    def input_hint(self, shape: Sequence[int] | None, variables: Sequence[str]) -> str:
        """How many numbers, and the bracket syntax."""
        n = shape[0] if shape else "the"
        return f"a list of {n} numbers, like [0.1, -2]"
