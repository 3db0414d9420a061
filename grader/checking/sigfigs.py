"""Significant figures, counted from the raw string and rounded half-up in exact
arithmetic (never through binary floats), following STACK's NumSigFigs conventions.

Counting: leading zeros never count; trailing zeros count after a decimal point
(``10.0`` has 3, ``0.0010`` has 2) and are ambiguous in a whole number (``100`` has
1 to 3); in scientific notation only the mantissa counts (``1E3`` has 1, ``1.00e3``
has 3); zero written with ``d`` decimals has ``max(1, d)`` (``0.00`` has 2).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import exact_value
from grader.checking.nodes import Node

_MANTISSA = re.compile(r"^([0-9]*)(?:\.([0-9]*))?$")


@dataclass(frozen=True)
class SigFigs:
    """The range of significant figures a written number may have."""

    lower: int
    upper: int


def count_sigfigs(mantissa: str) -> SigFigs:
    """Count the significant figures of a plain decimal string (no sign, no exponent).

    Examples: ``100`` -> 1..3, ``0.0010`` -> 2, ``10.0`` -> 3, ``0.00`` -> 2.
    """
    match = _MANTISSA.match(mantissa)
    if match is None or not (match.group(1) or match.group(2)):
        raise ValueError(f"not a plain decimal: {mantissa!r}")
    whole, fraction = match.group(1), match.group(2)
    has_point = fraction is not None
    fraction = fraction or ""
    digits = whole + fraction
    significant = digits.lstrip("0")
    if not significant:
        count = max(1, len(fraction))
        return SigFigs(count, count)
    if has_point:
        return SigFigs(len(significant), len(significant))
    return SigFigs(len(significant.rstrip("0")), len(significant))


def floor_log10(value: Fraction) -> int:
    """``floor(log10(value))`` for a positive fraction, exactly."""
    if value <= 0:
        raise ValueError("floor_log10 needs a positive value")
    estimate = len(str(value.numerator)) - len(str(value.denominator))
    while Fraction(10) ** estimate > value:
        estimate -= 1
    while Fraction(10) ** (estimate + 1) <= value:
        estimate += 1
    return estimate


def round_sigfigs(value: Fraction, figures: int) -> Fraction:
    """Round to ``figures`` significant figures, half away from zero, exactly.

    ``round_sigfigs(61250, 3) == 61300`` (Python's ``round`` would give 61200).
    """
    if figures < 1:
        raise ValueError("figures must be at least 1")
    if value == 0:
        return Fraction(0)
    magnitude = abs(value)
    scale = Fraction(10) ** (figures - 1 - floor_log10(magnitude))
    rounded = Fraction(math.floor(magnitude * scale + Fraction(1, 2))) / scale
    return rounded if value > 0 else -rounded


@dataclass(frozen=True)
class Written:
    """A decimal answer as written: its mantissa digits and exact value."""

    mantissa: str
    value: Fraction


def written_decimal(node: Node) -> Written | None:
    """Read ``1.38``, ``-0.05``, ``1.38e-1``, ``1.38*10^-1`` or ``138×10^(-3)``.

    Returns ``None`` for anything else (``1/3``, ``pi``): not a decimal number.
    """
    sign = 1
    while node.op in ("group", "neg"):
        if node.op == "neg":
            sign = -sign
        node = node.args[0]
    if node.op == "num" and node.text.isascii():
        mantissa = re.split(r"[eE]", node.text)[0]
        return Written(mantissa, sign * _value(node))
    if node.op == "mul" and len(node.args) == 2 and node.value[1] in ("*", "imp"):
        head, power = node.args[0], node.args[1].unwrap()
        if head.op != "num" or not head.text.isascii() or "e" in head.text.lower():
            return None
        if power.op != "pow" or power.args[0].op != "num" or power.args[0].value != 10:
            return None
        exponent = _constant(power.args[1])
        if exponent is None or exponent.denominator != 1:
            return None
        value = _value(head) * Fraction(10) ** exponent.numerator
        return Written(head.text, sign * value)
    return None


def _value(node: Node) -> Fraction:
    value = node.value
    assert isinstance(value, Fraction)
    return value


def _constant(node: Node) -> Fraction | None:
    try:
        return exact_value(node)
    except (Undefined, Overflow):
        return None


@dataclass(frozen=True)
class SigFigResult:
    """Outcome of a significant-figure test: STACK's answer notes as booleans."""

    digits_ok: bool
    accuracy: str  # "ok", "inaccurate", "very_inaccurate" or "unchecked"
    wrong_sign: bool

    @property
    def passed(self) -> bool:
        """Whether the answer passes."""
        return self.digits_ok and self.accuracy in ("ok", "unchecked") and not self.wrong_sign


def judge_sigfigs(
    written: Written,
    expected: Fraction,
    figures: int,
    accuracy: int | None = None,
    *,
    strict: bool = False,
) -> SigFigResult:
    """STACK's NumSigFigs with options ``[n, m]``, plus a strict mode.

    Args:
        written: the answer as written.
        expected: the exact expected value (rounded here to ``figures``, half-up).
        figures: ``n``, the number of significant figures asked for.
        accuracy: ``m``: the answer must be within ±0.5 in the m-th significant place
            of the rounded key (default ``n``); ``0`` checks only the figures; ``-1``
            accepts at least ``n`` figures, compared after rounding to ``n``.
        strict: require exactly ``n`` figures (``100`` then counts as 1 figure).
    """
    if figures < 1 or (accuracy is not None and accuracy < -1):
        raise ValueError("sigfigs must be at least 1, accuracy at least -1")
    counted = count_sigfigs(written.mantissa)
    allow_extra = accuracy == -1
    places = figures if accuracy is None or allow_extra else accuracy
    if strict:
        digits_ok = counted.lower == figures
    elif allow_extra:
        digits_ok = figures <= counted.upper
    else:
        digits_ok = counted.lower <= figures <= counted.upper
    if places == 0:
        return SigFigResult(digits_ok, "unchecked", False)
    answer = written.value
    wrong_sign = _sign(answer) != _sign(expected)
    target = round_sigfigs(abs(expected), figures)
    given = round_sigfigs(abs(answer), figures) if allow_extra else abs(answer)
    shift = 0 if target == 0 else -floor_log10(target) - 1
    error = abs(given - target) * Fraction(10) ** (shift + places)
    if error < Fraction(1, 2):
        quality = "ok"
    elif error < 5:
        quality = "inaccurate"
    else:
        quality = "very_inaccurate"
    return SigFigResult(digits_ok, quality, wrong_sign)


def _sign(value: Fraction) -> int:
    return (value > 0) - (value < 0)
