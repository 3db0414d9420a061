"""A vanilla (Elman) recurrent network with backpropagation through time.

h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h) from h_0 = 0 (or a given h0), y_t = W_hy h_t + b_y,
and L = sum_t sum_j (y_tj - t_tj)^2 (the `sse` loss summed over all steps; `half_sse` and
`mse` are accepted too). Backward, with delta_t = dL/dz_t for z_t the pre-activation:

    dL/dh_t   = W_hy^T dL/dy_t + W_hh^T delta_{t+1}      (the second term absent at t = T)
    delta_t   = dL/dh_t * (1 - h_t^2)
    dL/dW_xh  = sum_t delta_t x_t^T,  dL/dW_hh = sum_t delta_t h_{t-1}^T,  dL/db_h = sum_t delta_t
    dL/dW_hy  = sum_t dL/dy_t h_t^T,  dL/db_y  = sum_t dL/dy_t

The Jacobian dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh is what vanishes or explodes over many steps;
`bptt()` returns every intermediate (`grader.exercises.solutions.trace_rnn` typesets them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import as_array
from grader.engine._validate import positive_int
from grader.engine.activations import ACTIVATIONS
from grader.engine.losses import get_loss

PARAMETER_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
_REGRESSION = ("sse", "half_sse", "mse")


class _Param:
    """A validated array attribute: assigning converts to float64 and checks the shape."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.slot = f"_{name}"

    def __get__(self, obj: RNN | None, owner: type) -> Any:
        if obj is None:
            return self
        return getattr(obj, self.slot)

    def __set__(self, obj: RNN, value: Any) -> None:
        arr = np.array(as_array(self.name, value), dtype=np.float64)
        shape = obj._shapes[self.name]
        if arr.shape != shape:
            raise ValueError(f"{self.name}: expected shape {shape}, got {arr.shape}")
        setattr(obj, self.slot, arr)


@dataclass
class RNNBackprop:
    """One BPTT pass, with every intermediate (time index t = 0..steps-1 in the arrays).

    Attributes:
        loss: the loss.
        hs: hidden states, shape (steps + 1, n_hidden); hs[0] = h_0.
        zs: pre-activations, shape (steps, n_hidden); hs[t+1] = tanh(zs[t]).
        ys: outputs, shape (steps, n_out).
        dys: dL/dy_t, shape (steps, n_out).
        dhs: dL/dh_t (total, including the path through later steps), shape (steps, n_hidden).
        deltas: dL/dz_t, shape (steps, n_hidden).
        grads: gradients keyed by parameter name.
    """

    loss: float
    hs: FloatArray
    zs: FloatArray
    ys: FloatArray
    dys: FloatArray
    dhs: FloatArray
    deltas: FloatArray
    grads: dict[str, FloatArray]


class RNN:
    """A one-layer tanh RNN with a linear read-out (see the module docstring).

    Args:
        n_in, n_hidden, n_out: sizes.
        rng: initialises every parameter from U(-1/sqrt(n_hidden), 1/sqrt(n_hidden)), as
            `torch.nn.RNN` does; defaults to `np.random.default_rng(0)`.
        params: optional initial values keyed by parameter name (others stay random).
        loss: "sse" (default), "half_sse" or "mse".
    """

    W_xh = _Param()
    W_hh = _Param()
    b_h = _Param()
    W_hy = _Param()
    b_y = _Param()

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_out: int,
        *,
        rng: np.random.Generator | None = None,
        params: Mapping[str, Any] | None = None,
        loss: str = "sse",
    ) -> None:
        self.n_in = positive_int("n_in", n_in)
        self.n_hidden = positive_int("n_hidden", n_hidden)
        self.n_out = positive_int("n_out", n_out)
        if loss not in _REGRESSION:
            get_loss(loss)  # an unknown name gets the registry's message
            raise ValueError(f"loss: an RNN takes one of {list(_REGRESSION)}, got {loss!r}")
        self._loss = get_loss(loss)
        self._tanh = ACTIVATIONS["tanh"]
        self._linear = ACTIVATIONS["linear"]
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        H = self.n_hidden
        self._shapes = {
            "W_xh": (H, self.n_in),
            "W_hh": (H, H),
            "b_h": (H,),
            "W_hy": (self.n_out, H),
            "b_y": (self.n_out,),
        }
        params = dict(params or {})
        unknown = sorted(set(params) - set(PARAMETER_NAMES))
        if unknown:
            raise ValueError(f"params: unknown names {unknown}; expected {list(PARAMETER_NAMES)}")
        gen = rng if rng is not None else np.random.default_rng(0)
        k = 1.0 / np.sqrt(H)
        for name in PARAMETER_NAMES:
            random_value = gen.uniform(-k, k, self._shapes[name])  # drawn always: stable streams
            setattr(self, name, params.get(name, random_value))

    @property
    def loss(self) -> str:
        """The loss name."""
        return self._loss.name

    def parameter_names(self) -> list[str]:
        """["W_xh", "W_hh", "b_h", "W_hy", "b_y"], the order of `parameters()`."""
        return list(PARAMETER_NAMES)

    def parameters(self) -> list[FloatArray]:
        """The parameter arrays themselves, for in-place optimizer updates."""
        return [getattr(self, n) for n in PARAMETER_NAMES]

    def _check(self, xs: Any, ts: Any | None, h0: Any | None) -> tuple[FloatArray, Any, FloatArray]:
        xs = as_array("xs", xs, 2)
        if xs.shape[1] != self.n_in or xs.shape[0] < 1:
            raise ValueError(f"xs: expected shape (steps, {self.n_in}), got {xs.shape}")
        if ts is not None:
            ts = as_array("ts", ts, 2)
            if ts.shape != (xs.shape[0], self.n_out):
                raise ValueError(
                    f"ts: expected shape ({xs.shape[0]}, {self.n_out}) to match xs, got {ts.shape}"
                )
        if h0 is None:
            h = np.zeros(self.n_hidden)
        else:
            h = as_array("h0", h0, 1)
            if h.shape != (self.n_hidden,):
                raise ValueError(f"h0: expected shape ({self.n_hidden},), got {h.shape}")
        return xs, ts, h

    def _run(self, xs: FloatArray, h: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        steps = xs.shape[0]
        hs = np.empty((steps + 1, self.n_hidden))
        hs[0] = h
        # The input projection of every step at once; only the recurrence is sequential.
        zs = xs @ self.W_xh.T + self.b_h
        W_hh_T = self.W_hh.T
        for t in range(steps):
            zs[t] += hs[t] @ W_hh_T
            hs[t + 1] = np.tanh(zs[t])
        ys = hs[1:] @ self.W_hy.T + self.b_y
        return hs, zs, ys

    def forward(self, xs: Any, h0: Any | None = None) -> FloatArray:
        """Outputs y_t for a sequence xs of shape (steps, n_in): shape (steps, n_out)."""
        xs, _, h = self._check(xs, None, h0)
        return self._run(xs, h)[2]

    def hidden_states(self, xs: Any, h0: Any | None = None) -> FloatArray:
        """h_0..h_T, shape (steps + 1, n_hidden)."""
        xs, _, h = self._check(xs, None, h0)
        return self._run(xs, h)[0]

    def loss_and_gradients(
        self, xs: Any, ts: Any, h0: Any | None = None
    ) -> tuple[float, dict[str, FloatArray]]:
        """The loss over all steps and its gradients keyed by parameter name (BPTT)."""
        bp = self.bptt(xs, ts, h0)
        return bp.loss, bp.grads

    def bptt(self, xs: Any, ts: Any, h0: Any | None = None) -> RNNBackprop:
        """Forward and backward through time, keeping every intermediate."""
        xs, ts, h = self._check(xs, ts, h0)
        hs, zs, ys = self._run(xs, h)
        loss, dys = self._loss.value_and_delta(ys, ys, ts, self._linear)
        steps = xs.shape[0]
        dhs = dys @ self.W_hy  # the direct part of dL/dh_t; the recurrent part is added below
        deltas = np.empty_like(zs)
        one_minus_h2 = 1.0 - hs[1:] ** 2
        W_hh = self.W_hh
        for t in range(steps - 1, -1, -1):
            if t < steps - 1:
                dhs[t] += deltas[t + 1] @ W_hh
            deltas[t] = dhs[t] * one_minus_h2[t]
        grads = {
            "W_xh": deltas.T @ xs,
            "W_hh": deltas.T @ hs[:-1],
            "b_h": deltas.sum(axis=0),
            "W_hy": dys.T @ hs[1:],
            "b_y": dys.sum(axis=0),
        }
        return RNNBackprop(loss, hs, zs, ys, dys, dhs, deltas, grads)

    def __repr__(self) -> str:
        sizes = f"n_in={self.n_in}, n_hidden={self.n_hidden}, n_out={self.n_out}"
        return f"RNN({sizes}, loss={self.loss!r})"
