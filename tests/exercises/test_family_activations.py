"""Family 5: activation derivatives, symbolic and at a point, against finite differences."""

from __future__ import annotations

import pytest

from grader.exercises import judge
from grader.exercises.expressions import evaluate
from grader.exercises.expressions import parse

from .helpers import ACT
from .helpers import fd


@pytest.mark.parametrize("seed", range(20))
def test_value_and_formula_match_finite_differences(gen, seed: int) -> None:
    v = gen("activation-derivatives", seed)
    act, z0 = v.params["act"], v.params["z0"]
    expected = fd(ACT[act], z0)
    assert float(v.part("at_point").key_text) == pytest.approx(expected, rel=5e-3)
    formula = parse(v.part("formula").key)
    for z in (-1.3, 0.4, 2.2):
        assert evaluate(formula, {"z": z}) == pytest.approx(fd(ACT[act], z), rel=1e-6)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softplus"])
def test_equivalent_forms_and_mistakes(gen, act: str) -> None:
    v = gen("activation-derivatives", 0, act=act, z0=0.5)
    other_forms = {
        "sigmoid": "exp(-z)/(1 + exp(-z))^2",
        "tanh": "1/cosh(z)^2",
        "softplus": "exp(z)/(1 + exp(z))",
    }
    assert judge(v, "formula", other_forms[act]).status == "correct"
    r = judge(
        v,
        "formula",
        {"sigmoid": "sigmoid(z)", "tanh": "tanh(z)", "softplus": "log(1 + exp(z))"}[act],
    )
    assert r.note == "mistake:gave_function"


@pytest.mark.parametrize("seed", range(20))
def test_relu_at_a_point(gen, seed: int) -> None:
    v = gen("relu-derivative", seed)
    act, z0 = v.params["act"], v.params["z0"]
    assert v.part("value").key == pytest.approx(ACT[act](z0), abs=1e-12)
    if act == "relu":
        assert abs(z0) >= 0.1
        assert v.part("slope").key == (1.0 if z0 > 0 else 0.0)
    else:
        assert v.part("slope").key == pytest.approx(fd(ACT[act], z0), rel=1e-6)
