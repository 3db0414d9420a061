"""One entry point over all answer kinds, as used by the command line."""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence
from typing import Any

from grader.checking.choice import check_choice
from grader.checking.expression import check_expression
from grader.checking.numeric import check_array
from grader.checking.numeric import check_numeric
from grader.checking.verdict import Verdict

DISPATCH_MODES = ("symbolic", "relative", "absolute", "combined", "sigfigs", "choice")


def check(
    expected: Any,
    answer: Any,
    *,
    mode: str = "symbolic",
    variables: Collection[str] | str = (),
    tolerance: Any = None,
    sigfigs: int | None = None,
    **options: Any,
) -> Verdict:
    """Judge ``answer`` against ``expected`` in the given mode.

    Args:
        expected: the key: an expression string (``symbolic``), a number or numeric
            string, a nested list or ``"[...]"`` text (vectors, matrices), or the
            correct option(s) (``choice``).
        answer: the student's text (or chosen options for ``choice``).
        mode: ``symbolic`` (default), ``relative``, ``absolute``, ``combined``,
            ``sigfigs`` or ``choice``.
        variables: declared variables for ``symbolic`` (list or ``"x,y"``).
        tolerance: ``rtol`` in ``relative``/``combined`` mode, ``atol`` in
            ``absolute`` mode; the defaults of :mod:`grader.checking.numeric` otherwise.
        sigfigs: significant figures for ``sigfigs`` mode.
        **options: passed on: ``domains``, ``definitions``, ``functions``,
            ``time_budget`` (symbolic); ``rtol``, ``atol``, ``sigfigs_accuracy``,
            ``strict_sigfigs`` (numeric); ``multiple`` (choice).

    Raises:
        ValueError: for an unknown mode or bad options.
    """
    if mode == "symbolic":
        if not isinstance(expected, str):
            raise ValueError("a symbolic key must be a string")
        return check_expression(expected, str(answer), variables=_names(variables), **options)
    if mode == "choice":
        return check_choice(expected, answer, **options)
    if mode not in DISPATCH_MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(DISPATCH_MODES)}")
    numeric: dict[str, Any] = dict(options)
    if tolerance is not None:
        numeric["atol" if mode == "absolute" else "rtol"] = tolerance
    if mode == "sigfigs":
        numeric["sigfigs"] = sigfigs
    is_array = (
        (isinstance(expected, Sequence) and not isinstance(expected, str))
        or (isinstance(expected, str) and expected.lstrip().startswith("["))
        or getattr(expected, "ndim", 0) >= 1  # a NumPy array
    )
    if is_array:
        return check_array(expected, str(answer), mode=mode, **numeric)
    return check_numeric(expected, str(answer), mode=mode, **numeric)


def _names(variables: Collection[str] | str) -> tuple[str, ...]:
    if isinstance(variables, str):
        return tuple(part.strip() for part in variables.split(",") if part.strip())
    return tuple(variables)
