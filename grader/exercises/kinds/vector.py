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

    def input_hint(
        self, shape: Sequence[int] | None, variables: Sequence[str], defined: Sequence[str] = ()
    ) -> str:
        """How many numbers, and the bracket syntax."""
        n = shape[0] if shape else "the"
        return f"a list of {n} numbers, like {self.example(shape)}"

    def example(self, shape: Sequence[int] | None) -> str:
        """``[0.1, -2, 3]`` for three numbers."""
        size = shape[0] if shape else 2
        values = [0.1, -2, 3, 0.5, 1, -1][:size] + [0] * max(size - 6, 0)
        return "[" + ", ".join(str(v) for v in values) + "]"
