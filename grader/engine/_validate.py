"""Input checks shared by the engine's public entry points.

Every check raises a `ValueError` whose message starts with the argument's name and says what
was expected, so an exercise author sees "X: expected shape (batch, 2), got (4, 3)" rather than
a NumPy broadcasting error three frames deep. The checks are cheap (shape and dtype tests plus
one `isfinite` pass) because they sit on the per-call path of tiny networks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def as_array(name: str, value: Any, ndim: int | tuple[int, ...] | None = None) -> FloatArray:
    """Convert `value` to a finite float64 array, checking its number of dimensions.

    Args:
        name: the argument's name, used in the error message.
        value: anything `np.asarray` accepts.
        ndim: the allowed number(s) of dimensions, or None for any.

    Raises:
        ValueError: not numeric, wrong number of dimensions, or containing NaN or inf.
    """
    if type(value) is not np.ndarray or value.dtype != np.float64:
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: expected an array of numbers ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if value.ndim not in allowed:
            wanted = " or ".join(str(n) for n in allowed)
            raise ValueError(
                f"{name}: expected a {wanted}-dimensional array, got shape {value.shape}"
            )
    if not all_finite(value):
        raise ValueError(f"{name}: contains NaN or inf; expected finite numbers")
    return value


def all_finite(value: FloatArray) -> bool:
    """True when every element is finite.

    Tiny arrays (the per-call path of exercise-sized networks) are summed in Python, several
    times cheaper than a NumPy call: a finite sum proves every element finite, and only an
    infinite or NaN sum (which huge finite values can also produce) needs the exact check.
    Larger arrays get the exact check directly (a NumPy sum could warn on overflow).
    """
    if value.size <= _SMALL and math.isfinite(sum(value.ravel().tolist())):
        return True
    return bool(np.isfinite(value).all())


# Below this many elements, Python-level loops beat NumPy's per-call overhead.
_SMALL = 32


def check_shape(name: str, value: FloatArray, shape: tuple[int | None, ...], what: str) -> None:
    """Raise unless `value.shape` matches `shape` (None matches any length).

    `what` names the axes for the message, e.g. "(batch, 2)".
    """
    if len(value.shape) != len(shape) or any(
        want is not None and got != want for got, want in zip(value.shape, shape, strict=True)
    ):
        raise ValueError(f"{name}: expected shape {what}, got {value.shape}")


def positive_int(name: str, value: Any) -> int:
    """Return `value` as an int >= 1, or raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def finite_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return `value` as a finite float inside the given bounds, or raise naming `name`.

    Bounds are closed unless `low_open` / `high_open` is set.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if low is not None and (out < low or (low_open and out == low)):
        bound = ">" if low_open else ">="
        raise ValueError(f"{name}: expected a number {bound} {low}, got {value!r}")
    if high is not None and (out > high or (high_open and out == high)):
        bound = "<" if high_open else "<="
        raise ValueError(f"{name}: expected a number {bound} {high}, got {value!r}")
    return out
