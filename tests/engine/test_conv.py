"""conv1d / conv2d against torch.nn.functional, autograd and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F  # noqa: N812 - the conventional name
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from grader.engine import conv1d
from grader.engine import conv1d_backward
from grader.engine import conv2d
from grader.engine import conv2d_backward
from grader.engine import gradcheck
from tests.engine.conftest import tt


def test_textbook_example_by_hand() -> None:
    x, w = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])
    np.testing.assert_array_equal(conv1d(x, w), [1 - 3, 2 - 4])  # no kernel flip
    g = np.array([1.0, 10.0])
    dx, dw = conv1d_backward(x, w, g)
    # y0 = x0 w0 + x1 w1 + x2 w2 and y1 = x1 w0 + x2 w1 + x3 w2
    np.testing.assert_array_equal(dw, [1 * 1 + 10 * 2, 1 * 2 + 10 * 3, 1 * 3 + 10 * 4])
    np.testing.assert_array_equal(dx, [1 * 1, 1 * 0 + 10 * 1, 1 * -1 + 10 * 0, 10 * -1])


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    batch=st.integers(1, 3),
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 3),
    length=st.integers(1, 12),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv1d_matches_torch(
    batch: int,
    c_in: int,
    c_out: int,
    length: int,
    kernel: int,
    stride: int,
    padding: int,
    seed: int,
) -> None:
    if length + 2 * padding < kernel:
        length = kernel
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(batch, c_in, length)), rng.normal(size=(c_out, c_in, kernel))
    xt, wt = tt(x, grad=True), tt(w, grad=True)
    yt = F.conv1d(xt, wt, stride=stride, padding=padding)
    g = rng.normal(size=tuple(yt.shape))
    (yt * tt(g)).sum().backward()
    np.testing.assert_allclose(
        conv1d(x, w, stride=stride, padding=padding), yt.detach().numpy(), rtol=1e-12, atol=1e-13
    )
    dx, dw = conv1d_backward(x, w, g, stride=stride, padding=padding)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-11, atol=1e-13)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    batch=st.integers(1, 2),
    c_in=st.integers(1, 2),
    c_out=st.integers(1, 3),
    size=st.tuples(st.integers(2, 7), st.integers(2, 7)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 2), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 2)),
    seed=st.integers(0, 2**32 - 1),
)
def test_conv2d_matches_torch(
    batch: int,
    c_in: int,
    c_out: int,
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    seed: int,
) -> None:
    size = (max(size[0], kernel[0]), max(size[1], kernel[1]))
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(batch, c_in, *size)), rng.normal(size=(c_out, c_in, *kernel))
    xt, wt = tt(x, grad=True), tt(w, grad=True)
    yt = F.conv2d(xt, wt, stride=stride, padding=padding)
    g = rng.normal(size=tuple(yt.shape))
    (yt * tt(g)).sum().backward()
    np.testing.assert_allclose(
        conv2d(x, w, stride=stride, padding=padding), yt.detach().numpy(), rtol=1e-12, atol=1e-13
    )
    dx, dw = conv2d_backward(x, w, g, stride=stride, padding=padding)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize(
    ("x_shape", "w_shape"),
    [((9,), (3,)), ((2, 9), (3, 2, 3)), ((2, 2, 9), (3, 2, 3))],
)
def test_conv1d_shape_forms_and_finite_differences(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], rng: np.random.Generator
) -> None:
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    y = conv1d(x, w, stride=2, padding=1)
    g = rng.normal(size=y.shape)
    dx, dw = conv1d_backward(x, w, g, stride=2, padding=1)
    assert (dx.shape, dw.shape) == (x.shape, w.shape)
    result = gradcheck(
        lambda: float(np.sum(g * conv1d(x, w, stride=2, padding=1))), [x, w], [dx, dw]
    )
    assert result, result.message


@pytest.mark.parametrize(
    ("x_shape", "w_shape"),
    [((5, 6), (2, 3)), ((2, 5, 6), (3, 2, 2, 3)), ((2, 2, 5, 6), (1, 2, 3, 2))],
)
def test_conv2d_shape_forms_and_finite_differences(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], rng: np.random.Generator
) -> None:
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    y = conv2d(x, w, padding=(1, 0))
    g = rng.normal(size=y.shape)
    dx, dw = conv2d_backward(x, w, g, padding=(1, 0))
    assert (dx.shape, dw.shape) == (x.shape, w.shape)
    result = gradcheck(lambda: float(np.sum(g * conv2d(x, w, padding=(1, 0)))), [x, w], [dx, dw])
    assert result, result.message


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: conv1d(np.ones(3), np.ones(4)), r"w: kernel shape \(4,\) is larger"),
        (lambda: conv1d(np.ones((2, 5)), np.ones(2)), "x: a 1-D kernel needs a 1-D input"),
        (lambda: conv1d(np.ones((2, 5)), np.ones((1, 3, 2))), "w: expected 2 input channels"),
        (lambda: conv1d(np.ones(5), np.ones(2), stride=0), "stride: expected an integer >= 1"),
        (lambda: conv1d(np.ones(5), np.ones(2), padding=-1), "padding: expected an integer >= 0"),
        (lambda: conv1d([1.0, np.nan], [1.0]), "x: contains NaN or inf"),
        (
            lambda: conv1d_backward(np.ones(5), np.ones(2), np.ones(3)),
            r"grad_out: expected shape \(4,\)",
        ),
        (lambda: conv2d(np.ones((3, 3)), np.ones(2)), "w: expected a 2 or 4-dimensional array"),
    ],
)
def test_bad_input_names_the_argument(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
