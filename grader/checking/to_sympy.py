"""Build SymPy objects from a validated tree, for callers that want a CAS object.

Only whitelisted constructors are called on values the parser produced; text never
reaches SymPy. Activations are written out by their definitions, so SymPy sees
``sigmoid(z)`` as ``1/(1 + exp(-z))``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import sympy

from grader.checking.nodes import Node


def _sigmoid(x: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-x))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "cot": sympy.cot,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "sech": sympy.sech,
    "csch": sympy.csch,
    "coth": sympy.coth,
    "log10": lambda x: sympy.log(x, 10),
    "log2": lambda x: sympy.log(x, 2),
    "sign": sympy.sign,
    "asinh": sympy.asinh,
    "acosh": sympy.acosh,
    "atanh": sympy.atanh,
    "sigmoid": _sigmoid,
    "softplus": lambda x: sympy.log(1 + sympy.exp(x)),
    "relu": lambda x: sympy.Max(0, x),
    "logit": lambda x: sympy.log(x / (1 - x)),
    "max": sympy.Max,
    "min": sympy.Min,
}


_RELATIONS: dict[str, Callable[..., Any]] = {
    "<": sympy.StrictLessThan,
    "<=": sympy.LessThan,
    ">": sympy.StrictGreaterThan,
    ">=": sympy.GreaterThan,
}


def to_sympy(node: Node, symbols: Mapping[str, sympy.Symbol] | None = None) -> Any:
    """A SymPy expression (or list, Matrix, Eq or inequality) for ``node``.

    Args:
        node: a tree from :func:`grader.checking.parser.parse_tree`.
        symbols: the Symbol to use for each name; missing names become real Symbols.
    """
    table: dict[str, sympy.Symbol] = dict(symbols or {})

    def build(node: Node) -> Any:
        op = node.op
        if op == "num":
            value = node.value
            assert isinstance(value, Fraction)
            return sympy.Rational(value.numerator, value.denominator)
        if op == "name":
            name = str(node.value)
            if name not in table:
                table[name] = sympy.Symbol(name, real=True)
            return table[name]
        if op == "const":
            return sympy.pi if node.value == "pi" else sympy.E
        if op == "group":
            return build(node.args[0])
        if op == "neg":
            return -build(node.args[0])
        if op == "add":
            return sympy.Add(
                *(
                    build(arg) if sign > 0 else -build(arg)
                    for sign, arg in zip(node.value, node.args, strict=True)
                )
            )
        if op == "mul":
            return sympy.Mul(
                *(
                    1 / build(arg) if how == "/" else build(arg)
                    for how, arg in zip(node.value, node.args, strict=True)
                )
            )
        if op == "pow":
            return sympy.Pow(build(node.args[0]), build(node.args[1]))
        if op == "call":
            return _FUNCTIONS[str(node.value)](*(build(arg) for arg in node.args))
        if op == "list":
            return [build(arg) for arg in node.args]
        if op == "matrix":
            return sympy.Matrix([[build(entry) for entry in row.args] for row in node.args])
        if op == "eq":
            return sympy.Eq(build(node.args[0]), build(node.args[1]), evaluate=False)
        if op == "rel":
            relation = _RELATIONS[str(node.value)]
            return relation(build(node.args[0]), build(node.args[1]), evaluate=False)
        raise ValueError(f"cannot convert a {op} node")

    return build(node)
