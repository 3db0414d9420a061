"""Backpropagation through time against PyTorch autograd and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from grader.engine import RNN
from grader.engine import gradcheck
from tests.engine.conftest import tt

NAMES = ["W_xh", "W_hh", "b_h", "W_hy", "b_y"]


def torch_bptt(
    rnn: RNN, xs: np.ndarray, ts: np.ndarray, h0: np.ndarray | None = None
) -> tuple[float, dict[str, np.ndarray]]:
    """The same recurrence written with torch ops; autograd does the BPTT."""
    p = {n: tt(getattr(rnn, n), grad=True) for n in NAMES}
    h = tt(np.zeros(rnn.n_hidden) if h0 is None else h0)
    loss = torch.zeros((), dtype=torch.float64)
    for x, t in zip(tt(xs), tt(ts), strict=True):
        h = torch.tanh(p["W_xh"] @ x + p["W_hh"] @ h + p["b_h"])
        y = p["W_hy"] @ h + p["b_y"]
        loss = loss + ((y - t) ** 2).sum()
    loss.backward()
    return loss.item(), {n: p[n].grad.numpy() for n in NAMES}


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    n_in=st.integers(1, 3),
    n_hidden=st.integers(1, 4),
    n_out=st.integers(1, 3),
    steps=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_bptt_matches_torch(n_in: int, n_hidden: int, n_out: int, steps: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rnn = RNN(n_in, n_hidden, n_out, rng=rng)
    xs, ts = rng.normal(size=(steps, n_in)), rng.normal(size=(steps, n_out))
    loss, grads = rnn.loss_and_gradients(xs, ts)
    ref_loss, ref = torch_bptt(rnn, xs, ts)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert set(grads) == set(NAMES)
    for name in NAMES:
        assert grads[name].shape == getattr(rnn, name).shape
        np.testing.assert_allclose(grads[name], ref[name], rtol=1e-10, atol=1e-13)


def test_bptt_matches_finite_differences(rng: np.random.Generator) -> None:
    rnn = RNN(2, 3, 2, rng=rng)
    xs, ts = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    _, grads = rnn.loss_and_gradients(xs, ts)
    result = gradcheck(
        lambda: rnn.loss_and_gradients(xs, ts)[0], rnn.parameters(), [grads[n] for n in NAMES]
    )
    assert result, result.message


def test_initial_state_and_other_losses(rng: np.random.Generator) -> None:
    rnn = RNN(1, 2, 1, rng=rng)
    xs, ts, h0 = rng.normal(size=(3, 1)), rng.normal(size=(3, 1)), np.array([0.3, -0.7])
    loss, grads = rnn.loss_and_gradients(xs, ts, h0=h0)
    ref_loss, ref = torch_bptt(rnn, xs, ts, h0)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grads["W_hh"], ref["W_hh"], rtol=1e-10)
    half = RNN(1, 2, 1, rng=np.random.default_rng(5), loss="half_sse")
    full = RNN(1, 2, 1, rng=np.random.default_rng(5))
    assert half.loss_and_gradients(xs, ts)[0] == pytest.approx(
        full.loss_and_gradients(xs, ts)[0] / 2
    )


def test_forward_recurrence_by_hand() -> None:
    params = {"W_xh": [[0.5]], "W_hh": [[-1.0]], "b_h": [0.1], "W_hy": [[2.0]], "b_y": [0.0]}
    rnn = RNN(1, 1, 1, params=params)
    h1 = np.tanh(0.5 * 1.0 + 0.1)
    h2 = np.tanh(0.5 * 2.0 - h1 + 0.1)
    np.testing.assert_allclose(rnn.forward([[1.0], [2.0]]), [[2 * h1], [2 * h2]], rtol=1e-14)
    np.testing.assert_allclose(rnn.hidden_states([[1.0], [2.0]])[:, 0], [0.0, h1, h2], rtol=1e-14)


def test_gradient_through_many_steps_vanishes_with_small_recurrent_weight() -> None:
    params = {"W_xh": [[1.0]], "W_hh": [[0.3]], "b_h": [0.0], "W_hy": [[1.0]], "b_y": [0.0]}
    rnn = RNN(1, 1, 1, params=params)
    xs = np.zeros((30, 1))
    xs[0] = 1.0
    ts = rnn.forward(xs)  # every residual zero ...
    ts[-1] += 1.0  # ... but the last one
    bp = rnn.bptt(xs, ts)
    assert abs(bp.dhs[-1, 0]) == pytest.approx(2.0)
    # dL/dh_1 reaches h_1 only through 29 factors (1 - h^2) * 0.3 <= 0.3
    assert 0 < abs(bp.dhs[0, 0]) < 2.0 * 0.3**29


def test_parameters_are_validated_on_assignment() -> None:
    rnn = RNN(2, 3, 1)
    rnn.W_hh = np.eye(3)
    with pytest.raises(ValueError, match=r"W_hh: expected shape \(3, 3\), got \(2, 2\)"):
        rnn.W_hh = np.eye(2)
    with pytest.raises(ValueError, match=r"xs: expected shape \(steps, 2\), got \(4, 3\)"):
        rnn.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"ts: expected shape \(4, 1\) to match xs"):
        rnn.loss_and_gradients(np.zeros((4, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="params: unknown names"):
        RNN(1, 1, 1, params={"W_ih": [[1.0]]})
    with pytest.raises(ValueError, match="loss: an RNN takes one of"):
        RNN(1, 1, 1, loss="cross_entropy")


def test_rnn_survives_deepcopy_and_pickle(rng: np.random.Generator) -> None:
    import copy
    import pickle

    rnn = RNN(2, 3, 1, rng=rng)
    xs = rng.normal(size=(4, 2))
    for twin in (copy.deepcopy(rnn), pickle.loads(pickle.dumps(rnn))):  # noqa: S301 - our own bytes
        np.testing.assert_array_equal(twin.forward(xs), rnn.forward(xs))
        twin.W_hh[0, 0] += 1.0
        assert twin.W_hh[0, 0] != rnn.W_hh[0, 0]
