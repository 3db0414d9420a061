"""Equations and inequalities: when two relations say the same thing.

**Equations** ``l = r`` are compared through ``d = l - r``. The answer is right when its
difference is a nonzero constant multiple of the key's (``y = 2x`` and ``2x - y = 0``) or,
failing that, when the numerators of the two differences, each written over a common
denominator without expanding anything, are (``1/x + 1/y = 2`` and ``y = x/(2x - 1)``).
That is STACK's rule (its answer notes ``ATEquation_ratio``): the solutions must agree
with their multiplicities, so ``(x - 2)^2 = 0`` is not ``x = 2`` and ``x^2 = y^2`` is
not ``x = y``. An identity (``x = x``) matches only an identity; two contradictions
(``2 = 3``, ``1 = 4``) match each other.

**Inequalities** ``l < r`` (``<=``, ``>``, ``>=``) are compared by their solution sets.
Both are put in the form ``g > 0`` (or ``g >= 0``) and evaluated at seeded random points,
half of them spread over 10^-3..10^4 in size; a point where a side is undefined is outside
the set. The two must agree at every point, and wherever the key's ``g`` changes sign
between two points, the boundary found there by bisection must be a boundary of the answer
too (so ``x > 1.01`` is not ``x > 1``). Strictness must match (``x > 1`` is not
``x >= 1``), as in STACK. An answer that is the key turned round gets the
``inequality_backwards`` diagnosis. Limitations: one relation per answer (no and/or),
boundaries beyond about 10^4 in size can go unseen, and sets that differ only at
isolated points where ``g`` touches zero without changing sign (``x^2 > 0`` against
``x^2 + (x - 1)^2 > 0``) count as the same.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from itertools import pairwise
from typing import Any
from typing import Literal
from typing import Protocol

from grader.checking.equivalence import PRECISIONS
from grader.checking.equivalence import Comparison
from grader.checking.evaluate import Compiled
from grader.checking.evaluate import Env
from grader.checking.evaluate import EvaluationError
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import Value
from grader.checking.evaluate import checked
from grader.checking.evaluate import compile_node
from grader.checking.evaluate import exact_value
from grader.checking.evaluate import power
from grader.checking.grid import describe
from grader.checking.grid import node_grid
from grader.checking.nodes import Node
from grader.checking.verdict import Diagnosis

Outcome = tuple[str, str, Diagnosis | None, tuple[str, ...] | None, int | None]
"""status, message, diagnosis, per-entry statuses, offset (for ``invalid``)."""

CORRECT = "Correct."
UNDETERMINED = (
    "We could not decide whether your answer is right in the time available; it has not "
    "been marked wrong."
)
NOT_EQUIVALENT_EQUATION = "Your equation is not equivalent to the correct one."
NOT_EQUIVALENT_INEQUALITY = "Your inequality does not describe the same values as the correct one."
BACKWARDS = Diagnosis(
    "inequality_backwards",
    "Your inequality is the wrong way round: check the direction of < and >.",
)

RELATION_POINTS = 48
"""Points at which two inequalities are compared (half of them spread wide)."""

BOUNDARY_PAIRS = 3
"""Sign changes of the key at which the answer's boundary is checked, at most."""

BISECTIONS = 64
"""Halvings of a segment to locate a boundary (about 19 digits)."""

Signed = Callable[[Env], tuple[Value, Value]]
"""A closure giving a value and the size of the parts that cancel in it."""

Kind = Literal["equal", "different", "undetermined"]


class Probe(Protocol):
    """What the relation judges need from a check: comparisons on its seeded points."""

    def comparison(
        self, expected: Compiled, answer: Compiled, nodes: Sequence[Node], index: int
    ) -> tuple[Comparison, list[str]]:
        """A :class:`Comparison` of two closures, and the variables sampled."""
        ...  # pragma: no cover - a protocol


def judge_relation(probe: Probe, expected: Node, answer: Node) -> Outcome:
    """The outcome for a key or an answer that is an equation or an inequality."""
    if expected.op not in ("eq", "rel"):
        what = "an equation" if answer.op == "eq" else "an inequality"
        grid = node_grid(expected)
        wanted = "an expression" if grid is None else describe(grid[0])
        return "invalid", f"Give {wanted}, not {what}.", None, None, answer.at
    if expected.op != answer.op:
        if expected.op == "eq":
            message = "Your answer should be an equation, like y = 2*x + 1."
        else:
            message = "Your answer should be an inequality, like x > 1."
        return "invalid", message, None, None, answer.at if answer.op in ("eq", "rel") else 0
    if expected.op == "eq":
        return judge_equation(probe, expected, answer)
    return judge_inequality(probe, expected, answer)


# -- equations -------------------------------------------------------------------------


def judge_equation(probe: Probe, expected: Node, answer: Node) -> Outcome:
    """Equal up to a constant factor, of the differences or else of their numerators."""
    nodes = (expected, answer)
    kind = _proportional(probe, _difference(expected), _difference(answer), nodes, 0)
    if kind != "equal" and (_has_denominator(expected) or _has_denominator(answer)):
        again = _proportional(probe, _numerator(expected), _numerator(answer), nodes, 2)
        if again != "different":
            kind = again
    if kind == "equal":
        return "correct", CORRECT, None, None, None
    if kind == "undetermined":
        return "undetermined", UNDETERMINED, None, None, None
    return "incorrect", NOT_EQUIVALENT_EQUATION, None, None, None


def _difference(equation: Node) -> Signed:
    left, right = compile_node(equation.args[0]), compile_node(equation.args[1])

    def difference(env: Env) -> tuple[Value, Value]:
        a, b = left(env), right(env)
        return a - b, abs(a) + abs(b)

    return difference


def _numerator(equation: Node) -> Signed:
    left, right = _fraction(equation.args[0]), _fraction(equation.args[1])

    def numerator(env: Env) -> tuple[Value, Value]:
        (left_num, left_den), (right_num, right_den) = left(env), right(env)
        a, b = left_num * right_den, right_num * left_den
        return checked(equation, a - b), abs(a) + abs(b)

    return numerator


def _is_zero(value: Value, scale: Value, env: Env) -> bool:
    """Zero up to the rounding of the precision in use, relative to what cancelled."""
    return not value or abs(value) <= scale * env.ctx.mpf(10) ** (10 - env.ctx.dps)


def _proportional(
    probe: Probe, key: Signed, answer: Signed, nodes: Sequence[Node], index: int
) -> Kind:
    """Whether ``answer`` is a nonzero constant multiple of ``key`` at the seeded points."""

    def key_value(env: Env) -> Value:
        return key(env)[0]

    def answer_value(env: Env) -> Value:
        return answer(env)[0]

    probe_comparison, variables = probe.comparison(key_value, answer_value, nodes, index)
    factor = None
    zero_points = 0
    answer_zero = 0
    for _ in range(20):
        probe_comparison.check_time()
        env = probe_comparison.env(probe_comparison.points.draw(), PRECISIONS[-1])
        try:
            (e, e_scale), (a, a_scale) = key(env), answer(env)
        except (Undefined, Overflow):
            continue
        if _is_zero(e, e_scale, env):
            zero_points += 1
            answer_zero += _is_zero(a, a_scale, env)
            if not variables:
                break
            continue
        factor = a / e
        break
    if factor is None:
        if zero_points >= 3 or (zero_points and not variables):
            # The key holds everywhere (x = x): so must the answer.
            return "equal" if answer_zero == zero_points else "different"
        return "undetermined"
    if not factor:
        return "different"
    scale = factor

    def scaled(env: Env) -> Value:
        return answer_value(env) / env.ctx.mpf(scale)

    comparison, _ = probe.comparison(key_value, scaled, nodes, index + 1)
    decision = comparison.decide(has_variables=bool(variables))
    if decision.outcome == "equal":
        return "equal"
    return "undetermined" if decision.outcome == "undetermined" else "different"


def _has_denominator(node: Node) -> bool:
    for part in node.walk():
        if part.op == "mul" and "/" in part.value:
            return True
        if part.op == "pow" and not part.args[1].has_names and _constant(part.args[1]) < 0:
            return True
    return False


def _constant(node: Node) -> Any:
    try:
        value = exact_value(node)
    except EvaluationError:
        return 0
    return 0 if value is None else value


Ratio = Callable[[Env], tuple[Value, Value]]
"""A closure giving ``(numerator, denominator)``."""


def _fraction(node: Node) -> Ratio:
    """``node`` as ``(numerator, denominator)`` closures, without expanding products."""
    op = node.op
    if op == "group":
        return _fraction(node.args[0])
    if op == "neg":
        inner = _fraction(node.args[0])

        def negated(env: Env) -> tuple[Value, Value]:
            n, d = inner(env)
            return -n, d

        return negated
    if op == "add":
        terms = list(zip(node.value, [_fraction(arg) for arg in node.args], strict=True))

        def added(env: Env) -> tuple[Value, Value]:
            numerator, denominator = env.ctx.zero, env.ctx.one
            for sign, term in terms:
                n, d = term(env)
                numerator = numerator * d + (n * denominator if sign > 0 else -n * denominator)
                denominator = denominator * d
            return checked(node, numerator), checked(node, denominator)

        return added
    if op == "mul":
        factors = list(zip(node.value, [_fraction(arg) for arg in node.args], strict=True))

        def multiplied(env: Env) -> tuple[Value, Value]:
            numerator, denominator = env.ctx.one, env.ctx.one
            for how, factor in factors:
                n, d = factor(env)
                if how == "/":
                    if not n:
                        raise Undefined(node, "divides by zero")
                    n, d = d, n
                numerator, denominator = numerator * n, denominator * d
            return checked(node, numerator), checked(node, denominator)

        return multiplied
    if op == "pow" and not node.args[1].has_names:
        exponent = _constant(node.args[1])
        if getattr(exponent, "denominator", None) == 1:
            base = _fraction(node.args[0])
            k = int(exponent)

            def raised(env: Env) -> tuple[Value, Value]:
                n, d = base(env)
                if k < 0:
                    if not n:
                        raise Undefined(node, "divides by zero")
                    n, d = d, n
                ctx = env.ctx
                size = ctx.mpf(abs(k))
                return (
                    checked(node, power(node, ctx, n, size)),
                    checked(node, power(node, ctx, d, size)),
                )

            return raised
    whole = compile_node(node)
    return lambda env: (whole(env), env.ctx.one)


# -- inequalities ----------------------------------------------------------------------


def judge_inequality(probe: Probe, expected: Node, answer: Node) -> Outcome:
    """Same solution set (sampled, boundaries bisected) and the same strictness."""
    key, key_strict = _normal_form(expected)
    given, given_strict = _normal_form(answer)

    def key_value(env: Env) -> Value:
        return key(env)[0]

    def given_value(env: Env) -> Value:
        return given(env)[0]

    comparison, variables = probe.comparison(key_value, given_value, (expected, answer), 0)
    tries = RELATION_POINTS if variables else 1
    agree = disagree = 0
    seen: list[tuple[Mapping[str, Any], Value, Value]] = []  # point, key g, answer g
    for attempt in range(tries):
        comparison.check_time()
        comparison.points.wide = attempt % 2 == 1
        point = comparison.points.draw()
        env = comparison.env(point, PRECISIONS[0])
        k = _truth(key, key_strict, env)
        a = _truth(given, given_strict, env)
        if k is None or a is None:
            continue
        if k[0] == a[0]:
            agree += 1
        else:
            disagree += 1
        if k[1] is not None and a[1] is not None:
            seen.append((point, k[1], a[1]))
    if disagree:
        diagnosis = BACKWARDS if not agree else None
        message = diagnosis.message if diagnosis else NOT_EQUIVALENT_INEQUALITY
        return "incorrect", message, diagnosis, None, None
    if agree < (3 if variables else 1):
        return "undetermined", UNDETERMINED, None, None, None
    if not _same_boundaries(comparison, key, given, seen):
        return "incorrect", NOT_EQUIVALENT_INEQUALITY, None, None, None
    if key_strict != given_strict:
        wanted = "strict (< or >)" if key_strict else "non-strict (<= or >=)"
        diagnosis = Diagnosis(
            "inequality_strictness",
            f"Your inequality describes the right boundary, but it should be {wanted}.",
        )
        return "incorrect", diagnosis.message, diagnosis, None, None
    return "correct", CORRECT, None, None, None


def _normal_form(relation: Node) -> tuple[Signed, bool]:
    """``g`` with the relation meaning ``g > 0`` (strict) or ``g >= 0``."""
    sign = str(relation.value)
    left, right = compile_node(relation.args[0]), compile_node(relation.args[1])
    if sign.startswith(">"):
        left, right = right, left

    def g(env: Env) -> tuple[Value, Value]:
        a, b = left(env), right(env)
        return b - a, abs(a) + abs(b)

    return g, not sign.endswith("=")


def _truth(g: Signed, strict: bool, env: Env) -> tuple[bool, Value] | None:
    """Whether the point is in the set, and ``g`` there (None where undefined).

    ``None`` overall when the point is too close to the boundary to tell, or too large.
    """
    try:
        value, scale = g(env)
    except Undefined:
        return False, None
    except Overflow:
        return None
    if _is_zero(value, scale, env):
        return None
    return value > 0, value


def _same_boundaries(
    comparison: Comparison,
    key: Signed,
    given: Signed,
    seen: list[tuple[Mapping[str, Any], Value, Value]],
) -> bool:
    """Wherever the key's ``g`` changes sign between two points, so does the answer's
    ``g``, at the same place (checked at a few such places, found by bisection)."""
    checked_pairs = 0
    for (p, kp, ap), (q, kq, aq) in pairwise(seen):
        if (kp > 0) == (kq > 0):
            continue
        comparison.check_time()
        found = _bisect(comparison, key, p, q, kp)
        if found is None:
            continue
        try:
            value, _ = given(found)
        except (Undefined, Overflow):
            continue
        if abs(value) > (abs(ap) + abs(aq)) * found.ctx.mpf(10) ** -9:
            return False
        checked_pairs += 1
        if checked_pairs >= BOUNDARY_PAIRS:
            break
    return True


def _bisect(
    comparison: Comparison,
    g: Signed,
    p: Mapping[str, Any],
    q: Mapping[str, Any],
    g_at_p: Value,
) -> Env | None:
    """The point between ``p`` and ``q`` where ``g`` changes sign, if it is a zero of ``g``
    (not a pole or a gap in its domain)."""
    ctx = comparison.env({}, PRECISIONS[0]).ctx
    start = {name: ctx.mpf(value) for name, value in p.items()}
    step = {name: ctx.mpf(q[name]) - start[name] for name in start}
    low, high = ctx.zero, ctx.one
    positive_at_low = g_at_p > 0
    size = abs(g_at_p)
    env = comparison.env(p, PRECISIONS[0])
    value = g_at_p
    for _ in range(BISECTIONS):
        comparison.check_time()
        middle = (low + high) / 2
        env = comparison.env({n: start[n] + middle * step[n] for n in start}, PRECISIONS[0])
        try:
            value, _ = g(env)
        except (Undefined, Overflow):
            return None
        size = max(size, abs(value))
        if not value:
            break
        if (value > 0) == positive_at_low:
            low = middle
        else:
            high = middle
    if abs(value) > size * ctx.mpf(10) ** -12:
        return None  # the sign changed across a pole or a jump, not a boundary
    return env
