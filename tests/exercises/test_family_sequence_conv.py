"""Families 10 and 11: BPTT against finite differences, conv1d against torch autograd."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from grader.exercises import judge

from .helpers import fd


def rnn_loss(wx: float, wh: float, wy: float, xs: list[float], ts: list[float]) -> float:
    h, total = 0.0, 0.0
    for x, t in zip(xs, ts, strict=True):
        h = math.tanh(wx * x + wh * h)
        total += (wy * h - t) ** 2
    return total


@pytest.mark.parametrize("seed", range(12))
def test_bptt_gradients_and_factor(gen, seed: int) -> None:
    v = gen("bptt-scalar-rnn", seed)
    p = v.params
    xs, ts = p["xs"], p["ts"]
    dwh = fd(lambda a: rnn_loss(p["wx"], a, p["wy"], xs, ts), p["wh"])
    assert v.part("dwh").key == pytest.approx(dwh, rel=1e-6)
    hs = [0.0]
    for x in xs:
        hs.append(math.tanh(p["wx"] * x + p["wh"] * hs[-1]))
    factor = math.prod(p["wh"] * (1 - hs[k] ** 2) for k in range(2, len(xs) + 1))
    assert v.part("factor").key == pytest.approx(factor, rel=1e-12)
    rho = abs(factor) ** (1 / (len(xs) - 1))
    choices = {c["id"]: c["text"] for c in v.part("regime").choices}
    assert ("shrinks" in choices[v.part("regime").key]) == (rho < 1)
    wrong = judge(v, "regime", next(k for k in choices if k != v.part("regime").key))
    assert wrong.note in ("mistake:vanishing", "mistake:exploding")


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("seed", range(10))
def test_conv1d_gradients_match_torch(gen, seed: int) -> None:
    v = gen("conv1d-gradients", seed)
    x = torch.tensor(v.params["x"], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(v.params["w"], dtype=torch.float64, requires_grad=True)
    g = torch.tensor(v.params["g"], dtype=torch.float64)
    y = torch.nn.functional.conv1d(x[None, None, :], w[None, None, :])[0, 0]
    (y * g).sum().backward()
    assert np.allclose(v.part("y").key, y.detach().numpy())
    assert np.allclose(v.part("dw").key, w.grad.numpy())
    assert np.allclose(v.part("dx").key, x.grad.numpy())
    r = judge(v, "dw", json.dumps(w.grad.numpy()[::-1].tolist()))
    assert r.note == "mistake:reversed"
