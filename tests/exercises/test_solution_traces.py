"""Traces: every step's value equals the engine's, recomputes from its inputs, and renders."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.engine import MLP
from grader.engine import RNN
from grader.engine.step_names import layer_name
from grader.exercises.solutions import Trace
from grader.exercises.solutions import trace_mlp
from grader.exercises.solutions import trace_rnn
from grader.exercises.solutions.trace import fmt
from tests.engine.conftest import random_targets

CASES = [
    ([2, 2, 1], ["sigmoid", "linear"], "sse", True),
    ([1, 2, 1], ["softplus", "linear"], "sse", True),
    ([2, 3, 2], ["tanh", "softmax"], "cross_entropy", True),
    ([2, 2, 3], ["relu", "linear"], "cross_entropy", False),
    ([3, 2, 2], ["leaky_relu", "sigmoid"], "binary_cross_entropy", True),
    ([2, 2, 2], ["sigmoid", "linear"], "binary_cross_entropy", True),
    ([2, 3, 2, 2], ["softmax", "tanh", "softmax"], "mse", True),
    ([2, 2, 1], ["sigmoid", "sigmoid"], "half_sse", False),
]


def _case(
    sizes: list[int], acts: list[str], loss: str, bias: bool, seed: int = 0
) -> tuple[MLP, Trace, object]:
    rng = np.random.default_rng(seed)
    net = MLP(sizes, acts, loss, rng=rng, bias=bias)
    x = rng.normal(size=sizes[0])
    t = random_targets(loss, rng, (1, sizes[-1]))[0]
    return net, trace_mlp(net, x, t), net.backprop(x, t)


@pytest.mark.parametrize(("sizes", "acts", "loss", "bias"), CASES)
def test_values_equal_the_engine(sizes: list[int], acts: list[str], loss: str, bias: bool) -> None:
    _, trace, bp = _case(sizes, acts, loss, bias)
    assert trace.value("L") == bp.loss
    for layer in range(1, len(sizes)):
        for j in range(1, sizes[layer] + 1):
            assert trace.value(layer_name("z", layer, j)[0]) == bp.zs[layer - 1][0, j - 1]
            assert trace.value(layer_name("a", layer, j)[0]) == bp.activations[layer][0, j - 1]
            assert trace.value(layer_name("delta", layer, j)[0]) == bp.deltas[layer - 1][0, j - 1]
            grad_b = f"dL/d{layer_name('b', layer, j)[0]}"
            assert (grad_b in trace) == bias
            if bias:
                assert trace.value(grad_b) == bp.grads.biases[layer - 1][j - 1]
            for i in range(1, sizes[layer - 1] + 1):
                name = f"dL/d{layer_name('w', layer, j, i)[0]}"
                assert trace.value(name) == bp.grads.weights[layer - 1][j - 1, i - 1]


@pytest.mark.parametrize(("sizes", "acts", "loss", "bias"), CASES)
def test_every_step_recomputes_from_what_it_depends_on(
    sizes: list[int], acts: list[str], loss: str, bias: bool
) -> None:
    _, trace, _ = _case(sizes, acts, loss, bias, seed=1)
    names = {s.name for s in trace}
    seen: set[str] = {s.name for s in trace.given} | {"L"}
    for step in [*trace.forward, *trace.backward]:
        assert set(step.depends) <= names, step.name
        assert set(step.depends) - {"L"} <= seen, f"{step.name} uses a later step"
        seen.add(step.name)
        v = [trace.value(d) for d in step.depends]
        if step.kind == "pre_activation":  # sum of w * a (+ b)
            expected = sum(v[k] * v[k + 1] for k in range(0, len(v) - 1, 2)) + (
                v[-1] if bias else 0
            )
        elif step.kind == "weight_gradient":  # delta * a_prev
            expected = v[0] * v[1]
        elif step.kind == "bias_gradient":
            expected = v[0]
        elif step.kind == "backprop":  # sum_k w_kj delta_k
            expected = sum(v[k] * v[k + 1] for k in range(0, len(v), 2))
        elif step.kind == "delta" and len(v) == 2 and step.depends[0].startswith("dL/da"):
            expected = v[0] * v[1]
        else:
            continue
        assert step.value == pytest.approx(expected, rel=1e-12, abs=1e-15), step.name


def test_order_and_names_for_a_2_2_1_network() -> None:
    net = MLP([2, 2, 1], ["sigmoid", "linear"], "sse", rng=np.random.default_rng(0))
    trace = trace_mlp(net, [1.0, 0.5], [0.2])
    assert [s.name for s in trace.forward] == [
        "z^{(1)}_1", "a^{(1)}_1", "z^{(1)}_2", "a^{(1)}_2", "z^{(2)}_1", "a^{(2)}_1", "L",
    ]  # fmt: skip
    assert [s.name for s in trace.backward] == [
        "dL/da^{(2)}_1", "da^{(2)}_1/dz^{(2)}_1", "delta^{(2)}_1",
        "dL/dw^{(2)}_{11}", "dL/dw^{(2)}_{12}", "dL/db^{(2)}_1",
        "dL/da^{(1)}_1", "dL/da^{(1)}_2",
        "da^{(1)}_1/dz^{(1)}_1", "da^{(1)}_2/dz^{(1)}_2", "delta^{(1)}_1", "delta^{(1)}_2",
        "dL/dw^{(1)}_{11}", "dL/dw^{(1)}_{12}", "dL/dw^{(1)}_{21}", "dL/dw^{(1)}_{22}",
        "dL/db^{(1)}_1", "dL/db^{(1)}_2",
    ]  # fmt: skip
    local = trace["da^{(1)}_1/dz^{(1)}_1"]
    assert local.kind == "local_derivative"
    assert (
        r"\sigma'\left(z^{(1)}_{1}\right) = a^{(1)}_{1}\left(1 - a^{(1)}_{1}\right)"
        in local.formula
    )
    a = trace.value("a^{(1)}_1")
    assert local.value == pytest.approx(a * (1 - a))
    w = trace["dL/dw^{(1)}_{12}"]
    assert w.formula.startswith(r"\frac{\partial L}{\partial w^{(1)}_{12}} = ")
    assert r"\frac{\partial z^{(1)}_{1}}{\partial w^{(1)}_{12}}" in w.formula
    assert w.formula.endswith(r"\delta^{(1)}_{1} x_{2}")
    assert w.substituted.endswith(f"= {fmt(float(w.value))}")
    assert (w.layer, w.index, w.depends) == (1, (1, 2), ("delta^{(1)}_1", "x_2"))
    assert [s.name for s in trace.select(kind="delta")] == [
        "delta^{(2)}_1",
        "delta^{(1)}_1",
        "delta^{(1)}_2",
    ]


def test_seed_example_trace() -> None:
    net = MLP([2, 1], ["linear"], "half_sse", weights=[[[0.5, -0.2]]], bias=False)
    trace = trace_mlp(net, [1.0, 0.8], [0.6])
    z = trace["z^{(1)}_1"]
    assert z.formula == "z^{(1)}_{1} = w^{(1)}_{11} x_{1} + w^{(1)}_{12} x_{2}"
    assert z.substituted == r"0.5 \cdot 1 + \left(-0.2\right) \cdot 0.8 = 0.34"
    assert trace.value("dL/da^{(1)}_1") == pytest.approx(-0.26)
    assert trace.value("dL/dw^{(1)}_{11}") == pytest.approx(-0.26)
    assert trace.value("dL/dw^{(1)}_{12}") == pytest.approx(-0.208)
    md = trace.to_markdown()
    assert "**Forward pass**" in md
    assert "**Backward pass**" in md
    assert r"$z^{(1)}_{1} = w^{(1)}_{11} x_{1} + w^{(1)}_{12} x_{2} = 0.5 \cdot 1" in md
    assert md.count("\n1. $") == 2  # both numbered lists start at 1


def _balanced(tex: str) -> bool:
    depth = 0
    for ch in tex.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0 and tex.count(r"\left") == tex.count(r"\right")


def _all_traces() -> list[Trace]:
    traces = [_case(*case)[1] for case in CASES]
    rng = np.random.default_rng(2)
    for dims in [(1, 1, 1), (2, 3, 2)]:
        rnn = RNN(*dims, rng=rng)
        traces.append(trace_rnn(rnn, rng.normal(size=(3, dims[0])), rng.normal(size=(3, dims[2]))))
    return traces


def test_latex_is_well_formed_and_markdown_has_every_step() -> None:
    for trace in _all_traces():
        md = trace.to_markdown()
        for step in trace:
            for tex in (step.symbol, step.formula, step.substituted):
                assert _balanced(tex), (step.name, tex)
            assert step.equation() in md
            assert "nan" not in step.substituted.lower()


def test_digits_and_bad_input() -> None:
    net = MLP([2, 1], ["linear"], "sse", weights=[[[1 / 3, 2 / 3]]])
    assert trace_mlp(net, [1.0, 1.0], [0.0], digits=2)["z^{(1)}_1"].substituted.endswith("= 1")
    assert "0.3333333" in trace_mlp(net, [1.0, 0.0], [0.0], digits=7)["z^{(1)}_1"].substituted
    with pytest.raises(ValueError, match=r"x: expected shape \(2,\), got \(3,\)"):
        trace_mlp(net, [1.0, 2.0, 3.0], [0.0])
    with pytest.raises(ValueError, match="t: expected a 1-dimensional array"):
        trace_mlp(net, [1.0, 2.0], [[0.0]])
    with pytest.raises(ValueError, match="digits: expected an integer from 1 to 17"):
        trace_mlp(net, [1.0, 2.0], [0.0], digits=0)


def test_names_with_two_digit_indices_stay_unambiguous() -> None:
    assert layer_name("w", 1, 1, 12) == ("w^{(1)}_{1,12}", "w^{(1)}_{1,12}")
    assert layer_name("z", 2, 11) == ("z^{(2)}_{11}", "z^{(2)}_{11}")
    assert layer_name("delta", 1, 3) == ("delta^{(1)}_3", r"\delta^{(1)}_{3}")
    net = MLP([12, 1], ["linear"], "sse")
    trace = trace_mlp(net, np.ones(12), [0.0])
    assert "dL/dw^{(1)}_{1,12}" in trace
    assert "dL/dw^{(1)}_{11}" in trace  # unit 1, input 1; not unit 1, input 11


@pytest.mark.parametrize("dims", [(1, 1, 1), (2, 3, 2)])
def test_rnn_trace_values_equal_bptt(dims: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(4)
    rnn = RNN(*dims, rng=rng)
    xs, ts = rng.normal(size=(4, dims[0])), rng.normal(size=(4, dims[2]))
    trace, bp = trace_rnn(rnn, xs, ts), rnn.bptt(xs, ts)
    scalar = dims == (1, 1, 1)
    for t in range(1, 5):
        for name, arr in [
            (f"h_{t}", bp.hs[t]),
            (f"y_{t}", bp.ys[t - 1]),
            (f"delta_{t}", bp.deltas[t - 1]),
        ]:
            value = trace.value(name)
            assert isinstance(value, float) == scalar
            np.testing.assert_allclose(value, arr.item() if scalar else arr, rtol=1e-14)
    for name, grad in bp.grads.items():
        np.testing.assert_allclose(
            trace.value(f"dL/d{name}"), grad.item() if scalar else grad, rtol=1e-14
        )
    assert trace.value("L") == bp.loss


def test_rnn_jacobian_chain_equals_finite_difference_sensitivity() -> None:
    """prod_t dh_t/dh_{t-1} from the trace = d h_T / d h_0 measured by perturbing h_0."""
    rng = np.random.default_rng(5)
    rnn = RNN(2, 3, 1, rng=rng)
    xs, ts = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    trace = trace_rnn(rnn, xs, ts)
    product = np.eye(3)
    for t in range(4, 0, -1):
        product = product @ trace.value(f"dh_{t}/dh_{t - 1}")
    eps = 1e-6
    numeric = np.empty((3, 3))
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        numeric[:, k] = (rnn.hidden_states(xs, h0=e)[-1] - rnn.hidden_states(xs, h0=-e)[-1]) / (
            2 * eps
        )
    np.testing.assert_allclose(product, numeric, rtol=1e-6, atol=1e-10)
    assert math.isclose(trace.value("L"), rnn.bptt(xs, ts).loss)
