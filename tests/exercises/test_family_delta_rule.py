"""Family 1: the delta rule, against the classic numbers and a hand computation.

The textbook example has x1 = 1, where forgetting the input changes nothing; the
variants never use it (issue 12), so these tests use x1 = 1.2: y = 0.44, t - y = 0.16.
"""

from __future__ import annotations

import pytest

from grader.exercises import judge


def test_classic_seed_example(gen) -> None:
    v = gen("delta-rule-classic", 0, x1=1.2, x2=0.8, w1=0.5, w2=-0.2, t=0.6, eta=0.1)
    assert v.part("y").key == pytest.approx(0.44, abs=1e-12)
    assert v.part("w1").key == pytest.approx(0.5192, abs=1e-12)
    assert v.part("w2").key == pytest.approx(-0.1872, abs=1e-12)
    assert "0.5192" in v.solution_md
    assert "-0.1872" in v.solution_md
    # The engine's trace, in the prompt's names (w_1, t, y; not w^{(1)}_{11}, t_1).
    assert r"\frac{\partial L}{\partial w_{1}}" in v.solution_md
    assert "w^{(1)}" not in v.solution_md
    assert "t_{1}" not in v.solution_md


@pytest.mark.parametrize("seed", range(15))
def test_matches_hand_rule(gen, seed: int) -> None:
    v = gen("delta-rule-classic", seed)
    p = v.params
    y = p["w1"] * p["x1"] + p["w2"] * p["x2"]
    assert v.part("y").key == pytest.approx(y, abs=1e-12)
    assert v.part("w1").key == pytest.approx(p["w1"] + p["eta"] * (p["t"] - y) * p["x1"], abs=1e-12)
    assert v.part("w2").key == pytest.approx(p["w2"] + p["eta"] * (p["t"] - y) * p["x2"], abs=1e-12)
    assert abs(p["t"] - y) >= 0.05


def test_mistake_values(gen) -> None:
    v = gen("delta-rule-classic", 0, x1=1.2, x2=0.8, w1=0.5, w2=-0.2, t=0.6, eta=0.1)
    m = {x.code: x.value for x in v.part("w2").mistakes}
    assert m["sign_flipped"] == pytest.approx(-0.2 - 0.1 * 0.16 * 0.8)
    assert m["forgot_input"] == pytest.approx(-0.2 + 0.1 * 0.16)
    assert m["forgot_learning_rate"] == pytest.approx(-0.2 + 0.16 * 0.8)
    assert m["extra_factor_two"] == pytest.approx(-0.2 + 2 * 0.1 * 0.16 * 0.8)
    assert judge(v, "w2", "-0.184").note == "mistake:forgot_input"


def test_diagram_shows_the_network(gen) -> None:
    v = gen("delta-rule-classic", 0, x1=1.2, x2=0.8, w1=0.5, w2=-0.2, t=0.6, eta=0.1)
    assert v.diagram_svg is not None
    assert "w₁ = 0.5" in v.diagram_svg
    assert "t = 0.6" in v.diagram_svg
    assert 'class="grad"' not in v.diagram_svg
    assert v.solution_diagram_svg is not None
    assert "∂L = -0.192" in v.solution_diagram_svg
    assert "= 0.44" in v.solution_diagram_svg
