"""Bad input: a ValueError whose message starts with the argument's name and says what is wanted."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from grader.engine import MLP
from grader.engine import RNN

NET = MLP([2, 3, 1], ["sigmoid", "linear"], "sse")
X, T = np.ones((4, 2)), np.zeros((4, 1))

CASES: list[tuple[Callable[[], object], str]] = [
    (lambda: MLP([2], ["linear"]), r"sizes: expected at least two layer sizes"),
    (lambda: MLP([2, 0, 1], ["relu", "linear"]), r"sizes\[1\]: expected a positive integer, got 0"),
    (lambda: MLP([2, 1.5, 1], ["relu", "linear"]), r"sizes\[1\]: expected a positive integer"),
    (lambda: MLP([2, 3, 1], "sigmoid"), r"activations: expected a list of 2 names"),
    (
        lambda: MLP([2, 3, 1], ["sigmoid"]),
        r"activations: expected 2 names \(one per weight layer\), got 1",
    ),
    (lambda: MLP([2, 3, 1], ["sigmoid", "gelu"]), r"activations\[1\]: unknown activation 'gelu'"),
    (lambda: MLP([2, 3, 1], ["sigmoid", "linear"], "huber"), r"loss: unknown loss 'huber'"),
    (
        lambda: MLP([2, 3, 2], ["sigmoid", "tanh"], "cross_entropy"),
        r"activations: loss 'cross_entropy' needs the last activation to be one of "
        r"\['linear', 'softmax'\]",
    ),
    (
        lambda: MLP([2, 1], ["relu"], "binary_cross_entropy"),
        r"activations: loss 'binary_cross_entropy' needs the last activation",
    ),
    (lambda: MLP([2, 1], ["linear"], rng=0), "rng: expected a numpy.random.Generator, got int"),  # type: ignore[arg-type]
    (
        lambda: MLP([2, 1], ["linear"], weights=[np.ones((1, 2))] * 2),
        "weights: expected 1 arrays, got 2",
    ),
    (
        lambda: MLP([2, 1], ["linear"], weights=[np.ones((2, 1))]),
        r"weights\[0\]: expected shape \(1, 2\)",
    ),
    (lambda: MLP([2, 1], ["linear"], biases=[["a"]]), r"biases\[0\]: expected an array of numbers"),
    (lambda: MLP([2, 1], ["linear"], bias="no"), "bias: expected True or False"),  # type: ignore[arg-type]
    (lambda: NET.forward(np.ones((4, 3))), r"X: expected shape \(batch, 2\), got \(4, 3\)"),
    (lambda: NET.forward(np.ones((4, 2, 1))), "X: expected a 1 or 2-dimensional array, got shape"),
    (lambda: NET.forward([[1.0, np.nan]]), "X: contains NaN or inf; expected finite numbers"),
    (lambda: NET.forward([[1.0, np.inf]]), "X: contains NaN or inf"),
    (lambda: NET.forward("abc"), "X: expected an array of numbers"),
    (
        lambda: NET.loss_and_gradients(X, np.zeros((3, 1))),
        r"T: expected shape \(4, 1\) to match X, got \(3, 1\)",
    ),
    (lambda: NET.loss_and_gradients(X, np.zeros(4)), "T: expected a 2-dimensional array"),
    (lambda: NET.loss_and_gradients(X, np.full((4, 1), -np.inf)), "T: contains NaN or inf"),
    (
        lambda: NET.loss_and_gradients([1.0, 2.0], [0.0, 1.0]),
        r"T: expected shape \(1,\) to match X, got \(2,\)",
    ),
    (lambda: NET.loss_value(X, T[:, :0]), r"T: expected shape \(4, 1\)"),
    (lambda: RNN(0, 1, 1), "n_in: expected a positive integer, got 0"),
    (lambda: RNN(1, 1, 1, rng="seed"), "rng: expected a numpy.random.Generator"),  # type: ignore[arg-type]
    (lambda: RNN(1, 2, 1).forward(np.ones(3)), "xs: expected a 2-dimensional array"),
    (lambda: RNN(1, 2, 1).forward(np.ones((3, 1)), h0=np.ones(3)), r"h0: expected shape \(2,\)"),
]


@pytest.mark.parametrize(("call", "match"), CASES)
def test_bad_input_raises_value_error_naming_the_argument(
    call: Callable[[], object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_huge_but_finite_inputs_are_not_mistaken_for_inf() -> None:
    # Their sum overflows; the fast finiteness check must fall back to the exact one.
    X = np.array([[1e308, 1e308]])
    assert np.isfinite(MLP([2, 1], ["sigmoid"], "binary_cross_entropy").forward(X * 1e-300)).all()
    net = MLP([2, 1], ["linear"], "sse", weights=[[[0.0, 0.0]]])
    np.testing.assert_array_equal(net.forward(X), [[0.0]])
    big = np.full((64, 784), 1e306)  # the large-array path, too
    net = MLP([784, 1], ["linear"], "sse", weights=[np.zeros((1, 784))])
    assert net.forward(big).shape == (64, 1)
