"""Independent references for the family tests: plain-float math and finite differences."""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence

import numpy as np


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


ACT: dict[str, Callable[[float], float]] = {
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "softplus": lambda z: math.log1p(math.exp(z)),
    "relu": lambda z: max(z, 0.0),
    "linear": lambda z: z,
}


def fd(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    """Central finite difference."""
    return (f(x + h) - f(x - h)) / (2 * h)


def fd_array(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of a scalar function of an array, entry by entry."""
    x = np.array(x, dtype=float)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        out[idx] = (f(up) - f(down)) / (2 * h)
    return out


def close(a: float | Sequence[float], b: float | Sequence[float], tol: float = 1e-6) -> bool:
    return bool(
        np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tol, rtol=tol)
    )
