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

    def sample(self, rng: random.Random) -> float:
        """One value, mostly of moderate size, occasionally large or small."""
        low, high = self.low, self.high
        if math.isinf(low) and math.isinf(high):
            if rng.random() < 0.75:
                return rng.uniform(-2.5, 2.5)
            return rng.choice((-1.0, 1.0)) * _log_uniform(rng, 0.05, 30.0)
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
    """Draws points (one value per variable) from the variables' domains."""

    def __init__(
        self, variables: list[str], domains: Mapping[str, Domain], rng: random.Random
    ) -> None:
        self.variables = variables
        self.domains = domains
        self.rng = rng

    def draw(self) -> dict[str, float]:
        """The next point."""
        return {name: self.domains.get(name, REAL).sample(self.rng) for name in self.variables}
