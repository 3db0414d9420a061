"""Variable domains and the seeded random points at which answers are compared.

The generator is seeded from the answer key (its text, variables and domains), never
from the answer: every answer to one key meets the same points, so a regrade gives the
same verdict and two spellings of one answer cannot be judged differently.

A key's points (:func:`base_points`) come in blocks of two kinds: *central* points of
moderate size, where most mistakes show, and *wide* points whose magnitudes are spread
over many orders (one per decade from 10^-5 to 10^5 for each variable, in shuffled
order), so answers that agree near zero but not far out (``abs(x + 11) - 11`` against
``abs(x + 10) - 10``) or far out but not near zero (``x + exp(-1000 x^2)`` against ``x``)
are told apart. Points next to the kinks of piecewise expressions are added by
:mod:`grader.checking.kinks`.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

_INTERVAL = re.compile(
    r"^\s*([\(\[])\s*([^,]+?)\s*,\s*([^,]+?)\s*([\)\]])\s*$",
)
_INFINITE = {"-inf": -math.inf, "-oo": -math.inf, "inf": math.inf, "+inf": math.inf, "oo": math.inf}


@dataclass(frozen=True)
class Domain:
    """Where a variable is sampled: the real line, a half-line, or an interval."""

    low: float
    high: float
    label: str

    def sample(self, rng: random.Random, negative: bool = False, wide: bool = False) -> float:
        """One value, mostly of moderate size, occasionally large or small.

        On the whole real line, ``negative`` picks the side of zero, so that a caller
        alternating it never tests only one side (``relu(z)`` against ``z``). ``wide``
        spreads unbounded domains over 1e-3..1e4, for keys defined only far out.
        """
        low, high = self.low, self.high
        if wide and (math.isinf(low) or math.isinf(high)):
            magnitude = _log_uniform(rng, 1e-3, 1e4)
            if math.isinf(low) and math.isinf(high):
                return -magnitude if negative else magnitude
            return low + magnitude if math.isinf(high) else high - magnitude
        if math.isinf(low) and math.isinf(high):
            if rng.random() < 0.75:
                magnitude = rng.uniform(0.0, 2.5)
            else:
                magnitude = _log_uniform(rng, 0.05, 30.0)
            return -magnitude if negative else magnitude
        if math.isinf(high):
            return low + _positive(rng)
        if math.isinf(low):
            return high - _positive(rng)
        margin = (high - low) * 1e-6
        return rng.uniform(low + margin, high - margin)

    def sample_decade(self, rng: random.Random, decade: int, negative: bool) -> float:
        """A value about ``10**decade`` from zero (the real line, on the side ``negative``
        picks), from the finite end of a half-line, or, on an interval, that fraction of
        its width (``10**(decade - WIDE_DECADES[-1])``) from one end."""
        magnitude = 10.0 ** (decade + rng.random())
        low, high = self.low, self.high
        if math.isinf(low) and math.isinf(high):
            return -magnitude if negative else magnitude
        if math.isinf(high):
            return _inside(low + magnitude, low, high)
        if math.isinf(low):
            return _inside(high - magnitude, low, high)
        fraction = 10.0 ** (decade - WIDE_DECADES[-1] - 1 + rng.random())
        width = high - low
        value = high - fraction * width if negative else low + fraction * width
        return _inside(value, low, high)


WIDE_DECADES = tuple(range(-5, 5))
"""Decades of the wide points: one point per decade and variable in each block."""

CENTRAL_POINTS = 6
"""Central points in each block of a key's points."""


def _inside(value: float, low: float, high: float) -> float:
    """``value``, nudged off an endpoint it rounded onto."""
    if value <= low:
        return math.nextafter(low, math.inf)
    if value >= high:
        return math.nextafter(high, -math.inf)
    return value


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _positive(rng: random.Random) -> float:
    if rng.random() < 0.75:
        return rng.uniform(0.05, 3.0)
    return _log_uniform(rng, 0.01, 30.0)


REAL = Domain(-math.inf, math.inf, "real")
_NAMED = {
    "real": REAL,
    "positive": Domain(0.0, math.inf, "positive"),
    "nonnegative": Domain(0.0, math.inf, "nonnegative"),
    "negative": Domain(-math.inf, 0.0, "negative"),
    "nonpositive": Domain(-math.inf, 0.0, "nonpositive"),
}


def parse_domain(text: str) -> Domain:
    """Read ``real``, ``positive``, ``nonnegative``, ``negative`` or ``(a, b)``/``[a, b]``.

    Endpoints are numbers or ``-inf``/``inf``; open and closed intervals sample the
    same (an endpoint has probability zero).

    Raises:
        ValueError: for anything else (an authoring error, not a student's).
    """
    key = text.strip().lower()
    if key in _NAMED:
        return _NAMED[key]
    match = _INTERVAL.match(key)
    if match is None:
        raise ValueError(
            f"unknown domain {text!r}: use real, positive, nonnegative, negative or (a, b)"
        )
    low, high = (_endpoint(match.group(2)), _endpoint(match.group(3)))
    if not low < high:
        raise ValueError(f"empty domain {text!r}: the lower end must be below the upper end")
    return Domain(low, high, key)


def _endpoint(text: str) -> float:
    if text in _INFINITE:
        return _INFINITE[text]
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"domain endpoint {text!r} is not a number") from None
    if math.isnan(value):
        raise ValueError("a domain endpoint cannot be nan")
    return value


def seeded_rng(*parts: object) -> random.Random:
    """A generator seeded from a stable hash of ``parts`` (never Python's ``hash``)."""
    digest = hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class PointSource:
    """Draws points (one value per variable) from the variables' domains.

    Signs on the real line follow a balanced design rather than coin flips: in each
    block of 8 points every variable is negative exactly 4 times, and so is the product
    of any two variables given different masks (a Hadamard pattern: the sign of
    variable j at point k is the parity of ``k & mask_j``). So ``relu(z)`` against ``z``
    or ``abs(x*y)`` against ``x*y`` can never pass by every point landing on one side.
    """

    BLOCK = 8

    def __init__(
        self, variables: list[str], domains: Mapping[str, Domain], rng: random.Random
    ) -> None:
        self.variables = variables
        self.domains = domains
        self.rng = rng
        self.count = 0
        self.wide = False
        self.masks: dict[str, tuple[int, bool]] = {}

    def _new_block(self) -> None:
        masks = list(range(1, self.BLOCK))
        self.rng.shuffle(masks)
        self.masks = {
            name: (masks[index % len(masks)], self.rng.random() < 0.5)
            for index, name in enumerate(self.variables)
        }

    def draw(self) -> dict[str, float]:
        """The next point."""
        k = self.count % self.BLOCK
        if k == 0:
            self._new_block()
        self.count += 1
        point = {}
        for name in self.variables:
            mask, flip = self.masks[name]
            negative = (bin(k & mask).count("1") % 2 == 1) != flip
            point[name] = self.domains.get(name, REAL).sample(self.rng, negative, self.wide)
        return point


def _signs(rng: random.Random, variables: list[str], count: int) -> list[dict[str, bool]]:
    """Balanced signs: in each run of 8 points every variable (and the product of any two
    with different masks) is negative 4 times (see :class:`PointSource`)."""
    out: list[dict[str, bool]] = []
    masks: dict[str, tuple[int, bool]] = {}
    for k in range(count):
        if k % PointSource.BLOCK == 0:
            order = list(range(1, PointSource.BLOCK))
            rng.shuffle(order)
            masks = {
                name: (order[index % len(order)], rng.random() < 0.5)
                for index, name in enumerate(variables)
            }
        out.append(
            {
                name: (bin(k % PointSource.BLOCK & mask).count("1") % 2 == 1) != flip
                for name, (mask, flip) in masks.items()
            }
        )
    return out


def base_points(
    variables: list[str], domains: Mapping[str, Domain], rng: random.Random
) -> list[dict[str, float]]:
    """One block of a key's points: :data:`CENTRAL_POINTS` central ones, then one wide
    point per decade of :data:`WIDE_DECADES`, each variable's decades in its own order."""
    points: list[dict[str, float]] = []
    for signs in _signs(rng, variables, CENTRAL_POINTS):
        points.append(
            {name: domains.get(name, REAL).sample(rng, signs[name]) for name in variables}
        )
    decades = {name: rng.sample(WIDE_DECADES, len(WIDE_DECADES)) for name in variables}
    for k, signs in enumerate(_signs(rng, variables, len(WIDE_DECADES))):
        points.append(
            {
                name: domains.get(name, REAL).sample_decade(rng, decades[name][k], signs[name])
                for name in variables
            }
        )
    return points
