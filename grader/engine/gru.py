"""One GRU cell step, forward and backward, with torch.nn.GRUCell's equations and gate order.

With W_ih (3H, I), W_hh (3H, H), b_ih and b_hh (3H,), rows in the order reset, update, new::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

x (I,) and h (H,) for one example, or (B, I) and (B, H). `gru_cell_backward` takes dL/dh' and
returns every gradient (the two biases separately, because b_hn sits inside the reset gate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import as_array


@dataclass(frozen=True)
class GRUGradients:
    """dL/d(every input) of one step."""

    x: FloatArray
    h: FloatArray
    W_ih: FloatArray
    W_hh: FloatArray
    b_ih: FloatArray
    b_hh: FloatArray


def _sigmoid(a: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * a))
    return out


def _check(
    x: Any, h: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, bool]:
    xa = as_array("x", x, (1, 2))
    single = xa.ndim == 1
    xa = np.atleast_2d(xa)
    ha = np.atleast_2d(as_array("h", h, (1, 2)))
    hidden = ha.shape[1]
    wi, wh = as_array("W_ih", W_ih, 2), as_array("W_hh", W_hh, 2)
    bi, bh = as_array("b_ih", b_ih, 1), as_array("b_hh", b_hh, 1)
    expected = {
        "h": ((xa.shape[0], hidden), ha.shape),
        "W_ih": ((3 * hidden, xa.shape[1]), wi.shape),
        "W_hh": ((3 * hidden, hidden), wh.shape),
        "b_ih": ((3 * hidden,), bi.shape),
        "b_hh": ((3 * hidden,), bh.shape),
    }
    for name, (want, got) in expected.items():
        if want != got:
            raise ValueError(f"{name}: expected shape {want}, got {got}")
    return xa, ha, wi, wh, bi, bh, single


def _forward(
    xa: FloatArray, ha: FloatArray, wi: FloatArray, wh: FloatArray, bi: FloatArray, bh: FloatArray
) -> tuple[FloatArray, ...]:
    gi = xa @ wi.T + bi
    gh = ha @ wh.T + bh
    ir, iz, i_n = np.split(gi, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
    n = np.tanh(i_n + r * hn)
    return r, z, n, hn, (1.0 - z) * n + z * ha


def gru_cell(x: Any, h: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any) -> FloatArray:
    """h' of one step (shaped like h)."""
    xa, ha, wi, wh, bi, bh, single = _check(x, h, W_ih, W_hh, b_ih, b_hh)
    h_new = _forward(xa, ha, wi, wh, bi, bh)[-1]
    return h_new[0] if single else h_new


def gru_cell_backward(
    x: Any, h: Any, W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any, dh_new: Any
) -> GRUGradients:
    """Gradients of one step given dL/dh' (x and h gradients shaped like the inputs)."""
    xa, ha, wi, wh, bi, bh, single = _check(x, h, W_ih, W_hh, b_ih, b_hh)
    r, z, n, hn, h_new = _forward(xa, ha, wi, wh, bi, bh)
    dh = np.atleast_2d(as_array("dh_new", dh_new, (1, 2)))
    if dh.shape != h_new.shape:
        raise ValueError(f"dh_new: expected shape {h_new.shape[single:]}, got {dh.shape}")
    dn = dh * (1.0 - z)
    dz = dh * (ha - n)
    da_n = dn * (1.0 - n**2)  # pre-activation of n
    dr = da_n * hn
    da_r = dr * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)
    dx = dgi @ wi
    dhp = dgh @ wh + dh * z
    if single:
        dx, dhp = dx[0], dhp[0]
    return GRUGradients(dx, dhp, dgi.T @ xa, dgh.T @ ha, dgi.sum(axis=0), dgh.sum(axis=0))
