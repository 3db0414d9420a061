"""Softmax with cross-entropy through a hidden layer: the p − y shortcut and what it skips.

x (2) → h = tanh(W¹x + b¹) (2 hidden) → z = W²h + b² (3 classes) → p = softmax(z),
L = −log p_c. ∂L/∂z = p − y already contains the softmax's Jacobian; below it the usual
chain rule resumes: ∂L/∂h = (W²)ᵀ(p − y), δ¹ = ∂L/∂h ⊙ (1 − h²), ∂L/∂W¹ = δ¹ xᵀ.
Numbers from ``MLP([2, 2, 3], ["tanh", "linear"], loss="cross_entropy")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from grader.exercises.diagram import Edge
from grader.exercises.diagram import Node
from grader.exercises.diagram import network_svg
from grader.exercises.diagram import num
from grader.exercises.families._engine import MLP
from grader.exercises.families._engine import fmt_array
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.base import tolist
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref

FB = {
    "sign_flipped": "∂L/∂z = p − y (probabilities minus the one-hot target).",
    "extra_softmax_derivative": "p − y already includes the softmax's derivative; multiplying "
    "again by p(1 − p) applies it twice.",
    "forgot_one_hot": "Subtract the one-hot target: the true class's entry is p_c − 1.",
    "not_transposed": "Go backwards through W² with its transpose: (W²)ᵀ(p − y).",
    "forgot_activation_derivative": "Multiply elementwise by tanh'(a) = 1 − h² at the hidden "
    "layer; the p − y shortcut stops at the output layer.",
    "transposed": "∂L/∂W¹ has W¹'s shape (hidden × inputs): it is δ¹ xᵀ.",
}


@register_family
class SoftmaxHidden(Family):
    """Output gradient, hidden gradient, hidden delta and first-layer weight gradient."""

    name = "softmax_hidden"
    description = "softmax with cross-entropy back through a tanh hidden layer"
    draws = True

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """p, ∂L/∂z, ∂L/∂h, δ¹, ∂L/∂W¹."""
        return {
            "probs": QuantityInfo("vector", (), "p"),
            "dz": QuantityInfo(
                "vector", ("sign_flipped", "extra_softmax_derivative", "forgot_one_hot"), "∂L/∂z"
            ),
            "dh": QuantityInfo("vector", ("sign_flipped", "extra_softmax_derivative"), "∂L/∂h"),
            "delta1": QuantityInfo(
                "vector",
                ("forgot_activation_derivative", "extra_softmax_derivative", "sign_flipped"),
                "δ¹",
            ),
            "dW1": QuantityInfo(
                "matrix", ("transposed", "forgot_activation_derivative", "sign_flipped"), "∂L/∂W¹"
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The drawn arrays and the true class (1-based)."""
        return ("x", "W1", "b1", "W2", "b2", "label")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw, run the engine, derive the mistakes."""
        x = grid_array(rng, (2,), -0.9, 0.9)
        W1 = grid_array(rng, (2, 2), -1.0, 1.0)
        b1 = grid_array(rng, (2,), -0.5, 0.5, nonzero=False)
        W2 = grid_array(rng, (3, 2), -1.5, 1.5)
        b2 = grid_array(rng, (3,), -0.5, 0.5, nonzero=False)
        c = int(rng.integers(3))
        y = np.zeros(3)
        y[c] = 1.0
        net = MLP([2, 2, 3], ["tanh", "linear"], loss="cross_entropy", weights=[W1, W2],
                  biases=[b1, b2])  # fmt: skip
        bp = net.backprop(x[None, :], y[None, :])
        a1, h = bp.zs[0][0], bp.activations[1][0]
        dz, d1 = bp.deltas[1][0], bp.deltas[0][0]
        dW1 = bp.grads.weights[0]
        p = dz + y
        dh = W2.T @ dz
        require(bool(np.all(np.abs(a1) <= 2.0)), "a tanh unit saturates")
        require(bool(np.all((p > 0.05) & (p < 0.95))), "a probability is too close to 0 or 1")
        require(float(np.min(np.abs(d1))) >= 5e-3, "a hidden delta is almost zero")
        require(float(np.min(np.abs(dW1))) >= 2e-3, "a weight-gradient entry is almost zero")
        require(abs(dW1[0, 1] - dW1[1, 0]) > 0.02, "∂L/∂W¹ is nearly symmetric")
        dz_twice = dz * p * (1 - p)
        tprime = 1 - h**2

        def mv(code: str, value: Any) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        quantities = {
            "probs": Quantity("vector", tolist(p), label="p"),
            # Follow-through: each step below is computed from the student's own value above.
            "dz": Quantity(
                "vector",
                tolist(dz),
                (
                    mv("sign_flipped", -dz),
                    mv("extra_softmax_derivative", dz_twice),
                    mv("forgot_one_hot", p),
                ),
                recipe=op("sub", ref("probs"), const(y)),  # p − y
                label="∂L/∂z",
            ),
            "dh": Quantity(
                "vector",
                tolist(dh),
                (mv("sign_flipped", -dh), mv("extra_softmax_derivative", W2.T @ dz_twice)),
                recipe=op("matmul", const(W2.T), ref("dz")),  # (W²)ᵀ (p − y)
                label="∂L/∂h",
            ),
            "delta1": Quantity(
                "vector",
                tolist(d1),
                (
                    mv("forgot_activation_derivative", dh),
                    mv("extra_softmax_derivative", (W2.T @ dz_twice) * tprime),
                    mv("sign_flipped", -d1),
                ),
                recipe=mul(ref("dh"), const(tprime)),  # ∂L/∂h ⊙ (1 − h²)
                label="δ¹",
            ),
            "dW1": Quantity(
                "matrix",
                tolist(dW1),
                (
                    mv("transposed", dW1.T),
                    mv("forgot_activation_derivative", np.outer(dh, x)),
                    mv("sign_flipped", -dW1),
                ),
                recipe=op("outer", ref("delta1"), const(x)),  # δ¹ xᵀ
                label="∂L/∂W¹",
            ),
        }
        require_separated(quantities)
        A = fmt_array
        solution = "\n".join(
            [
                f"- $a = W^1 x + b^1 = {A(a1)}$, $h = \\tanh(a) = {A(h)}$",
                f"- $z = W^2 h + b^2 = {A(bp.zs[1][0])}$, $p = \\operatorname{{softmax}}(z) = "
                f"{A(p)}$",
                f"- $\\frac{{\\partial L}}{{\\partial z}} = p - y = {A(dz)}$ (the softmax Jacobian "
                "is already inside this)",
                f"- $\\frac{{\\partial L}}{{\\partial h}} = (W^2)^T (p - y) = {A(dh)}$",
                f"- $\\delta^1 = \\frac{{\\partial L}}{{\\partial h}} \\odot (1 - h^2) = {A(dh)} "
                "\\odot "
                f"{A(tprime)} = {A(d1)}$",
                f"- $\\frac{{\\partial L}}{{\\partial W^1}} = \\delta^1 x^T = {A(dW1)}$",
            ]
        )
        drawn = {
            "x": tolist(x), "W1": tolist(W1), "b1": tolist(b1), "W2": tolist(W2),
            "b2": tolist(b2), "label": c + 1,
        }  # fmt: skip
        return FamilyOutput(
            quantities,
            {},
            solution,
            _diagram(x, W1, W2, h, p, d1, dz, False),
            _diagram(x, W1, W2, h, p, d1, dz, True),
            drawn=drawn,
        )


def _diagram(
    x: np.ndarray, W1: np.ndarray, W2: np.ndarray, h: np.ndarray, p: np.ndarray,
    d1: np.ndarray, dz: np.ndarray, solution: bool,
) -> str:  # fmt: skip
    layers = [
        [Node(f"x{'₁₂'[i]}", float(x[i]), kind="input") for i in range(2)],
        [Node(f"h{'₁₂'[j]}", float(h[j]), delta=float(d1[j])) for j in range(2)],
        [Node(f"p{'₁₂₃'[k]}", float(p[k]), kind="output", delta=float(dz[k])) for k in range(3)],
    ]
    edges = [Edge((0, i), (1, j), num(float(W1[j, i]), 3)) for j in range(2) for i in range(2)]
    edges += [Edge((1, j), (2, k), num(float(W2[k, j]), 3)) for k in range(3) for j in range(2)]
    return network_svg(layers, edges, title="2-2-3 network, softmax output", solution=solution)
