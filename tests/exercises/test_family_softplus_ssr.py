"""Family 4: softplus network fit by SSR, against the seed numbers and a hand computation."""

from __future__ import annotations

import math

import pytest

from .helpers import ACT


def predict(p: dict, x: float, b3: float) -> float:
    sp = ACT["softplus"]
    return p["w3"] * sp(p["w1"] * x + p["b1"]) + p["w4"] * sp(p["w2"] * x + p["b2"]) + b3


DATA = [(0.0, 0.0), (0.5, 1.0), (1.0, 0.0)]


def slope(p: dict, b3: float) -> float:
    return sum(-2 * (obs - predict(p, x, b3)) for x, obs in DATA)


def test_seed_material_numbers(gen) -> None:
    v = gen("softplus-ssr-b3", 0, b3=0, steps=3)
    assert v.part("slope").key == pytest.approx(-15.7, abs=0.05)
    assert v.part("step1").key == pytest.approx(1.57, abs=0.005)
    assert "1.566" in v.solution_md


@pytest.mark.parametrize("seed", range(8))
def test_descent_matches_hand_computation(gen, seed: int) -> None:
    v = gen("softplus-ssr-b3", seed)
    p = v.params
    b = p["b3"]
    assert v.part("slope").key == pytest.approx(slope(p, b), rel=1e-10)
    history = [b]
    for _ in range(p["steps"]):
        history.append(history[-1] - p["eta"] * slope(p, history[-1]))
    assert v.part("step1").key == pytest.approx(history[1], rel=1e-10)
    assert v.part("final").key == pytest.approx(history[-1], rel=1e-10)
    m = {x.code: x.value for x in v.part("slope").mistakes}
    assert m["forgot_factor_two"] == pytest.approx(slope(p, b) / 2)
    assert m["single_point"] == pytest.approx(-2 * (0 - predict(p, 0.0, b)))
    assert not math.isclose(v.part("final").key, v.part("step1").key)
