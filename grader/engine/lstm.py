"""One LSTM cell step, forward and backward, with torch.nn.LSTMCell's equations and gate order.

With W_ih (4H, I), W_hh (4H, H), b (4H,) (torch's bias_ih + bias_hh) and the rows split in the
order input, forget, cell, output::

    [a_i, a_f, a_g, a_o] = W_ih x + W_hh h + b
    i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
    c' = f * c + i * g,  h' = o * tanh(c')

x (I,), h and c (H,) for one example, or (B, I), (B, H) for a batch. `lstm_cell_backward`
takes dL/dh' and dL/dc' (the gradient arriving from later steps, zero for the last one) and
returns every gradient: dc' is the direct one plus dh' o tanh'(c'); then dc = dc' f,
da_i = dc' g i(1-i), da_f = dc' c f(1-f), da_g = dc' i (1-g^2), da_o = dh' tanh(c') o(1-o).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import as_array


@dataclass(frozen=True)
class LSTMStep:
    """Every intermediate of one step (batched, 2-D), for worked solutions."""

    i: FloatArray
    f: FloatArray
    g: FloatArray
    o: FloatArray
    c_new: FloatArray
    h_new: FloatArray


@dataclass(frozen=True)
class LSTMGradients:
    """dL/d(every input) of one step; dc_total is dL/dc' including the path through h'."""

    x: FloatArray
    h: FloatArray
    c: FloatArray
    W_ih: FloatArray
    W_hh: FloatArray
    b: FloatArray
    gates: FloatArray
    dc_total: FloatArray


def _sigmoid(a: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * a))  # overflow-free
    return out


def _check(
    x: Any, h: Any, c: Any, W_ih: Any, W_hh: Any, b: Any
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, bool]:
    xa = as_array("x", x, (1, 2))
    single = xa.ndim == 1
    xa = np.atleast_2d(xa)
    ha = np.atleast_2d(as_array("h", h, (1, 2)))
    ca = np.atleast_2d(as_array("c", c, (1, 2)))
    hidden = ha.shape[1]
    wi = as_array("W_ih", W_ih, 2)
    wh = as_array("W_hh", W_hh, 2)
    ba = as_array("b", b, 1)
    expected = {
        "h": ((xa.shape[0], hidden), ha.shape),
        "c": ((xa.shape[0], hidden), ca.shape),
        "W_ih": ((4 * hidden, xa.shape[1]), wi.shape),
        "W_hh": ((4 * hidden, hidden), wh.shape),
        "b": ((4 * hidden,), ba.shape),
    }
    for name, (want, got) in expected.items():
        if want != got:
            raise ValueError(f"{name}: expected shape {want}, got {got}")
    return xa, ha, ca, wi, wh, ba, single


def _step(
    xa: FloatArray, ha: FloatArray, ca: FloatArray, wi: FloatArray, wh: FloatArray, ba: FloatArray
) -> LSTMStep:
    a = xa @ wi.T + ha @ wh.T + ba
    ai, af, ag, ao = np.split(a, 4, axis=1)
    i, f, g, o = _sigmoid(ai), _sigmoid(af), np.tanh(ag), _sigmoid(ao)
    c_new = f * ca + i * g
    return LSTMStep(i, f, g, o, c_new, o * np.tanh(c_new))


def lstm_cell(
    x: Any, h: Any, c: Any, W_ih: Any, W_hh: Any, b: Any
) -> tuple[FloatArray, FloatArray]:
    """(h', c') of one step (shapes as the inputs)."""
    xa, ha, ca, wi, wh, ba, single = _check(x, h, c, W_ih, W_hh, b)
    s = _step(xa, ha, ca, wi, wh, ba)
    if single:
        return s.h_new[0], s.c_new[0]
    return s.h_new, s.c_new


def lstm_cell_steps(x: Any, h: Any, c: Any, W_ih: Any, W_hh: Any, b: Any) -> LSTMStep:
    """Every intermediate of one step, batched (2-D) even for one example."""
    xa, ha, ca, wi, wh, ba, _ = _check(x, h, c, W_ih, W_hh, b)
    return _step(xa, ha, ca, wi, wh, ba)


def lstm_cell_backward(
    x: Any, h: Any, c: Any, W_ih: Any, W_hh: Any, b: Any, dh_new: Any, dc_new: Any = None
) -> LSTMGradients:
    """Gradients of one step given dL/dh' (and dL/dc' from later steps, default 0).

    x, h, c and gates gradients come back shaped like the inputs (1-D for one example).
    """
    xa, ha, ca, wi, wh, ba, single = _check(x, h, c, W_ih, W_hh, b)
    s = _step(xa, ha, ca, wi, wh, ba)
    dh = np.atleast_2d(as_array("dh_new", dh_new, (1, 2)))
    dc_in = (
        np.zeros_like(dh) if dc_new is None else np.atleast_2d(as_array("dc_new", dc_new, (1, 2)))
    )
    for name, arr in (("dh_new", dh), ("dc_new", dc_in)):
        if arr.shape != s.h_new.shape:
            raise ValueError(f"{name}: expected shape {s.h_new.shape[single:]}, got {arr.shape}")
    tc = np.tanh(s.c_new)
    dc = dc_in + dh * s.o * (1.0 - tc**2)
    da = np.concatenate(
        [
            dc * s.g * s.i * (1.0 - s.i),
            dc * ca * s.f * (1.0 - s.f),
            dc * s.i * (1.0 - s.g**2),
            dh * tc * s.o * (1.0 - s.o),
        ],
        axis=1,
    )
    dx, dhp, dcp = da @ wi, da @ wh, dc * s.f
    if single:
        dx, dhp, dcp, da_out, dct = dx[0], dhp[0], dcp[0], da[0], dc[0]
    else:
        da_out, dct = da, dc
    return LSTMGradients(dx, dhp, dcp, da.T @ xa, da.T @ ha, da.sum(axis=0), da_out, dct)
