"""Activations: finite differences, PyTorch, and overflow-free saturation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader.engine import ACTIVATIONS
from grader.engine import get_activation
from grader.engine import gradcheck
from grader.engine.activations import log_sigmoid
from grader.engine.activations import log_softmax
from grader.engine.activations import sigmoid
from grader.engine.activations import softmax
from grader.engine.activations import softplus
from tests.engine.conftest import TORCH_ACTIVATIONS
from tests.engine.conftest import tt

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]
# Up to +-1e307: a softmax row spanning more than the float range (1.8e308) overflows z - max.
EXTREME = np.array(
    [-1e307, -1e4, -800.0, -745.5, -709.5, -40.0, 0.0, 40.0, 709.5, 800.0, 1e4, 1e307]
)


def _away_from_kinks(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    z = rng.normal(scale=3.0, size=shape)
    return np.where(np.abs(z) < 1e-2, 0.5, z)  # relu and leaky_relu have no derivative at 0


def test_registry_has_the_seven_documented_names() -> None:
    assert set(ACTIVATIONS) == {
        "linear",
        "sigmoid",
        "tanh",
        "relu",
        "softplus",
        "leaky_relu",
        "softmax",
    }


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name: str, rng: np.random.Generator) -> None:
    act = ACTIVATIONS[name]
    z = _away_from_kinks(rng, (50,))
    h = 1e-6
    numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    assert act.derivative is not None
    np.testing.assert_allclose(act.derivative(z, act.forward(z)), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_backward_is_the_vector_jacobian_product(name: str, rng: np.random.Generator) -> None:
    act = ACTIVATIONS[name]
    z = _away_from_kinks(rng, (4, 5))
    g = rng.normal(size=z.shape)
    analytic = act.backward(z, act.forward(z), g)
    result = gradcheck(lambda: float(np.sum(g * act.forward(z))), z, analytic)
    assert result, result.message


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_forward_and_backward_match_torch(name: str, rng: np.random.Generator) -> None:
    act = ACTIVATIONS[name]
    z = np.concatenate([_away_from_kinks(rng, (3, 6)), np.array([[-30.0, -5, 0.3, 5, 30, 60]])])
    g = rng.normal(size=z.shape)
    zt = tt(z, grad=True)
    out = TORCH_ACTIVATIONS[name](zt)
    (out * tt(g)).sum().backward()
    a = act.forward(z)
    np.testing.assert_allclose(a, out.detach().numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(act.backward(z, a, g), zt.grad.numpy(), rtol=1e-10, atol=1e-300)


def test_kink_conventions_follow_torch() -> None:
    z = np.zeros(3)
    for name in ("relu", "leaky_relu"):
        zt = tt(z, grad=True)
        TORCH_ACTIVATIONS[name](zt).sum().backward()
        act = ACTIVATIONS[name]
        np.testing.assert_array_equal(act.backward(z, act.forward(z), np.ones(3)), zt.grad.numpy())
    assert ACTIVATIONS["relu"].derivative(z, z)[0] == 0.0  # type: ignore[misc]
    assert ACTIVATIONS["leaky_relu"].derivative(z, z)[0] == 0.01  # type: ignore[misc]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_extreme_inputs_saturate_without_warnings_or_nan(name: str) -> None:
    act = ACTIVATIONS[name]
    z = np.stack([EXTREME, -EXTREME[::-1] * 0.5])
    a = act.forward(z)  # pytest turns any RuntimeWarning into an error
    d = act.backward(z, a, np.ones_like(z))
    assert np.isfinite(a).all() or name in {"linear", "relu", "leaky_relu", "softplus"}
    assert not np.isnan(a).any()
    assert not np.isnan(d).any()


def test_sigmoid_and_softplus_are_exact_in_the_tails() -> None:
    # Independent high-precision reference values (mpmath-free: closed forms in the tails).
    z = np.array([-1000.0, -50.0, 50.0, 1000.0])
    np.testing.assert_array_equal(sigmoid(z)[[0, 3]], [0.0, 1.0])
    np.testing.assert_allclose(sigmoid(z)[1], np.exp(-50.0), rtol=1e-14)  # s(z) ~ e^z
    np.testing.assert_allclose(softplus(z), [0.0, np.exp(-50.0), 50.0, 1000.0], rtol=1e-14)
    np.testing.assert_allclose(log_sigmoid(np.array([-1000.0])), [-1000.0], rtol=1e-15)


def test_sigmoid_has_full_relative_precision_for_negative_z() -> None:
    z = np.linspace(-700, -20, 50)
    exact = torch.sigmoid(tt(z)).numpy()  # torch computes 1/(1+exp(-z)), exact here
    np.testing.assert_allclose(sigmoid(z), exact, rtol=1e-13, atol=0)


def test_softmax_is_shift_invariant_and_normalised() -> None:
    z = np.array([[1000.0, -1000.0, 0.0], [1.0, 2.0, 3.0]])
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(softmax(z[1:] + 500.0), p[1:], rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z)[0], [0.0, -2000.0, -1000.0])


def test_unknown_activation_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"activations\[1\]: unknown activation 'swish'"):
        get_activation("swish", "activations[1]")
