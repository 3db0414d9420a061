"""Matrix answers: rows of numbers, like ``[[1, 2], [3, 4]]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from grader.exercises.kinds.numeric import ArrayKind


class MatrixKind(ArrayKind):
    """Rows of numbers."""

    name = "matrix"
    depth = 2
    junk: ClassVar[tuple[str, ...]] = ("", "[[1, 2], [3", "((")

    def input_hint(
        self, shape: Sequence[int] | None, variables: Sequence[str], defined: Sequence[str] = ()
    ) -> str:
        """The shape, and the nested-bracket syntax."""
        size = f", {shape[0]}×{shape[1]}" if shape and len(shape) == 2 else ""
        return f"rows in brackets{size}, like {self.example(shape)}"

    def example(self, shape: Sequence[int] | None) -> str:
        """``[[1, 2], [3, 4], [5, 6]]`` for a 3×2 matrix."""
        rows, cols = (shape[0], shape[1]) if shape and len(shape) == 2 else (2, 2)
        counter = iter(range(1, rows * cols + 1))
        body = ", ".join(
            "[" + ", ".join(str(next(counter)) for _ in range(cols)) + "]" for _ in range(rows)
        )
        return "[" + body + "]"
