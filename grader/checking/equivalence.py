"""Deciding whether two expressions agree, by high-precision evaluation at random points.

Two expressions are equivalent when they agree wherever both are defined on the
declared domain. At each point both are evaluated with mpmath at 30 significant digits;
if they differ there, they are re-evaluated at 60 (and 120) digits: a real difference
stays put as the precision grows, a rounding artefact of cancellation shrinks. So
``(x-a)^6000`` against ``(x-a)^5999*(x-a)`` or heavy cancellation is decided right,
in milliseconds, and nothing is ever expanded or simplified symbolically.

The first agreeing point is always confirmed at 60 digits, so a difference too small
for 30 digits to see (``x`` against ``x + 10^-40``) is still found; below about 10^-55
relative, two answers count as equal. When fewer than three points agree halfway
through, the rest are drawn over a wider range (for keys defined only far out, and
answers defined on a small part of the key's domain).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from grader.checking.evaluate import Compiled
from grader.checking.evaluate import Env
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import Value
from grader.checking.evaluate import context
from grader.checking.limits import budget_clock
from grader.checking.sampling import PointSource

logger = logging.getLogger(__name__)

PRECISIONS = (30, 60, 120)
"""Decimal digits of the successive evaluations at one point."""

TARGET_POINTS = 8
"""Agreeing points we look for before calling two expressions equivalent."""

MIN_POINTS = 3
"""Fewest agreeing points (when the domain is hard to hit) still accepted as evidence."""

MAX_TRIES = 40
"""Points drawn at most, including those where the expected answer is undefined."""


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
    """The outcome of comparing two scalar expressions."""

    outcome: Literal["equal", "different", "undetermined"]
    reason: str = ""
    samples: list[Sample] = field(default_factory=list)
    answer_undefined: int = 0


class Comparison:
    """Evaluates the expected and the answer expression side by side at points.

    Args:
        expected: compiled expected expression.
        answer: compiled answer expression.
        definitions: compiled bodies of defined names (``s = sigmoid(z)``).
        points: where to evaluate.
        deadline: ``budget_clock()`` value after which we give up.
    """

    def __init__(
        self,
        expected: Compiled,
        answer: Compiled,
        definitions: Mapping[str, Compiled],
        points: PointSource,
        deadline: float,
    ) -> None:
        self.expected = expected
        self.answer = answer
        self.definitions = definitions
        self.points = points
        self.deadline = deadline

    def env(self, point: Mapping[str, float], dps: int) -> Env:
        """An evaluation environment for ``point`` at ``dps`` digits."""
        ctx = context(dps)
        return Env(ctx, {name: ctx.mpf(value) for name, value in point.items()}, self.definitions)

    def check_time(self) -> None:
        """Raise :class:`TimeBudgetExceeded` once the deadline has passed."""
        if budget_clock() > self.deadline:
            raise TimeBudgetExceeded

    def compare_at(
        self, point: Mapping[str, float], confirm: bool = False
    ) -> tuple[str, Sample | None]:
        """Compare at one point: ``equal``, ``different``, ``unreliable``, ``skip``
        (expected undefined or overflow) or ``answer_undefined``.

        With ``confirm``, agreement at 30 digits is checked again at 60.
        """
        previous: Value = None
        previous_dps = 0
        sample: Sample | None = None
        for dps in PRECISIONS:
            env = self.env(point, dps)
            ctx = env.ctx
            try:
                expected = self.expected(env)
            except (Undefined, Overflow):
                return "skip", None
            try:
                answer = self.answer(env)
            except Undefined:
                return "answer_undefined", None
            except Overflow:
                return "skip", None
            sample = Sample(dict(point), expected, answer)
            difference = answer - expected
            scale = max(abs(answer), abs(expected))
            if not difference or abs(difference) <= _power_of_ten(ctx, 5 - dps) * scale:
                if not (confirm and dps == PRECISIONS[0]):
                    return "equal", sample
                previous, previous_dps = difference, dps
                continue
            if previous is not None:
                earlier = ctx.mpf(previous)
                shrink = _power_of_ten(ctx, 5 - (dps - previous_dps))
                if abs(difference) <= shrink * abs(earlier):
                    return "equal", sample
                if abs(difference - earlier) <= abs(difference) / 1000:
                    return "different", sample
            previous, previous_dps = difference, dps
        return "unreliable", sample

    def decide(self, has_variables: bool) -> Decision:
        """Compare at seeded random points until the evidence is conclusive.

        Raises:
            TimeBudgetExceeded: when the deadline passes first.
        """
        target = TARGET_POINTS if has_variables else 1
        minimum = MIN_POINTS if has_variables else 1
        tries = MAX_TRIES if has_variables else 1
        samples: list[Sample] = []
        answer_undefined = 0
        unreliable = 0
        for attempt in range(tries):
            self.check_time()
            if attempt == tries // 2 and len(samples) < minimum:
                # The key was undefined almost everywhere so far (sqrt(x - 100)), or the
                # answer was (sqrt(x - 3)*sqrt(x - 5)): look further out.
                self.points.wide = True
            outcome, sample = self.compare_at(self.points.draw(), confirm=not samples)
            if outcome == "different":
                assert sample is not None
                return Decision("different", "differs", [sample, *samples], answer_undefined)
            if outcome == "equal":
                assert sample is not None
                samples.append(sample)
                if len(samples) >= target:
                    break
            elif outcome == "answer_undefined":
                answer_undefined += 1
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
        """Up to ``count`` further points where both are defined, at 30 digits."""
        found: list[Sample] = []
        for _ in range(max_tries):
            if len(found) >= count or budget_clock() > self.deadline:
                break
            point = self.points.draw()
            env = self.env(point, PRECISIONS[0])
            try:
                found.append(Sample(point, self.expected(env), self.answer(env)))
            except (Undefined, Overflow):
                continue
        return found
