"""Batch normalization in training mode (batch statistics), forward and backward.

x (N, D): mu = mean over the batch, var = the biased variance (divided by N, as
torch.nn.functional.batch_norm normalises in training), x_hat = (x - mu) / sqrt(var + eps),
y = gamma x_hat + beta. Backward, with dy = dL/dy:

    dbeta = sum_n dy,  dgamma = sum_n dy x_hat,
    dx = gamma / (N sqrt(var + eps)) (N dy - sum_n dy - x_hat sum_n dy x_hat),

the compact form of the chain rule through mu and var (each x_n reaches the loss directly and
through both batch statistics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.engine._validate import as_array
from grader.engine._validate import finite_float


@dataclass(frozen=True)
class BatchNormForward:
    """The output and the intermediates a worked solution shows."""

    y: FloatArray
    mean: FloatArray
    var: FloatArray
    x_hat: FloatArray


@dataclass(frozen=True)
class BatchNormGradients:
    """dL/dx, dL/dgamma, dL/dbeta."""

    dx: FloatArray
    dgamma: FloatArray
    dbeta: FloatArray


def _check(
    x: Any, gamma: Any, beta: Any, eps: float
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    xa = as_array("x", x, 2)
    if xa.shape[0] < 2:
        raise ValueError(f"x: batch norm needs a batch of at least 2 rows, got shape {xa.shape}")
    d = xa.shape[1]
    g = as_array("gamma", gamma, 1)
    b = as_array("beta", beta, 1)
    for name, arr in (("gamma", g), ("beta", b)):
        if arr.shape != (d,):
            raise ValueError(f"{name}: expected shape ({d},), got {arr.shape}")
    return xa, g, b, finite_float("eps", eps, low=0.0)


def batchnorm_forward(x: Any, gamma: Any, beta: Any, *, eps: float = 1e-5) -> BatchNormForward:
    """y = gamma (x - mean) / sqrt(var + eps) + beta over the batch axis (training mode)."""
    xa, g, b, e = _check(x, gamma, beta, eps)
    mean = xa.mean(axis=0)
    var = xa.var(axis=0)
    x_hat = (xa - mean) / np.sqrt(var + e)
    return BatchNormForward(g * x_hat + b, mean, var, x_hat)


def batchnorm_backward(
    x: Any, gamma: Any, grad_out: Any, *, eps: float = 1e-5
) -> BatchNormGradients:
    """(dx, dgamma, dbeta) of `batchnorm_forward` given grad_out = dL/dy (beta does not matter)."""
    xa, g, _, e = _check(x, gamma, np.zeros(np.shape(gamma)), eps)
    dy = as_array("grad_out", grad_out, 2)
    if dy.shape != xa.shape:
        raise ValueError(f"grad_out: expected shape {xa.shape} (the output's), got {dy.shape}")
    n = xa.shape[0]
    inv_std = 1.0 / np.sqrt(xa.var(axis=0) + e)
    x_hat = (xa - xa.mean(axis=0)) * inv_std
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    dx = g * inv_std / n * (n * dy - dbeta - x_hat * dgamma)
    return BatchNormGradients(dx, dgamma, dbeta)
