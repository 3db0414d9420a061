"""Pooling, batch norm, the LSTM step, dropout and SGD weight decay against PyTorch and finite
differences (the same oracles as the rest of the engine)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the conventional name

from grader.engine import SGD
from grader.engine import avg_pool2d
from grader.engine import avg_pool2d_backward
from grader.engine import batchnorm_backward
from grader.engine import batchnorm_forward
from grader.engine import dropout
from grader.engine import dropout_backward
from grader.engine import lstm_cell
from grader.engine import lstm_cell_backward
from grader.engine import max_pool2d
from grader.engine import max_pool2d_backward
from grader.engine import numerical_gradient
from tests.engine.conftest import tt


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_agrees_with_torch(seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    h, w = kh + int(rng.integers(0, 6)), kw + int(rng.integers(0, 6))
    x = rng.normal(size=(n, c, h, w))
    xt = tt(x, grad=True)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    yt = pool(xt, (kh, kw), (sh, sw))
    g = rng.normal(size=tuple(yt.shape))
    yt.backward(tt(g))
    fwd, bwd = (
        (max_pool2d, max_pool2d_backward) if kind == "max" else (avg_pool2d, avg_pool2d_backward)
    )
    np.testing.assert_allclose(fwd(x, (kh, kw), (sh, sw)), yt.detach().numpy(), atol=1e-12)
    dx = bwd(x, g, (kh, kw), (sh, sw))
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    # finite differences (no ties: normal draws)
    num = numerical_gradient(lambda: float((fwd(x, (kh, kw), (sh, sw)) * g).sum()), x)[0]
    np.testing.assert_allclose(dx, num, atol=1e-6)


def test_pooling_unbatched_shapes_and_ties() -> None:
    x = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    assert max_pool2d(x, 2, 1).shape == (2, 2)
    dx = max_pool2d_backward(x, np.ones((2, 2)), 2, 1)
    xt = tt(x, grad=True)
    F.max_pool2d(xt[None, None], 2, 1).sum().backward()
    np.testing.assert_array_equal(dx, xt.grad.numpy())  # ties go to the first maximum
    with pytest.raises(ValueError, match="grad_out"):
        avg_pool2d_backward(x, np.ones((3, 3)), 2, 1)
    with pytest.raises(ValueError, match="kernel"):
        max_pool2d(x, 4)


@pytest.mark.parametrize("seed", range(25))
def test_batchnorm_agrees_with_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 6)), int(rng.integers(1, 4))
    x, gamma, beta = rng.normal(size=(n, d)), rng.normal(size=d), rng.normal(size=d)
    xt, gt, bt = tt(x, grad=True), tt(gamma, grad=True), tt(beta, grad=True)
    yt = F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
    g = rng.normal(size=(n, d))
    yt.backward(tt(g))
    fwd = batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(fwd.y, yt.detach().numpy(), atol=1e-10)
    grads = batchnorm_backward(x, gamma, g)
    np.testing.assert_allclose(grads.dx, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(grads.dgamma, gt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(grads.dbeta, bt.grad.numpy(), atol=1e-10)
    num = numerical_gradient(
        lambda: float((batchnorm_forward(x, gamma, beta).y * g).sum()), [x, gamma]
    )
    np.testing.assert_allclose(grads.dx, num[0], atol=1e-6)
    np.testing.assert_allclose(grads.dgamma, num[1], atol=1e-6)


def test_batchnorm_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="x: batch norm needs"):
        batchnorm_forward(np.ones((1, 2)), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="gamma"):
        batchnorm_forward(np.ones((3, 2)), np.ones(3), np.zeros(2))


@pytest.mark.parametrize("seed", range(25))
def test_lstm_cell_agrees_with_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    i_size, hidden, batch = (
        int(rng.integers(1, 4)),
        int(rng.integers(1, 4)),
        int(rng.integers(1, 3)),
    )
    single = seed % 2 == 0
    shape = () if single else (batch,)
    x, h, c = (rng.normal(size=(*shape, k)) for k in (i_size, hidden, hidden))
    W_ih, W_hh, b = (
        rng.normal(size=(4 * hidden, i_size)),
        rng.normal(size=(4 * hidden, hidden)),
        rng.normal(size=4 * hidden),
    )
    cell = torch.nn.LSTMCell(i_size, hidden, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(tt(W_ih))
        cell.weight_hh.copy_(tt(W_hh))
        cell.bias_ih.copy_(tt(b))
        cell.bias_hh.zero_()
    xt, ht, ct = tt(x, grad=True), tt(h, grad=True), tt(c, grad=True)
    h2, c2 = cell(xt, (ht, ct))
    dh, dc = rng.normal(size=h2.shape), rng.normal(size=c2.shape)
    ((h2 * tt(dh)).sum() + (c2 * tt(dc)).sum()).backward()
    hn, cn = lstm_cell(x, h, c, W_ih, W_hh, b)
    np.testing.assert_allclose(hn, h2.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(cn, c2.detach().numpy(), atol=1e-12)
    g = lstm_cell_backward(x, h, c, W_ih, W_hh, b, dh, dc)
    np.testing.assert_allclose(g.x, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(g.h, ht.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(g.c, ct.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(g.W_ih, cell.weight_ih.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(g.W_hh, cell.weight_hh.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(g.b, cell.bias_ih.grad.numpy(), atol=1e-10)

    def loss() -> float:
        a, s = lstm_cell(x, h, c, W_ih, W_hh, b)
        return float((a * dh).sum() + (s * dc).sum())

    num = numerical_gradient(loss, [W_ih, b])
    np.testing.assert_allclose(g.W_ih, num[0], atol=1e-6)
    np.testing.assert_allclose(g.b, num[1], atol=1e-6)


def test_lstm_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="W_hh"):
        lstm_cell(np.ones(2), np.ones(1), np.ones(1), np.ones((4, 2)), np.ones((4, 2)), np.ones(4))


@pytest.mark.parametrize("seed", range(10))
def test_dropout_matches_torch_mask(seed: int) -> None:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    p = float(rng.choice([0.2, 0.25, 0.5]))
    x = rng.uniform(0.5, 2.0, size=(3, 4))  # nonzero, so torch's zeros are its mask
    xt = tt(x, grad=True)
    yt = F.dropout(xt, p, training=True)
    g = rng.normal(size=(3, 4))
    yt.backward(tt(g))
    mask = (yt.detach().numpy() != 0).astype(float)
    np.testing.assert_allclose(dropout(x, mask, p), yt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dropout_backward(g, mask, p), xt.grad.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="mask"):
        dropout(x, mask * 2, p)


@pytest.mark.parametrize("decay", [0.01, 0.1, 0.5])
def test_sgd_weight_decay_is_torchs(decay: float) -> None:
    rng = np.random.default_rng(3)
    p, grads = rng.normal(size=(3, 2)), [rng.normal(size=(3, 2)) for _ in range(3)]
    pt = tt(p.copy(), grad=True)
    opt_t = torch.optim.SGD([pt], lr=0.1, weight_decay=decay)
    opt = SGD(lr=0.1, weight_decay=decay)
    for g in grads:
        pt.grad = tt(g)
        opt_t.step()
        opt.step(p, g)
    np.testing.assert_allclose(p, pt.detach().numpy(), atol=1e-14)
    with pytest.raises(ValueError, match="weight_decay"):
        SGD(lr=0.1, weight_decay=-1.0)


@pytest.mark.parametrize("seed", range(20))
def test_gru_cell_agrees_with_torch(seed: int) -> None:
    from grader.engine import gru_cell
    from grader.engine import gru_cell_backward

    rng = np.random.default_rng(seed)
    i_size, hidden, batch = (
        int(rng.integers(1, 4)),
        int(rng.integers(1, 4)),
        int(rng.integers(1, 3)),
    )
    shape = () if seed % 2 == 0 else (batch,)
    x, h = rng.normal(size=(*shape, i_size)), rng.normal(size=(*shape, hidden))
    W_ih, W_hh = rng.normal(size=(3 * hidden, i_size)), rng.normal(size=(3 * hidden, hidden))
    b_ih, b_hh = rng.normal(size=3 * hidden), rng.normal(size=3 * hidden)
    cell = torch.nn.GRUCell(i_size, hidden, dtype=torch.float64)
    with torch.no_grad():
        for p, a in zip(cell.parameters(), (W_ih, W_hh, b_ih, b_hh), strict=True):
            p.copy_(tt(a))
    xt, ht = tt(x, grad=True), tt(h, grad=True)
    h2 = cell(xt, ht)
    dh = rng.normal(size=h2.shape)
    h2.backward(tt(dh))
    np.testing.assert_allclose(
        gru_cell(x, h, W_ih, W_hh, b_ih, b_hh), h2.detach().numpy(), atol=1e-12
    )
    g = gru_cell_backward(x, h, W_ih, W_hh, b_ih, b_hh, dh)
    np.testing.assert_allclose(g.x, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(g.h, ht.grad.numpy(), atol=1e-10)
    for ours, p in zip((g.W_ih, g.W_hh, g.b_ih, g.b_hh), cell.parameters(), strict=True):
        np.testing.assert_allclose(ours, p.grad.numpy(), atol=1e-10)
    num = numerical_gradient(
        lambda: float((gru_cell(x, h, W_ih, W_hh, b_ih, b_hh) * dh).sum()), [W_hh, b_hh]
    )
    np.testing.assert_allclose(g.W_hh, num[0], atol=1e-6)
    np.testing.assert_allclose(g.b_hh, num[1], atol=1e-6)
