"""Equations and inequalities: when two relations say the same thing.

**Equations** ``l = r`` are compared through ``d = l - r``. The answer is right when its
difference is a nonzero constant multiple of the key's (``y = 2x`` and ``2x - y = 0``) or,
failing that, when the numerators of the two differences, each written over a common
denominator without expanding anything, are (``1/x + 1/y = 2`` and ``y = x/(2x - 1)``).
That is STACK's rule (its answer notes ``ATEquation_ratio``): the solutions must agree
with their multiplicities, so ``(x - 2)^2 = 0`` is not ``x = 2`` and ``x^2 = y^2`` is
not ``x = y``. An identity (``x = x``) matches only an identity; two contradictions
(``2 = 3``, ``1 = 4``) match each other.

**Inequalities** ``l < r`` (``<=``, ``>``, ``>=``) are compared by their solution sets,
each put in the form ``g > 0`` (or ``g >= 0``). A point where a side is undefined is
outside the set; where ``g`` is zero to within the rounding of 30 digits it is evaluated
again at 120, and zero there puts the point in the set exactly when the relation is
non-strict (so ``relu(z) >= 0`` holds for every ``z``). What is checked:

* The two agree at 48 seeded points, half of them spread over 10^-3..10^4 in size. If
  they disagree at every point, the answer gets the ``inequality_backwards`` diagnosis.
* Boundaries: wherever the key's truth changes between two neighbouring points (in order
  along the line with one variable, in the order drawn with more), at up to 3 places,
  the place where it changes is located to 10^-12 by bracketing on truth values (at a
  zero of ``g``, a pole, the edge of the domain or a jump alike), and the answer's
  truth must equal the key's at 10^-9 * max(1, |b|) on either side of that boundary
  ``b`` (its largest variable), a difference confirmed at 120 digits: the answer's
  boundary must be within that distance of the key's. So ``x > 1.00000001`` is not
  ``x > 1``, ``log(x - 2) > -2`` is not ``x > 2``, and ``1/(x - 2) > 0`` is.
* Boundary points: at each boundary found, the boundary point must be in both sets or
  in neither (``x >= 1`` is not ``x > 1``, ``1/(x - 2) >= 0`` is ``x > 2``), else the
  ``inequality_strictness`` diagnosis. With one variable, a boundary within 10^-15 of a
  number of at most 20 binary places (``0``, ``2``, ``-1.5``) is evaluated there;
  otherwise ``g`` tending to zero at the boundary puts it in the set unless the relation
  is strict, a pole puts it outside, and anything else (a jump, or the edge of the
  domain, off such a number or with more variables) is not compared. Strictness alone
  is never compared: without a boundary (``sigmoid(z) > 0`` and ``sigmoid(z) >= 0``,
  both every ``z``) the sets are the same.

Limitations: one relation per answer (no and/or); boundaries beyond about 10^4 in size,
or closer together than the points, can go unseen; boundaries closer than 10^-9 * max(1,
|b|) count as the same (``x > 10^-10`` is ``x > 0``); and sets that differ only at
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
from grader.checking.evaluate import context
from grader.checking.evaluate import exact_value
from grader.checking.evaluate import power
from grader.checking.grid import describe
from grader.checking.grid import node_grid
from grader.checking.nodes import Node
from grader.checking.render import to_text
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
"""Boundaries of the key at which the answer's is checked, at most."""

LOCATE_STEPS = 100
"""Halvings a boundary may need to be located, at most (55 on a segment 2*10^4 long; on
one over about 10^18 long, the boundary is not checked)."""

LOCATE_TOLERANCE = 1e-12
"""A boundary is located to this (absolute, in each variable)."""

BOUNDARY_TOLERANCE = 1e-9
"""Two boundaries are the same when no variable differs between them by more than this
times the boundary's size (its largest variable, and at least 1)."""

SNAP_BITS = 20
"""Binary places of an exact boundary point tried with one variable (``2``, ``0.375``)."""

SNAP_TOLERANCE = 1e-15
"""How far (relative) from a located boundary its exact point may be."""

APPROACH_BITS = 24
"""``g`` is compared at 2^24 times the width of a boundary's bracket and at the bracket,
to see how it behaves there."""

APPROACH_ZERO = 2e-2
"""``|g|`` shrinking by this factor from there to the bracket means ``g`` tends to zero
(a root of order up to 4); growing by its inverse means a pole."""

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

    def nonvanishing(self, node: Node) -> bool:
        """Whether ``node`` is, by its structure, defined and nonzero on the domain."""
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
    if kind == "different":
        # A factor that is defined and nonzero everywhere changes no solution:
        # s^2*exp(s*t) = 0 is s^2 = 0 (STACK's rule). Never (x - 2)^2 or exp(1/x).
        for number, factor in enumerate(_nonvanishing_factors(probe, expected, answer)):
            scale = compile_node(factor)
            index = 4 + 2 * number
            again = _proportional(
                probe, _times(_difference(expected), scale), _difference(answer), nodes, index
            )
            if again != "equal":
                again = _proportional(
                    probe,
                    _difference(expected),
                    _times(_difference(answer), scale),
                    nodes,
                    index + 1,
                )
            if again == "equal":
                kind = "equal"
                break
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


MAX_FACTORS = 4
"""Nonvanishing factors tried, at most, on an equation that is otherwise wrong."""


def _nonvanishing_factors(probe: Probe, *equations: Node) -> list[Node]:
    """Factors of either side of either equation (of the side, or of one of its terms)
    that are not constant and, by their structure, defined and nonzero everywhere."""
    found: dict[str, Node] = {}
    for equation in equations:
        for side in equation.args:
            for factor in _factors(side):
                if len(found) >= MAX_FACTORS:
                    return list(found.values())
                text = to_text(factor)
                if factor.has_names and text not in found and probe.nonvanishing(factor):
                    found[text] = factor
    return list(found.values())


def _factors(side: Node) -> list[Node]:
    node = side.unwrap()
    if node.op == "neg":
        node = node.args[0].unwrap()
    terms = list(node.args) if node.op == "add" else [node]
    out: list[Node] = []
    for term in terms:
        term = term.unwrap()
        if term.op == "neg":
            term = term.args[0].unwrap()
        out.extend(arg.unwrap() for arg in term.args) if term.op == "mul" else out.append(term)
    return out


def _times(difference: Signed, factor: Compiled) -> Signed:
    def scaled(env: Env) -> tuple[Value, Value]:
        value, scale = difference(env)
        f = factor(env)
        return value * f, scale * abs(f)

    return scaled


def _numerator(equation: Node) -> Signed:
    left, right = _fraction(equation.args[0]), _fraction(equation.args[1])

    def numerator(env: Env) -> tuple[Value, Value]:
        (left_num, left_den), (right_num, right_den) = left(env), right(env)
        a, b = left_num * right_den, right_num * left_den
        return checked(equation, a - b), abs(a) + abs(b)

    return numerator


_ROUNDING: dict[int, Value] = {}


def _is_zero(value: Value, scale: Value, env: Env) -> bool:
    """Zero up to the rounding of the precision in use, relative to what cancelled."""
    if not value:
        return True
    ctx = env.ctx
    rounding = _ROUNDING.get(ctx.prec)
    if rounding is None:
        rounding = _ROUNDING[ctx.prec] = ctx.mpf(10) ** (10 - ctx.dps)
    return bool(abs(value) <= scale * rounding)


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
    # An equation means its solutions: where a side is undefined there are none, so
    # definedness is not compared point by point (x^2 = a against
    # (x - sqrt(a))(x + sqrt(a)) = 0).
    decision = comparison.decide(has_variables=bool(variables), strict=False)
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


Relation = tuple[Signed, bool]
"""``g`` and whether the relation is strict: ``g > 0`` or ``g >= 0``."""


class _Place:
    """A point, with its evaluation environment at each precision built when first
    needed (the key and the answer share them)."""

    __slots__ = ("definitions", "envs", "values")

    def __init__(self, comparison: Comparison, values: Callable[[Any], dict[str, Value]]) -> None:
        self.definitions = comparison.definitions
        self.values = values
        self.envs: dict[int, Env] = {}

    @classmethod
    def sampled(cls, comparison: Comparison, point: Mapping[str, Any]) -> _Place:
        return cls(comparison, lambda ctx: {name: ctx.mpf(x) for name, x in point.items()})

    def env(self, dps: int) -> Env:
        env = self.envs.get(dps)
        if env is None:
            ctx = context(dps)
            env = self.envs[dps] = Env(ctx, self.values(ctx), self.definitions)
        return env


def judge_inequality(probe: Probe, expected: Node, answer: Node) -> Outcome:
    """Same solution set (sampled, boundaries bisected) and the same boundary points."""
    key = _normal_form(expected)
    given = _normal_form(answer)

    def key_value(env: Env) -> Value:
        return key[0](env)[0]

    def given_value(env: Env) -> Value:
        return given[0](env)[0]

    comparison, variables = probe.comparison(key_value, given_value, (expected, answer), 0)
    tries = RELATION_POINTS if variables else 1
    agree = disagree = 0
    seen: list[tuple[Mapping[str, float], bool]] = []  # both truths known; the key's
    for attempt in range(tries):
        comparison.check_time()
        comparison.points.wide = attempt % 2 == 1
        point = comparison.points.draw()
        place = _Place.sampled(comparison, point)
        k = _truth(key, place)
        a = _truth(given, place)
        if k is None or a is None:
            continue
        if k == a:
            agree += 1
        else:
            disagree += 1
        seen.append((point, k))
    if disagree:
        diagnosis = BACKWARDS if not agree else None
        message = diagnosis.message if diagnosis else NOT_EQUIVALENT_INEQUALITY
        return "incorrect", message, diagnosis, None, None
    if agree < (3 if variables else 1):
        return "undetermined", UNDETERMINED, None, None, None
    if len(variables) == 1:
        # Neighbours on the line: each flip of the key is a different boundary.
        (name,) = variables
        seen.sort(key=lambda entry: entry[0][name])
    boundaries = _boundaries(comparison, key, given, seen)
    if boundaries is None:
        return "incorrect", NOT_EQUIVALENT_INEQUALITY, None, None, None
    for key_member, given_member in boundaries:
        if key_member is None or given_member is None or key_member == given_member:
            continue
        message, diagnosis = _boundary_point_message(key, given, key_member)
        return "incorrect", message, diagnosis, None, None
    return "correct", CORRECT, None, None, None


def _boundary_point_message(
    key: Relation, given: Relation, key_member: bool
) -> tuple[str, Diagnosis]:
    """The message when the boundary is right but its own points are not (in or out)."""
    key_strict, given_strict = key[1], given[1]
    if key_strict != given_strict and given_strict == key_member:
        wanted = "strict (< or >)" if key_strict else "non-strict (<= or >=)"
        message = f"Your inequality describes the right boundary, but it should be {wanted}."
    else:
        should = "should" if key_member else "should not"
        message = (
            "Your inequality describes the right boundary, but the boundary itself "
            f"{should} satisfy it."
        )
    return message, Diagnosis("inequality_strictness", message)


def _normal_form(relation: Node) -> Relation:
    """``g`` with the relation meaning ``g > 0`` (strict) or ``g >= 0``."""
    sign = str(relation.value)
    left, right = compile_node(relation.args[0]), compile_node(relation.args[1])
    if sign.startswith(">"):
        left, right = right, left

    def g(env: Env) -> tuple[Value, Value]:
        a, b = left(env), right(env)
        return b - a, abs(a) + abs(b)

    return g, not sign.endswith("=")


def _truth(relation: Relation, place: _Place, dps: int = PRECISIONS[0]) -> bool | None:
    """Whether the point is in the set: ``False`` where ``g`` is undefined, ``None`` where
    a value is too large to use (see :func:`_evaluate`)."""
    return _evaluate(relation, place, dps)[0]


def _evaluate(
    relation: Relation, place: _Place, dps: int = PRECISIONS[0]
) -> tuple[bool | None, Value]:
    """Whether the point is in the set, and ``g`` there (``None`` where undefined).

    Where ``g`` is zero to within the rounding of ``dps`` digits it is evaluated again at
    120; zero there is zero, and the point is in the set unless the relation is strict.
    """
    g, strict = relation
    for digits in sorted({dps, PRECISIONS[-1]}):
        env = place.env(digits)
        try:
            value, scale = g(env)
        except Undefined:
            return False, None
        except Overflow:
            return None, None
        if not _is_zero(value, scale, env):
            return bool(value > 0), value
    return not strict, 0


Bracket = tuple[Value, Value]
"""``(low, high)``: fractions of the way from one point to the next, at 120 digits."""

Membership = tuple[bool | None, bool | None]
"""Whether a boundary point is in the key's set, and in the answer's (None: unknown)."""


class _Segment:
    """The points ``p + t (q - p)`` for ``0 <= t <= 1``, between two sampled points."""

    def __init__(self, comparison: Comparison, p: Mapping[str, float], q: Mapping[str, float]):
        self.comparison = comparison
        self.ctx = context(PRECISIONS[-1])
        ctx = self.ctx
        self.start = {name: ctx.mpf(value) for name, value in p.items()}
        self.step = {name: ctx.mpf(q[name]) - self.start[name] for name in self.start}
        self.longest = max((abs(step) for step in self.step.values()), default=ctx.zero)
        self.parts: dict[int, list[tuple[str, Value, Value]]] = {}

    def at(self, t: Value) -> dict[str, Value]:
        """The point at ``t``, at 120 digits."""
        return {name: self.start[name] + t * self.step[name] for name in self.start}

    def place(self, t: Value) -> _Place:
        """The point at ``t``, computed in each precision it is evaluated at."""

        def values(ctx: Any) -> dict[str, Value]:
            parts = self.parts.get(ctx.prec)
            if parts is None:
                parts = self.parts[ctx.prec] = [
                    (name, ctx.mpf(self.start[name]), ctx.mpf(self.step[name]))
                    for name in self.start
                ]
            fraction = ctx.mpf(t)
            return {name: start + fraction * step for name, start, step in parts}

        return _Place(self.comparison, values)

    def size(self, t: Value) -> Value:
        """The largest magnitude of a variable at ``t``, and at least 1."""
        return max([self.ctx.one, *(abs(value) for value in self.at(t).values())])


def _boundaries(
    comparison: Comparison,
    key: Relation,
    given: Relation,
    seen: list[tuple[Mapping[str, float], bool]],
) -> list[Membership] | None:
    """Wherever the key's truth flips between two neighbouring points, the answer's
    flips at the same place (each located on its own truth; see
    :data:`BOUNDARY_TOLERANCE`). ``None`` when a boundary differs; otherwise whether each
    boundary point found belongs to each set."""
    found: list[Membership] = []
    for (p, kp), (q, kq) in pairwise(seen):
        if kp == kq:
            continue
        if len(found) >= BOUNDARY_PAIRS:
            break
        segment = _Segment(comparison, p, q)
        brackets = _same_boundary(comparison, key, given, segment)
        if brackets is None:
            continue
        if brackets is False:
            return None
        key_bracket, given_bracket = brackets
        found.append(
            (
                _member(comparison, key, segment, key_bracket),
                _member(comparison, given, segment, given_bracket),
            )
        )
    return found


def _same_boundary(
    comparison: Comparison, key: Relation, given: Relation, segment: _Segment
) -> tuple[Bracket, Bracket] | Literal[False] | None:
    """The key's boundary on the segment and the answer's, when the answer's is within
    :data:`BOUNDARY_TOLERANCE` of the key's; ``False`` when it is not, ``None`` when a
    value on the way is too large to tell.

    The answer's truth is compared with the key's just outside that tolerance on both
    sides of the key's boundary (so it flips in between), then its boundary is located
    there. Where the two differ, they differ again at more digits or it was rounding.
    """
    ctx = segment.ctx
    for dps in PRECISIONS:
        key_bracket = _locate(comparison, key, segment, dps, ctx.zero, ctx.one)
        if key_bracket is None:
            return None
        low, high = key_bracket
        slack = BOUNDARY_TOLERANCE * segment.size(low) / segment.longest
        ends = (max(ctx.zero, low - slack), min(ctx.one, high + slack))
        places = [segment.place(t) for t in ends]
        key_truths = [_truth(key, place, dps) for place in places]
        given_truths = [_truth(given, place, dps) for place in places]
        if None in key_truths or None in given_truths or key_truths[0] == key_truths[1]:
            return None
        if key_truths == given_truths:
            given_bracket = _locate(comparison, given, segment, dps, *ends)
            return None if given_bracket is None else (key_bracket, given_bracket)
        for place, k, a in zip(places, key_truths, given_truths, strict=True):
            if k != a and _truth(key, place, PRECISIONS[-1]) != _truth(
                given, place, PRECISIONS[-1]
            ):
                return False
    return False


def _locate(
    comparison: Comparison,
    relation: Relation,
    segment: _Segment,
    dps: int,
    low: Value,
    high: Value,
) -> Bracket | None:
    """Where between ``low`` and ``high`` on the segment the truth of ``relation`` flips
    (at a zero of ``g``, a pole, or the edge of its domain), bracketed to
    :data:`LOCATE_TOLERANCE`; ``None`` when it does not flip there, as far as the points
    evaluated show, or a value overflows.

    Each step keeps one end's truth at one side of the bracket and the other end's at
    the other. The split points are those of the ITP method (Oliveira and Takahashi,
    2020): interpolated where ``g`` is defined at both ends with opposite signs, but
    never more than one step slower than halving, so a zero of ``g`` takes a few
    steps and a pole or the edge of the domain one per halving.
    """
    ctx = segment.ctx
    if not segment.longest:
        return None
    at_low, g_low = _evaluate(relation, segment.place(low), dps)
    at_high, g_high = _evaluate(relation, segment.place(high), dps)
    if at_low is None or at_high is None or at_low == at_high:
        return None
    target = ctx.mpf(LOCATE_TOLERANCE) / segment.longest
    halvings = max(0, int(ctx.ceil(ctx.log((high - low) / target, 2))))
    if halvings > LOCATE_STEPS:
        return None
    steps = halvings + 1
    truncation = ctx.mpf("0.2") / (high - low)
    for step in range(steps + 1):
        width = high - low
        if width <= target:
            return low, high
        comparison.check_time()
        middle = (low + high) / 2
        t = middle
        if _opposite(g_low, g_high):
            guess = (g_high * low - g_low * high) / (g_high - g_low)
            toward = 1 if middle >= guess else -1
            shift = truncation * width**2
            guess = guess + toward * shift if shift <= abs(middle - guess) else middle
            radius = ctx.ldexp(target / 2, steps - step) - width / 2
            t = guess if abs(guess - middle) <= radius else middle - toward * radius
        truth, value = _evaluate(relation, segment.place(t), dps)
        if truth is None:
            return None
        if truth == at_low:
            low, g_low = t, value
        else:
            high, g_high = t, value
    return (low, high) if high - low <= target else None


def _opposite(one: Value, other: Value) -> bool:
    """Both defined, of opposite signs (or one zero), and not equal."""
    if one is None or other is None or one == other:
        return False
    return bool((one <= 0 <= other) or (other <= 0 <= one))


def _member(
    comparison: Comparison, relation: Relation, segment: _Segment, bracket: Bracket
) -> bool | None:
    """Whether the boundary point in ``bracket`` is in the set (None: cannot tell).

    With one variable, a boundary at a short binary fraction (``0``, ``2``, ``-1.5``) is
    that exact point, evaluated there. Elsewhere it is judged by how ``g`` behaves as the
    boundary is approached: tending to zero (a zero of ``g``: in the set unless the
    relation is strict), growing without bound (a pole: not in the set), or neither (a
    jump, or the edge of the domain: unknown).
    """
    ctx = segment.ctx
    if len(segment.start) == 1:
        ((name, value),) = segment.at(bracket[0]).items()
        other = segment.at(bracket[1])[name]
        low, high = min(value, other), max(value, other)
        slack = SNAP_TOLERANCE * max(ctx.one, abs(value))
        exact = _short_binary_fraction(ctx, low - slack, high + slack)
        if exact is not None:
            return _truth_on_boundary(relation, _Place.sampled(comparison, {name: exact}))
    g, strict = relation
    far = (bracket[1] - bracket[0]) * 2**APPROACH_BITS
    ratios = []
    for near_t, far_t in (
        (bracket[0], max(ctx.zero, bracket[0] - far)),
        (bracket[1], min(ctx.one, bracket[1] + far)),
    ):
        comparison.check_time()
        try:
            near = g(segment.place(near_t).env(PRECISIONS[0]))[0]
            away = g(segment.place(far_t).env(PRECISIONS[0]))[0]
        except (Undefined, Overflow):
            continue
        if away:
            ratios.append(abs(near) / abs(away))
    if any(ratio <= APPROACH_ZERO for ratio in ratios):
        return not strict
    if ratios and all(ratio >= 1 / APPROACH_ZERO for ratio in ratios):
        return False
    return None


def _truth_on_boundary(relation: Relation, place: _Place) -> bool | None:
    """Like :func:`_truth`, where ``g`` is likely to be zero: a value that shrinks as
    the precision grows (``cos(x - pi/2)`` at 0) is rounding, and counts as zero."""
    strict = relation[1]
    truth, value = _evaluate(relation, place, PRECISIONS[0])
    if value is None or not value:
        return truth
    again, closer = _evaluate(relation, place, PRECISIONS[1])
    if closer is None:
        return again
    shrink = place.env(PRECISIONS[1]).ctx.mpf(10) ** (5 - PRECISIONS[1] + PRECISIONS[0])
    if not closer or abs(closer) <= shrink * abs(value):
        return not strict
    return again


def _short_binary_fraction(ctx: Any, low: Value, high: Value) -> Value | None:
    """The number in ``[low, high]`` with the fewest binary places (at most
    :data:`SNAP_BITS`), if there is one."""
    for bits in range(SNAP_BITS + 1):
        scale = ctx.mpf(2) ** bits
        candidate = ctx.ceil(low * scale)
        if candidate <= high * scale:
            return candidate / scale
    return None
