"""Instructor expressions: parsed only by grader.checking's safe parser, evaluated without eval.

Constraints (``abs(t - y) >= 0.1``), derived values and declarative answers are written in
the same language students answer in. We never hand text to ``eval``, ``sympify`` or
``parse_expr``: the checker's parser builds SymPy objects from a whitelist, and this module
evaluates them by walking the tree with plain floats (fast enough for thousands of draws)
and prints them back in the checker's language.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sympy
from sympy.printing.str import StrPrinter

from grader.checking import ParseError
from grader.checking import parse as checking_parse
from grader.exercises.numbers import format_number

logger = logging.getLogger(__name__)

COMPARISONS = ("<=", ">=", "!=", "==", "<", ">")


class ExprError(ValueError):
    """An instructor expression that cannot be used; ``offset`` is 0-based or None."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse(text: str) -> Any:
    """Parse with grader.checking's parser; returns a SymPy expression or a nested list.

    Raises:
        ExprError: the text is not a valid expression in the answer language.
    """
    try:
        result = checking_parse(text)
    except ParseError as exc:
        raise ExprError(exc.message, exc.offset) from None
    return _unwrap(result)


def _unwrap(result: Any) -> Any:
    """Accept the checker's parse result in its documented shapes."""
    for attr in ("expr", "value", "sympy"):
        inner = getattr(result, attr, None)
        if inner is not None and not callable(inner):
            result = inner
            break
    if isinstance(result, sympy.MatrixBase):
        return [list(row) for row in result.tolist()]
    if isinstance(result, list | tuple):
        return [_unwrap(x) for x in result]
    return result


@dataclass(frozen=True)
class Comparison:
    """``lhs op rhs``, as written in a constraint."""

    text: str
    lhs: Any
    op: str
    rhs: Any

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Evaluate both sides with ``values``; False when either side is undefined."""
        try:
            a = evaluate(self.lhs, values)
            b = evaluate(self.rhs, values)
        except (ArithmeticError, ValueError, TypeError):
            return False
        if not isinstance(a, float) or not isinstance(b, float):
            return False
        return {
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
            "==": math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
            "!=": not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
        }[self.op]


def parse_comparison(text: str) -> Comparison:
    """Split ``text`` at its one top-level comparison and parse both sides."""
    depth = 0
    found: tuple[int, str] | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0:
            for op in COMPARISONS:
                if text.startswith(op, i):
                    if found is not None:
                        raise ExprError("use one comparison per constraint", i)
                    found = (i, op)
                    i += len(op) - 1
                    break
        i += 1
    if found is None:
        raise ExprError("a constraint needs one of <, <=, >, >=, ==, != between two expressions")
    pos, op = found
    left, right = text[:pos], text[pos + len(op) :]
    try:
        lhs = parse(left)
    except ExprError as exc:
        raise ExprError(f"left of {op}: {exc.message}", exc.offset) from None
    try:
        rhs = parse(right)
    except ExprError as exc:
        off = None if exc.offset is None else exc.offset + pos + len(op)
        raise ExprError(f"right of {op}: {exc.message}", off) from None
    return Comparison(text, lhs, op, rhs)


def free_names(expr: Any) -> set[str]:
    """Variable names an expression (or nested list of them) uses."""
    if isinstance(expr, list):
        out: set[str] = set()
        for item in expr:
            out |= free_names(item)
        return out
    if isinstance(expr, sympy.Basic):
        return {s.name for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    return set()


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


def _softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


_FUNCS: dict[str, Any] = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "Abs": abs,
    "abs": abs,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "relu": lambda z: max(z, 0.0),
    "Max": max,
    "Min": min,
    "max": max,
    "min": min,
}


def evaluate(expr: Any, values: Mapping[str, Any]) -> Any:
    """Evaluate a parsed expression (or nested list) with floats.

    Raises:
        ValueError: an unknown name or function, or a non-real result.
        ArithmeticError: division by zero, overflow.
    """
    if isinstance(expr, list):
        return [evaluate(x, values) for x in expr]
    out = _eval(expr, values)
    if isinstance(out, complex) or not math.isfinite(out):
        raise ValueError("the expression has no finite real value here")
    return float(out)


def _eval(e: Any, values: Mapping[str, Any]) -> float:
    if isinstance(e, int | float):
        return float(e)
    if e.is_Symbol:
        try:
            return float(values[e.name])
        except KeyError:
            raise ValueError(f"unknown name {e.name!r}") from None
    if e.is_Number:
        return float(e)
    if e is sympy.pi:
        return math.pi
    if e is sympy.E:
        return math.e
    if e.is_Add:
        return math.fsum(_eval(a, values) for a in e.args)
    if e.is_Mul:
        out = 1.0
        for a in e.args:
            out *= _eval(a, values)
        return out
    if e.is_Pow:
        base, exp_ = _eval(e.args[0], values), _eval(e.args[1], values)
        if base == 0 and exp_ < 0:
            raise ZeroDivisionError("division by zero")
        if base < 0 and not float(exp_).is_integer():
            raise ValueError("a negative number to a fractional power is not real")
        return float(base**exp_)
    name = type(e).__name__
    func = _FUNCS.get(name) or _FUNCS.get(getattr(e.func, "__name__", "").lower())
    if func is None:
        raise ValueError(f"the function {name} cannot be evaluated here")
    return float(func(*(_eval(a, values) for a in e.args)))


class _CheckerPrinter(StrPrinter):
    """Print SymPy objects in the answer language (``e``, ``pi``, ``sigmoid(z)``)."""

    def _print_Exp1(self, expr: Any) -> str:
        return "e"

    def _print_Pi(self, expr: Any) -> str:
        return "pi"

    def _print_Abs(self, expr: Any) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Max(self, expr: Any) -> str:
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr: Any) -> str:
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Function(self, expr: Any) -> str:
        name = expr.func.__name__
        return name.lower() + "(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Float(self, expr: Any) -> str:
        return format_number(float(expr))


_PRINTER = _CheckerPrinter({"order": "none"})


def to_text(expr: Any) -> str:
    """The expression (or nested list) as text the checker's parser reads back."""
    if isinstance(expr, list):
        return "[" + ", ".join(to_text(x) for x in expr) + "]"
    if isinstance(expr, int | float):
        return format_number(expr)
    return str(_PRINTER.doprint(expr))


def exact(value: Any) -> Any:
    """A parameter as an exact SymPy number (0.1 is 1/10), for substitution."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("only numbers can be substituted")
    if isinstance(value, int):
        return sympy.Integer(value)
    return sympy.Rational(str(Decimal(repr(value))))


def substitute(expr: Any, values: Mapping[str, Any]) -> Any:
    """Replace parameter names by their exact values."""
    if isinstance(expr, list):
        return [substitute(x, values) for x in expr]
    subs = {
        sympy.Symbol(n): exact(v)
        for n, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    names = {s.name: s for s in expr.free_symbols}
    mapping = {names[k.name]: v for k, v in subs.items() if k.name in names}
    return expr.xreplace(mapping) if mapping else expr
