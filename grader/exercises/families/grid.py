"""Drawing small vectors and matrices on a printable grid (for families that draw arrays)."""

from __future__ import annotations

import numpy as np

from grader.exercises.families.base import tolist


def grid_array(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    low: float = -1.0,
    high: float = 1.0,
    step: float = 0.1,
    nonzero: bool = True,
) -> np.ndarray:
    """Values low, low + step, ..., high (rounded), optionally avoiding 0."""
    n = round((high - low) / step) + 1
    values = np.round(low + step * rng.integers(0, n, size=shape), 6)
    if nonzero:
        zero = np.abs(values) < 1e-9
        values[zero] = step
    return values.astype(float)


__all__ = ["grid_array", "tolist"]
