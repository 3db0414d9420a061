"""Deciding whether two expressions agree, by high-precision evaluation at set points.

Two expressions are equivalent when the answer is defined wherever the key is (on the
declared domain, apart from isolated points such as the ``x = -1`` of
``(x^2 - 1)/(x + 1)``) and the two agree there. Both are evaluated at every point of a
plan that comes from the key alone (:mod:`grader.checking.sampling`,
:mod:`grader.checking.kinks`), plus points beside the answer's own kinks; one point
where they differ, or where the key is defined and the answer is not, decides.

At each point both are evaluated with mpmath at 30 significant digits. Values that
agree to 25 digits agree. Otherwise both are evaluated again on intervals
(:mod:`grader.checking.intervals`): disjoint intervals are a real difference; intervals
that overlap and are narrow (12 digits) agree; wide ones, the rounding of cancelling
terms, are evaluated again at 60 and 120 digits. A point that stays undecided counts for
neither side, so a key that underflows to 0 where the answer is merely tiny
(``1 - tanh(w x)^2`` against ``4/(e^(w x) + e^(-w x))^2`` at ``w x = 900``) costs nothing.

The first agreeing point is always confirmed at 60 digits, so a difference too small
for 30 digits to see (``x`` against ``x + 10^-40``) is still found; below about 10^-55
relative, two answers count as equal. An answer undefined at a point where the key is
defined is wrong only when its intervals show it undefined for sure (the log of a number
that is negative, not one that rounded to zero).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from grader.checking.evaluate import Compiled
from grader.checking.evaluate import Env
from grader.checking.evaluate import EvaluationError
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import Value
from grader.checking.evaluate import context
from grader.checking.intervals import IntervalEnv
from grader.checking.intervals import IntervalFn
from grader.checking.intervals import Uncertain
from grader.checking.intervals import compile_interval
from grader.checking.intervals import relative_width
from grader.checking.limits import budget_clock
from grader.checking.nodes import Node
from grader.checking.sampling import PointSource

logger = logging.getLogger(__name__)

PRECISIONS = (30, 60, 120)
"""Decimal digits of the successive evaluations at one point."""

MIN_POINTS = 3
"""Fewest agreeing points still accepted as evidence of equivalence."""

AGREEMENT_DIGITS = 12
"""Overlapping intervals at most this narrow (relative) count as agreement."""


_POWERS: dict[tuple[int, int], Value] = {}


def _power_of_ten(ctx: Any, exponent: int) -> Value:
    key = (ctx.prec, exponent)
    if key not in _POWERS:
        _POWERS[key] = ctx.mpf(10) ** exponent
    return _POWERS[key]


class TimeBudgetExceeded(Exception):
    """The check ran out of its time budget; the verdict becomes ``undetermined``."""


@dataclass
class Sample:
    """Both values at one point where both are defined (at the best precision used)."""

    point: dict[str, float]
    expected: Value
    answer: Value


@dataclass
class Decision:
    """The outcome of comparing two scalar expressions.

    ``point`` and ``error`` say where and why the answer was undefined when ``reason``
    is ``answer_undefined``.
    """

    outcome: Literal["equal", "different", "undetermined"]
    reason: str = ""
    samples: list[Sample] = field(default_factory=list)
    answer_undefined: int = 0
    point: dict[str, float] | None = None
    error: EvaluationError | None = None


class Bounds:
    """Interval versions of both sides (and of the definitions), compiled when first
    needed: most checks never need them."""

    def __init__(
        self,
        expected: Node,
        answer: Node,
        definitions: Callable[[], Mapping[str, IntervalFn]],
    ) -> None:
        self._nodes = (expected, answer)
        self._definitions = definitions

    @property
    def expected(self) -> IntervalFn:
        return compile_interval(self._nodes[0])

    @property
    def answer(self) -> IntervalFn:
        return compile_interval(self._nodes[1])

    @property
    def definitions(self) -> Mapping[str, IntervalFn]:
        return self._definitions()


Outcome = Literal["equal", "different", "unreliable", "skip", "answer_undefined"]


class Comparison:
    """Evaluates the expected and the answer expression side by side at points.

    Args:
        expected: compiled expected expression.
        answer: compiled answer expression.
        definitions: compiled bodies of defined names (``s = sigmoid(z)``).
        points: random points on demand (inequalities and equations draw from it).
        deadline: ``budget_clock()`` value after which we give up.
        plan: the fixed points :meth:`decide` compares at, in order.
        expected_values: the key's value at each plan point at 30 digits, ``None``
            where it is undefined; computed here when not given.
        bounds: interval versions, to tell real differences from rounding.
    """

    def __init__(
        self,
        expected: Compiled,
        answer: Compiled,
        definitions: Mapping[str, Compiled],
        points: PointSource,
        deadline: float,
        plan: Sequence[Mapping[str, float]] = (),
        expected_values: Sequence[Value | None] | None = None,
        bounds: Bounds | None = None,
        converted: Sequence[Mapping[str, Value]] = (),
        zero_widths: Sequence[Value | None] = (),
    ) -> None:
        self.expected = expected
        self.answer = answer
        self.definitions = definitions
        self.points = points
        self.deadline = deadline
        self.plan = [dict(point) for point in plan]
        self.expected_values = list(expected_values) if expected_values is not None else None
        self.bounds = bounds
        self.converted = list(converted)
        self.zero_widths = list(zero_widths)
        self.used: set[int] = set()

    def env(
        self, point: Mapping[str, float], dps: int, converted: Mapping[str, Value] | None = None
    ) -> Env:
        """An evaluation environment for ``point`` at ``dps`` digits (``converted``: the
        point already at 30 digits)."""
        ctx = context(dps)
        if converted is not None and dps == PRECISIONS[0]:
            return Env(ctx, converted, self.definitions)
        return Env(ctx, {name: ctx.mpf(value) for name, value in point.items()}, self.definitions)

    def check_time(self) -> None:
        """Raise :class:`TimeBudgetExceeded` once the deadline has passed."""
        if budget_clock() > self.deadline:
            raise TimeBudgetExceeded

    def _expected_at(self, index: int, point: Mapping[str, float]) -> Value | None:
        """The key's value at plan point ``index`` at 30 digits (``None``: undefined)."""
        if self.expected_values is not None and index < len(self.expected_values):
            return self.expected_values[index]
        try:
            return self.expected(self.env(point, PRECISIONS[0]))
        except (Undefined, Overflow):
            return None

    def _intervals(
        self, point: Mapping[str, float], dps: int
    ) -> Literal["disjoint", "agree", "unknown", "hopeless", "unbounded"]:
        """What interval evaluation says about the difference at ``point``: ``hopeless``
        when even 120 digits could not narrow the intervals enough to tell (a key that
        rounds to 0 where the answer is ``1e-782``)."""
        if self.bounds is None:
            return "unbounded"
        ctx = context(dps)
        values = {name: ctx.mpf(value) for name, value in point.items()}
        try:
            expected = self.bounds.expected(IntervalEnv(ctx, values, self.bounds.definitions))
            answer = self.bounds.answer(IntervalEnv(ctx, values, self.bounds.definitions))
        except Uncertain:
            return "unbounded"
        except (Undefined, Overflow):
            return "unknown"
        if answer[1] < expected[0] or expected[1] < answer[0]:
            return "disjoint"
        limit = _power_of_ten(ctx, -AGREEMENT_DIGITS)
        if relative_width(expected) <= limit and relative_width(answer) <= limit:
            return "agree"
        width = max(expected[1] - expected[0], answer[1] - answer[0])
        size = max(abs(expected[0]), abs(expected[1]), abs(answer[0]), abs(answer[1]))
        smallest = min((abs(v) for v in (*expected, *answer) if v), default=ctx.zero)
        # Each 30 more digits narrow the widths 10^30-fold; the smallest nonzero bound is
        # the size of what must be resolved.
        reach = _power_of_ten(ctx, dps - PRECISIONS[-1] - AGREEMENT_DIGITS)
        if not smallest or width * reach > min(smallest, size) * limit:
            return "hopeless"
        return "unknown"

    def answer_undefined_for_sure(self, point: Mapping[str, float], dps: int) -> bool | None:
        """Whether the answer's intervals show it undefined at ``point`` (``None``: they
        cannot tell, so more digits may)."""
        if self.bounds is None:
            return True
        ctx = context(dps)
        values = {name: ctx.mpf(value) for name, value in point.items()}
        try:
            self.bounds.answer(IntervalEnv(ctx, values, self.bounds.definitions))
        except Undefined:
            return True
        except (Uncertain, Overflow):
            return None
        return None

    def compare_at(
        self,
        point: Mapping[str, float],
        confirm: bool = False,
        expected_30: Value | None = None,
        converted: Mapping[str, Value] | None = None,
        zero_width: Value | None = None,
    ) -> tuple[Outcome, Sample | None, EvaluationError | None]:
        """Compare at one point: ``equal``, ``different``, ``unreliable``, ``skip`` (the
        key undefined, or a value too large) or ``answer_undefined``.

        With ``confirm``, agreement at 30 digits is checked again at 60.
        """
        previous: Value = None
        previous_dps = 0
        sample: Sample | None = None
        undefined: EvaluationError | None = None
        for dps in PRECISIONS:
            env = self.env(point, dps, converted)
            ctx = env.ctx
            try:
                if dps == PRECISIONS[0] and expected_30 is not None:
                    expected = expected_30
                else:
                    expected = self.expected(env)
            except (Undefined, Overflow):
                return "skip", None, None
            try:
                answer = self.answer(env)
            except Undefined as exc:
                sure = self.answer_undefined_for_sure(point, dps)
                if sure:
                    return "answer_undefined", None, exc
                undefined = exc
                continue
            except Overflow:
                return "skip", None, None
            undefined = None
            sample = Sample(dict(point), expected, answer)
            rounded_zero = zero_width is not None and dps == PRECISIONS[0] and not expected
            if rounded_zero and abs(answer) <= zero_width:
                # The key rounded to 0 here (its interval is this wide): an answer this
                # small agrees as far as can be told, and tells nothing.
                return "unreliable", sample, None
            difference = answer - expected
            scale = max(abs(answer), abs(expected))
            close = not difference or abs(difference) <= _power_of_ten(ctx, 5 - dps) * scale
            if close:
                if confirm and dps == PRECISIONS[0]:
                    previous, previous_dps = difference, dps
                    continue
                return "equal", sample, None
            if previous is not None:
                # A difference that shrank with the precision was rounding.
                earlier = ctx.mpf(previous)
                shrink = _power_of_ten(ctx, 5 - (dps - previous_dps))
                if earlier and abs(difference) <= shrink * abs(earlier):
                    return "equal", sample, None
            if previous is not None or dps == PRECISIONS[-1]:
                # Different at two precisions: the intervals say whether it is real.
                bounded = self._intervals(point, dps)
                if bounded == "disjoint":
                    return "different", sample, None
                if bounded == "agree":
                    return "equal", sample, None
                if bounded == "hopeless":
                    return "unreliable", sample, None
                if self.bounds is None and previous is not None:
                    # Without intervals (the closures of relations), a difference that
                    # stays put as the precision grows is taken as real. With them, one
                    # they cannot bound (a sqrt of what rounded to 0) is left undecided.
                    earlier = ctx.mpf(previous)
                    if abs(difference - earlier) <= abs(difference) / 1000:
                        return "different", sample, None
            previous, previous_dps = difference, dps
        if undefined is not None:
            return "skip", None, None
        return "unreliable", sample, None

    def decide(self, has_variables: bool, strict: bool = True) -> Decision:
        """Compare at every point of the plan (the first, for constants).

        With ``strict``, a point where the key is defined and the answer is not decides
        ``different`` (reason ``answer_undefined``); otherwise it is skipped.

        Raises:
            TimeBudgetExceeded: when the deadline passes first.
        """
        count = len(self.plan) if has_variables else min(1, len(self.plan))
        minimum = MIN_POINTS if has_variables else 1
        samples: list[Sample] = []
        answer_undefined = 0
        unreliable = 0
        for index in range(count):
            self.check_time()
            point = self.plan[index]
            expected_30 = self._expected_at(index, point)
            if expected_30 is None:
                continue
            self.used.add(index)
            outcome, sample, error = self.compare_at(
                point,
                confirm=not samples,
                expected_30=expected_30,
                converted=self.converted[index] if index < len(self.converted) else None,
                zero_width=self.zero_widths[index] if index < len(self.zero_widths) else None,
            )
            if outcome == "different":
                assert sample is not None
                return Decision("different", "differs", [sample, *samples], answer_undefined)
            if outcome == "answer_undefined":
                if strict:
                    return Decision(
                        "different",
                        "answer_undefined",
                        samples,
                        answer_undefined + 1,
                        point=dict(point),
                        error=error,
                    )
                answer_undefined += 1
            elif outcome == "equal":
                assert sample is not None
                samples.append(sample)
            elif outcome == "unreliable":
                unreliable += 1
        if len(samples) >= minimum:
            return Decision("equal", "agrees", samples, answer_undefined)
        if not samples and answer_undefined >= minimum:
            return Decision("different", "answer_undefined", [], answer_undefined)
        reason = "unreliable" if unreliable else "no_points"
        logger.info(
            "equivalence undetermined: reason=%s agreeing=%d unreliable=%d",
            reason,
            len(samples),
            unreliable,
        )
        return Decision("undetermined", reason, samples, answer_undefined)

    def more_samples(self, count: int, max_tries: int = 30) -> list[Sample]:
        """Up to ``count`` further points where both are defined, at 30 digits: plan
        points not compared yet, then random ones."""
        found: list[Sample] = []
        unused = [point for index, point in enumerate(self.plan) if index not in self.used]
        for attempt in range(len(unused) + max_tries):
            if len(found) >= count or budget_clock() > self.deadline:
                break
            point = unused[attempt] if attempt < len(unused) else self.points.draw()
            env = self.env(point, PRECISIONS[0])
            try:
                found.append(Sample(point, self.expected(env), self.answer(env)))
            except (Undefined, Overflow):
                continue
        return found
