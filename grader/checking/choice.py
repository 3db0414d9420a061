"""Multiple-choice answers: one option, or a set of options."""

from __future__ import annotations

from collections.abc import Sequence

from grader.checking.verdict import Diagnosis
from grader.checking.verdict import Verdict
from grader.checking.verdict import invalid


def _options(value: str | Sequence[str]) -> list[str]:
    if isinstance(value, str):
        parts = value.split(",")
    else:
        parts = [str(part) for part in value]
    return [part.strip().casefold() for part in parts if part.strip()]


def check_choice(
    expected: str | Sequence[str],
    answer: str | Sequence[str],
    *,
    multiple: bool = False,
) -> Verdict:
    """Judge a choice. Labels compare without case and surrounding spaces.

    Args:
        expected: the correct option, or options when ``multiple``.
        answer: the chosen option(s): a label, a comma-separated string or a list.
        multiple: whether several options may be chosen (compared as sets).

    Raises:
        ValueError: if the key has no option, or several when not ``multiple``.
    """
    keys = set(_options(expected))
    if not keys:
        raise ValueError("a choice key needs at least one option")
    if not multiple and len(keys) != 1:
        raise ValueError("a single-choice key needs exactly one option")
    chosen = _options(answer)
    if not chosen:
        return invalid("Choose an option.", 0)
    if not multiple and len(chosen) != 1:
        return invalid("Choose exactly one option.", 0)
    picked = set(chosen)
    if picked == keys:
        return Verdict("correct", "Correct.")
    if multiple and picked < keys:
        diagnosis = Diagnosis("missing_choice", "You have not selected all the correct options.")
        return Verdict("incorrect", diagnosis.message, diagnosis=diagnosis)
    if multiple and picked > keys:
        diagnosis = Diagnosis("extra_choice", "You selected an option that is not correct.")
        return Verdict("incorrect", diagnosis.message, diagnosis=diagnosis)
    return Verdict("incorrect", "That is not the correct choice.")
