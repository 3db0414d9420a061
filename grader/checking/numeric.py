"""Numeric answers: scalars, vectors and matrices against numeric keys.

Defaults (chosen for backprop exercises, where values are computed by hand to about
three significant figures): ``mode="combined"`` with ``rtol=0.01`` and ``atol=1e-8``,
i.e. ``|answer - key| <= max(atol, rtol*|key|)``, the defaults of PrairieLearn's number
input. One percent accepts any correct rounding to three or more significant figures
(at most 0.5% off) plus some carried rounding of intermediate values, while rejecting
wrong chain-rule factors; the tiny ``atol`` only lets ``0`` match keys that are zero up
to float noise. STACK's 5% would accept ``0.50`` for ``0.526``. All boundaries are
inclusive (STACK: 1.05 against 1 at 5% passes), and comparisons are done in exact
rational arithmetic whenever both sides are rational, so no binary rounding decides a
boundary. Answers may be expressions (``1.38*10^-1``, ``1/3``, ``exp(-1)``), evaluated
exactly or at 50 digits by the same safe parser.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Collection
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from grader.checking.errors import ParseError
from grader.checking.evaluate import Env
from grader.checking.evaluate import EvaluationError
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import compile_node
from grader.checking.evaluate import context
from grader.checking.evaluate import exact_value
from grader.checking.grid import node_grid
from grader.checking.grid import shape_message
from grader.checking.grid import transpose
from grader.checking.grid import value_grid
from grader.checking.grid import wrong_entries_message
from grader.checking.keys import functions_key
from grader.checking.keys import parse_cached
from grader.checking.nodes import Node
from grader.checking.render import to_latex
from grader.checking.sigfigs import judge_sigfigs
from grader.checking.sigfigs import written_decimal
from grader.checking.verdict import Diagnosis
from grader.checking.verdict import Verdict
from grader.checking.verdict import invalid

logger = logging.getLogger(__name__)

DEFAULT_MODE = "combined"
DEFAULT_RTOL = 0.01
DEFAULT_ATOL = 1e-8
MODES = ("relative", "absolute", "combined", "sigfigs")
_DIGITS = 50

Number = Fraction | Any  # an exact Fraction, or an mpf at 50 digits


class _Invalid(Exception):
    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


#: significant digits every binary double carries exactly; binary noise from a few
#: operations on decimal data (1.5 * 0.83 = 1.2449999999999999) lies beyond them
FLOAT_DIGITS = 15


def float_decimal(value: float) -> Decimal:
    """A float key as the decimal it stands for: rounded to 15 significant digits.

    Keys computed in binary floating point carry noise in their 16th and 17th digits;
    read exactly, 1.5 * 0.83 would be 1.2449999999999999 and round half-up to 1.24 at
    three significant figures instead of 1.25. Fifteen digits keep every digit a double
    holds exactly and drop the noise.
    """
    return Decimal(format(float(value), f".{FLOAT_DIGITS}g"))


def exact(value: object) -> Fraction:
    """A tolerance or key as an exact fraction: ``0.05`` is 1/20, not a binary float.

    Raises:
        ValueError: for nan, infinities and non-numbers.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return Fraction(float_decimal(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return Fraction(value)
    if isinstance(value, numbers.Integral):  # NumPy integers from the engine
        return Fraction(int(value))
    if isinstance(value, numbers.Real):  # NumPy floats that are not float subclasses
        return exact(float(value))
    raise ValueError(f"{value!r} is not a number")


def key_value(expected: object) -> Number:
    """The value of a numeric key given as a number or as an expression string.

    Floats are read through their shortest decimal form (``0.1`` is 1/10).

    Raises:
        ValueError: when the key is not a finite number or expression.
    """
    if isinstance(expected, str):
        try:
            node = parse_cached(expected, None, None)
        except ParseError as exc:
            raise ValueError(f"numeric key {expected!r} cannot be read: {exc.message}") from None
        try:
            return _value_of(node)
        except _Invalid as exc:
            raise ValueError(f"numeric key {expected!r}: {exc.message}") from None
    return exact(expected)


def unreadable_key(expected: object, error: Exception) -> Verdict:
    """``undetermined``: a broken key must never cost a student anything (logged)."""
    logger.error("unreadable answer key %r: %s", expected, error)
    return Verdict("undetermined", f"The answer key could not be read: {error}")


def _value_of(node: Node) -> Number:
    if node.op in ("list", "matrix", "eq", "rel"):
        raise _Invalid("Your answer should be a single number.", node.start)
    names = [n for n in node.walk() if n.op == "name"]
    if names:
        first = min(names, key=lambda n: n.start)
        raise _Invalid(
            f"Your answer should be a number; '{first.text or first.value}' at character "
            f"{first.start + 1} is a variable.",
            first.start,
        )
    try:
        value = exact_value(node)
        if value is not None:
            return value
        return compile_node(node)(Env(context(_DIGITS), {}))
    except Overflow as exc:
        raise _Invalid("Your answer is too large or too small to work with.", exc.node.at) from None
    except EvaluationError as exc:
        raise _Invalid(f"Your answer is undefined: it {exc.reason}.", exc.node.at) from None


def _parse_number(text: str, functions: frozenset[str] | None = None) -> tuple[Node, Number]:
    try:
        node = parse_cached(text, None, functions)
    except ParseError as exc:
        raise _Invalid(exc.message, exc.offset) from None
    return node, _value_of(node)


def _as_mpf(value: Number) -> Any:
    ctx = context(_DIGITS)
    if isinstance(value, Fraction):
        return ctx.mpf(value.numerator) / value.denominator
    return ctx.mpf(value)


def within(answer: Number, expected: Number, rtol: Fraction, atol: Fraction, mode: str) -> bool:
    """``|answer - expected|`` against the mode's bound, inclusive, exactly if rational."""
    if isinstance(answer, Fraction) and isinstance(expected, Fraction):
        error, size = abs(answer - expected), abs(expected)
        relative, absolute = rtol * size, atol
    else:
        error, size = abs(_as_mpf(answer) - _as_mpf(expected)), abs(_as_mpf(expected))
        relative, absolute = _as_mpf(rtol) * size, _as_mpf(atol)
    if mode == "relative":
        return bool(error <= relative)
    if mode == "absolute":
        return bool(error <= absolute)
    return bool(error <= max(relative, absolute))


def _tolerances(mode: str, rtol: object, atol: object) -> tuple[Fraction, Fraction]:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    rel = exact(DEFAULT_RTOL if rtol is None else rtol)
    abs_ = exact(DEFAULT_ATOL if atol is None else atol)
    if rel < 0 or abs_ < 0:
        raise ValueError("tolerances must not be negative")
    return rel, abs_


def _to_fraction(value: Number) -> Fraction:
    if isinstance(value, Fraction):
        return value
    mantissa, exponent = value.man_exp
    return Fraction(int(mantissa)) * Fraction(2) ** int(exponent)


def numeric_diagnosis(
    answer: Number, expected: Number, rtol: Fraction, atol: Fraction, mode: str
) -> Diagnosis | None:
    """Sign flipped, factor 2 or 1/2, or a power of ten: the common slips with numbers."""
    if expected == 0 or answer == 0:
        return None
    loose = max(rtol, Fraction(1, 100))
    if within(-answer, expected, rtol, atol, mode):
        return Diagnosis("sign_flipped", "Your answer has the wrong sign.")
    ratio = _as_mpf(answer) / _as_mpf(expected)
    for factor, message in (
        (2, "Your answer is twice the correct value: is there an extra factor of 2?"),
        (Fraction(1, 2), "Your answer is half the correct value: is a factor of 2 missing?"),
    ):
        if abs(ratio - _as_mpf(factor)) <= _as_mpf(loose) * abs(_as_mpf(factor)):
            return Diagnosis("constant_factor", message)
    if ratio > 0:
        ctx = context(_DIGITS)
        power = int(ctx.nint(ctx.log10(ratio)))
        if power != 0 and abs(ratio / ctx.mpf(10) ** power - 1) <= _as_mpf(loose):
            return Diagnosis(
                "order_of_magnitude",
                f"Your answer is off by a factor of {'10' if power == 1 else f'10^{power}'}: "
                "check the decimal point "
                "and the units.",
            )
    return None


def check_numeric(
    expected: float | int | str | Fraction | Decimal,
    answer: str,
    *,
    mode: str = DEFAULT_MODE,
    rtol: float | str | Fraction | Decimal | None = None,
    atol: float | str | Fraction | Decimal | None = None,
    sigfigs: int | None = None,
    sigfigs_accuracy: int | None = None,
    strict_sigfigs: bool = False,
    functions: Collection[str] | None = None,
) -> Verdict:
    """Judge a numeric answer.

    Args:
        expected: the key: a number, or an expression string such as ``"1/3"``.
        answer: the student's text; expressions like ``1.38*10^-1`` are accepted.
        mode: ``combined`` (default), ``relative``, ``absolute`` or ``sigfigs``.
        rtol: relative tolerance (default 0.01), inclusive.
        atol: absolute tolerance (default 1e-8), inclusive.
        sigfigs: for ``mode="sigfigs"``: the significant figures asked for.
        sigfigs_accuracy: STACK's ``m`` in ``[n, m]`` (see
            :func:`grader.checking.sigfigs.judge_sigfigs`).
        strict_sigfigs: require exactly ``sigfigs`` figures (``100`` has 1).
        functions: the functions an answer may use (``None``: all; ``()``: none, so
            the answer is arithmetic on numbers and ``tanh(1.9)`` cannot stand in for
            its value).

    Returns:
        The verdict; a key that cannot be read gives ``undetermined`` (and is logged).

    Raises:
        ValueError: for bad options (authoring errors).
    """
    rel, abs_ = _tolerances(mode, rtol, atol)
    if isinstance(expected, str):
        expected = expected.strip()
    try:
        key = key_value(expected)
    except ValueError as exc:
        return unreadable_key(expected, exc)
    try:
        node, value = _parse_number(answer, functions_key(functions))
    except _Invalid as exc:
        return invalid(exc.message, exc.offset)
    latex = to_latex(node)
    if mode == "sigfigs":
        return _sigfigs_verdict(node, key, sigfigs, sigfigs_accuracy, strict_sigfigs, latex)
    if within(value, key, rel, abs_, mode):
        return Verdict("correct", "Correct.", latex=latex)
    diagnosis = numeric_diagnosis(value, key, rel, abs_, mode)
    message = (
        diagnosis.message if diagnosis else "Your answer is not close enough to the correct value."
    )
    return Verdict("incorrect", message, latex=latex, diagnosis=diagnosis)


def _sigfigs_verdict(
    node: Node,
    key: Number,
    sigfigs: int | None,
    accuracy: int | None,
    strict: bool,
    latex: str,
) -> Verdict:
    status, diagnosis = _sigfigs_status(node, key, sigfigs, accuracy, strict)
    if status == "invalid":
        assert diagnosis is not None
        return invalid(diagnosis.message, node.start)
    message = "Correct." if diagnosis is None else diagnosis.message
    return Verdict(status, message, latex=latex, diagnosis=diagnosis)  # type: ignore[arg-type]


def _sigfigs_status(
    node: Node, key: Number, sigfigs: int | None, accuracy: int | None, strict: bool
) -> tuple[str, Diagnosis | None]:
    if sigfigs is None:
        raise ValueError("mode 'sigfigs' needs sigfigs=N")
    written = written_decimal(node)
    if written is None:
        return "invalid", Diagnosis(
            "not_decimal",
            "Your answer should be a decimal number, like 0.0123, 1.23e-2 or 1.23*10^-2.",
        )
    result = judge_sigfigs(written, _to_fraction(key), sigfigs, accuracy, strict=strict)
    if result.passed:
        return "correct", None
    digits = f"Give your answer to {sigfigs} significant figures."
    if result.wrong_sign:
        return "incorrect", Diagnosis("sign_flipped", "Your answer has the wrong sign.")
    if result.accuracy == "very_inaccurate":
        magnitude = numeric_diagnosis(written.value, key, Fraction(1, 20), Fraction(0), "relative")
        if magnitude is not None and magnitude.code == "order_of_magnitude":
            return "incorrect", magnitude
        return "incorrect", Diagnosis(
            "very_inaccurate", "Your answer is not close to the correct value."
        )
    if result.accuracy == "inaccurate":
        sentence = (
            "The accuracy of your answer is not right: check your rounding, or an "
            "intermediate value you rounded too early."
        )
        if not result.digits_ok:
            sentence += " " + digits
        return "incorrect", Diagnosis("inaccurate", sentence)
    return "incorrect", Diagnosis(
        "wrong_digits", f"Your answer has the wrong number of significant figures. {digits}"
    )


def check_array(
    expected: Sequence[Any] | str,
    answer: str,
    *,
    mode: str = DEFAULT_MODE,
    rtol: float | str | Fraction | Decimal | None = None,
    atol: float | str | Fraction | Decimal | None = None,
    sigfigs: int | None = None,
    sigfigs_accuracy: int | None = None,
    strict_sigfigs: bool = False,
    functions: Collection[str] | None = None,
) -> Verdict:
    """Judge a vector ``[a, b]`` or matrix ``[[a, b], [c, d]]`` entry by entry.

    A wrong shape is ``invalid`` with a message naming both shapes (no attempt used),
    except an exact transpose, which is ``incorrect`` with the ``transposed``
    diagnosis. ``entries`` gives each entry's status, row-major.

    Args:
        expected: nested lists of numbers or numeric strings (or the text of one).
        answer: the student's text.
        mode, rtol, atol, sigfigs, sigfigs_accuracy, strict_sigfigs, functions: as
            for :func:`check_numeric`, applied to every entry.

    Raises:
        ValueError: for bad options (a bad key gives ``undetermined``).
    """
    rel, abs_ = _tolerances(mode, rtol, atol)
    try:
        expected_shape, keys = _key_grid(expected)
    except ValueError as exc:
        return unreadable_key(expected, exc)
    try:
        node = parse_cached(answer, None, functions_key(functions))
    except ParseError as exc:
        return invalid(exc.message, exc.offset)
    grid = node_grid(node)
    if grid is None:
        return invalid(shape_message(expected_shape, ()), 0)
    answer_shape, entry_nodes = grid
    values: list[Number] = []
    for entry in entry_nodes:
        try:
            values.append(_value_of(entry))
        except _Invalid as exc:
            return invalid(exc.message, exc.offset)
    latex = to_latex(node)

    def entry_ok(value: Number, key: Number, entry: Node) -> bool:
        if mode == "sigfigs":
            return (
                _sigfigs_status(entry, key, sigfigs, sigfigs_accuracy, strict_sigfigs)[0]
                == "correct"
            )
        return within(value, key, rel, abs_, mode)

    if answer_shape != expected_shape:
        flipped_shape, flipped = transpose(
            answer_shape, list(zip(values, entry_nodes, strict=True))
        )
        if flipped_shape == expected_shape and all(
            entry_ok(v, k, n) for (v, n), k in zip(flipped, keys, strict=True)
        ):
            diagnosis = Diagnosis("transposed", "Your matrix is the transpose of the correct one.")
            return Verdict("incorrect", diagnosis.message, latex=latex, diagnosis=diagnosis)
        return invalid(shape_message(expected_shape, answer_shape), 0)
    if mode == "sigfigs":
        for entry in entry_nodes:
            if written_decimal(entry) is None:
                return invalid(
                    "Each entry should be a decimal number, like 0.0123 or 1.23e-2.", entry.start
                )
    statuses = tuple(
        "correct" if entry_ok(v, k, n) else "incorrect"
        for v, k, n in zip(values, keys, entry_nodes, strict=True)
    )
    if all(status == "correct" for status in statuses):
        return Verdict("correct", "Correct.", latex=latex, entries=statuses)
    found = _array_diagnosis(expected_shape, keys, values, entry_nodes, entry_ok, rel, abs_, mode)
    message = found.message if found else wrong_entries_message(expected_shape, statuses)
    return Verdict("incorrect", message, latex=latex, diagnosis=found, entries=statuses)


def _array_diagnosis(
    shape: tuple[int, ...],
    keys: list[Number],
    values: list[Number],
    nodes: list[Node],
    entry_ok: Any,
    rtol: Fraction,
    atol: Fraction,
    mode: str,
) -> Diagnosis | None:
    if len(shape) == 2 and shape[0] == shape[1] > 1:
        _, flipped = transpose(shape, list(zip(values, nodes, strict=True)))
        if all(entry_ok(v, k, n) for (v, n), k in zip(flipped, keys, strict=True)):
            return Diagnosis("transposed", "Your matrix is the transpose of the correct one.")
    if mode == "sigfigs":
        return None
    if any(k != 0 for k in keys) and all(
        within(-v, k, rtol, atol, mode) for v, k in zip(values, keys, strict=True)
    ):
        return Diagnosis("sign_flipped", "Every entry of your answer has the wrong sign.")
    found = {
        numeric_diagnosis(v, k, rtol, atol, mode)
        for v, k in zip(values, keys, strict=True)
        if k != 0
    }
    if len(found) == 1:
        (only,) = found
        if only is not None and only.code in ("constant_factor", "order_of_magnitude"):
            return only
    return None


def _key_grid(expected: Sequence[Any] | str) -> tuple[tuple[int, ...], list[Number]]:
    if isinstance(expected, str):
        try:
            node = parse_cached(expected.strip(), None, None)
        except ParseError as exc:
            raise ValueError(f"array key cannot be read: {exc.message}") from None
        grid = node_grid(node)
        if grid is None:
            raise ValueError("array key must be a list or a matrix")
        shape, nodes = grid
        try:
            return shape, [_value_of(entry) for entry in nodes]
        except _Invalid as exc:
            raise ValueError(f"array key: {exc.message}") from None
    shape, items = value_grid(expected)
    return shape, [key_value(item) for item in items]


def answer_value(answer: str, functions: Collection[str] | None = ()) -> float | list[Any] | None:
    """The value a numeric answer (a number, vector or matrix) denotes, as floats.

    Follow-through judging recomputes a later key from this value. ``None`` when the
    text is not a readable number or array (nothing is evaluated but our own parse tree).
    """
    try:
        node = parse_cached(answer, None, functions_key(functions))
        grid = node_grid(node)
        if grid is None:
            return float(_value_of(node))
        shape, entries = grid
        values = [float(_value_of(e)) for e in entries]
    except (ParseError, _Invalid, ValueError, OverflowError):
        return None
    if len(shape) == 1:
        return values
    rows, cols = shape
    return [values[r * cols : (r + 1) * cols] for r in range(rows)]
