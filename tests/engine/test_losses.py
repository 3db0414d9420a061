"""Losses: values and gradients against PyTorch and finite differences; stable extremes."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F  # noqa: N812 - the conventional name

from grader.engine import ACTIVATIONS
from grader.engine import LOSSES
from grader.engine import get_loss
from grader.engine import gradcheck
from grader.engine import one_hot
from grader.engine.losses import binary_cross_entropy
from tests.engine.conftest import TORCH_ACTIVATIONS
from tests.engine.conftest import TORCH_LOSSES
from tests.engine.conftest import random_targets
from tests.engine.conftest import tt

PAIRS = [
    (loss, act)
    for loss, spec in LOSSES.items()
    for act in sorted(spec.output_activations or ACTIVATIONS)
]


def test_registry_has_the_five_documented_names() -> None:
    assert set(LOSSES) == {"sse", "half_sse", "mse", "cross_entropy", "binary_cross_entropy"}


def test_regression_losses_by_hand() -> None:
    y = np.array([[1.0, 2.0], [0.5, -1.0]])
    t = np.array([[0.0, 2.5], [0.5, 1.0]])
    # residuals 1, -0.5, 0, -2: squares 1 + 0.25 + 0 + 4 = 5.25
    assert get_loss("sse").value(y, t) == pytest.approx(5.25)
    assert get_loss("half_sse").value(y, t) == pytest.approx(2.625)
    assert get_loss("mse").value(y, t) == pytest.approx(5.25 / 4)


@pytest.mark.parametrize(("loss", "act"), PAIRS)
def test_value_and_delta_match_torch(loss: str, act: str, rng: np.random.Generator) -> None:
    z = rng.normal(scale=2.0, size=(5, 3))
    t = random_targets(loss, rng, z.shape)
    spec, activation = get_loss(loss), ACTIVATIONS[act]
    value, delta = spec.value_and_delta(z, activation.forward(z), t, activation)
    zt = tt(z, grad=True)
    expected = TORCH_LOSSES[loss](zt, TORCH_ACTIVATIONS[act](zt), tt(t))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(delta, zt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("loss", "act"), PAIRS)
def test_delta_matches_finite_differences(loss: str, act: str, rng: np.random.Generator) -> None:
    z = rng.normal(size=(3, 4))
    t = random_targets(loss, rng, z.shape)
    spec, activation = get_loss(loss), ACTIVATIONS[act]
    _, delta = spec.value_and_delta(z, activation.forward(z), t, activation)

    def f() -> float:
        return spec.value_and_delta(z, activation.forward(z), t, activation)[0]

    result = gradcheck(f, z, delta)
    assert result, result.message


@pytest.mark.parametrize("loss", list(LOSSES))
def test_standalone_gradient_matches_finite_differences(
    loss: str, rng: np.random.Generator
) -> None:
    spec = get_loss(loss)
    y = rng.normal(size=(4, 3))
    t = random_targets(loss, rng, y.shape)
    result = gradcheck(lambda: spec.value(y, t), y, spec.gradient(y, t))
    assert result, result.message


def test_cross_entropy_with_soft_targets_matches_torch(rng: np.random.Generator) -> None:
    z = rng.normal(size=(4, 3))
    t = rng.uniform(size=(4, 3))  # not normalised: dL/dz = p * sum(t) - t, not p - t
    spec, act = get_loss("cross_entropy"), ACTIVATIONS["linear"]
    value, delta = spec.value_and_delta(z, z, t, act)
    zt = tt(z, grad=True)
    expected = F.cross_entropy(zt, tt(t))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(delta, zt.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize(("loss", "act"), [p for p in PAIRS if p[0].endswith("entropy")])
def test_cross_entropies_are_finite_for_huge_logits(loss: str, act: str) -> None:
    z = np.array([[1e4, -1e4, 0.0], [-800.0, 800.0, 1e300]])
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    activation = ACTIVATIONS[act]
    value, delta = get_loss(loss).value_and_delta(z, activation.forward(z), t, activation)
    assert np.isfinite(value)
    assert np.isfinite(delta).all()
    zt = tt(z, grad=True)
    expected = TORCH_LOSSES[loss](zt, TORCH_ACTIVATIONS[act](zt), tt(t))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(delta, zt.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_binary_cross_entropy_from_probabilities_clamps_like_torch() -> None:
    p = np.array([0.0, 1.0, 0.3, 1e-60])
    t = np.array([1.0, 0.0, 0.6, 1.0])
    expected = F.binary_cross_entropy(tt(p), tt(t))
    assert binary_cross_entropy(p, t) == pytest.approx(expected.item(), rel=1e-12)


def test_loss_requires_a_matching_output_activation() -> None:
    assert get_loss("cross_entropy").output_activations == {"softmax", "linear"}
    assert get_loss("binary_cross_entropy").output_activations == {"sigmoid", "linear"}


def test_one_hot() -> None:
    np.testing.assert_array_equal(one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="labels"):
        one_hot([3], 3)


def test_unknown_loss_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"loss: unknown loss 'l1'; expected one of sse"):
        get_loss("l1")
