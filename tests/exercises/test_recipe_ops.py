"""Every recipe operation against NumPy written out by hand, and its failure modes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.exercises.recipe import OPS
from grader.exercises.recipe import const
from grader.exercises.recipe import evaluate
from grader.exercises.recipe import from_json
from grader.exercises.recipe import op
from grader.exercises.recipe import ref
from grader.exercises.recipe import to_json

A = [[0.5, -1.25], [2.0, 0.75]]
V = [0.3, -0.7]

CASES = {
    "add": (("a", "v"), np.add(A, V)),
    "mul": (("a", "v"), np.multiply(A, V)),
    "neg": (("v",), [-x for x in V]),
    "matmul": (("a", "v"), [A[0][0] * V[0] + A[0][1] * V[1], A[1][0] * V[0] + A[1][1] * V[1]]),
    "outer": (("v", "v"), [[x * y for y in V] for x in V]),
    "transpose": (("a",), [[A[0][0], A[1][0]], [A[0][1], A[1][1]]]),
    "sum_rows": (("a",), [A[0][0] + A[1][0], A[0][1] + A[1][1]]),
    "as_row": (("v",), [V]),
    "stack": (("v", "v"), [V, V]),
    "sub": (("v", "s"), [x - 0.4 for x in V]),
    "div": (("v", "s"), [x / 0.4 for x in V]),
    "pow": (("s", "two"), 0.4**2),
    "exp": (("v",), [math.exp(x) for x in V]),
    "log": (("s",), math.log(0.4)),
    "sqrt": (("s",), math.sqrt(0.4)),
    "abs": (("v",), [abs(x) for x in V]),
    "tanh": (("v",), [math.tanh(x) for x in V]),
    "sigmoid": (("v",), [1 / (1 + math.exp(-x)) for x in V]),
    "sum": (("a",), sum(sum(r) for r in A)),
    "mean": (("a",), sum(sum(r) for r in A) / 4),
    "dot": (("v", "v"), V[0] ** 2 + V[1] ** 2),
}
VALUES = {"a": A, "v": V, "s": 0.4, "two": 2.0}


def test_every_operation_is_covered() -> None:
    assert set(CASES) == set(OPS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_operation_matches_the_hand_computation(name: str) -> None:
    args, expected = CASES[name]
    recipe = op(name, *(ref(a) for a in args))
    got = evaluate(from_json(to_json(recipe)), VALUES)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12)


@pytest.mark.parametrize(
    ("recipe", "values"),
    [
        (op("log", ref("x")), {"x": -1.0}),
        (op("div", const(1.0), ref("x")), {"x": 0.0}),
        (op("exp", ref("x")), {"x": 1e6}),
        (op("sqrt", ref("x")), {"x": -4.0}),
        (op("matmul", ref("x"), const([1.0, 2.0, 3.0])), {"x": [1.0, 2.0]}),
    ],
)
def test_values_with_no_finite_answer_or_wrong_shape_are_refused(recipe, values) -> None:
    with pytest.raises(ValueError, match=r"."):
        evaluate(recipe, values)


def test_arity_is_checked() -> None:
    with pytest.raises(ValueError, match="takes 2 arguments"):
        op("div", const(1.0))
    with pytest.raises(ValueError, match="unknown recipe operation"):
        op("no-such-op", const(1.0))
