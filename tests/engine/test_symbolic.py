"""The symbolic twin: derivatives of the named functions, agreement with the numeric engine,
and text the answer checker can read."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from grader.engine import MLP
from grader.engine.activations import sigmoid as np_sigmoid
from grader.engine.symbolic import CHECKER_FUNCTIONS
from grader.engine.symbolic import SymbolicNet
from grader.engine.symbolic import checker_string
from grader.engine.symbolic import leaky_relu
from grader.engine.symbolic import relu
from grader.engine.symbolic import sigmoid
from grader.engine.symbolic import softplus
from grader.engine.symbolic import symbolic_mlp
from grader.exercises.solutions import trace_mlp
from tests.engine.conftest import random_targets

x = sp.Symbol("x")


def _numerically_equal(a: sp.Expr, b: sp.Expr, points: list[float]) -> bool:
    return all(abs(float((a - b).subs(x, p).evalf(30))) < 1e-20 for p in points)


def test_sigmoid_derivative_rewrite_and_values() -> None:
    assert sp.diff(sigmoid(x), x) == sigmoid(x) * (1 - sigmoid(x))
    assert sigmoid(x).rewrite(sp.exp) == 1 / (1 + sp.exp(-x))
    from_definition = sp.diff(1 / (1 + sp.exp(-x)), x)
    assert sp.simplify(from_definition - sp.diff(sigmoid(x), x).rewrite(sp.exp)) == 0
    assert (
        sp.simplify(sigmoid(x).rewrite(sp.tanh).rewrite(sp.exp) - sigmoid(x).rewrite(sp.exp)) == 0
    )
    assert sigmoid(0) == sp.Rational(1, 2)
    assert sigmoid(sp.oo) == 1
    assert float(sigmoid(sp.Float(0.3))) == pytest.approx(
        float(np_sigmoid(np.array(0.3))), rel=1e-15
    )
    tiny = sigmoid(-1000).evalf(30)  # exact: not underflowed to zero
    assert tiny > 0
    assert float(sp.log(tiny)) == pytest.approx(-1000.0)
    assert sigmoid(x).evalf() == sigmoid(x)  # symbolic arguments stay symbolic
    assert sp.latex(sigmoid(x)) == r"\sigma\left(x\right)"
    assert r"\sigma^{2}\left(x\right)" in sp.latex(sigmoid(x) ** 2)


def test_softplus_relu_and_leaky_relu() -> None:
    assert sp.diff(softplus(x), x) == sigmoid(x)
    assert softplus(x).rewrite(sp.exp) == sp.log(1 + sp.exp(x))
    assert sp.simplify(sp.diff(sp.log(1 + sp.exp(x)), x) - sigmoid(x).rewrite(sp.exp)) == 0
    assert softplus(0) == sp.log(2)
    assert float(softplus(sp.Float(800.0))) == pytest.approx(800.0)
    assert sp.diff(relu(x), x) == sp.Heaviside(x, 0)
    assert relu(x).rewrite(sp.Max) == sp.Max(0, x)
    assert (relu(2), relu(-3), relu(0)) == (2, 0, 0)
    assert relu(sp.Symbol("p", positive=True)) == sp.Symbol("p", positive=True)
    assert sp.diff(relu(x), x).subs(x, 0) == 0  # relu'(0) = 0, as the engine and torch
    assert sp.diff(leaky_relu(x), x).subs(x, -1) == sp.Rational(1, 100)
    assert sp.diff(leaky_relu(x), x).subs(x, 2) == 1
    assert leaky_relu(-3) == sp.Rational(-3, 100)
    assert _numerically_equal(leaky_relu(x).rewrite(sp.Max), leaky_relu(x), [-2.0, 0.5])


def test_default_names() -> None:
    one = symbolic_mlp([1, 1, 1], ["sigmoid", "linear"], "sse")
    assert list(one.symbols) == ["x", "w1", "b1", "w2", "b2", "t", "z1", "z2", "h1", "y"]
    assert one.params == ["w1", "b1", "w2", "b2"]
    assert str(one.output) == "b2 + w2*sigmoid(b1 + w1*x)"
    net = symbolic_mlp([2, 2, 1], ["sigmoid", "linear"], "sse")
    assert net.inputs == ["x1", "x2"]
    assert net.params == ["w1", "w2", "w3", "w4", "b1", "b2", "w5", "w6", "b3"]
    assert net.parameter_map["w2"] == ("weights", 0, (0, 1))  # unit 1 <- input 2
    assert net.parameter_map["w5"] == ("weights", 1, (0, 0))
    statquest = symbolic_mlp([1, 2, 1], ["softplus", "linear"], "sse")
    assert statquest.params == ["w1", "w2", "b1", "b2", "w3", "w4", "b3"]
    assert statquest.trace_names["w3"] == "w^{(2)}_{11}"
    assert statquest.trace_names["h2"] == "a^{(1)}_2"
    assert statquest.trace_names["y"] == "a^{(2)}_1"
    b3 = statquest["b3"]
    assert sp.diff(statquest.loss, b3) == statquest.gradient("b3")
    wide = symbolic_mlp([2, 2, 2], ["tanh", "softmax"], "cross_entropy")
    assert wide.targets == ["t1", "t2"]
    assert [str(s) for s in (wide["y1"], wide["y2"])] == ["y1", "y2"]


ARCHS = [
    ([1, 1, 1], ["sigmoid", "linear"], "sse"),
    ([1, 1, 1], ["tanh", "sigmoid"], "half_sse"),
    ([1, 2, 1], ["softplus", "linear"], "sse"),
    ([2, 2, 1], ["sigmoid", "sigmoid"], "mse"),
    ([2, 2, 1], ["relu", "linear"], "sse"),
    ([2, 1, 2], ["leaky_relu", "linear"], "mse"),
    ([2, 2, 2], ["tanh", "softmax"], "cross_entropy"),
    ([1, 2, 2], ["sigmoid", "linear"], "cross_entropy"),
    ([2, 1, 1], ["softplus", "sigmoid"], "binary_cross_entropy"),
    ([1, 1, 2], ["sigmoid", "linear"], "binary_cross_entropy"),
    ([1, 2, 2], ["softmax", "linear"], "sse"),
    ([2, 2], ["softmax"], "half_sse"),
]


def _values(net: SymbolicNet, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    values = {
        n: float(v) for n, v in zip(net.inputs, rng.normal(size=len(net.inputs)), strict=True)
    }
    values |= {n: float(rng.normal()) for n in net.params}
    t = random_targets(net.loss_name, rng, (1, len(net.targets)))[0]
    values |= {n: float(v) for n, v in zip(net.targets, t, strict=True)}
    return values


@pytest.mark.parametrize(("sizes", "acts", "loss"), ARCHS)
def test_evaluate_equals_the_numeric_engine(sizes: list[int], acts: list[str], loss: str) -> None:
    net = symbolic_mlp(sizes, acts, loss)
    values = _values(net, seed=sum(sizes))
    out = net.evaluate(values)
    mlp, xv, tv = net.to_mlp(values)
    assert isinstance(mlp, MLP)
    bp = mlp.backprop(xv, tv)
    trace = trace_mlp(mlp, xv, tv)
    assert out["L"] == pytest.approx(bp.loss, rel=1e-12)
    for p, (kind, layer, index) in net.parameter_map.items():
        engine = getattr(bp.grads, kind)[layer][index]
        assert out[f"dL/d{p}"] == pytest.approx(engine, rel=1e-9, abs=1e-13), p
        assert trace.value(f"dL/d{net.trace_names[p]}") == engine
    for name in net.intermediates:
        assert out[name] == pytest.approx(trace.value(net.trace_names[name]), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("sizes", "acts", "loss"), ARCHS)
def test_named_function_derivatives_agree_with_differentiating_the_definitions(
    sizes: list[int], acts: list[str], loss: str
) -> None:
    net = symbolic_mlp(sizes, acts, loss)
    values = _values(net, seed=7)
    by_definition = net.loss.rewrite(sp.exp)  # no sigmoid/softplus left: SymPy differentiates exp
    for p in net.params[:3]:
        ours = net.evaluate_expr(net.gradient(p), values)
        theirs = net.evaluate_expr(sp.diff(by_definition, net[p]), values)
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("sizes", "acts", "loss"), ARCHS)
def test_chain_form_expands_to_the_gradient(sizes: list[int], acts: list[str], loss: str) -> None:
    net = symbolic_mlp(sizes, acts, loss)
    values = _values(net, seed=11)  # one-hot targets for cross_entropy, where dL/dz = p - t
    for p in net.params:
        chain = net.gradient(p, form="chain")
        assert net.evaluate_expr(net.expand(chain), values) == pytest.approx(
            net.evaluate_expr(net.gradient(p), values), rel=1e-12, abs=1e-15
        )
        assert net.evaluate_expr(chain, values) == pytest.approx(
            net.evaluate_expr(net.gradient(p), values), rel=1e-12, abs=1e-15
        )


def test_chain_form_is_the_textbook_product() -> None:
    net = symbolic_mlp([1, 1, 1], ["sigmoid", "sigmoid"], "sse")
    s = net.symbols
    g2 = sigmoid(s["z2"]) * (1 - sigmoid(s["z2"]))
    f1 = sigmoid(s["z1"]) * (1 - sigmoid(s["z1"]))
    dl_dy = 2 * (s["y"] - s["t"])
    assert sp.expand(net.gradient("w2", form="chain") - dl_dy * g2 * s["h1"]) == 0
    assert sp.expand(net.gradient("w1", form="chain") - dl_dy * g2 * s["w2"] * f1 * s["x"]) == 0
    linear = symbolic_mlp([1, 1, 1], ["sigmoid", "linear"], "sse")
    assert str(linear.gradient("b2", form="chain")) == "2*(-t + y)"  # not -2*t + 2*y
    assert str(linear.gradient("w2", form="chain")) == "2*h1*(-t + y)"


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9]*(?:_(?:\{[A-Za-z0-9]+\}|[A-Za-z0-9]+))?)"
    r"|(?P<op>\*\*|[-+*/()]))"
)


def _checker_tokens_only(text: str, symbols: set[str]) -> None:
    pos, prev_name = 0, None
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m, f"unreadable at {text[pos : pos + 20]!r} in {text!r}"
        assert m.end() > pos, f"unreadable at {text[pos : pos + 20]!r} in {text!r}"
        if prev_name is not None:
            if m.group("op") == "(":
                assert prev_name in CHECKER_FUNCTIONS, f"function {prev_name} in {text!r}"
            else:
                assert prev_name in symbols, f"name {prev_name} in {text!r}"
        prev_name = m.group("name")
        pos = m.end()
    if prev_name is not None:
        assert prev_name in symbols


SMOOTH = [a for a in ARCHS if not {"relu", "leaky_relu"} & set(a[1])]


@pytest.mark.slow  # expands every network symbolically
@pytest.mark.parametrize(("sizes", "acts", "loss"), SMOOTH)
def test_str_uses_only_the_checker_language(sizes: list[int], acts: list[str], loss: str) -> None:
    net = symbolic_mlp(sizes, acts, loss, names={"x" if sizes[0] == 1 else "x1": "x_1"})
    names = set(net.symbols)
    exprs = [*net.outputs, net.loss]
    for p in net.params:
        exprs += [net.gradient(p), net.gradient(p, form="chain")]
    for expr in exprs:
        _checker_tokens_only(str(expr), names)
        assert checker_string(expr) == str(expr)


def test_relu_output_is_readable_but_its_derivative_is_refused() -> None:
    net = symbolic_mlp([1, 1, 1], ["relu", "linear"], "sse")
    _checker_tokens_only(str(net.loss), set(net.symbols))
    with pytest.raises(ValueError, match="expr: uses Heaviside"):
        checker_string(net.gradient("w1"))


def test_names_can_be_overridden() -> None:
    net = symbolic_mlp(
        [1, 1, 1], ["sigmoid", "linear"], "sse", names={"w1": "w_1", "t": "y_{true}"}
    )
    assert "w_1" in net.symbols
    assert "w1" not in net.symbols
    assert (
        net.loss
        == (net["b2"] + net["w2"] * sigmoid(net["b1"] + net["w_1"] * net["x"]) - net["y_{true}"])
        ** 2
    )
    assert "w_1*x" in str(net.loss)
    values = {"x": 1.0, "w_1": 0.5, "b1": 0.0, "w2": 1.0, "b2": 0.0, "y_{true}": 0.2}
    assert net.evaluate(values)["dL/dw_1"] == pytest.approx(
        net.to_mlp(values)[0].backprop([1.0], [0.2]).grads.weights[0][0, 0]
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"names": {"w9": "v"}}, r"names: unknown default names \['w9'\]"),
        ({"names": {"w1": "sigmoid"}}, "names: 'sigmoid' .* is not a usable name"),
        ({"names": {"w1": "2w"}}, "names: '2w' .* is not a usable name"),
        ({"names": {"w1": "w2"}}, r"names: the renaming makes \['w2'\] name two different things"),
        ({"loss": "hinge"}, "loss: unknown loss 'hinge'"),
    ],
)
def test_bad_construction_names_the_argument(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        symbolic_mlp([1, 1, 1], ["sigmoid", "linear"], **kwargs)  # type: ignore[arg-type]


def test_bad_use_names_the_argument() -> None:
    net = symbolic_mlp([1, 1, 1], ["sigmoid", "linear"], "sse")
    with pytest.raises(ValueError, match=r"values: missing \['t'\]"):
        net.evaluate({"x": 1.0, "w1": 0.5, "b1": 0.0, "w2": 1.0, "b2": 0.0})
    with pytest.raises(ValueError, match="values: x must be finite"):
        net.evaluate({"x": float("inf"), "w1": 0.5, "b1": 0.0, "w2": 1.0, "b2": 0.0, "t": 0.0})
    with pytest.raises(ValueError, match="param: unknown parameter 'w3'"):
        net.gradient("w3")
    with pytest.raises(ValueError, match="form: expected 'expanded' or 'chain'"):
        net.gradient("w1", form="local")
    with pytest.raises(ValueError, match="output: this net has 2 outputs"):
        _ = symbolic_mlp([1, 2], ["linear"], "sse").output
