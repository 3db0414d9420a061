"""``judge(variant, part_id, raw)``: one answer against the stored key, with mistake diagnosis.

Judging reads only the stored variant (never regenerates), so a grade given once never
changes when the exercise does. The part's answer kind does everything type-specific;
this module only orders the steps: precheck, the key, the declared mistakes (their
credit and feedback), then the checker's own diagnosis. An invalid answer costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from grader.checking import Verdict
from grader.checking.limits import budget_clock
from grader.exercises.judgement import Judgement
from grader.exercises.judgement import Status
from grader.exercises.kinds import kind_of
from grader.exercises.kinds.base import invalid_verdict
from grader.exercises.variant import Variant

logger = logging.getLogger(__name__)

#: time budget of one symbolic check (seconds); the checker answers "undetermined" past it
TIME_BUDGET = 1.0
#: mistake comparisons get less: they only refine the feedback of a wrong answer
MISTAKE_BUDGET = 0.4
#: all mistake comparisons of one answer together stop after this long (seconds)
MISTAKES_TOTAL = 1.5
MAX_RAW = 5000


def judge(variant: Variant, part_id: str, raw_answer: str | Sequence[str]) -> Judgement:
    """Judge one answer to one part of a stored variant.

    Raises:
        KeyError: the variant has no such part.
    """
    part = variant.part(part_id)
    kind = kind_of(part.type)
    invalid = _size_check(raw_answer) or kind.precheck(part.choices, raw_answer)
    if invalid is not None:
        return Judgement(Status.INVALID, 0.0, invalid, invalid.message)
    # Right-or-wrong first; the costly diagnosis only when no known mistake explains it.
    verdict = kind.check(part.check, part.key, raw_answer, TIME_BUDGET, diagnose=False)
    if verdict.status == "correct":
        return Judgement(Status.CORRECT, 1.0, verdict, verdict.message or "Correct.")
    if verdict.status in ("invalid", "undetermined"):
        return Judgement(Status(verdict.status), 0.0, verdict, verdict.message)
    deadline = budget_clock() + MISTAKES_TOTAL
    for mistake in part.mistakes:
        if budget_clock() > deadline:
            logger.warning(
                "exercise=%s part=%s: mistakes ran out of time", variant.exercise_id, part_id
            )
            break
        options = kind.mistake_options(part.check, mistake.value)
        mv = kind.check(options, mistake.value, raw_answer, MISTAKE_BUDGET, diagnose=False)
        if mv.status == "correct":
            feedback = mistake.feedback or verdict.message
            return Judgement(
                Status.INCORRECT, float(mistake.credit), verdict, feedback, mistake=mistake.code
            )
    if kind.diagnoses_late:
        diagnosed = kind.check(part.check, part.key, raw_answer, TIME_BUDGET)
        if diagnosed.status == "incorrect":  # not "undetermined" on a busy second pass
            verdict = diagnosed
    if verdict.diagnosis is not None:
        message = verdict.diagnosis.message or verdict.message
        return Judgement(
            Status.INCORRECT,
            0.0,
            verdict,
            message,
            diagnosis=verdict.diagnosis.code,
            diagnosis_message=verdict.diagnosis.message,
        )
    return Judgement(Status.INCORRECT, 0.0, verdict, verdict.message)


def _size_check(raw: str | Sequence[str]) -> Verdict | None:
    items = [raw] if isinstance(raw, str) else list(raw)
    if not all(isinstance(x, str) for x in items):
        return invalid_verdict("The answer must be text.")
    if sum(len(x) for x in items) > MAX_RAW:
        return invalid_verdict(f"The answer is longer than {MAX_RAW} characters.")
    return None
