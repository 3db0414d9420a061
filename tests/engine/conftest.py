"""Shared oracles for the engine tests: the same computations written with PyTorch autograd."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional name

from grader.engine import MLP

# One thread: the machine is shared, and these tensors are tiny.
torch.set_num_threads(1)

TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    # threshold=1e30: torch's default returns z itself for z > 20; the engine is exact there
    "softplus": lambda z: F.softplus(z, threshold=1e30),
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "softmax": lambda z: torch.softmax(z, dim=-1),
}

TORCH_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    # (z, y, t) -> loss; the cross-entropies read the logits z
    "sse": lambda z, y, t: ((y - t) ** 2).sum(),
    "half_sse": lambda z, y, t: 0.5 * ((y - t) ** 2).sum(),
    "mse": lambda z, y, t: F.mse_loss(y, t),
    "cross_entropy": lambda z, y, t: F.cross_entropy(z, t),
    "binary_cross_entropy": lambda z, y, t: F.binary_cross_entropy_with_logits(z, t),
}


def tt(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    """A float64 torch tensor copied from a NumPy array."""
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def torch_mlp(net: MLP, X: np.ndarray, T: np.ndarray) -> dict[str, object]:
    """Loss, gradients and dL/dZ of `net` on (X, T), computed by torch autograd."""
    Ws = [tt(W, grad=True) for W in net.weights]
    bs = [tt(b, grad=True) for b in net.biases]
    A = tt(X)
    zs = []
    for W, b, act in zip(Ws, bs, net.activations, strict=True):
        Z = A @ W.T + b if net.bias else A @ W.T
        Z.retain_grad()
        zs.append(Z)
        A = TORCH_ACTIVATIONS[act](Z)
    loss = TORCH_LOSSES[net.loss](Z, A, tt(T))
    loss.backward()
    return {
        "loss": loss.item(),
        "output": A.detach().numpy(),
        "weights": [W.grad.numpy() for W in Ws],
        "biases": [b.grad.numpy() if b.grad is not None else np.zeros(b.shape) for b in bs],
        "deltas": [Z.grad.numpy() for Z in zs],
    }


def random_targets(loss: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Targets of the kind each loss expects (one-hot rows for cross_entropy)."""
    if loss == "cross_entropy":
        return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    if loss == "binary_cross_entropy":
        return rng.uniform(0.0, 1.0, shape)
    return rng.normal(size=shape)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
