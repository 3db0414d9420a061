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
from numpy.lib.stride_tricks import sliding_window_view

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


def _windows(xb: FloatArray, k: tuple[int, int], s: tuple[int, int]) -> FloatArray:
    """(N, C, OH, OW, KH, KW) view."""
    view = sliding_window_view(xb, k, axis=(2, 3))
    return view[:, :, :: s[0], :: s[1]]


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
    xb, missing, k, s, _ = _setup(x, kernel, stride)
    win = _windows(xb, k, s)
    y: FloatArray = win.max(axis=(4, 5))
    return _strip(y, missing)


def max_pool2d_backward(
    x: Any, grad_out: Any, kernel: int | tuple[int, int], stride: Any = None
) -> FloatArray:
    """dL/dx of `max_pool2d(x, kernel, stride)` given grad_out = dL/dy, shaped like x."""
    xb, missing, k, s, out = _setup(x, kernel, stride)
    g = _grad(grad_out, xb, missing, out)
    win = _windows(xb, k, s)
    flat = win.reshape(*win.shape[:4], k[0] * k[1])
    arg = flat.argmax(axis=-1)  # first maximum in row-major order, as torch
    dx = np.zeros_like(xb)
    for n, (i, j) in enumerate(np.ndindex(*k)):
        # windows whose maximum sits at offset (i, j) send their gradient there
        rows = slice(i, i + s[0] * (out[0] - 1) + 1, s[0])
        cols = slice(j, j + s[1] * (out[1] - 1) + 1, s[1])
        dx[:, :, rows, cols] += np.where(arg == n, g, 0.0)
    return _strip(dx, missing)


def avg_pool2d(x: Any, kernel: int | tuple[int, int], stride: Any = None) -> FloatArray:
    """The mean of each window (see the module docstring for shapes)."""
    xb, missing, k, s, _ = _setup(x, kernel, stride)
    y: FloatArray = _windows(xb, k, s).mean(axis=(4, 5))
    return _strip(y, missing)


def avg_pool2d_backward(
    x: Any, grad_out: Any, kernel: int | tuple[int, int], stride: Any = None
) -> FloatArray:
    """dL/dx of `avg_pool2d(x, kernel, stride)` given grad_out = dL/dy, shaped like x."""
    xb, missing, k, s, out = _setup(x, kernel, stride)
    g = _grad(grad_out, xb, missing, out) / (k[0] * k[1])
    dx = np.zeros_like(xb)
    for i, j in np.ndindex(*k):
        dx[
            :, :, i : i + s[0] * (out[0] - 1) + 1 : s[0], j : j + s[1] * (out[1] - 1) + 1 : s[1]
        ] += g
    return _strip(dx, missing)
