"""``judge(variant, part_id, raw)``: one answer against the stored key, with mistake diagnosis.

Judging reads only the stored variant (never regenerates), so a grade given once never
changes when the exercise does. The checker decides correct/incorrect/invalid/undetermined;
an incorrect answer is then compared with each stored mistake answer, in order, so a
student who forgot the activation derivative is told so and gets that mistake's credit.
An invalid answer costs nothing (score 0, and callers do not count the attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from grader.checking.limits import budget_clock
from grader.exercises._checking import Verdict
from grader.exercises._checking import check_array
from grader.exercises._checking import check_choice
from grader.exercises._checking import check_expression
from grader.exercises._checking import check_numeric
from grader.exercises.variant import Part
from grader.exercises.variant import PartResult
from grader.exercises.variant import Variant

logger = logging.getLogger(__name__)

#: time budget of one symbolic check (seconds); the checker answers "undetermined" past it
TIME_BUDGET = 1.0
#: mistake comparisons get less: they only refine the feedback of a wrong answer
MISTAKE_BUDGET = 0.4
#: all mistake comparisons of one answer together stop after this long (seconds)
MISTAKES_TOTAL = 1.5
MAX_RAW = 5000


def judge(variant: Variant, part_id: str, raw_answer: str | Sequence[str]) -> PartResult:
    """Judge one answer to one part of a stored variant.

    Raises:
        KeyError: the variant has no such part.
    """
    part = variant.part(part_id)
    invalid = _precheck(part, raw_answer)
    if invalid is not None:
        return PartResult("invalid", 0.0, invalid, "invalid", invalid.message)
    # Right-or-wrong first; the diagnosis (the costly part for expressions) is worked
    # out only when no known mistake explains the answer.
    verdict = check(part, part.key, raw_answer, TIME_BUDGET, diagnose=False)
    if verdict.status == "correct":
        return PartResult("correct", 1.0, verdict, "correct", verdict.message or "Correct.")
    if verdict.status in ("invalid", "undetermined"):
        return PartResult(verdict.status, 0.0, verdict, verdict.status, verdict.message)
    deadline = budget_clock() + MISTAKES_TOTAL
    for mistake in part.mistakes:
        if budget_clock() > deadline:
            logger.warning(
                "exercise=%s part=%s: mistake matching ran out of time",
                variant.exercise_id,
                part_id,
            )
            break
        mv = check(part, mistake.value, raw_answer, MISTAKE_BUDGET, diagnose=False)
        if mv.status == "correct":
            logger.debug(
                "exercise=%s part=%s mistake=%s", variant.exercise_id, part_id, mistake.code
            )
            feedback = mistake.feedback or verdict.message
            return PartResult(
                "incorrect", float(mistake.credit), verdict, f"mistake:{mistake.code}", feedback
            )
    if part.type == "expression":
        diagnosed = check(part, part.key, raw_answer, TIME_BUDGET)
        if diagnosed.status == "incorrect":  # not "undetermined" on a busy second pass
            verdict = diagnosed
    if verdict.diagnosis is not None:
        return PartResult(
            "incorrect",
            0.0,
            verdict,
            f"diagnosis:{verdict.diagnosis.code}",
            verdict.diagnosis.message or verdict.message,
        )
    return PartResult("incorrect", 0.0, verdict, "incorrect", verdict.message)


def _invalid(message: str) -> Verdict:
    return Verdict(
        status="invalid",
        message=message,
        latex=None,
        diagnosis=None,
        offset=None,
        variables=(),
        entries=None,
    )


def _precheck(part: Part, raw: str | Sequence[str]) -> Verdict | None:
    """Catch what the checker cannot know: the option ids, and the answer's shape."""
    items = [raw] if isinstance(raw, str) else list(raw)
    if not all(isinstance(x, str) for x in items):
        return _invalid("The answer must be text.")
    if sum(len(x) for x in items) > MAX_RAW:
        return _invalid(f"The answer is longer than {MAX_RAW} characters.")
    if part.type == "multiselect":
        if isinstance(raw, str):
            items = [x for x in raw.replace(";", ",").split(",")]
        items = [x.strip() for x in items]
        return _check_ids(part, [x for x in items if x] or [""])
    if not isinstance(raw, str):
        return _invalid("Give one answer here, not a list of selections.")
    if part.type == "choice":
        return _check_ids(part, [raw.strip()])
    if not raw.strip():
        return _invalid("The answer is empty.")
    return None


def _check_ids(part: Part, items: list[str]) -> Verdict | None:
    ids = {str(c["id"]).upper() for c in part.choices or ()}
    for item in items:
        if item.upper() not in ids:
            shown = item or "nothing"
            return _invalid(f"Choose among {', '.join(sorted(ids))} (got {shown}).")
    return None


def _selection(raw: str | Sequence[str]) -> list[str]:
    items = raw.replace(";", ",").split(",") if isinstance(raw, str) else list(raw)
    return [x.strip().upper() for x in items if x.strip()]


def check(
    part: Part, expected: Any, raw: str | Sequence[str], budget: float, *, diagnose: bool = True
) -> Verdict:
    """Run the checker for the part's answer type and check options.

    ``diagnose=False`` skips the search for why an expression is wrong (numbers and
    arrays diagnose cheaply and always do).
    """
    opts: Mapping[str, Any] = part.check
    if part.type == "choice":
        assert isinstance(raw, str)
        return check_choice(str(expected).upper(), raw.strip().upper())
    if part.type == "multiselect":
        return check_choice([str(e).upper() for e in expected], _selection(raw), multiple=True)
    assert isinstance(raw, str)
    if part.type == "expression":
        return check_expression(
            str(expected),
            raw,
            variables=tuple(opts.get("variables", ())),
            domains=dict(opts.get("domains", {})),
            definitions=dict(opts.get("definitions", {})),
            time_budget=budget,
            diagnose=diagnose,
        )
    tol = _tolerances(opts)
    # A number box asks for the value: no functions unless the part allows some.
    tol["functions"] = tuple(opts.get("functions", ()))
    if part.type == "numeric":
        return check_numeric(float(expected), raw, **tol)
    return check_array(expected, raw, **tol)


def _tolerances(opts: Mapping[str, Any]) -> dict[str, Any]:
    mode = opts.get("mode", "combined")
    out: dict[str, Any] = {"mode": mode}
    if mode == "sigfigs":
        out["sigfigs"] = int(opts["sigfigs"])
        return out
    if mode in ("relative", "combined") and "rtol" in opts:
        out["rtol"] = float(opts["rtol"])
    if mode in ("absolute", "combined") and "atol" in opts:
        out["atol"] = float(opts["atol"])
    return out
