"""Gradient-descent optimizers with exactly the update rules of their `torch.optim` namesakes.

With g the gradient, p the parameter and t the step count (from 1):

- `SGD(lr, weight_decay=0)`: p <- p - lr (g + weight_decay p), torch's L2 weight decay (the
  gradient of weight_decay/2 ||p||^2 added to g).
- `Momentum(lr, momentum)` (= `torch.optim.SGD(momentum=mu)`, no dampening, not Nesterov):
  v <- mu v + g (v = g on the first step), p <- p - lr v.
- `RMSprop(lr, alpha, eps)`: s <- alpha s + (1 - alpha) g^2, p <- p - lr g / (sqrt(s) + eps).
- `Adam(lr, beta1, beta2, eps)`: m <- beta1 m + (1 - beta1) g, v <- beta2 v + (1 - beta2) g^2,
  m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t), p <- p - lr m_hat / (sqrt(v_hat) + eps).

State (velocities, averages, moments, the step count) lives in the optimizer object, one slot
per parameter array in order, and is readable (`Momentum.velocities`, `RMSprop.square_avg`,
`Adam.m`, `Adam.v`, `Adam.t`) so an exercise can show it. `step(model, grads)` updates the
model's arrays in place. A model is an `MLP` or `RNN` (anything with `parameters()`), a list of
float64 arrays, or one array; grads are `Gradients`, the RNN's dict, a list or one array.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import finite_float

logger = logging.getLogger(__name__)


def _parameters(model: Any) -> list[FloatArray]:
    if isinstance(model, np.ndarray):
        params = [model]
    elif hasattr(model, "parameters") and callable(model.parameters):
        params = list(model.parameters())
    elif isinstance(model, Sequence) and not isinstance(model, str | bytes):
        params = list(model)
    else:
        raise ValueError(
            "model: expected an MLP, an RNN, a list of arrays or an array, "
            f"got {type(model).__name__}"
        )
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or p.dtype != np.float64 or not p.flags.writeable:
            raise ValueError(
                f"model: parameter {i} must be a writable float64 numpy array "
                f"(updated in place), got {type(p).__name__}"
            )
    return params


def _gradients(model: Any, grads: Any, params: list[FloatArray]) -> list[FloatArray]:
    if isinstance(grads, np.ndarray):
        gs = [grads]
    elif isinstance(grads, Mapping):
        names = model.parameter_names() if hasattr(model, "parameter_names") else None
        if names is None:
            raise ValueError("grads: a dict of gradients needs a model with parameter_names()")
        missing = [n for n in names if n not in grads]
        extra = [k for k in grads if k not in names]
        if missing or extra:
            raise ValueError(f"grads: expected keys {names}, missing {missing}, unexpected {extra}")
        gs = [grads[n] for n in names]
    elif hasattr(grads, "parameters") and callable(grads.parameters):
        gs = list(grads.parameters())
    elif isinstance(grads, Sequence) and not isinstance(grads, str | bytes):
        gs = list(grads)
    else:
        raise ValueError(
            f"grads: expected gradients matching the model, got {type(grads).__name__}"
        )
    if len(gs) != len(params):
        raise ValueError(f"grads: expected {len(params)} arrays (one per parameter), got {len(gs)}")
    out: list[FloatArray] = []
    for i, (g, p) in enumerate(zip(gs, params, strict=True)):
        g = np.asarray(g, dtype=np.float64)
        if g.shape != p.shape:
            raise ValueError(f"grads: gradient {i} has shape {g.shape}, its parameter {p.shape}")
        if not np.isfinite(g).all():
            raise ValueError(f"grads: gradient {i} contains NaN or inf")
        out.append(g)
    return out


class Optimizer:
    """Base class: validates the arguments, keeps per-parameter state, applies `_update`."""

    def __init__(self, lr: float) -> None:
        self.lr = finite_float("lr", lr, low=0.0, low_open=True)
        self.t = 0
        self._shapes: list[tuple[int, ...]] | None = None

    def step(self, model: Any, grads: Any) -> None:
        """Update `model`'s parameters in place from `grads` (see the module docstring)."""
        params = _parameters(model)
        gs = _gradients(model, grads, params)
        shapes = [p.shape for p in params]
        if self._shapes is None:
            self._shapes = shapes
            self._init_state(params)
        elif shapes != self._shapes:
            raise ValueError(
                f"model: this optimizer's state is for parameter shapes {self._shapes}, got "
                f"{shapes}; use one optimizer per model (or call reset())"
            )
        self.t += 1
        self._update(params, gs)

    def reset(self) -> None:
        """Forget all state, as if newly constructed."""
        self.t = 0
        self._shapes = None
        self._init_state([])

    def _init_state(self, params: list[FloatArray]) -> None:
        """Allocate state arrays shaped like `params`."""

    def _update(self, params: list[FloatArray], grads: list[FloatArray]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent: p <- p - lr (g + weight_decay p) (L2 decay as torch.optim.SGD)."""

    def __init__(self, lr: float = 0.1, weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        self.weight_decay = finite_float("weight_decay", weight_decay, low=0.0)

    def _update(self, params: list[FloatArray], grads: list[FloatArray]) -> None:
        for p, g in zip(params, grads, strict=True):
            p -= self.lr * (g + self.weight_decay * p if self.weight_decay else g)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, weight_decay={self.weight_decay})"


class Momentum(Optimizer):
    """Heavy-ball momentum as in torch.optim.SGD(momentum=...): v <- mu v + g, p <- p - lr v."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = finite_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.velocities: list[FloatArray] = []

    def _init_state(self, params: list[FloatArray]) -> None:
        self.velocities = [np.zeros_like(p) for p in params]

    def _update(self, params: list[FloatArray], grads: list[FloatArray]) -> None:
        for p, g, v in zip(params, grads, self.velocities, strict=True):
            if self.t == 1:
                v[...] = g  # torch starts the buffer at g, not at mu * 0 + g (the same value)
            else:
                v *= self.momentum
                v += g
            p -= self.lr * v

    def __repr__(self) -> str:
        return f"Momentum(lr={self.lr}, momentum={self.momentum})"


class RMSprop(Optimizer):
    """torch.optim.RMSprop: s <- alpha s + (1-alpha) g^2, p <- p - lr g / (sqrt(s) + eps)."""

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.alpha = finite_float("alpha", alpha, low=0.0, high=1.0, high_open=True)
        self.eps = finite_float("eps", eps, low=0.0, low_open=True)
        self.square_avg: list[FloatArray] = []

    def _init_state(self, params: list[FloatArray]) -> None:
        self.square_avg = [np.zeros_like(p) for p in params]

    def _update(self, params: list[FloatArray], grads: list[FloatArray]) -> None:
        for p, g, s in zip(params, grads, self.square_avg, strict=True):
            s *= self.alpha
            s += (1.0 - self.alpha) * g * g
            p -= self.lr * g / (np.sqrt(s) + self.eps)

    def __repr__(self) -> str:
        return f"RMSprop(lr={self.lr}, alpha={self.alpha}, eps={self.eps})"


class Adam(Optimizer):
    """Adam with bias correction, as in torch.optim.Adam (see the module docstring)."""

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr)
        self.beta1 = finite_float("beta1", beta1, low=0.0, high=1.0, high_open=True)
        self.beta2 = finite_float("beta2", beta2, low=0.0, high=1.0, high_open=True)
        self.eps = finite_float("eps", eps, low=0.0, low_open=True)
        self.m: list[FloatArray] = []
        self.v: list[FloatArray] = []

    def _init_state(self, params: list[FloatArray]) -> None:
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def _update(self, params: list[FloatArray], grads: list[FloatArray]) -> None:
        b1, b2 = self.beta1, self.beta2
        # Same operation order as torch's single-tensor Adam, so trajectories agree to ~1 ulp.
        step_size = self.lr / (1.0 - b1**self.t)
        bias_correction2_sqrt = np.sqrt(1.0 - b2**self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m += (1.0 - b1) * (g - m)
            v *= b2
            v += (1.0 - b2) * g * g
            p -= step_size * m / (np.sqrt(v) / bias_correction2_sqrt + self.eps)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"
