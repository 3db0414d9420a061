"""The precision rule and the discrimination invariant of numeric parts.

**Rule** (PrairieLearn's, stated in every prompt): a part asks for N significant figures
and accepts an answer ``a`` when ``|a - key| <= 0.51 * 10^(floor(log10|key|) - N + 1)``,
i.e. when it rounds to the key at N figures. More figures are fine if they are right:
for key 0.689966 at N = 3, ``0.69``, ``0.690``, ``0.6900`` and ``0.68997`` are accepted,
``0.689`` is not. Vectors and matrices ask for D decimal places on every entry instead
(tolerance ``0.51 * 10^-D``), D chosen so the largest entry has N figures.

**Updates**: a part whose answer is an updated value (``w - eta*g``) names the value the
update starts from (``reference``); its tolerance is then at most a quarter of the
change, so "unchanged", "sign flipped", "factor 2" and "forgot eta" are never accepted.

**Invariant**: the key's acceptance region holds no declared mistake (even rounded at N
figures) and no two mistakes' regions overlap. N starts at the part's ``figures`` (3 by
default) and grows, up to :data:`MAX_FIGURES`, until the invariant holds; past that the
variant is refused and the generator redraws from the seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from grader.checking.numeric import float_decimal

DEFAULT_FIGURES = 3
#: worked solutions print 4 significant figures; more is never asked for
MAX_FIGURES = 4
#: an update's tolerance is at most this share of the change
REFERENCE_SHARE = 0.25
#: below this a value counts as zero (its figures are then counted as decimals)
TINY = 1e-12


class Indistinct(ValueError):
    """The variant cannot tell a mistake from the key or from another mistake."""

    def __init__(self, mistake: str, other: str, detail: str) -> None:
        super().__init__(f"mistake {mistake} cannot be told from {other} ({detail})")
        self.mistake = mistake
        self.other = other


def exponent(value: float) -> int:
    """floor(log10|value|), read from the value's decimal form (no binary surprises)."""
    return float_decimal(value).adjusted()


def figure_tolerance(value: float, figures: int) -> float:
    """Half a unit (plus 2 %) in the last of ``figures`` significant figures of ``value``."""
    if abs(value) < TINY:
        return float(Decimal("0.51").scaleb(-figures))
    return float(Decimal("0.51").scaleb(exponent(value) - figures + 1))


def decimal_places(values: Sequence[float], figures: int) -> int:
    """Decimal places that give the largest entry ``figures`` figures (at least 0).

    Smaller entries get as many decimals, so a worked solution's values (4 significant
    figures each) always carry enough of them.
    """
    largest = max((abs(v) for v in values), default=1.0)
    return max(0, figures - 1 - exponent(largest if largest >= TINY else 1.0))


def scalar_settle(
    key: float, mistakes: Sequence[tuple[str, float]], reference: float | None, start: int
) -> tuple[int, float]:
    """The figures N and tolerance that make the scalar part discriminate.

    Raises:
        Indistinct: no N up to MAX_FIGURES does.
    """
    problem: Indistinct | None = None
    for figures in range(start, max(start, MAX_FIGURES) + 1):
        tol = figure_tolerance(key, figures)
        problem = _scalar_problem(key, mistakes, reference, figures, tol)
        if problem is None:
            return figures, tol
    assert problem is not None
    raise problem


def _scalar_problem(
    key: float,
    mistakes: Sequence[tuple[str, float]],
    reference: float | None,
    figures: int,
    tol: float,
) -> Indistinct | None:
    if reference is not None and tol > REFERENCE_SHARE * abs(key - reference):
        return Indistinct("unchanged", "the key", f"the change {key - reference:.3g} is too small")
    points = [("the key", key, tol)]
    for code, value in mistakes:
        if not math.isfinite(value):
            return Indistinct(code, "a number", "not finite")
        radius = max(tol, figure_tolerance(value, figures))
        for other, at, other_radius in points:
            if abs(value - at) <= radius + other_radius:
                return Indistinct(code, other, f"at {figures} significant figures")
        points.append((code, value, radius))
    return None


def array_settle(
    key: Sequence[float],
    mistakes: Sequence[tuple[str, Sequence[float]]],
    reference: Sequence[float] | None,
    start: int,
) -> tuple[int, float]:
    """The decimal places D and tolerance that make the array part discriminate.

    Raises:
        Indistinct: no D giving up to MAX_FIGURES figures on the smallest entry does.
    """
    problem: Indistinct | None = None
    for figures in range(start, max(start, MAX_FIGURES) + 1):
        places = decimal_places(key, figures)
        tol = float(Decimal("0.51").scaleb(-places))
        problem = _array_problem(key, mistakes, reference, places, tol)
        if problem is None:
            return places, tol
    assert problem is not None
    raise problem


def _array_problem(
    key: Sequence[float],
    mistakes: Sequence[tuple[str, Sequence[float]]],
    reference: Sequence[float] | None,
    places: int,
    tol: float,
) -> Indistinct | None:
    if reference is not None:
        changes = [abs(k - r) for k, r in zip(key, reference, strict=True) if abs(k - r) >= TINY]
        if changes and tol > REFERENCE_SHARE * min(changes):
            return Indistinct("unchanged", "the key", "a change is too small")
    points: list[tuple[str, Sequence[float]]] = [("the key", key)]
    for code, value in mistakes:
        if len(value) != len(key) or not all(math.isfinite(v) for v in value):
            return Indistinct(code, "an answer of this shape", "not finite numbers")
        for other, at in points:
            if max(abs(a - b) for a, b in zip(value, at, strict=True)) <= 2 * tol:
                return Indistinct(code, other, f"at {places} decimal places")
        points.append((code, value))
    return None


def scalar_note(figures: int) -> str:
    """What a scalar part tells the student about precision."""
    return (
        f"Give your answer to {figures} significant figures "
        f"(carry at least {figures + 1} in intermediate steps)."
    )


def array_note(places: int) -> str:
    """What a vector or matrix part tells the student about precision."""
    return (
        f"Give every entry to {places} decimal places (carry more figures in intermediate steps)."
    )


def as_floats(value: Any) -> list[float]:
    """A number, vector or matrix as a flat list of floats."""
    if isinstance(value, list):
        return [x for v in value for x in as_floats(v)]
    return [float(value)]
