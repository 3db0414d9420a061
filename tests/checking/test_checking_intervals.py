"""Interval evaluation: the bounds at 30 digits contain the value at 120 digits.

This is what lets a difference be called real (disjoint intervals) and a saturated key's
0 be called rounding (an interval around 0 wider than the answer).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from grader.checking.evaluate import Env
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import compile_node
from grader.checking.evaluate import context
from grader.checking.intervals import IntervalEnv
from grader.checking.intervals import Uncertain
from grader.checking.intervals import compile_interval
from grader.checking.keys import parse_cached

EXPRESSIONS = [
    "1 - tanh(x)^2",
    "4/(e^x + e^(-x))^2",
    "(x + 1)^7 - (x^7 + 7*x^6 + 21*x^5 + 35*x^4 + 35*x^3 + 21*x^2 + 7*x + 1)",
    "sigmoid(x)*(1 - sigmoid(x))",
    "sqrt(x^2 + 1) - abs(x)",
    "log(1 + exp(-abs(x))) + relu(x)",
    "sin(x)^2 + cos(x)^2 - 1",
    "tan(x)*cos(x) - sin(x)",
    "max(x, 1/3) - min(x, 2/3)",
    "x^(1/3)",
    "asinh(x) - log(x + sqrt(x^2 + 1))",
    "sech(x)*cosh(x)",
    "softplus(x) - softplus(-x)",
    "atan(x) + atan(1/x)",
    "sign(x)*x - abs(x)",
    "pi*e^(x/10)",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(EXPRESSIONS),
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False),
)
def test_bounds_contain_the_value_at_higher_precision(text, x):
    node = parse_cached(text, frozenset({"x"}), None)
    low_ctx, high_ctx = context(30), context(120)
    try:
        low, high = compile_interval(node)(IntervalEnv(low_ctx, {"x": low_ctx.mpf(x)}, {}))
    except (Uncertain, Overflow):
        return
    except Undefined:
        with pytest.raises((Undefined, Overflow)):
            compile_node(node)(Env(high_ctx, {"x": high_ctx.mpf(x)}))
        return
    try:
        exact = compile_node(node)(Env(high_ctx, {"x": high_ctx.mpf(x)}))
    except (Undefined, Overflow):
        return
    assert low <= exact <= high, (text, x, low, exact, high)


def test_a_key_that_rounds_to_zero_has_an_interval_around_zero():
    node = parse_cached("1 - tanh(x)^2", frozenset({"x"}), None)
    ctx = context(30)
    low, high = compile_interval(node)(IntervalEnv(ctx, {"x": ctx.mpf(900)}, {}))
    assert low < 0 < high
    assert high < ctx.mpf(10) ** -25


def test_undefined_for_sure_and_undefined_by_rounding():
    ctx = context(30)
    env = IntervalEnv(ctx, {"x": ctx.mpf(-2)}, {})
    with pytest.raises(Undefined):
        compile_interval(parse_cached("log(x)", frozenset({"x"}), None))(env)
    near = IntervalEnv(ctx, {"x": ctx.mpf(200)}, {})
    with pytest.raises(Uncertain):
        compile_interval(parse_cached("sqrt(1 - tanh(x)^2)", frozenset({"x"}), None))(near)
