"""Instructor expressions in the answer language, through the checker's own parser and evaluator.

Constraints (``abs(t - y) >= 0.1``), derived values and declarative answers are written in
the language students answer in, and handled by the same code: :mod:`grader.checking`'s
parser builds the tree (a constraint is one of its relations), its bounded evaluator gives
the values, and its plain-text renderer prints a substituted answer back. Nothing here
scans, evaluates or prints on its own, and no text reaches ``eval``, ``sympify`` or
``parse_expr``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from grader.checking import ParseError
from grader.checking.evaluate import Env
from grader.checking.evaluate import EvaluationError
from grader.checking.evaluate import context
from grader.checking.keys import compiled
from grader.checking.keys import parse_cached
from grader.checking.nodes import Node
from grader.checking.render import to_text as render_text
from grader.exercises.numbers import format_number

#: digits the evaluator works with before a value is rounded to a float
_DIGITS = 30
#: the checker's relation nodes and what each compares
_RELATIONS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}

#: a parsed expression: a tree, or (for ``[a, b]`` and ``[[a, b], [c, d]]``) nested lists
Parsed = Node | list[Any]


class ExprError(ValueError):
    """An instructor expression that cannot be used; ``offset`` is 0-based or None."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _tree(text: str) -> Node:
    try:
        return parse_cached(text, None, None)
    except ParseError as exc:
        raise ExprError(exc.message, exc.offset) from None


def _lists(node: Node) -> Parsed:
    """Brackets of the answer language as Python lists (a vector, a matrix's rows)."""
    node = node.unwrap()
    if node.op in ("list", "matrix"):
        return [_lists(arg) for arg in node.args]
    return node


def parse(text: str) -> Parsed:
    """Parse with the checker's parser: a tree, or nested lists of trees for brackets.

    Raises:
        ExprError: the text is not a single expression (or list) of the answer language.
    """
    node = _tree(text)
    if node.op in ("eq", "rel"):
        raise ExprError("a relation (=, <, >) is not a value here", node.at)
    return _lists(node)


@dataclass(frozen=True)
class Comparison:
    """``lhs op rhs``, as written in a constraint (the checker's relation node)."""

    text: str
    lhs: Node
    op: str
    rhs: Node

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Evaluate both sides with ``values``; False when either side is undefined."""
        try:
            a = evaluate(self.lhs, values)
            b = evaluate(self.rhs, values)
        except (ArithmeticError, ValueError, TypeError):
            return False
        if not isinstance(a, float) or not isinstance(b, float):
            return False
        if self.op == "=":
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[self.op]


def parse_comparison(text: str) -> Comparison:
    """A constraint: one relation of the answer language (``<``, ``<=``, ``>``, ``>=``, ``=``).

    Raises:
        ExprError: the text does not parse, or is not one comparison of two expressions.
    """
    node = _tree(text)
    if node.op not in ("eq", "rel"):
        raise ExprError("a constraint needs one of <, <=, >, >=, = between two expressions")
    lhs, rhs = node.args
    if lhs.unwrap().op in ("list", "matrix") or rhs.unwrap().op in ("list", "matrix"):
        raise ExprError("a constraint compares two numbers, not lists", node.at)
    op = "=" if node.op == "eq" else _RELATIONS[str(node.value)]
    return Comparison(text, lhs, op, rhs)


def free_names(expr: Any) -> set[str]:
    """Variable names an expression (or nested list of them) uses."""
    if isinstance(expr, list):
        out: set[str] = set()
        for item in expr:
            out |= free_names(item)
        return out
    if isinstance(expr, Comparison):
        return expr.lhs.names() | expr.rhs.names()
    if isinstance(expr, Node):
        return expr.names()
    return set()


def evaluate(expr: Any, values: Mapping[str, Any]) -> Any:
    """Evaluate a parsed expression (or nested list) with the checker's evaluator, as floats.

    Raises:
        ValueError: an unknown name, or no finite real value here.
        ArithmeticError: never raised by the evaluator itself; listed for the callers.
    """
    if isinstance(expr, list):
        return [evaluate(x, values) for x in expr]
    ctx = context(_DIGITS)
    known = {n: ctx.mpf(float(v)) for n, v in values.items() if _is_number(v)}
    try:
        out = float(compiled(expr)(Env(ctx, known)))
    except EvaluationError as exc:
        raise ValueError(f"the expression has no value here: {exc.reason}") from None
    if not math.isfinite(out):
        raise ValueError("the expression has no finite real value here")
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def exact(value: Any) -> Fraction:
    """A parameter as an exact number (0.1 is 1/10), for substitution."""
    if not _is_number(value):
        raise TypeError("only numbers can be substituted")
    return Fraction(Decimal(repr(value))) if isinstance(value, float) else Fraction(value)


def _number(value: Any) -> Node:
    """A number as the tree the parser would build for it (negatives in brackets)."""
    text = format_number(value)
    magnitude = Node("num", value=abs(exact(value)), text=text.lstrip("-"))
    if text.startswith("-"):
        return Node("group", (Node("neg", (magnitude,)),))
    return magnitude


def substitute(expr: Any, values: Mapping[str, Any]) -> Any:
    """Replace parameter names by their values (names without a number stay)."""
    if isinstance(expr, list):
        return [substitute(x, values) for x in expr]
    node: Node = expr
    if node.op == "name":
        value = values.get(str(node.value))
        return _number(value) if _is_number(value) else node
    if not node.has_names or not node.args:
        return node
    return dataclasses.replace(node, args=tuple(substitute(a, values) for a in node.args))


def to_text(expr: Any) -> str:
    """The expression (or nested list) as text the checker's parser reads back."""
    if isinstance(expr, list):
        return "[" + ", ".join(to_text(x) for x in expr) + "]"
    if _is_number(expr):
        return format_number(expr)
    return render_text(expr)
