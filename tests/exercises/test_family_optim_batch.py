"""Families 8 and 9: optimizer steps against torch.optim, mini-batch gradients by hand."""

from __future__ import annotations

import numpy as np
import pytest

from grader.exercises import judge

torch = pytest.importorskip("torch")


def torch_steps(kind: str, p: dict) -> list[float]:
    w = torch.tensor([p["w0"]], dtype=torch.float64, requires_grad=True)
    if kind == "momentum":
        opt = torch.optim.SGD([w], lr=p["lr"], momentum=p["momentum"])
    elif kind == "rmsprop":
        opt = torch.optim.RMSprop([w], lr=p["lr"], alpha=p["alpha"], eps=1e-8)
    else:
        opt = torch.optim.Adam([w], lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=1e-8)
    out = []
    for g in (p["g1"], p["g2"]):
        w.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        out.append(float(w.detach()[0]))
    return out


@pytest.mark.parametrize("kind", ["momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("seed", range(4))
def test_optimizer_steps_match_torch(gen, kind: str, seed: int) -> None:
    v = gen("optimizer-steps", seed, opt=kind)
    w1, w2 = torch_steps(kind, v.params)
    assert v.part("w1").key == pytest.approx(w1, rel=1e-12, abs=1e-12)
    assert v.part("w2").key == pytest.approx(w2, rel=1e-12, abs=1e-12)


def test_adam_without_bias_correction_is_diagnosed(gen) -> None:
    v = gen("optimizer-steps", 0, opt="adam", w0=0.5, g1=1.5, g2=-0.5, lr=0.1)
    p = v.params
    m1, v1 = 0.1 * 1.5, 0.001 * 1.5**2
    w1 = 0.5 - 0.1 * m1 / (np.sqrt(v1) + 1e-8)
    m2, v2 = 0.9 * m1 + 0.1 * -0.5, 0.999 * v1 + 0.001 * 0.25
    w2 = w1 - 0.1 * m2 / (np.sqrt(v2) + 1e-8)
    assert p["beta1"] == 0.9
    r = judge(v, "w2", f"{w2:.6f}")
    assert (r.note, r.score) == ("mistake:forgot_bias_correction", 0.5)


@pytest.mark.parametrize("seed", range(10))
def test_minibatch_gradients(gen, seed: int) -> None:
    v = gen("minibatch-average", seed)
    w, b, eta = v.params["w"], v.params["b"], v.params["eta"]
    xs, ts = np.array(v.params["xs"]), np.array(v.params["ts"])
    per = 2 * (w * xs + b - ts) * xs
    assert v.part("batch").key == pytest.approx(per.mean(), rel=1e-12)
    assert v.part("single").key == pytest.approx(per[0], rel=1e-12)
    assert v.part("update").key == pytest.approx(w - eta * per.mean(), rel=1e-12)
    r = judge(v, "batch", repr(float(per.sum())))
    assert (r.note, r.score) == ("mistake:summed_instead_of_averaged", 0.5)
