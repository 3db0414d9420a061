"""Symbolic answers: parse, preview and check_expression.

The decision is numeric (see :mod:`grader.checking.equivalence`); the only exact step
is a structural comparison of the two parsed trees, which is instant.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from grader.checking.diagnose import close
from grader.checking.diagnose import diagnose
from grader.checking.equivalence import Bounds
from grader.checking.equivalence import Comparison
from grader.checking.equivalence import Decision
from grader.checking.equivalence import TimeBudgetExceeded
from grader.checking.errors import ParseError
from grader.checking.evaluate import Compiled
from grader.checking.grid import node_grid
from grader.checking.grid import shape_message
from grader.checking.grid import transpose
from grader.checking.grid import wrong_entries_message
from grader.checking.keys import Key
from grader.checking.keys import build_key
from grader.checking.keys import compiled
from grader.checking.keys import functions_key
from grader.checking.keys import normalize_names
from grader.checking.keys import parse_cached
from grader.checking.limits import budget_clock
from grader.checking.nodes import Node
from grader.checking.parser import reading_notes
from grader.checking.plans import answer_points
from grader.checking.plans import interval_definitions
from grader.checking.plans import key_plan
from grader.checking.plans import key_value
from grader.checking.positivity import fact
from grader.checking.relations import Outcome
from grader.checking.relations import judge_relation
from grader.checking.render import to_latex
from grader.checking.render import to_text
from grader.checking.sampling import PointSource
from grader.checking.sampling import base_points
from grader.checking.sampling import seeded_rng
from grader.checking.verdict import Diagnosis
from grader.checking.verdict import Preview
from grader.checking.verdict import Verdict
from grader.checking.verdict import invalid

logger = logging.getLogger(__name__)

DEFAULT_TIME_BUDGET = 1.0
"""Seconds per check; past it the verdict is ``undetermined``, never a guess."""

CORRECT = "Correct."
NOT_EQUIVALENT = "Your answer is not equivalent to the correct answer."
UNDETERMINED = (
    "We could not decide whether your answer is right in the time available; it has not "
    "been marked wrong."
)
INTERNAL = (
    "We could not check your answer because of a problem on our side; it has not been marked wrong."
)


def parse(text: str, *, variables: Collection[str] | None = None) -> Any:
    """Parse an answer into a SymPy object, through our own safe parser.

    Args:
        text: the answer as typed.
        variables: the declared variable names; ``None`` accepts any name and never
            splits names into products.

    Returns:
        A SymPy expression, a list (for ``[a, b]``), a Matrix (for ``[[a, b], [c, d]]``)
        or an unevaluated ``Eq``.

    Raises:
        ParseError: with a message and the 0-based offset of the problem.
    """
    # SymPy is imported here, not at module level: checking never needs it, and it
    # doubles the start-up time of the command line.
    from grader.checking.to_sympy import to_sympy

    known = None if variables is None else frozenset(normalize_names(variables))
    return to_sympy(parse_cached(text, known, None))


def preview(
    text: str,
    *,
    variables: Collection[str] = (),
    functions: Collection[str] | None = None,
) -> Preview:
    """Validate an answer and echo how it was understood, before it is submitted.

    Args:
        text: the answer as typed.
        variables: the declared names (variables and defined names); empty accepts any
            name as a variable.
        functions: the functions allowed (``None``: all).

    Returns:
        A :class:`Preview` with LaTeX (multiplication always visible), the variables
        found and any note on how notation was read (``sin^2(x) was read as
        sin(x)^2.``), or the error message and offset.
    """
    known = frozenset(normalize_names(variables)) if variables else None
    try:
        root = parse_cached(text, known, functions_key(functions))
    except ParseError as exc:
        return Preview(ok=False, message=exc.message, offset=exc.offset)
    return Preview(
        ok=True,
        latex=to_latex(root),
        text=to_text(root),
        variables=tuple(sorted(root.names())),
        message=" ".join(reading_notes(root)),
    )


def check_expression(
    expected: str,
    answer: str,
    *,
    variables: Collection[str] = (),
    domains: Mapping[str, str] | None = None,
    definitions: Mapping[str, str] | None = None,
    functions: Collection[str] | None = None,
    time_budget: float = DEFAULT_TIME_BUDGET,
    diagnose: bool = True,
) -> Verdict:
    """Judge a symbolic answer against the expected expression.

    The answer is right when it is defined wherever the key is defined on the declared
    domains (real numbers unless said otherwise), apart from isolated points, and agrees
    with it there (see :mod:`grader.checking.equivalence`). Lists and matrices are
    compared entry by entry; equations and inequalities as described in
    :mod:`grader.checking.relations`.

    Args:
        expected: the answer key, in the same language as answers.
        answer: the student's text.
        variables: declared variable names. When empty, the names of ``expected``
            (and of the definitions) are the ones an answer may use.
        domains: per-variable domain: ``real`` (default), ``positive``,
            ``nonnegative``, ``negative`` or an interval ``(a, b)``.
        definitions: names students may use for sub-expressions, e.g.
            ``{"s": "sigmoid(z)"}``; substituted before comparing.
        functions: the functions an answer may use (``None``: all).
        time_budget: seconds; past it the verdict is ``undetermined``.
        diagnose: look for why a wrong answer is wrong (sign, factor, term). Callers
            that only need right-or-wrong (matching known mistakes) skip the cost.

    Returns:
        The :class:`Verdict`. An answer key that cannot be read gives ``undetermined``
        (and is logged), so a broken key never costs a student anything.

    Raises:
        ValueError: for authoring errors in ``variables``, ``domains``,
            ``definitions`` or ``functions``.
    """
    key = build_key(
        expected,
        normalize_names(variables),
        tuple(sorted((domains or {}).items())),
        tuple(sorted((definitions or {}).items())),
    )
    # The key is built once per process (cached, and bounded by the parser's limits);
    # the budget is for this answer's work, so it starts after.
    deadline = budget_clock() + time_budget
    allowed = functions_key(functions)
    if key.root is None:
        logger.error("unreadable answer key %r: %s", expected, key.error)
        return Verdict("undetermined", f"The answer key could not be read: {key.error}")
    try:
        root = parse_cached(answer, key.known, allowed)
    except ParseError as exc:
        return invalid(exc.message, exc.offset)
    latex = to_latex(root)
    found = tuple(sorted(root.names()))
    judge = _Judge(key, answer, deadline, diagnose=diagnose)
    try:
        status, message, diagnosis, entries, offset = judge.judge(key.root, root)
    except TimeBudgetExceeded:
        logger.info("check ran out of time: budget=%.3fs", time_budget)
        status, message, diagnosis, entries, offset = (
            "undetermined",
            UNDETERMINED,
            None,
            None,
            None,
        )
    except Exception:  # a bug must cost the student nothing: never a traceback
        logger.exception("check failed: key=%r answer=%r", expected, answer)
        status, message, diagnosis, entries, offset = "undetermined", INTERNAL, None, None, None
    if status == "invalid":
        return Verdict("invalid", message, offset=offset)
    notes = reading_notes(root)
    if notes:
        message = f"{message} ({' '.join(notes)})"
    return Verdict(
        status,  # type: ignore[arg-type]
        message,
        latex=latex,
        diagnosis=diagnosis,
        variables=found,
        entries=entries,
    )


class _Judge:
    """One check: the key, the answer text and the shared deadline.

    Every point is seeded from the key (``key.seed``), never from the answer.
    """

    def __init__(
        self,
        key: Key,
        answer_text: str,
        deadline: float,
        *,
        diagnose: bool = True,
    ) -> None:
        self.key = key
        self.answer_text = answer_text
        self.deadline = deadline
        self.diagnose = diagnose

    def judge(self, expected: Node, answer: Node) -> Outcome:
        if expected.op in ("eq", "rel") or answer.op in ("eq", "rel"):
            return judge_relation(self, expected, answer)
        expected_grid = node_grid(expected)
        answer_grid = node_grid(answer)
        if expected_grid is None and answer_grid is None:
            status, diagnosis = self.compare(expected, answer, 0)
            return status, _message(status, diagnosis), diagnosis, None, None
        if expected_grid is None:
            return (
                "invalid",
                "Your answer should be a single expression, not a list.",
                None,
                None,
                0,
            )
        if answer_grid is None:
            return ("invalid", shape_message(expected_grid[0], ()), None, None, 0)
        return self.judge_grid(expected_grid, answer_grid)

    def comparison(
        self, expected: Compiled, answer: Compiled, nodes: Sequence[Node], index: int
    ) -> tuple[Comparison, list[str]]:
        """A comparison of two closures (the sides of relations) on key-seeded points."""
        variables = self.key.free_variables(*nodes)
        seed = (*self.key.seed, "relation", index)
        points = PointSource(variables, self.key.domains, seeded_rng(*seed))
        plan = base_points(variables, self.key.domains, seeded_rng(*seed, "plan"))
        comparison = Comparison(
            expected, answer, self.key.compiled_definitions, points, self.deadline, plan
        )
        return comparison, variables

    def nonvanishing(self, node: Node) -> bool:
        """Whether ``node`` is, by its structure, defined and nonzero on the domain."""
        return fact(node, self.key.domains, self.key.definitions).nonvanishing

    def expression_comparison(
        self, expected: Node, answer: Node, index: int
    ) -> tuple[Comparison, list[str]]:
        """A comparison on the key's plan for entry ``index`` and the answer's kinks."""
        key = self.key
        plan = key_plan(key, expected, index)
        expected_fn = compiled(expected)
        extra = answer_points(key, plan, answer)
        extra_values = [key_value(expected_fn, point, key.compiled_definitions) for point in extra]
        bounds = Bounds(expected, answer, lambda: interval_definitions(key))
        points = PointSource(key.sampled, key.domains, seeded_rng(*key.seed, "draws", index))
        comparison = Comparison(
            expected_fn,
            compiled(answer),
            key.compiled_definitions,
            points,
            self.deadline,
            [*plan.points, *extra],
            [*plan.values, *extra_values],
            bounds,
            plan.converted,
            plan.zero_widths,
        )
        return comparison, key.free_variables(expected, answer)

    def compare(self, expected: Node, answer: Node, index: int) -> tuple[str, Diagnosis | None]:
        """Status and diagnosis for one pair of scalar expressions."""
        if to_text(expected) == to_text(answer):
            return "correct", None
        comparison, variables = self.expression_comparison(expected, answer, index)
        decision = comparison.decide(has_variables=bool(variables))
        if decision.outcome == "equal":
            return "correct", None
        if decision.outcome == "undetermined":
            return "undetermined", None
        if decision.reason == "answer_undefined":
            return "incorrect", self.undefined(answer, decision, variables)
        if not self.diagnose:
            return "incorrect", None
        inexact = self.inexact_decimal(expected, answer, decision)
        if inexact is not None:
            return "incorrect", inexact
        symbols = sorted(set(variables) | (expected.names() & set(self.key.definitions)))
        return "incorrect", diagnose(
            comparison, expected, answer, self.answer_text, symbols, decision.samples
        )

    def undefined(self, answer: Node, decision: Decision, variables: Sequence[str]) -> Diagnosis:
        """Where the answer is undefined though the key is defined, and why."""
        if decision.point is None:
            return Diagnosis(
                "domain_differs",
                "Your answer is undefined for every value we tried where the correct answer "
                "is defined.",
            )
        where = describe_point(decision.point, variables)
        message = (
            f"Your answer is undefined at {where}, where the correct answer is defined"
            if where
            else "Your answer is undefined where the correct answer is defined"
        )
        error = decision.error
        if error is not None:
            node = error.node
            inside = any(part is node for part in answer.walk())
            text = self.answer_text[node.start : node.end].strip() if inside else to_text(node)
            if text and len(text) <= 40:
                message += f": {text} {error.reason}"
        return Diagnosis("domain_differs", message + ".")

    def inexact_decimal(self, expected: Node, answer: Node, decision: Decision) -> Diagnosis | None:
        """A rounded decimal where the key is exact: say so rather than just "wrong".

        Only a decimal with a fractional part that is not a power of ten can be a
        rounding (``0.333``); ``1e9`` is a whole number and ``1e-7`` a scale. A key that
        has decimals of its own is not exact.
        """
        typed = [
            n
            for n in answer.walk()
            if n.op == "num" and _decimal_text(n.text) and _could_be_rounded(n.value)
        ]
        keyed = [n for n in expected.walk() if n.op == "num" and _decimal_text(n.text)]
        if not typed or keyed or not decision.samples:
            return None
        if all(close(s.answer, s.expected, 2e-2) for s in decision.samples):
            return Diagnosis(
                "inexact_decimal",
                "Your answer is a rounded decimal, but an exact value is expected: use "
                "fractions or exact expressions instead of rounded decimals.",
            )
        return None

    def judge_grid(
        self,
        expected_grid: tuple[tuple[int, ...], list[Node]],
        answer_grid: tuple[tuple[int, ...], list[Node]],
    ) -> Outcome:
        (expected_shape, expected_entries) = expected_grid
        (answer_shape, answer_entries) = answer_grid
        if answer_shape == expected_shape:
            statuses = [
                self.compare(e, a, index)[0]
                for index, (e, a) in enumerate(zip(expected_entries, answer_entries, strict=True))
            ]
            entries = tuple(statuses)
            if all(status == "correct" for status in statuses):
                return "correct", CORRECT, None, entries, None
            if "incorrect" not in statuses:
                return "undetermined", UNDETERMINED, None, entries, None
            diagnosis = None
            if len(expected_shape) == 2 and expected_shape[0] == expected_shape[1]:
                diagnosis = self.transposed(expected_entries, answer_shape, answer_entries)
            message = (
                diagnosis.message if diagnosis else wrong_entries_message(expected_shape, statuses)
            )
            return "incorrect", message, diagnosis, entries, None
        if len(answer_shape) == 2 and transpose(answer_shape, answer_entries)[0] == expected_shape:
            diagnosis = self.transposed(expected_entries, answer_shape, answer_entries)
            if diagnosis is not None:
                return "incorrect", diagnosis.message, diagnosis, None, None
        return "invalid", shape_message(expected_shape, answer_shape), None, None, 0

    def transposed(
        self,
        expected_entries: list[Node],
        answer_shape: tuple[int, ...],
        answer_entries: list[Node],
    ) -> Diagnosis | None:
        _, flipped = transpose(answer_shape, answer_entries)
        for index, (e, a) in enumerate(zip(expected_entries, flipped, strict=True)):
            if self.compare(e, a, index)[0] != "correct":
                return None
        return Diagnosis("transposed", "Your matrix is the transpose of the correct one.")


def _message(status: str, diagnosis: Diagnosis | None) -> str:
    if status == "correct":
        return CORRECT
    if status == "undetermined":
        return UNDETERMINED
    return diagnosis.message if diagnosis else NOT_EQUIVALENT


def _decimal_text(text: str) -> bool:
    """Whether a number was typed as a decimal (``0.5``, ``5e-2``), not a whole number."""
    return "." in text or "e" in text.lower()


def _could_be_rounded(value: Fraction) -> bool:
    """Not a whole number, and not a power of ten."""
    if value.denominator == 1:
        return False
    magnitude = abs(value)
    return not (magnitude.numerator == 1 and _is_power_of_ten(magnitude.denominator))


def _is_power_of_ten(n: int) -> bool:
    while n % 10 == 0:
        n //= 10
    return n == 1


def describe_point(point: Mapping[str, float], names: Sequence[str]) -> str:
    """``x = -0.7312, y = 2.5`` for the variables in ``names`` (4 significant digits)."""
    parts = [f"{name} = {_short(point[name])}" for name in names if name in point]
    return ", ".join(parts)


def _short(value: float) -> str:
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}×10^{int(exponent)}"
    return text
