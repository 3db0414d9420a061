"""1-D and 2-D convolution layers (valid cross-correlation, as in deep-learning libraries).

`conv1d(x, w)` computes y[o, l] = sum_{c,k} w[o, c, k] x[c, l*stride + k] on the zero-padded
input, i.e. what `torch.nn.functional.conv1d` computes (no kernel flip, no bias). Shapes:

- x (L,) with w (K,) -> y (L_out,), the form textbook exercises use;
- x (C_in, L) with w (C_out, C_in, K) -> (C_out, L_out);
- x (N, C_in, L) with w (C_out, C_in, K) -> (N, C_out, L_out),

with L_out = (L + 2 padding - K) // stride + 1. `conv1d_backward(x, w, grad_out)` returns
(dL/dx, dL/dw) for grad_out = dL/dy: dL/dw[o, c, k] = sum_l grad_out[o, l] x[c, l*stride + k]
(a cross-correlation of the input with the output gradient) and dL/dx is the "full"
convolution of grad_out with the kernel. A bias's gradient is grad_out summed over every axis
but the channel one. `conv2d` / `conv2d_backward` are the same in two dimensions
(x (H, W) with w (KH, KW), or channels first: (C, H, W) / (N, C, H, W) with w (O, C, KH, KW)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from grader.engine._validate import FloatArray
from grader.engine._validate import as_array


def _pair(name: str, value: Any, dims: int, minimum: int) -> tuple[int, ...]:
    values = (value,) * dims if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != dims or any(
        isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum for v in values
    ):
        raise ValueError(
            f"{name}: expected an integer >= {minimum} (or {dims} of them), got {value!r}"
        )
    return tuple(int(v) for v in values)


def _normalise(x: Any, w: Any, dims: int) -> tuple[FloatArray, FloatArray, int]:
    """Batched, channels-first views of x and w; returns how many leading axes x lacked."""
    x = as_array("x", x, (dims, dims + 1, dims + 2))
    w = as_array("w", w, (dims, dims + 2))
    if w.ndim == dims:
        if x.ndim != dims:
            raise ValueError(
                f"x: a {dims}-D kernel needs a {dims}-D input, got shape {x.shape}; "
                f"use w of shape (C_out, C_in, ...) for channels"
            )
        return x[None, None], w[None, None], 2
    if x.ndim == dims:
        raise ValueError(f"x: a kernel with channels needs x with channels, got shape {x.shape}")
    missing = dims + 2 - x.ndim
    xb = x[None] if missing else x
    if xb.shape[1] != w.shape[1]:
        raise ValueError(
            f"w: expected {xb.shape[1]} input channels (x has shape {x.shape}), got shape {w.shape}"
        )
    return xb, w, missing


def _out_shape(
    x: FloatArray, w: FloatArray, stride: tuple[int, ...], pad: tuple[int, ...]
) -> tuple[int, ...]:
    dims = len(stride)
    out = []
    for i in range(dims):
        size = x.shape[2 + i] + 2 * pad[i] - w.shape[2 + i]
        if size < 0:
            raise ValueError(
                f"w: kernel shape {w.shape[2:]} is larger than the padded input "
                f"{tuple(x.shape[2 + j] + 2 * pad[j] for j in range(dims))}"
            )
        out.append(size // stride[i] + 1)
    return tuple(out)


def _windows(xp: FloatArray, kernel: tuple[int, ...], stride: tuple[int, ...]) -> FloatArray:
    """(N, C, *out, *kernel) view of the (padded) input."""
    axes = tuple(range(2, 2 + len(kernel)))
    view = sliding_window_view(xp, kernel, axis=axes)
    index = (slice(None), slice(None), *(slice(None, None, s) for s in stride))
    return view[index]


def _pad(x: FloatArray, pad: tuple[int, ...]) -> FloatArray:
    if not any(pad):
        return x
    return np.pad(x, ((0, 0), (0, 0), *((p, p) for p in pad)))


def _forward(x: Any, w: Any, stride: Any, padding: Any, dims: int) -> FloatArray:
    xb, wb, missing = _normalise(x, w, dims)
    st = _pair("stride", stride, dims, 1)
    pd = _pair("padding", padding, dims, 0)
    _out_shape(xb, wb, st, pd)
    win = _windows(_pad(xb, pd), wb.shape[2:], st)
    n_axes = list(range(2 + dims, 2 + 2 * dims))
    # (N, *out, O) -> (N, O, *out)
    y = np.tensordot(win, wb, axes=([1, *n_axes], [1, *range(2, 2 + dims)]))
    y = np.moveaxis(y, -1, 1)
    return y.reshape(y.shape[missing:]) if missing else y


def _backward(
    x: Any, w: Any, grad_out: Any, stride: Any, padding: Any, dims: int
) -> tuple[FloatArray, FloatArray]:
    xb, wb, missing = _normalise(x, w, dims)
    st = _pair("stride", stride, dims, 1)
    pd = _pair("padding", padding, dims, 0)
    out = _out_shape(xb, wb, st, pd)
    expected = (xb.shape[0], wb.shape[0], *out)
    g = as_array("grad_out", grad_out)
    if g.shape != expected[missing:]:
        raise ValueError(
            f"grad_out: expected shape {expected[missing:]} (the output's), got {g.shape}"
        )
    g = g.reshape(expected)
    xp = _pad(xb, pd)
    kernel = wb.shape[2:]
    win = _windows(xp, kernel, st)
    spatial = list(range(2, 2 + dims))
    # dL/dw[o, c, k...] = sum_{n, l...} g[n, o, l...] x_window[n, c, l..., k...]
    dw = np.tensordot(g, win, axes=([0, *spatial], [0, *spatial]))
    dxp = np.zeros_like(xp)
    for offset in np.ndindex(*kernel):
        # every output position l reads x at l*stride + offset with weight w[..., offset]
        contrib = np.tensordot(g, wb[(slice(None), slice(None), *offset)], axes=([1], [0]))
        index = (
            slice(None),
            slice(None),
            *(slice(k, k + s * (n - 1) + 1, s) for k, s, n in zip(offset, st, out, strict=True)),
        )
        dxp[index] += np.moveaxis(contrib, -1, 1)
    crop = (slice(None), slice(None), *(slice(p, p + xb.shape[2 + i]) for i, p in enumerate(pd)))
    dx = dxp[crop]
    if missing == 2:
        return dx[0, 0].copy(), dw[0, 0].copy()
    if missing == 1:
        return dx[0].copy(), dw
    return np.ascontiguousarray(dx), dw


def conv1d(x: Any, w: Any, *, stride: int = 1, padding: int = 0) -> FloatArray:
    """Valid 1-D cross-correlation of x with kernel w (see the module docstring for shapes)."""
    return _forward(x, w, stride, padding, 1)


def conv1d_backward(
    x: Any, w: Any, grad_out: Any, *, stride: int = 1, padding: int = 0
) -> tuple[FloatArray, FloatArray]:
    """(dL/dx, dL/dw) of `conv1d(x, w)` given grad_out = dL/dy, shaped like x and w."""
    return _backward(x, w, grad_out, stride, padding, 1)


def conv2d(
    x: Any, w: Any, *, stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0
) -> FloatArray:
    """Valid 2-D cross-correlation of x with kernel w (see the module docstring for shapes)."""
    return _forward(x, w, stride, padding, 2)


def conv2d_backward(
    x: Any,
    w: Any,
    grad_out: Any,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> tuple[FloatArray, FloatArray]:
    """(dL/dx, dL/dw) of `conv2d(x, w)` given grad_out = dL/dy, shaped like x and w."""
    return _backward(x, w, grad_out, stride, padding, 2)
