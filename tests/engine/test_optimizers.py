"""Optimizers: trajectories against torch.optim, first-step properties, finite-difference runs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from grader.engine import MLP
from grader.engine import RNN
from grader.engine import SGD
from grader.engine import Adam
from grader.engine import Momentum
from grader.engine import Optimizer
from grader.engine import RMSprop
from grader.engine import numerical_gradient
from tests.engine.conftest import TORCH_ACTIVATIONS
from tests.engine.conftest import TORCH_LOSSES
from tests.engine.conftest import tt

# (ours, torch's) with the same hyper-parameters
PAIRS: dict[
    str, tuple[Callable[[], Optimizer], Callable[[list[torch.Tensor]], torch.optim.Optimizer]]
] = {
    "sgd": (lambda: SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "momentum": (
        lambda: Momentum(lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "rmsprop": (
        lambda: RMSprop(lr=0.01, alpha=0.9, eps=1e-8),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8),
    ),
    "adam": (
        lambda: Adam(lr=0.02, beta1=0.8, beta2=0.95, eps=1e-6),
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6),
    ),
}


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("seed", [0, 1])
def test_trajectory_matches_torch_optim(name: str, seed: int) -> None:
    """Eight steps; torch computes its own gradients, so both engines and optimizers are checked."""
    rng = np.random.default_rng(seed)
    net = MLP([3, 4, 2], ["tanh", "sigmoid"], "mse", rng=rng)
    X, T = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
    params = [tt(p, grad=True) for p in net.parameters()]  # W0, b0, W1, b1
    ours, make_theirs = PAIRS[name]
    opt, theirs = ours(), make_theirs(params)
    for _ in range(8):
        _, grads = net.loss_and_gradients(X, T)
        opt.step(net, grads)
        theirs.zero_grad()
        A = tt(X)
        for (W, b), act in zip(
            zip(params[::2], params[1::2], strict=True), net.activations, strict=True
        ):
            A = TORCH_ACTIVATIONS[act](A @ W.T + b)
        TORCH_LOSSES["mse"](A, A, tt(T)).backward()
        theirs.step()
        for p, q in zip(net.parameters(), params, strict=True):
            np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-10, atol=1e-13)
    assert opt.t == 8


def test_first_steps_by_hand() -> None:
    g1, g2 = np.array([0.5, -2.0]), np.array([1.0, 1.0])
    p = np.zeros(2)
    Momentum(lr=0.1, momentum=0.9).step(p, g1)
    np.testing.assert_allclose(p, -0.1 * g1)
    opt, p = Momentum(lr=0.1, momentum=0.9), np.zeros(2)
    opt.step(p, g1)
    opt.step(p, g2)
    np.testing.assert_allclose(opt.velocities[0], 0.9 * g1 + g2)
    np.testing.assert_allclose(p, -0.1 * g1 - 0.1 * (0.9 * g1 + g2))
    # Adam's first step is lr * g / (|g| + eps): about lr against the sign of g.
    p = np.zeros(2)
    Adam(lr=0.01, eps=1e-8).step(p, g1)
    np.testing.assert_allclose(p, -0.01 * g1 / (np.abs(g1) + 1e-8), rtol=1e-12)
    # RMSprop's first step divides by sqrt(1 - alpha) |g|.
    p = np.zeros(2)
    RMSprop(lr=0.01, alpha=0.99, eps=1e-8).step(p, g1)
    np.testing.assert_allclose(p, -0.01 * g1 / (np.sqrt(0.01) * np.abs(g1) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("name", list(PAIRS))
def test_finite_difference_gradients_drive_the_same_trajectory(name: str) -> None:
    """The optimizer run on central differences of a loss tracks torch.optim on autograd."""
    rng = np.random.default_rng(3)
    A, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    w = rng.normal(size=3)
    wt = tt(w, grad=True)
    ours, make_theirs = PAIRS[name]
    opt, theirs = ours(), make_theirs([wt])

    def loss() -> float:
        return float(np.sum(np.log1p(np.exp(A @ w - b))))

    for _ in range(6):
        opt.step(w, numerical_gradient(loss, w))
        theirs.zero_grad()
        torch.nn.functional.softplus(tt(A) @ wt - tt(b)).sum().backward()
        theirs.step()
        np.testing.assert_allclose(w, wt.detach().numpy(), rtol=1e-6, atol=1e-8)


def test_state_lives_in_the_optimizer() -> None:
    a, b = np.zeros(2), np.zeros(2)
    g = np.array([1.0, -1.0])
    opt_a, opt_b = Adam(lr=0.1), Adam(lr=0.1)
    for _ in range(3):
        opt_a.step(a, g)
    opt_b.step(b, g)
    assert (opt_a.t, opt_b.t) == (3, 1)
    assert not np.allclose(opt_a.v[0], opt_b.v[0])
    opt_a.reset()
    assert opt_a.t == 0
    with pytest.raises(ValueError, match="model: this optimizer's state is for parameter shapes"):
        opt_b.step(np.zeros(3), np.ones(3))


def test_rnn_gradients_dict_is_accepted(rng: np.random.Generator) -> None:
    rnn = RNN(2, 3, 1, rng=rng)
    xs, ts = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    before = rnn.W_hh.copy()
    loss, grads = rnn.loss_and_gradients(xs, ts)
    SGD(lr=0.1).step(rnn, grads)
    np.testing.assert_allclose(rnn.W_hh, before - 0.1 * grads["W_hh"])
    assert rnn.loss_and_gradients(xs, ts)[0] < loss


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: SGD(lr=0.0), "lr: expected a number > 0"),
        (lambda: SGD(lr=float("nan")), "lr: expected a finite number"),
        (lambda: Momentum(lr=0.1, momentum=1.0), "momentum: expected a number < 1"),
        (lambda: RMSprop(alpha=-0.1), "alpha: expected a number >= 0"),
        (lambda: Adam(beta2=1.5), "beta2"),
        (lambda: Adam(eps=0), "eps: expected a number > 0"),
    ],
)
def test_bad_hyperparameters_name_the_argument(
    factory: Callable[[], Optimizer], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        factory()


def test_bad_gradients_name_the_argument() -> None:
    net = MLP([2, 1], ["linear"])
    with pytest.raises(ValueError, match="grads: expected 2 arrays"):
        SGD().step(net, [np.zeros((1, 2))])
    with pytest.raises(ValueError, match=r"grads: gradient 0 has shape \(2,\)"):
        SGD().step(net, [np.zeros(2), np.zeros(1)])
    with pytest.raises(ValueError, match="grads: gradient 1 contains NaN"):
        SGD().step(net, [np.zeros((1, 2)), np.array([np.inf])])
    with pytest.raises(ValueError, match="model: parameter 0 must be a writable float64"):
        SGD().step([np.zeros(2, dtype=np.int64)], [np.zeros(2)])
