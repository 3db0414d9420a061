"""Families 2 and 3: the chain rule, against finite differences and the symbolic twin."""

from __future__ import annotations

import itertools

import pytest

from grader.checking import check_expression
from grader.exercises import judge
from grader.exercises.expressions import evaluate
from grader.exercises.expressions import parse
from grader.exercises.families.chain_rule_symbolic import VARIABLES
from grader.exercises.families.chain_rule_symbolic import expressions

from .helpers import ACT
from .helpers import fd


def loss(p: dict, f: str, g: str, half: bool = False) -> float:
    h = ACT[f](p["w1"] * p["x"] + p["b1"])
    y = ACT[g](p["w2"] * h + p["b2"])
    return (0.5 if half else 1.0) * (y - p["t"]) ** 2


@pytest.mark.parametrize("seed", range(12))
def test_numeric_gradients_match_finite_differences(gen, seed: int) -> None:
    v = gen("chain-rule-numeric", seed)
    p = dict(v.params)
    f, g = p.pop("f"), p.pop("g")
    for name in ("w1", "b1", "w2", "b2"):

        def at(value: float, name: str = name) -> float:
            return loss({**p, name: value}, f, g)

        assert v.part(f"d{name}").key == pytest.approx(fd(at, p[name]), rel=1e-5, abs=1e-8)


def test_seed_formulas_and_mistakes(gen) -> None:
    v = gen(
        "chain-rule-numeric",
        0,
        x=0.5,
        t=0.2,
        w1=0.8,
        b1=0.1,
        w2=-1.2,
        b2=0.3,
        f="sigmoid",
        g="linear",
    )
    h = ACT["sigmoid"](0.8 * 0.5 + 0.1)
    y = -1.2 * h + 0.3
    dy = 2 * (y - 0.2)
    fprime = h * (1 - h)
    assert v.part("dw2").key == pytest.approx(dy * 1 * h)
    assert v.part("dw1").key == pytest.approx(dy * 1 * -1.2 * fprime * 0.5)
    m = {x.code: x.value for x in v.part("dw1").mistakes}
    assert m["forgot_activation_derivative"] == pytest.approx(dy * -1.2 * 0.5)
    assert m["forgot_weight"] == pytest.approx(dy * fprime * 0.5)
    assert m["forgot_factor_two"] == pytest.approx(dy / 2 * -1.2 * fprime * 0.5)
    r = judge(v, "dw1", str(dy * -1.2 * 0.5))
    assert (r.note, r.score) == ("mistake:forgot_activation_derivative", 0.5)
    assert "output_derivative" not in {x.code for x in v.part("dw1").mistakes}  # g' = 1 here


@pytest.mark.parametrize(
    ("f", "g"), list(itertools.product(["sigmoid", "tanh", "softplus"], ["linear", "sigmoid"]))
)
def test_symbolic_keys_agree_with_hand_products_and_finite_differences(gen, f: str, g: str) -> None:
    v = gen("chain-rule-symbolic", 0, f=f, g=g)
    hand = expressions(f, g, "sse")["keys"]
    point = {"x": 0.7, "t": 0.3, "w1": -0.4, "b1": 0.2, "w2": 1.1, "b2": -0.5}
    for key in ("dw1", "dw2", "db1"):
        text = v.part(key).key
        verdict = check_expression(text, hand[key], variables=VARIABLES)
        assert verdict.status == "correct", (key, text, hand[key])
        name = key[1:]

        def at(value: float, name: str = name) -> float:
            return loss({**point, name: value}, f, g)

        assert evaluate(parse(text), point) == pytest.approx(fd(at, point[name]), rel=1e-5)


def test_symbolic_answers_with_definitions(gen) -> None:
    v = gen("chain-rule-symbolic", 0, f="tanh", g="sigmoid")
    good = "2*(y - t)*sigmoid(z2)*(1 - sigmoid(z2))*w2*(1 - tanh(z1)^2)*x"
    assert judge(v, "dw1", good).status == "correct"
    r = judge(v, "dw1", "2*(y - t)*w2*(1 - tanh(z1)^2)*x")
    assert r.note == "mistake:forgot_output_derivative"
    r = judge(v, "dw1", "-2*(y - t)*sigmoid(z2)*(1 - sigmoid(z2))*w2*(1 - tanh(z1)^2)*x")
    assert r.note == "mistake:sign_flipped"


def test_update_uses_old_weights_and_diagnoses_the_stale_one(gen) -> None:
    v = gen(
        "chain-rule-numeric",
        0,
        x=1.5,
        t=0.9,
        w1=0.8,
        b1=0.1,
        w2=-1.2,
        b2=0.3,
        f="tanh",
        g="linear",
        eta=0.5,
    )
    dw1, dw2 = v.part("dw1").key, v.part("dw2").key
    assert v.part("w1new").key == pytest.approx(0.8 - 0.5 * dw1)
    z1 = 0.8 * 1.5 + 0.1
    h = ACT["tanh"](z1)
    y = -1.2 * h + 0.3
    w2_new = -1.2 - 0.5 * dw2
    stale = 2 * (y - 0.9) * w2_new * (1 - h**2) * 1.5
    r = judge(v, "w1new", repr(0.8 - 0.5 * stale))
    assert (r.note, r.score) == ("mistake:used_updated_weight", 0.5)
