"""Inverted dropout with a given mask: the forward scaling and the backward pass.

Training: y = x * mask / (1 - p), mask entries 0 (dropped) or 1 (kept), p the drop
probability, so the expected activation equals x and evaluation needs no rescaling (what
torch.nn.functional.dropout computes; here the mask is given, so exercises are reproducible).
Backward: dL/dx = dL/dy * mask / (1 - p): dropped units pass no gradient and kept ones are
scaled by the same 1/(1 - p).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import as_array
from grader.engine._validate import finite_float


def _mask(mask: Any, shape: tuple[int, ...], p: float) -> tuple[FloatArray, float]:
    m = as_array("mask", mask)
    if m.shape != shape:
        raise ValueError(f"mask: expected shape {shape}, got {m.shape}")
    if not np.isin(m, (0.0, 1.0)).all():
        raise ValueError("mask: expected entries 0 (dropped) or 1 (kept)")
    return m, finite_float("p", p, low=0.0, high=1.0, high_open=True)


def dropout(x: Any, mask: Any, p: float) -> FloatArray:
    """x * mask / (1 - p)."""
    xa = as_array("x", x)
    m, q = _mask(mask, xa.shape, p)
    out: FloatArray = xa * m / (1.0 - q)
    return out


def dropout_backward(grad_out: Any, mask: Any, p: float) -> FloatArray:
    """dL/dx = grad_out * mask / (1 - p)."""
    g = as_array("grad_out", grad_out)
    m, q = _mask(mask, g.shape, p)
    out: FloatArray = g * m / (1.0 - q)
    return out
