"""MLP gradients against PyTorch autograd and finite differences, and the seeds' worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from grader.engine import ACTIVATIONS
from grader.engine import LOSSES
from grader.engine import MLP
from grader.engine import SGD
from grader.engine import gradcheck
from tests.engine.conftest import random_targets
from tests.engine.conftest import torch_mlp

HIDDEN = sorted(ACTIVATIONS)  # softmax included: a softmax hidden layer is legal, if unusual


@st.composite
def networks(draw: st.DrawFn) -> tuple[MLP, np.ndarray, np.ndarray]:
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    loss = draw(st.sampled_from(sorted(LOSSES)))
    allowed = LOSSES[loss].output_activations or ACTIVATIONS
    if loss == "cross_entropy" and sizes[-1] == 1:
        sizes[-1] = 2
    acts = [draw(st.sampled_from(HIDDEN)) for _ in sizes[2:]]
    acts.append(draw(st.sampled_from(sorted(allowed))))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    batch = draw(st.integers(1, 6))
    rng = np.random.default_rng(seed)
    net = MLP(sizes, acts, loss, rng=rng, bias=bias)
    X = rng.normal(scale=1.5, size=(batch, sizes[0]))
    T = random_targets(loss, rng, (batch, sizes[-1]))
    return net, X, T


@settings(max_examples=60, deadline=None, derandomize=True)
@given(networks())
def test_gradients_match_torch_autograd(case: tuple[MLP, np.ndarray, np.ndarray]) -> None:
    net, X, T = case
    bp = net.backprop(X, T)
    ref = torch_mlp(net, X, T)
    assert bp.loss == pytest.approx(ref["loss"], rel=1e-10, abs=1e-14)
    np.testing.assert_allclose(bp.activations[-1], ref["output"], rtol=1e-10, atol=1e-14)
    for ours, theirs in zip(bp.grads.weights, ref["weights"], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-13)
    for ours, theirs in zip(bp.grads.biases, ref["biases"], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-13)
    for ours, theirs in zip(bp.deltas, ref["deltas"], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-13)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(networks())
def test_gradients_match_finite_differences(case: tuple[MLP, np.ndarray, np.ndarray]) -> None:
    net, X, T = case
    _, grads = net.loss_and_gradients(X, T)
    params = net.parameters()
    if not net.bias:  # biases stay zero; their gradient is defined as 0
        params = list(net.weights)
    analytic = grads.parameters() if net.bias else grads.weights
    result = gradcheck(lambda: net.loss_value(X, T), params, analytic, rtol=1e-5, atol=1e-7)
    assert result, result.message


def test_shapes_follow_the_contract() -> None:
    net = MLP(
        [2, 3, 1], activations=["sigmoid", "linear"], loss="sse", rng=np.random.default_rng(0)
    )
    assert [w.shape for w in net.weights] == [(3, 2), (1, 3)]
    assert [b.shape for b in net.biases] == [(3,), (1,)]
    X = np.ones((4, 2))
    assert net.forward(X).shape == (4, 1)
    loss, grads = net.loss_and_gradients(X, np.zeros((4, 1)))
    assert isinstance(loss, float)
    assert [g.shape for g in grads.weights] == [(3, 2), (1, 3)]
    assert [g.shape for g in grads.biases] == [(3,), (1,)]
    assert net.forward(np.ones(2)).shape == (1,)  # one example may be 1-D


def test_same_seed_same_network_and_default_is_deterministic() -> None:
    a = MLP([2, 3, 1], ["tanh", "linear"], rng=np.random.default_rng(7))
    b = MLP([2, 3, 1], ["tanh", "linear"], rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    np.testing.assert_array_equal(
        MLP([2, 1], ["linear"]).weights[0], MLP([2, 1], ["linear"]).weights[0]
    )


def test_seed_delta_rule_example() -> None:
    """Inputs (1.0, 0.8), weights (0.5, -0.2), target 0.6, rate 0.1, linear output, delta rule."""
    net = MLP([2, 1], ["linear"], "half_sse", weights=[[[0.5, -0.2]]], bias=False)
    x, t = np.array([1.0, 0.8]), np.array([0.6])
    assert net.forward(x)[0] == pytest.approx(0.34)
    _, grads = net.loss_and_gradients(x, t)
    SGD(lr=0.1).step(net, grads)
    np.testing.assert_allclose(net.weights[0], [[0.526, -0.1792]], rtol=1e-12)
    np.testing.assert_array_equal(net.biases[0], [0.0])  # no bias in the textbook neuron


def _prime(name: str, z: float) -> float:
    """Textbook derivatives, written independently of the engine."""
    s = 1.0 / (1.0 + np.exp(-z))
    return {
        "linear": 1.0,
        "sigmoid": s * (1.0 - s),
        "tanh": 1.0 - np.tanh(z) ** 2,
        "relu": float(z > 0),
        "softplus": s,
        "leaky_relu": 1.0 if z > 0 else 0.01,
    }[name]


def _apply(name: str, z: float) -> float:
    return {
        "linear": z,
        "sigmoid": 1.0 / (1.0 + np.exp(-z)),
        "tanh": np.tanh(z),
        "relu": max(z, 0.0),
        "softplus": np.log1p(np.exp(z)),
        "leaky_relu": z if z > 0 else 0.01 * z,
    }[name]


@pytest.mark.parametrize("f", ["sigmoid", "tanh", "relu", "softplus", "leaky_relu", "linear"])
@pytest.mark.parametrize("g", ["linear", "sigmoid", "tanh"])
def test_one_hidden_layer_chain_rule_formulas(f: str, g: str) -> None:
    """dL/dw2 = dL/dy g'(z2) h and dL/dw1 = dL/dy g'(z2) w2 f'(z1) x, with L = (y - t)^2."""
    x, t, w1, b1, w2, b2 = 0.7, 0.25, 0.9, -0.3, -1.2, 0.4
    z1 = w1 * x + b1
    h = _apply(f, z1)
    z2 = w2 * h + b2
    y = _apply(g, z2)
    dl_dy = 2.0 * (y - t)
    expected_w2 = dl_dy * _prime(g, z2) * h
    expected_w1 = dl_dy * _prime(g, z2) * w2 * _prime(f, z1) * x
    expected_b1 = dl_dy * _prime(g, z2) * w2 * _prime(f, z1)
    net = MLP([1, 1, 1], [f, g], "sse", weights=[[[w1]], [[w2]]], biases=[[b1], [b2]])
    loss, grads = net.loss_and_gradients([x], [t])
    assert loss == pytest.approx((y - t) ** 2, rel=1e-12)
    assert grads.weights[1][0, 0] == pytest.approx(expected_w2, rel=1e-12)
    assert grads.weights[0][0, 0] == pytest.approx(expected_w1, rel=1e-12)
    assert grads.biases[0][0] == pytest.approx(expected_b1, rel=1e-12)
    assert grads.biases[1][0] == pytest.approx(dl_dy * _prime(g, z2), rel=1e-12)


def test_minibatch_gradient_of_mse_is_the_mean_of_per_example_gradients(
    rng: np.random.Generator,
) -> None:
    net = MLP([3, 4, 2], ["tanh", "linear"], "sse", rng=rng)
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    _, batch = net.loss_and_gradients(X, T)
    singles = [net.loss_and_gradients(X[i], T[i])[1] for i in range(5)]
    total = sum(s.weights[0] for s in singles)
    np.testing.assert_allclose(batch.weights[0], total, rtol=1e-12)  # sse sums over the batch


def test_large_inputs_give_no_warnings_and_finite_gradients() -> None:
    net = MLP(
        [2, 3, 1], ["sigmoid", "sigmoid"], "binary_cross_entropy", rng=np.random.default_rng(1)
    )
    X = np.array([[1e6, -1e6], [-1e5, 3e5]])
    loss, grads = net.loss_and_gradients(X, np.array([[1.0], [0.0]]))
    assert np.isfinite(loss)
    assert all(np.isfinite(g).all() for g in grads.parameters())
    net = MLP([2, 2, 3], ["softplus", "softmax"], "cross_entropy", rng=np.random.default_rng(1))
    loss, grads = net.loss_and_gradients(X * 10, np.eye(3)[[0, 2]])
    assert np.isfinite(loss)
    assert all(np.isfinite(g).all() for g in grads.parameters())


def test_parameters_are_the_live_arrays_and_copy_is_independent() -> None:
    net = MLP([2, 2, 1], ["relu", "linear"])
    assert net.parameters()[0] is net.weights[0]
    assert net.parameter_names() == ["weights[0]", "biases[0]", "weights[1]", "biases[1]"]
    twin = net.copy()
    twin.weights[0][0, 0] += 1.0
    assert twin.weights[0][0, 0] != net.weights[0][0, 0]


def test_assigning_parameters_converts_and_validates() -> None:
    net = MLP([2, 1], ["linear"], "half_sse")
    net.weights[0] = [[0.5, -0.2]]
    assert net.weights[0].dtype == np.float64
    with pytest.raises(ValueError, match=r"weights\[0\]: expected shape \(1, 2\), got \(2,\)"):
        net.weights[0] = [0.5, -0.2]
    with pytest.raises(ValueError, match=r"biases\[0\]: contains NaN"):
        net.biases[0] = [float("nan")]
    with pytest.raises(ValueError, match="weights: the number of layers is fixed"):
        net.weights.append(np.zeros((1, 2)))


def test_network_without_bias_keeps_zero_bias_gradients(rng: np.random.Generator) -> None:
    net = MLP([2, 3, 1], ["tanh", "linear"], bias=False, rng=rng)
    _, grads = net.loss_and_gradients(rng.normal(size=(3, 2)), rng.normal(size=(3, 1)))
    assert all(not g.any() for g in grads.biases)
    with pytest.raises(ValueError, match="bias=False"):
        MLP([2, 1], ["linear"], bias=False, weights=[[[1.0, 1.0]]], biases=[[1.0]])


def test_networks_survive_deepcopy_and_pickle(rng: np.random.Generator) -> None:
    import copy
    import pickle

    net = MLP([2, 3, 2], ["softplus", "softmax"], "cross_entropy", rng=rng)
    X, T = rng.normal(size=(3, 2)), np.eye(2)[[0, 1, 1]]
    for twin in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):  # noqa: S301 - our own bytes
        assert twin.loss_value(X, T) == net.loss_value(X, T)
        assert twin.weights[0] is not net.weights[0]
        twin.weights[0] = np.zeros((3, 2))  # still validated after the round trip
        with pytest.raises(ValueError, match=r"weights\[1\]: expected shape \(2, 3\)"):
            twin.weights[1] = np.zeros((3, 2))
