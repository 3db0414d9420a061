"""2-D max- and average-pooling with their backward passes, as torch.nn.functional computes them.

`max_pool2d(x, kernel, stride=None)` and `avg_pool2d(...)` take x (H, W), (C, H, W) or
(N, C, H, W); stride defaults to the kernel size (non-overlapping windows), no padding, output
size (H - KH) // stride + 1. Backward passes route grad_out = dL/dy back to the input:

- max: each window's gradient goes to the position of its maximum (the first one, in row-major
  order, when several tie, as PyTorch does); overlapping windows add;
- average: each window spreads its gradient evenly, grad / (KH KW), over its positions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import as_array
from grader.engine.conv import _pair


def _setup(
    x: Any, kernel: Any, stride: Any
) -> tuple[FloatArray, int, tuple[int, int], tuple[int, int], tuple[int, int]]:
    xa = as_array("x", x, (2, 3, 4))
    missing = 4 - xa.ndim
    xb = xa.reshape((1,) * missing + xa.shape)
    k = _pair("kernel", kernel, 2, 1)
    s = _pair("stride", kernel if stride is None else stride, 2, 1)
    if k[0] > xb.shape[2] or k[1] > xb.shape[3]:
        raise ValueError(f"kernel: {k} is larger than the input's {xb.shape[2:]}")
    out = ((xb.shape[2] - k[0]) // s[0] + 1, (xb.shape[3] - k[1]) // s[1] + 1)
    return xb, missing, (k[0], k[1]), (s[0], s[1]), out


def _at(a: FloatArray, i: int, j: int, s: tuple[int, int], out: tuple[int, int]) -> FloatArray:
    """The (N, C, OH, OW) view of the entries at offset (i, j) of every window."""
    return a[:, :, i : i + s[0] * (out[0] - 1) + 1 : s[0], j : j + s[1] * (out[1] - 1) + 1 : s[1]]


def _argmax(
    xb: FloatArray, k: tuple[int, int], s: tuple[int, int], out: tuple[int, int]
) -> tuple[FloatArray, np.ndarray]:
    """Each window's maximum and its offset (row-major; the first one wins a tie, as torch)."""
    best = _at(xb, 0, 0, s, out).copy()
    where = np.zeros(best.shape, dtype=np.intp)
    for n, (i, j) in enumerate(np.ndindex(*k)):
        if n:
            candidate = _at(xb, i, j, s, out)
            better = candidate > best
            best = np.where(better, candidate, best)
            where = np.where(better, n, where)
    return best, where


def _grad(grad_out: Any, xb: FloatArray, missing: int, out: tuple[int, int]) -> FloatArray:
    expected = (*xb.shape[:2], *out)
    g = as_array("grad_out", grad_out)
    if g.shape != expected[missing:]:
        raise ValueError(
            f"grad_out: expected shape {expected[missing:]} (the output's), got {g.shape}"
        )
    return g.reshape(expected)


def _strip(a: FloatArray, missing: int) -> FloatArray:
    return np.ascontiguousarray(a.reshape(a.shape[missing:]))


def max_pool2d(x: Any, kernel: int | tuple[int, int], stride: Any = None) -> FloatArray:
    """The maximum of each window (see the module docstring for shapes)."""
    xb, missing, k, s, out = _setup(x, kernel, stride)
    return _strip(_argmax(xb, k, s, out)[0], missing)


def max_pool2d_backward(
    x: Any, grad_out: Any, kernel: int | tuple[int, int], stride: Any = None
) -> FloatArray:
    """dL/dx of `max_pool2d(x, kernel, stride)` given grad_out = dL/dy, shaped like x."""
    xb, missing, k, s, out = _setup(x, kernel, stride)
    g = _grad(grad_out, xb, missing, out)
    _, arg = _argmax(xb, k, s, out)
    dx = np.zeros_like(xb)
    for n, (i, j) in enumerate(np.ndindex(*k)):
        # windows whose maximum sits at offset (i, j) send their gradient there
        _at(dx, i, j, s, out)[...] += np.where(arg == n, g, 0.0)
    return _strip(dx, missing)


def avg_pool2d(x: Any, kernel: int | tuple[int, int], stride: Any = None) -> FloatArray:
    """The mean of each window (see the module docstring for shapes)."""
    xb, missing, k, s, out = _setup(x, kernel, stride)
    total = np.zeros((*xb.shape[:2], *out))
    for i, j in np.ndindex(*k):
        total += _at(xb, i, j, s, out)
    return _strip(total / (k[0] * k[1]), missing)


def avg_pool2d_backward(
    x: Any, grad_out: Any, kernel: int | tuple[int, int], stride: Any = None
) -> FloatArray:
    """dL/dx of `avg_pool2d(x, kernel, stride)` given grad_out = dL/dy, shaped like x."""
    xb, missing, k, s, out = _setup(x, kernel, stride)
    g = _grad(grad_out, xb, missing, out) / (k[0] * k[1])
    dx = np.zeros_like(xb)
    for i, j in np.ndindex(*k):
        _at(dx, i, j, s, out)[...] += g
    return _strip(dx, missing)
