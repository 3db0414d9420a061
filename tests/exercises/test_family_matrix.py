"""Families 6 and 7: matrix-form deltas and softmax cross-entropy, against finite differences."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader.exercises import judge

from .helpers import fd_array


def sig(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("seed", range(10))
def test_matrix_deltas(gen, seed: int) -> None:
    v = gen("matrix-deltas-232", seed)
    p = {k: np.array(val, dtype=float) for k, val in v.params.items()}
    x, y, W1, b1, W2, b2 = p["x"], p["y"], p["W1"], p["b1"], p["W2"], p["b2"]

    def cost(W1_: np.ndarray = W1, W2_: np.ndarray = W2) -> float:
        a2 = sig(W2_ @ sig(W1_ @ x + b1) + b2)
        return 0.5 * float(np.sum((a2 - y) ** 2))

    gW2 = fd_array(lambda m: cost(W2_=m), W2)
    gW1 = fd_array(lambda m: cost(W1_=m), W1)
    assert np.allclose(v.part("gradW2").key, gW2, atol=1e-8)
    assert np.allclose(v.part("gradW1").key, gW1, atol=1e-8)
    a1 = sig(W1 @ x + b1)
    a2 = sig(W2 @ a1 + b2)
    d2 = (a2 - y) * a2 * (1 - a2)
    assert np.allclose(v.part("delta2").key, d2)
    assert np.allclose(v.part("delta1").key, (W2.T @ d2) * a1 * (1 - a1))
    transposed = next(m for m in v.part("gradW2").mistakes if m.code == "transposed")
    assert np.asarray(transposed.value).shape == (3, 2)
    assert v.diagram_svg is not None
    assert v.diagram_svg.count("<circle") == 7


@pytest.mark.parametrize("seed", range(10))
def test_softmax_cross_entropy(gen, seed: int) -> None:
    v = gen("softmax-cross-entropy", seed)
    x = np.array(v.params["x"])
    W = np.array(v.params["W"])
    b = np.array(v.params["b"])
    c = v.params["label"] - 1

    def loss(W_: np.ndarray = W, z_shift: np.ndarray | None = None) -> float:
        z = W_ @ x + b + (0 if z_shift is None else z_shift)
        return float(-(z[c] - np.log(np.sum(np.exp(z)))))

    y = np.eye(3)[c]
    z = W @ x + b
    p = np.exp(z) / np.exp(z).sum()
    assert np.allclose(v.part("p").key, p)
    assert np.allclose(v.part("dz").key, p - y)
    assert np.allclose(
        v.part("dz").key, fd_array(lambda s: loss(z_shift=s), np.zeros(3)), atol=1e-8
    )
    assert np.allclose(v.part("dW").key, fd_array(lambda m: loss(W_=m), W), atol=1e-8)
    r = judge(v, "dz", json.dumps((y - p).tolist()))
    assert (r.note, r.score) == ("mistake:sign_flipped", 0.5)
