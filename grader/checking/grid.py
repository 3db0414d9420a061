"""Shapes of vector and matrix answers, and the sentences that describe them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar
from typing import cast

from grader.checking.nodes import Node

T = TypeVar("T")
Shape = tuple[int, ...]


def node_grid(node: Node) -> tuple[Shape, list[Node]] | None:
    """``(shape, entries row-major)`` for a list or matrix node, else ``None``."""
    if node.op == "list":
        return (len(node.args),), list(node.args)
    if node.op == "matrix":
        rows = node.args
        return (len(rows), len(rows[0].args)), [entry for row in rows for entry in row.args]
    return None


def value_grid(expected: Sequence[object]) -> tuple[Shape, list[object]]:
    """``(shape, entries)`` of a nested list key (a vector or a rectangular matrix).

    Raises:
        ValueError: for an empty, ragged or deeper-nested key (an authoring error).
    """
    if hasattr(expected, "tolist"):  # a NumPy array from the engine
        expected = expected.tolist()
    if isinstance(expected, str | bytes) or not len(expected):
        raise ValueError("an array key must be a non-empty list")
    nested = [isinstance(item, Sequence) and not isinstance(item, str) for item in expected]
    if not any(nested):
        return (len(expected),), list(expected)
    if not all(nested):
        raise ValueError("a matrix key must be a list of rows")
    rows = [list(cast(Sequence[object], row)) for row in expected]
    width = len(rows[0])
    if width == 0 or any(len(row) != width for row in rows):
        raise ValueError("all rows of a matrix key must have the same non-zero length")
    for row in rows:
        for item in row:
            if isinstance(item, Sequence) and not isinstance(item, str):
                raise ValueError("array keys can be nested only two deep")
    return (len(rows), width), [item for row in rows for item in row]


def transpose(shape: Shape, entries: list[T]) -> tuple[Shape, list[T]]:
    """The transpose of a row-major matrix (vectors are returned unchanged)."""
    if len(shape) != 2:
        return shape, entries
    rows, cols = shape
    return (cols, rows), [entries[r * cols + c] for c in range(cols) for r in range(rows)]


def describe(shape: Shape) -> str:
    """``a single value``, ``a list of 3 entries`` or ``a 2×3 matrix``."""
    if not shape:
        return "a single value"
    if len(shape) == 1:
        return f"a list of {shape[0]} entr{'y' if shape[0] == 1 else 'ies'}"
    return f"a {shape[0]}×{shape[1]} matrix"


def example(shape: Shape) -> str:
    """A syntax hint for the shape."""
    if len(shape) == 1:
        return "[a, b, c]"
    return "[[a, b], [c, d]]"


def label(shape: Shape, index: int) -> str:
    """The human label of a flattened index: ``2`` or ``(1, 2)`` (1-based)."""
    if len(shape) == 1:
        return str(index + 1)
    return f"({index // shape[1] + 1}, {index % shape[1] + 1})"


def wrong_entries_message(shape: Shape, statuses: Sequence[str]) -> str:
    """``Entries 1 and 3 are wrong.`` / ``The entry at (2, 1) is wrong.``"""
    wrong = [label(shape, i) for i, status in enumerate(statuses) if status == "incorrect"]
    if not wrong:
        return "Some entries could not be checked."
    if len(shape) == 1:
        if len(wrong) == 1:
            return f"Entry {wrong[0]} of your answer is wrong."
        return f"Entries {_join(wrong)} of your answer are wrong."
    if len(wrong) == 1:
        return f"The entry at {wrong[0]} is wrong."
    return f"The entries at {_join(wrong)} are wrong."


def shape_message(expected: Shape, answer: Shape) -> str:
    """Why the answer's shape does not fit."""
    return (
        f"Your answer is {describe(answer)}, but {describe(expected)} is expected "
        f"(like {example(expected)})."
    )


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
