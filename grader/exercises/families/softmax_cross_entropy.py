"""Family 7: softmax with cross-entropy; the output gradient p − y and a weight gradient.

z = W x + b (3 classes, 2 inputs), p = softmax(z), L = −log p_c for the true class c.
Then ∂L/∂z = p − y (y one-hot) and ∂L/∂W = (p − y) xᵀ. Numbers from the engine's
``MLP([2, 3], ["linear"], loss="cross_entropy")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import MLP
from grader.exercises.families._engine import fmt_array
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.base import tolist
from grader.exercises.families.common import fmt
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family
from grader.exercises.recipe import const
from grader.exercises.recipe import op
from grader.exercises.recipe import ref

FB = {
    "sign_flipped": "∂L/∂z = p − y: probabilities minus the one-hot target, not y − p.",
    "forgot_softmax": "Use the probabilities p = softmax(z), not the raw scores z.",
    "forgot_one_hot": "Subtract the one-hot target y: the true class's entry is p_c − 1.",
    "transposed": "∂L/∂W has W's shape (classes × inputs): it is (p − y) xᵀ.",
    "forgot_normalization": "Softmax divides each e^{z_k} by the sum over all classes.",
    "natural_log": "Cross-entropy uses the natural logarithm of the true class's probability, "
    "with a minus sign.",
}


@register_family
class SoftmaxCrossEntropy(Family):
    """p, p − y, ∂L/∂W and the loss for a 3-class softmax layer."""

    name = "softmax_cross_entropy"
    description = "softmax with cross-entropy: the output gradient p - y and a weight gradient"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Probabilities, logit gradient, weight gradient, loss."""
        return {
            "probs": QuantityInfo("vector", ("forgot_normalization",), "p"),
            "dz": QuantityInfo(
                "vector", ("sign_flipped", "forgot_softmax", "forgot_one_hot"), "∂L/∂z"
            ),
            "dW": QuantityInfo("matrix", ("transposed", "sign_flipped", "forgot_softmax"), "∂L/∂W"),
            "loss": QuantityInfo("numeric", ("sign_flipped", "natural_log"), "L"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The drawn arrays and the true class (1-based)."""
        return ("x", "W", "b", "label")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw, run the engine, derive the mistakes."""
        x = grid_array(rng, (2,), -1.0, 1.0)
        W = grid_array(rng, (3, 2), -1.0, 1.0)
        b = grid_array(rng, (3,), -0.5, 0.5, nonzero=False)
        c = int(rng.integers(3))
        y = np.zeros(3)
        y[c] = 1.0
        net = MLP([2, 3], ["linear"], loss="cross_entropy", weights=[W], biases=[b])
        bp = net.backprop(x[None, :], y[None, :])
        z = bp.zs[0][0]
        dz = bp.deltas[0][0]
        dW = bp.grads.weights[0]
        p = dz + y
        loss = float(bp.loss)
        require(bool(np.all((p > 0.03) & (p < 0.97))), "a probability is too close to 0 or 1")
        require(float(np.min(np.abs(dW))) >= 5e-3, "a weight-gradient entry is almost zero")

        def mv(code: str, value: Any) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        quantities = {
            "probs": Quantity(
                "vector", tolist(p), (mv("forgot_normalization", np.exp(z)),), label="p"
            ),
            # Follow-through: each step below is computed from the student's own value above.
            "dz": Quantity(
                "vector",
                tolist(dz),
                (mv("sign_flipped", -dz), mv("forgot_softmax", z - y), mv("forgot_one_hot", p)),
                recipe=op("sub", ref("probs"), const(y)),  # p − y
                label="∂L/∂z",
            ),
            "dW": Quantity(
                "matrix",
                tolist(dW),
                (
                    mv("transposed", dW.T),
                    mv("sign_flipped", -dW),
                    mv("forgot_softmax", np.outer(z - y, x)),
                ),
                recipe=op("outer", ref("dz"), const(x)),  # (p − y) xᵀ
                label="∂L/∂W",
            ),
            "loss": Quantity(
                "numeric",
                loss,
                (mv("sign_flipped", -loss), mv("natural_log", -float(np.log10(p[c])))),
                recipe=op("neg", op("log", op("dot", ref("probs"), const(y)))),  # −log p_c
                label="L",
            ),
        }
        A = fmt_array
        e = np.exp(z)
        solution = "\n".join(
            [
                f"- $z = W x + b = {A(z)}$",
                f"- $e^{{z}} = {A(e)}$, $\\sum_k e^{{z_k}} = {fmt(float(e.sum()))}$",
                f"- $p = \\operatorname{{softmax}}(z) = {A(p)}$",
                f"- $L = -\\log p_{{{c + 1}}} = -\\log {fmt(float(p[c]))} = {fmt(loss)}$",
                f"- $\\frac{{\\partial L}}{{\\partial z}} = p - y = {A(p)} - {A(y)} = {A(dz)}$",
                f"- $\\frac{{\\partial L}}{{\\partial W}} = (p - y)\\,x^T = {A(dW)}$",
            ]
        )
        drawn = {"x": tolist(x), "W": tolist(W), "b": tolist(b), "label": c + 1}
        return FamilyOutput(quantities, {}, solution, drawn=drawn)
