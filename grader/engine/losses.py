"""Loss functions by name, with their gradients, on a batch of shape (batch, outputs).

With y the network's outputs, z the last layer's pre-activations, t the targets, B the batch
size and N = B * outputs the number of elements:

- `sse`: L = sum_{b,j} (y_bj - t_bj)^2, the "sum of squared residuals"; dL/dy = 2 (y - t).
- `half_sse`: L = 1/2 sum_{b,j} (y_bj - t_bj)^2, the classic delta rule; dL/dy = y - t.
- `mse`: L = 1/N sum_{b,j} (y_bj - t_bj)^2 (PyTorch's `mse_loss`); dL/dy = 2 (y - t) / N.
- `cross_entropy`: L = -1/B sum_{b,j} t_bj log softmax(z_b)_j, with one-hot (or probability) rows
  t_b (PyTorch's `cross_entropy` on logits z). The output activation must be `softmax` or
  `linear`; either way the loss is computed from z by a log-sum-exp, never from log(y).
  dL/dz = (softmax(z) * sum_j t_bj - t) / B, which is the familiar (p - t) / B for one-hot t.
- `binary_cross_entropy`: L = -1/N sum [t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))]
  = 1/N sum [softplus(z) - t z] (PyTorch's `binary_cross_entropy_with_logits`). The output
  activation must be `sigmoid` or `linear`; dL/dz = (sigmoid(z) - t) / N.

The two cross-entropies take their gradient with respect to z directly (the softmax/sigmoid
Jacobian folded in), which is both the textbook result and the only overflow-safe route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine.activations import Activation
from grader.engine.activations import log_softmax
from grader.engine.activations import sigmoid
from grader.engine.activations import softplus

# PyTorch's BCELoss clamps log(p) at -100; log(max(p, e^-100)) is the same clamp without log(0).
_E_MINUS_100 = float(np.exp(-100.0))


def sse(y: FloatArray, t: FloatArray) -> float:
    """Sum of squared residuals over every element."""
    r = y - t
    return float(np.vdot(r, r))


def half_sse(y: FloatArray, t: FloatArray) -> float:
    """One half of `sse`."""
    return 0.5 * sse(y, t)


def mse(y: FloatArray, t: FloatArray) -> float:
    """Mean of the squared residuals over every element."""
    return sse(y, t) / y.size


def cross_entropy(z: FloatArray, t: FloatArray) -> float:
    """Mean over the batch of -sum_j t_j log softmax(z)_j, from logits z (batch, classes)."""
    return float(-(t * log_softmax(z)).sum() / z.shape[0])


def binary_cross_entropy_with_logits(z: FloatArray, t: FloatArray) -> float:
    """Mean over all elements of softplus(z) - t z = BCE(sigmoid(z), t), overflow-free."""
    return float((softplus(z) - t * z).mean())


def binary_cross_entropy(p: FloatArray, t: FloatArray) -> float:
    """Mean BCE from probabilities p, with log clamped at -100 as PyTorch's `BCELoss` does."""
    log_p = np.log(np.maximum(p, _E_MINUS_100))
    log_q = np.log(np.maximum(1.0 - p, _E_MINUS_100))
    return float(-(t * log_p + (1.0 - t) * log_q).mean())


# (z, y, t, output activation) -> (L, dL/dz) for the whole batch.
DeltaFn = Callable[[FloatArray, FloatArray, FloatArray, Activation], tuple[float, FloatArray]]


def _sse_delta(
    z: FloatArray, y: FloatArray, t: FloatArray, act: Activation
) -> tuple[float, FloatArray]:
    r = y - t
    return float(np.vdot(r, r)), act.backward(z, y, 2.0 * r)


def _half_sse_delta(
    z: FloatArray, y: FloatArray, t: FloatArray, act: Activation
) -> tuple[float, FloatArray]:
    r = y - t
    return 0.5 * float(np.vdot(r, r)), act.backward(z, y, r)


def _mse_delta(
    z: FloatArray, y: FloatArray, t: FloatArray, act: Activation
) -> tuple[float, FloatArray]:
    r = y - t
    n = r.size
    return float(np.vdot(r, r)) / n, act.backward(z, y, (2.0 / n) * r)


def _ce_delta(
    z: FloatArray, y: FloatArray, t: FloatArray, act: Activation
) -> tuple[float, FloatArray]:
    logp = log_softmax(z)
    batch = z.shape[0]
    p = y if act.name == "softmax" else np.exp(logp)
    # d/dz of -sum_j t_j log softmax(z)_j is p * sum_j t_j - t (= p - t for one-hot rows).
    delta = (p * t.sum(axis=-1, keepdims=True) - t) / batch
    return float(-(t * logp).sum()) / batch, delta


def _bce_delta(
    z: FloatArray, y: FloatArray, t: FloatArray, act: Activation
) -> tuple[float, FloatArray]:
    p = y if act.name == "sigmoid" else sigmoid(z)
    n = z.size
    return float((softplus(z) - t * z).sum()) / n, (p - t) / n


def _sse_grad(y: FloatArray, t: FloatArray) -> FloatArray:
    return 2.0 * (y - t)


def _half_sse_grad(y: FloatArray, t: FloatArray) -> FloatArray:
    return y - t


def _mse_grad(y: FloatArray, t: FloatArray) -> FloatArray:
    return (2.0 / y.size) * (y - t)


def _ce_grad_logits(z: FloatArray, t: FloatArray) -> FloatArray:
    p = np.exp(log_softmax(z))
    return (p * t.sum(axis=-1, keepdims=True) - t) / z.shape[0]


def _bce_grad_logits(z: FloatArray, t: FloatArray) -> FloatArray:
    return (sigmoid(z) - t) / z.size


@dataclass(frozen=True, eq=False)
class Loss:
    """One loss function.

    Attributes:
        name: the registry name.
        formula: LaTeX of the batch loss.
        value: (y, t) -> L for regression losses; (z, t) -> L from logits for the two
            cross-entropies.
        gradient: dL/dy for regression losses, dL/dz for the cross-entropies (same argument
            convention as `value`).
        value_and_delta: (z, y, t, output activation) -> (L, dL/dz), what `MLP` calls.
        output_activations: the output activations this loss accepts, or None for any.
        from_logits: True when `value` and `gradient` take pre-activations z.
    """

    name: str
    formula: str
    value: Callable[[FloatArray, FloatArray], float]
    gradient: Callable[[FloatArray, FloatArray], FloatArray]
    value_and_delta: DeltaFn
    output_activations: frozenset[str] | None = None
    from_logits: bool = False

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return get_loss, (self.name,)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("sse", r"L = \sum_{b,j} (y_{bj} - t_{bj})^2", sse, _sse_grad, _sse_delta),
        Loss(
            "half_sse",
            r"L = \frac{1}{2} \sum_{b,j} (y_{bj} - t_{bj})^2",
            half_sse,
            _half_sse_grad,
            _half_sse_delta,
        ),
        Loss("mse", r"L = \frac{1}{N} \sum_{b,j} (y_{bj} - t_{bj})^2", mse, _mse_grad, _mse_delta),
        Loss(
            "cross_entropy",
            r"L = -\frac{1}{B} \sum_{b,j} t_{bj} \log \operatorname{softmax}(z_b)_j",
            cross_entropy,
            _ce_grad_logits,
            _ce_delta,
            frozenset({"softmax", "linear"}),
            from_logits=True,
        ),
        Loss(
            "binary_cross_entropy",
            r"L = -\frac{1}{N} \sum_{b,j} \left[t_{bj} \log \sigma(z_{bj})"
            r" + (1 - t_{bj}) \log\left(1 - \sigma(z_{bj})\right)\right]",
            binary_cross_entropy_with_logits,
            _bce_grad_logits,
            _bce_delta,
            frozenset({"sigmoid", "linear"}),
            from_logits=True,
        ),
    )
}


def get_loss(name: str, argument: str = "loss") -> Loss:
    """Look up a loss by name.

    Raises:
        ValueError: naming `argument` and listing the known names.
    """
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        known = ", ".join(LOSSES)
        raise ValueError(f"{argument}: unknown loss {name!r}; expected one of {known}") from None


def one_hot(labels: FloatArray | list[int], n_classes: int) -> FloatArray:
    """One-hot rows for integer class labels, the target format `cross_entropy` expects.

    Raises:
        ValueError: a label is not an integer in [0, n_classes).
    """
    arr = np.asarray(labels)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"labels: expected a 1-dimensional array of integers, got {arr!r}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"labels: expected integers in [0, {n_classes}), got {arr.tolist()}")
    out = np.zeros((arr.size, n_classes))
    out[np.arange(arr.size), arr] = 1.0
    return out
