"""Drawing parameters from one ``np.random.Generator``.

Ranges are stepped grids (``range: [-1, 1], step: 0.1``) so every value prints exactly;
values are rounded to the step's decimals so 0.1 * 3 prints as 0.3, not 0.30000000000000004.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from grader.exercises.spec_types import ParamSpec


def decimals_of(x: float) -> int:
    """How many decimals the number needs (0.05 -> 2, 1 -> 0)."""
    exponent = Decimal(repr(float(x))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def grid(p: ParamSpec) -> tuple[int, int]:
    """The number of grid points and the decimals for a range parameter."""
    n = int(np.floor((p.high - p.low) / p.step + 1e-9)) + 1
    return n, max(decimals_of(p.low), decimals_of(p.step))


def draw(p: ParamSpec, rng: np.random.Generator) -> Any:
    """One value of ``p``; ranges avoid their ``exclude`` values."""
    if p.kind == "value":
        return p.value
    if p.kind == "choices":
        return p.choices[int(rng.integers(len(p.choices)))]
    n, dec = grid(p)
    is_int = dec == 0 and float(p.low).is_integer() and float(p.step).is_integer()
    for _ in range(64):
        k = int(rng.integers(n))
        value = round(p.low + k * p.step, dec)
        if not any(abs(value - x) < 1e-12 for x in p.exclude):
            return int(value) if is_int else float(value)
    return int(value) if is_int else float(value)


def draw_all(params: Mapping[str, ParamSpec], rng: np.random.Generator) -> dict[str, Any]:
    """Draw every parameter in declaration order."""
    return {name: draw(p, rng) for name, p in params.items()}


def coerce(p: ParamSpec | None, name: str, value: Any) -> Any:
    """Turn a ``--param name=value`` string into the parameter's type.

    Raises:
        ValueError: the value does not fit the parameter.
    """
    if not isinstance(value, str):
        if isinstance(value, bool) or not isinstance(value, int | float):
            if p is not None and value in p.choices:
                return value
            raise ValueError(f"parameter {name!r}: expected a number, got {value!r}")
        return value
    text = value.strip()
    if p is not None and p.kind == "choices" and text in [str(c) for c in p.choices]:
        for c in p.choices:
            if str(c) == text:
                return c
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        if p is not None and p.kind == "choices":
            allowed = ", ".join(str(c) for c in p.choices)
            raise ValueError(f"parameter {name!r}: {text!r} is not one of {allowed}") from None
        raise ValueError(f"parameter {name!r}: {text!r} is not a number") from None
    if not np.isfinite(number):
        raise ValueError(f"parameter {name!r}: must be finite")
    return number
