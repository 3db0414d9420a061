"""Families 12-14: shared weights (finite differences), learning-rate regimes, concepts."""

from __future__ import annotations

import pytest

from grader.exercises import judge

from .helpers import ACT
from .helpers import fd


@pytest.mark.parametrize("seed", range(12))
def test_shared_weight_gradient_is_the_sum_of_paths(gen, seed: int) -> None:
    v = gen("shared-weight", seed)
    p = v.params
    f = ACT[p["f"]]

    def loss(w: float) -> float:
        y = p["v1"] * f(w * p["x1"]) + p["v2"] * f(w * p["x2"])
        return 0.5 * (y - p["t"]) ** 2

    assert v.part("dw").key == pytest.approx(fd(loss, p["w"]), rel=1e-6)
    path1 = v.part("path1").key
    r = judge(v, "dw", repr(path1))
    assert (r.note, r.score) == ("mistake:only_first_use", 0.25)
    r = judge(v, "dw", repr(v.part("dw").key / 2))
    assert r.note == "mistake:averaged_uses"


@pytest.mark.parametrize("seed", range(15))
def test_learning_rate_closed_form(gen, seed: int) -> None:
    v = gen("learning-rate-behaviour", seed)
    a, c, w0, eta = (v.params[k] for k in ("a", "c", "w0", "eta"))
    r = 1 - 2 * a * eta
    assert v.part("r").key == pytest.approx(r)
    assert v.part("w1").key == pytest.approx(c + r * (w0 - c))
    assert v.part("w3").key == pytest.approx(c + r**3 * (w0 - c))
    text = {ch["id"]: ch["text"] for ch in v.part("regime").choices}[v.part("regime").key]
    if abs(r) > 1:
        assert "diverges" in text
    elif r == -1:
        assert "forever" in text
    elif r < 0:
        assert "overshoots back and forth but converges" in text
    else:
        assert "without overshooting" in text


def test_all_regimes_occur(gen) -> None:
    texts = set()
    for seed in range(80):
        v = gen("learning-rate-behaviour", seed)
        texts.add({c["id"]: c["text"] for c in v.part("regime").choices}[v.part("regime").key])
    assert len(texts) == 4


@pytest.mark.parametrize(
    "exercise_id",
    [
        "concept-chain-rule",
        "concept-gradient-descent",
        "concept-hidden-layers",
        "concept-vanishing-gradients",
    ],
)
def test_concepts_have_shuffled_options_and_explained_mistakes(gen, exercise_id: str) -> None:
    orders = set()
    for seed in range(12):
        v = gen(exercise_id, seed)
        part = v.part("answer")
        orders.add(tuple(c["text"] for c in part.choices))
        assert judge(v, "answer", part.key).status == "correct"
        assert len(part.mistakes) == len(part.choices) - 1
        for m in part.mistakes:
            assert m.feedback
            assert judge(v, "answer", m.value).note == f"mistake:{m.code}"
        assert v.prompt_md.strip()
    assert len(orders) >= 3
