"""Central finite differences: the independent check behind every analytic gradient.

    result = gradcheck(lambda: net.loss_value(X, T), net.parameters(), grads.parameters())
    assert result, result.message

`f` takes no arguments and reads the parameter arrays, which are perturbed in place (and always
restored, even if `f` raises). Each element gets (f(p + h) - f(p - h)) / 2h with
h = eps * max(1, |p|), whose error is O(h^2) plus rounding O(|f| 1e-16 / h): with the default
eps = 1e-6 about 1e-9 relative for smooth float64 functions. Points exactly at a kink (relu at
0) have no derivative; keep them out of checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import finite_float


def _as_param_list(params: Any) -> list[FloatArray]:
    items = [params] if isinstance(params, np.ndarray) else params
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ValueError("params: expected a float64 array or a list of them")
    out = list(items)
    for i, p in enumerate(out):
        if not isinstance(p, np.ndarray) or p.dtype != np.float64 or not p.flags.writeable:
            raise ValueError(
                f"params: item {i} must be a writable float64 numpy array "
                "(it is perturbed in place)"
            )
    return out


def _call(f: Callable[[], Any]) -> float:
    value = f()
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"f: expected a scalar loss, got {type(value).__name__}") from None
    if not math.isfinite(out):
        raise ValueError(f"f: returned {out} during finite differencing; expected a finite number")
    return out


def numerical_gradient(
    f: Callable[[], Any], params: FloatArray | Sequence[FloatArray], *, eps: float = 1e-6
) -> list[FloatArray]:
    """Central-difference gradient of the scalar f() with respect to each array in `params`."""
    if not callable(f):
        raise ValueError("f: expected a callable taking no arguments")
    eps = finite_float("eps", eps, low=0.0, low_open=True)
    plist = _as_param_list(params)
    grads = []
    for p in plist:
        if not p.flags.c_contiguous:
            raise ValueError(
                "params: arrays must be C-contiguous so they can be perturbed in place"
            )
        g = np.empty_like(p)
        flat, gflat = p.reshape(-1), g.reshape(-1)  # views, because p is contiguous
        for k in range(flat.size):
            saved = flat[k]
            h = eps * max(1.0, abs(saved))
            try:
                flat[k] = saved + h
                up = _call(f)
                flat[k] = saved - h
                down = _call(f)
            finally:
                flat[k] = saved
            gflat[k] = (up - down) / (2.0 * h)
        grads.append(g)
    return grads


@dataclass
class GradcheckResult:
    """The outcome of `gradcheck`; truthy when every element agreed.

    Attributes:
        ok: every |analytic - numerical| <= atol + rtol * |numerical|.
        max_abs_error: the largest |analytic - numerical|.
        max_rel_error: the largest |analytic - numerical| / max(|numerical|, atol).
        numerical: the finite-difference gradients.
        worst: (parameter index, element index) of the worst violation, or None.
        message: a one-line summary for assertion messages.
    """

    ok: bool
    max_abs_error: float
    max_rel_error: float
    numerical: list[FloatArray]
    worst: tuple[int, tuple[int, ...]] | None
    message: str

    def __bool__(self) -> bool:
        return self.ok


def gradcheck(
    f: Callable[[], Any],
    params: FloatArray | Sequence[FloatArray],
    grads: FloatArray | Sequence[FloatArray],
    *,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> GradcheckResult:
    """Compare analytic `grads` with central finite differences of f() over `params`.

    Args:
        f: zero-argument callable returning the scalar loss; it must read `params`.
        params: the arrays to differentiate with respect to (perturbed in place, restored).
        grads: the analytic gradients, same count and shapes as `params`.
        eps: relative step (see the module docstring).
        rtol, atol: the tolerance, as in `numpy.allclose`.

    Raises:
        ValueError: malformed arguments, or f returns a non-finite value.
    """
    rtol = finite_float("rtol", rtol, low=0.0)
    atol = finite_float("atol", atol, low=0.0)
    plist = _as_param_list(params)
    glist_raw = [grads] if isinstance(grads, np.ndarray) else grads
    if not isinstance(glist_raw, Sequence) or len(glist_raw) != len(plist):
        raise ValueError(f"grads: expected {len(plist)} arrays, one per parameter")
    glist = []
    for i, (g, p) in enumerate(zip(glist_raw, plist, strict=True)):
        arr = np.asarray(g, dtype=np.float64)
        if arr.shape != p.shape:
            raise ValueError(f"grads: item {i} has shape {arr.shape}, its parameter {p.shape}")
        glist.append(arr)
    numerical = numerical_gradient(f, plist, eps=eps)
    max_abs = max_rel = 0.0
    worst: tuple[int, tuple[int, ...]] | None = None
    worst_excess = 0.0
    for i, (a, n) in enumerate(zip(glist, numerical, strict=True)):
        if a.size == 0:
            continue
        err = np.abs(a - n)
        excess = err - (atol + rtol * np.abs(n))
        k = int(np.argmax(excess))
        if excess.flat[k] > worst_excess:
            worst_excess = float(excess.flat[k])
            worst = (i, tuple(int(v) for v in np.unravel_index(k, a.shape)))
        max_abs = max(max_abs, float(err.max()))
        max_rel = max(max_rel, float((err / np.maximum(np.abs(n), max(atol, 1e-300))).max()))
    ok = worst is None
    if ok:
        message = f"gradients agree (max abs error {max_abs:.3g}, max rel error {max_rel:.3g})"
    else:
        assert worst is not None
        i, idx = worst
        message = (
            f"gradient mismatch at params[{i}]{list(idx)}: analytic {glist[i][idx]:.10g}, "
            f"numerical {numerical[i][idx]:.10g} (max abs error {max_abs:.3g})"
        )
    return GradcheckResult(ok, max_abs, max_rel, numerical, worst, message)
