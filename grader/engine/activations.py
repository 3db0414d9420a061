"""Activation functions by name, each with its forward rule and local derivative side by side.

Names: `linear`, `sigmoid`, `tanh`, `relu`, `softplus`, `leaky_relu` (slope 0.01 for z <= 0) and
`softmax` (over the last axis). Everything is float64 and overflow-safe: `sigmoid` and
`softplus` never evaluate `exp` of a large positive number, so |z| up to 1e308 gives exact
saturated values, no warnings and no NaN; `softmax` and `log_softmax` shift by the row
maximum, which is exact as long as a row's spread (max - min) is a finite float.

Conventions at kinks follow PyTorch: relu'(0) = 0 and leaky_relu'(0) = 0.01.

Each `Activation` also carries the LaTeX a trace needs: the function's name (`\\sigma`), its
definition, and its derivative rule as a template over the strings for z and a = f(z), so the
same rule renders in symbols ("a(1 - a)") and with numbers ("0.6(1 - 0.6)").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.engine._validate import FloatArray

# exp(709.78) is the largest finite double; below -_EXP_MAX we take the slow, exact branch.
_EXP_MAX = 709.0
LEAKY_SLOPE = 0.01


def linear(z: FloatArray) -> FloatArray:
    """Identity: a = z."""
    return z


def sigmoid(z: FloatArray) -> FloatArray:
    """Logistic function 1 / (1 + e^{-z}), accurate to full relative precision for all z."""
    if z.size and _smallest(z) < -_EXP_MAX:
        # e^{-|z|} never overflows; for z < 0 use e^{z} / (1 + e^{z}).
        e = np.exp(-np.abs(z))
        r = 1.0 / (1.0 + e)
        return np.where(z >= 0.0, r, e * r)
    return 1.0 / (1.0 + np.exp(-z))


def _smallest(z: FloatArray) -> float:
    # min() over a short list is several times cheaper than a NumPy reduction call.
    return min(z.ravel().tolist()) if z.size <= 32 else float(np.minimum.reduce(z, axis=None))


def tanh(z: FloatArray) -> FloatArray:
    """Hyperbolic tangent."""
    return np.tanh(z)


def relu(z: FloatArray) -> FloatArray:
    """max(0, z)."""
    return np.maximum(z, 0.0)


def leaky_relu(z: FloatArray) -> FloatArray:
    """z for z > 0, 0.01 z otherwise."""
    return np.where(z > 0.0, z, LEAKY_SLOPE * z)


def softplus(z: FloatArray) -> FloatArray:
    """log(1 + e^z), computed as max(z, 0) + log1p(e^{-|z|}) so it never overflows."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def log_sigmoid(z: FloatArray) -> FloatArray:
    """log(sigmoid(z)) = -softplus(-z), finite for all finite z."""
    return -softplus(-z)


def softmax(z: FloatArray) -> FloatArray:
    """Softmax over the last axis, shifted by the row maximum so exp never overflows."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z: FloatArray) -> FloatArray:
    """log(softmax(z)) over the last axis, without forming softmax (no log of 0)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# Vector-Jacobian products: given z, a = f(z) and dL/da, return dL/dz.
def _linear_backward(z: FloatArray, a: FloatArray, da: FloatArray) -> FloatArray:
    return da


def _sigmoid_backward(z: FloatArray, a: FloatArray, da: FloatArray) -> FloatArray:
    return da * a * (1.0 - a)


def _tanh_backward(z: FloatArray, a: FloatArray, da: FloatArray) -> FloatArray:
    return da * (1.0 - a * a)


def _relu_backward(z: FloatArray, a: FloatArray, da: FloatArray) -> FloatArray:
    return da * (z > 0.0)


def _leaky_backward(z: FloatArray, a: FloatArray, da: FloatArray) -> FloatArray:
    return da * np.where(z > 0.0, 1.0, LEAKY_SLOPE)


def _softplus_backward(z: FloatArray, a: FloatArray, da: FloatArray) -> FloatArray:
    return da * sigmoid(z)


def _softmax_backward(z: FloatArray, a: FloatArray, da: FloatArray) -> FloatArray:
    # J = diag(a) - a a^T, so J^T da = a * (da - <da, a>).
    return a * (da - (da * a).sum(axis=-1, keepdims=True))


# Elementwise derivatives f'(z), given z and a = f(z) (whichever is cheaper).
def _ones(z: FloatArray, a: FloatArray) -> FloatArray:
    return np.ones_like(z)


def _sigmoid_prime(z: FloatArray, a: FloatArray) -> FloatArray:
    return a * (1.0 - a)


def _tanh_prime(z: FloatArray, a: FloatArray) -> FloatArray:
    return 1.0 - a * a


def _relu_prime(z: FloatArray, a: FloatArray) -> FloatArray:
    return (z > 0.0).astype(np.float64)


def _leaky_prime(z: FloatArray, a: FloatArray) -> FloatArray:
    return np.where(z > 0.0, 1.0, LEAKY_SLOPE)


def _softplus_prime(z: FloatArray, a: FloatArray) -> FloatArray:
    return sigmoid(z)


@dataclass(frozen=True, eq=False)
class Activation:
    """One activation function: numbers and LaTeX.

    Attributes:
        name: the registry name ("sigmoid").
        forward: a = f(z), elementwise or (softmax) over the last axis.
        backward: (z, a, dL/da) -> dL/dz, the vector-Jacobian product.
        derivative: (z, a) -> f'(z) for elementwise functions; None for softmax.
        latex: the function's LaTeX name, e.g. r"\\sigma" (call it as latex + "(z)").
        definition: LaTeX of f(z) = ... in the symbol z.
        derivative_formula: LaTeX of the textbook rule,
            e.g. r"\\sigma'(z) = \\sigma(z)(1-\\sigma(z))".
        rule: (z, a) -> LaTeX of f'(z) written with the given strings for z and a = f(z);
            None for softmax. Pass symbols, or numbers: z bare (it only appears inside a
            function call or a comparison) and a parenthesised when negative (it is multiplied
            and squared).
    """

    name: str
    forward: Callable[[FloatArray], FloatArray]
    backward: Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
    derivative: Callable[[FloatArray, FloatArray], FloatArray] | None
    latex: str
    definition: str
    derivative_formula: str
    rule: Callable[[str, str], str] | None

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # Pickle by name: the rules are lambdas, and the registry is the single source.
        return get_activation, (self.name,)

    @property
    def elementwise(self) -> bool:
        """True for every activation except softmax."""
        return self.derivative is not None

    def call_latex(self, z: str) -> str:
        """LaTeX of f applied to `z`, e.g. r"\\sigma\\left(z\\right)"."""
        if self.name == "linear":
            return z
        return f"{self.latex}\\left({z}\\right)"


_RELU = r"\operatorname{ReLU}"
_LRELU = r"\operatorname{LReLU}"
_SOFTPLUS = r"\operatorname{softplus}"

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "linear",
            linear,
            _linear_backward,
            _ones,
            "",
            "f(z) = z",
            "f'(z) = 1",
            lambda z, a: "1",
        ),
        Activation(
            "sigmoid",
            sigmoid,
            _sigmoid_backward,
            _sigmoid_prime,
            r"\sigma",
            r"\sigma(z) = \frac{1}{1 + e^{-z}}",
            r"\sigma'(z) = \sigma(z)\left(1 - \sigma(z)\right)",
            lambda z, a: f"{a}\\left(1 - {a}\\right)",
        ),
        Activation(
            "tanh",
            tanh,
            _tanh_backward,
            _tanh_prime,
            r"\tanh",
            r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
            r"\tanh'(z) = 1 - \tanh^{2}(z)",
            lambda z, a: "1 - {" + a + "}^{2}",
        ),
        Activation(
            "relu",
            relu,
            _relu_backward,
            _relu_prime,
            _RELU,
            _RELU + r"(z) = \max(0, z)",
            _RELU + r"'(z) = \mathbb{1}[z > 0]",
            lambda z, a: f"\\mathbb{{1}}[{z} > 0]",
        ),
        Activation(
            "softplus",
            softplus,
            _softplus_backward,
            _softplus_prime,
            _SOFTPLUS,
            _SOFTPLUS + r"(z) = \log\left(1 + e^{z}\right)",
            _SOFTPLUS + r"'(z) = \sigma(z) = \frac{1}{1 + e^{-z}}",
            lambda z, a: f"\\sigma\\left({z}\\right)",
        ),
        Activation(
            "leaky_relu",
            leaky_relu,
            _leaky_backward,
            _leaky_prime,
            _LRELU,
            _LRELU + r"(z) = \max(0.01 z, z)",
            _LRELU + r"'(z) = \mathbb{1}[z > 0] + 0.01 \cdot \mathbb{1}[z \le 0]",
            lambda z, a: f"\\mathbb{{1}}[{z} > 0] + 0.01 \\cdot \\mathbb{{1}}[{z} \\le 0]",
        ),
        Activation(
            "softmax",
            softmax,
            _softmax_backward,
            None,
            r"\operatorname{softmax}",
            r"\operatorname{softmax}(z)_j = \frac{e^{z_j}}{\sum_k e^{z_k}}",
            r"\frac{\partial a_j}{\partial z_k} = a_j\left(\delta_{jk} - a_k\right)",
            None,
        ),
    )
}


def get_activation(name: str, argument: str = "activation") -> Activation:
    """Look up an activation by name.

    Raises:
        ValueError: naming `argument` and listing the known names.
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        known = ", ".join(ACTIVATIONS)
        raise ValueError(
            f"{argument}: unknown activation {name!r}; expected one of {known}"
        ) from None
