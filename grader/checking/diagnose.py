"""Localising the error in a wrong expression, by probing at the points already drawn.

We know the reference expression, so instead of a bare "incorrect" we test a few
cheap hypotheses numerically: the sign is flipped, the answer is off by a constant
factor (2, 1/2, ...), by a declared symbol (a missing learning rate ``eta`` or weight
``w2``) or by an activation derivative (a missing ``σ(z)(1-σ(z))``), or an additive
term is missing or extra.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from fractions import Fraction
from functools import partial
from typing import Any

from grader.checking.equivalence import PRECISIONS
from grader.checking.equivalence import Comparison
from grader.checking.equivalence import Sample
from grader.checking.evaluate import Compiled
from grader.checking.evaluate import Env
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import Value
from grader.checking.evaluate import compile_node
from grader.checking.nodes import Node
from grader.checking.render import to_text
from grader.checking.verdict import Diagnosis

_RTOL = 1e-12


def close(x: Value, y: Value, rtol: float = _RTOL) -> bool:
    """Whether two sampled values agree to ``rtol`` (relative to the larger one)."""
    return bool(abs(x - y) <= rtol * max(abs(x), abs(y), 1e-300))


def nice_fraction(value: Value) -> Fraction | None:
    """``value`` as a small fraction (like 2, 1/2 or -3/2) when it is one.

    Never raises: a value beyond the range of a float (``1e400``), or not finite, is
    simply not a small fraction.
    """
    try:
        as_float = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    if not math.isfinite(as_float) or not 1e-6 < abs(as_float) < 1e6:
        return None
    guess = Fraction(as_float).limit_denominator(12)
    if abs(guess.numerator) > 1000 or guess == 0:
        return None
    if not close(value, guess.numerator / guess.denominator, 1e-12):
        return None
    return guess


def factor_message(factor: Fraction) -> str:
    """A sentence for an answer that is ``factor`` times the correct one."""
    if factor == 2:
        return "Your answer is twice the correct value: is there an extra factor of 2?"
    if factor == Fraction(1, 2):
        return "Your answer is half the correct value: is a factor of 2 missing?"
    if factor == -2:
        return "Your answer is -2 times the correct value: check the sign and a factor of 2."
    if factor == Fraction(-1, 2):
        return "Your answer is -1/2 times the correct value: check the sign and a factor of 2."
    return f"Your answer is off by a constant factor of {factor}."


def _activation_factors(expected: Node) -> list[tuple[str, Compiled]]:
    """Derivative factors of activations in the key, e.g. ``sigmoid(z)*(1 - sigmoid(z))``."""
    found: list[tuple[str, Compiled]] = []
    seen: set[str] = set()
    for node in expected.walk():
        if node.op != "call" or node.value not in ("sigmoid", "tanh"):
            continue
        inner = to_text(node.args[0])
        label = (
            f"sigmoid({inner})*(1 - sigmoid({inner}))"
            if node.value == "sigmoid"
            else f"1 - tanh({inner})^2"
        )
        if label in seen:
            continue
        seen.add(label)
        argument = compile_node(node.args[0])

        def derivative(env: Env, argument: Compiled = argument, kind: object = node.value) -> Value:
            x = argument(env)
            if kind == "sigmoid":
                s = 1 / (1 + env.ctx.exp(-x))
                return s * (1 - s)
            return 1 - env.ctx.tanh(x) ** 2

        found.append((label, derivative))
    return found


MAX_TERMS = 12
"""Sums with more terms are not probed term by term (bounded diagnosis cost)."""


def _terms(root: Node) -> list[tuple[int, Node]]:
    node = root.unwrap()
    if node.op != "add" or len(node.args) > MAX_TERMS:
        return []
    return list(zip(node.value, node.args, strict=True))


class _Row:
    """One probe point: both values, and candidate values computed on demand."""

    __slots__ = ("answer", "cache", "candidates", "env", "expected")

    def __init__(self, env: Env, expected: Value, answer: Value, candidates: dict[str, Compiled]):
        self.env = env
        self.expected = expected
        self.answer = answer
        self.candidates = candidates
        self.cache: dict[str, Value] = {}

    def value(self, key: str) -> Value:
        if key not in self.cache:
            try:
                self.cache[key] = self.candidates[key](self.env)
            except (Undefined, Overflow):
                self.cache[key] = None
        return self.cache[key]


PROBE_POINTS = 4
"""Points at which each hypothesis is tested (all must agree)."""

EXTRA_PROBES = 12
"""Further points drawn, at most, to see every symbol on both sides of zero."""


def diagnose(
    comparison: Comparison,
    expected: Node,
    answer: Node,
    answer_text: str,
    symbols: Sequence[str],
    samples: list[Sample],
) -> Diagnosis | None:
    """The most specific hypothesis that explains every probed point, if any."""
    points: list[Mapping[str, Any]] = [sample.point for sample in samples[:PROBE_POINTS]]
    if len(points) < PROBE_POINTS:
        points += [s.point for s in comparison.more_samples(PROBE_POINTS - len(points))]
    points += _other_side_points(comparison, points, symbols)
    candidates: dict[str, Compiled] = {}
    for name in symbols:
        candidates[f"symbol:{name}"] = compile_node(Node("name", value=name))
    for label, function in _activation_factors(expected):
        candidates[f"activation:{label}"] = function
    expected_terms = _terms(expected)
    answer_terms = _terms(answer)
    for index, (sign, term) in enumerate(expected_terms):
        candidates[f"eterm:{index}"] = _signed(sign, compile_node(term))
    for index, (sign, term) in enumerate(answer_terms):
        candidates[f"aterm:{index}"] = _signed(sign, compile_node(term))

    rows: list[_Row] = []
    for point in points:
        # One precision for every value, so they all share a context.
        env = comparison.env(point, PRECISIONS[0])
        try:
            rows.append(_Row(env, comparison.expected(env), comparison.answer(env), candidates))
        except (Undefined, Overflow):
            continue
    if not rows:
        return None

    def holds(test: Callable[[_Row], bool]) -> bool:
        try:
            return all(test(row) for row in rows)
        except (TypeError, ZeroDivisionError):
            return False

    if any(row.expected for row in rows) and holds(lambda r: close(r.answer, -r.expected)):
        return Diagnosis("sign_flipped", "Your answer has the wrong sign.")

    nonzero = [row for row in rows if row.expected and row.answer]
    if nonzero and len(nonzero) == len([row for row in rows if row.expected]):
        ratio = nonzero[0].answer / nonzero[0].expected
        if all(close(row.answer / row.expected, ratio) for row in nonzero):
            factor = nice_fraction(ratio)
            if factor is not None and factor not in (1, -1):
                return Diagnosis("constant_factor", factor_message(factor))
            if factor is None:
                return Diagnosis("constant_factor", "Your answer is off by a constant factor.")
        for key in candidates:
            kind, _, label = key.partition(":")
            if kind not in ("symbol", "activation"):
                continue
            found = _factor_of(nonzero, key)
            if found is None:
                continue
            sign, extra = found
            if extra:
                sentence = f"Your answer has an extra factor of {label}."
            else:
                sentence = f"Your answer is missing a factor of {label}."
            if sign < 0:
                sentence = sentence[:-1] + ", and its sign is wrong."
            return Diagnosis("constant_factor", sentence)

    def differs_by(row: _Row, key: str, times: int) -> bool:
        return close(row.answer - row.expected, times * row.value(key))

    for index in range(len(expected_terms)):
        key = f"eterm:{index}"
        if holds(partial(differs_by, key=key, times=-1)):
            return Diagnosis(
                "missing_term", "Your answer is missing one of the terms of the correct answer."
            )
        if holds(partial(differs_by, key=key, times=-2)):
            return Diagnosis("sign_flipped", "One term of your answer has the wrong sign.")
    for index, (_, term) in enumerate(answer_terms):
        if holds(partial(differs_by, key=f"aterm:{index}", times=1)):
            snippet = answer_text[term.start : term.end].strip() or to_text(term)
            return Diagnosis(
                "extra_term", f"The term {snippet} in your answer should not be there."
            )
    return None


def _one_sided(points: Sequence[Mapping[str, Any]], symbols: Sequence[str]) -> set[str]:
    """The symbols whose probed values all have the same sign."""
    out = set()
    for name in symbols:
        values = [point[name] for point in points if name in point]
        if values and not (any(v > 0 for v in values) and any(v < 0 for v in values)):
            out.add(name)
    return out


def _other_side_points(
    comparison: Comparison, points: list[Mapping[str, Any]], symbols: Sequence[str]
) -> list[Mapping[str, Any]]:
    """Extra probe points so each symbol is seen on both sides of zero where it can be.

    Four points can all put ``x`` below zero; then ``|x|`` looks like ``-x`` and the
    feedback would wrongly say "wrong sign". Points are added only while they put a
    one-sided symbol on its other side (a symbol whose domain is one-sided stays so).
    """
    one_sided = _one_sided(points, symbols)
    extra: list[Mapping[str, Any]] = []
    if not one_sided:
        return extra
    for sample in comparison.more_samples(EXTRA_PROBES):
        now = _one_sided([*points, *extra, sample.point], symbols)
        if len(now) < len(one_sided):
            extra.append(sample.point)
            one_sided = now
        if not one_sided:
            break
    return extra


def _signed(sign: int, function: Compiled) -> Compiled:
    if sign > 0:
        return function
    return lambda env: -function(env)


def _factor_of(rows: list[_Row], key: str) -> tuple[int, bool] | None:
    """(sign, extra) when answer/expected equals ±value (extra) or ±1/value (missing)."""
    values = []
    for row in rows:
        value = row.value(key)
        if value is None or not value:
            return None
        values.append(value)
    ratios = [row.answer / row.expected for row in rows]
    for sign in (1, -1):
        if all(close(r, sign * value) for r, value in zip(ratios, values, strict=True)):
            return sign, True
        if all(close(r * value, sign) for r, value in zip(ratios, values, strict=True)):
            return sign, False
    return None
