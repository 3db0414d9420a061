"""Variable domains and the seeded random points at which answers are compared.

The generator is seeded from the inputs of a check, so the same answer to the same key
always meets the same points: a regrade gives the same verdict.
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
