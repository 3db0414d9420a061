"""gradcheck itself: it must catch wrong gradients, not just bless right ones."""

from __future__ import annotations

import numpy as np
import pytest

from grader.engine import gradcheck
from grader.engine import numerical_gradient


def test_numerical_gradient_of_a_known_function() -> None:
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    (g,) = numerical_gradient(lambda: float(np.sum(w**3)), [w])
    np.testing.assert_allclose(g, 3 * w**2, rtol=1e-9)


def test_accepts_right_and_rejects_wrong_gradients() -> None:
    a, b = np.array([0.3, -1.2, 2.0]), np.array([[0.7]])

    def f() -> float:
        return float(np.sum(np.sin(a)) * b[0, 0])

    right = [np.cos(a) * b[0, 0], np.array([[np.sum(np.sin(a))]])]
    result = gradcheck(f, [a, b], right)
    assert result
    assert result.max_abs_error < 1e-8
    wrong = [right[0].copy(), right[1]]
    wrong[0][1] *= 1.001  # a 0.1% error in one element
    result = gradcheck(f, [a, b], wrong)
    assert not result
    assert result.worst == (0, (1,))
    assert "params[0][1]" in result.message


def test_parameters_are_restored_even_when_f_fails() -> None:
    w = np.array([1.0, 2.0])
    calls = []

    def f() -> float:
        calls.append(w.copy())
        if len(calls) == 2:
            raise RuntimeError("boom")
        return float(w.sum())

    with pytest.raises(RuntimeError):
        numerical_gradient(f, w)
    np.testing.assert_array_equal(w, [1.0, 2.0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: numerical_gradient(lambda: 0.0, [np.array([1, 2])]),
            "params: item 0 must be a writable float64",
        ),
        (
            lambda: numerical_gradient(lambda: 0.0, [np.ones((3, 3)).T[:, :2]]),
            "params: arrays must be C-contiguous",
        ),
        (lambda: numerical_gradient(lambda: "x", [np.ones(2)]), "f: expected a scalar loss"),
        (lambda: numerical_gradient(lambda: float("inf"), [np.ones(2)]), "f: returned inf"),
        (
            lambda: numerical_gradient(lambda: 0.0, [np.ones(2)], eps=0),
            "eps: expected a number > 0",
        ),
        (
            lambda: gradcheck(lambda: 0.0, [np.ones(2)], [np.ones(3)]),
            r"grads: item 0 has shape \(3,\)",
        ),
        (lambda: gradcheck(lambda: 0.0, [np.ones(2)], []), "grads: expected 1 arrays"),
        (
            lambda: gradcheck(lambda: 0.0, np.ones(2), np.ones(2), rtol=-1),
            "rtol: expected a number >= 0",
        ),
    ],
)
def test_bad_arguments_name_the_argument(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
