"""A full training step of a 2-2-1 network over a mini-batch, in matrix form.

Rows of X are the B examples (B = 2..4). Z¹ = X W¹ᵀ + b¹, A¹ = σ(Z¹), Y = A¹ W²ᵀ + b²,
L = (1/B) Σ_b (y_b − t_b)² (the engine's ``mse``). Backward: Δ² = ∂L/∂Z² = 2(Y − T)/B,
Δ¹ = (Δ² W²) ⊙ σ'(Z¹), ∂L/∂W¹ = (Δ¹)ᵀ X, ∂L/∂b¹ = Σ_b Δ¹_b, then W¹ ← W¹ − η ∂L/∂W¹.
Numbers from ``MLP([2, 2, 1], ["sigmoid", "linear"], loss="mse")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

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
from grader.exercises.families.base import as_float
from grader.exercises.families.base import require
from grader.exercises.families.base import tolist
from grader.exercises.families.common import fmt
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref

FB = {
    "sum_not_mean": "The loss is the mean over the batch: divide the summed terms by B.",
    "forgot_two": "The derivative of (y − t)² is 2(y − t).",
    "sign_flipped": "The gradient of the loss is prediction minus target, not target minus "
    "prediction.",
    "forgot_activation_derivative": "Multiply elementwise by σ'(Z¹) = A¹ ⊙ (1 − A¹) on the way "
    "through the hidden layer.",
    "used_sigmoid_not_derivative": "σ'(Z¹) = A¹ ⊙ (1 − A¹), not A¹ = σ(Z¹) itself.",
    "transposed": "∂L/∂W¹ has W¹'s shape (hidden × inputs): it is (Δ¹)ᵀ X, not Xᵀ Δ¹.",
    "stale_weights": "Back-propagate with the weights of the forward pass: W² is updated only "
    "after every gradient is computed.",
    "used_preactivation": "The weight gradient multiplies by the layer's input A¹ = σ(Z¹), not "
    "by Z¹.",
    "bias_not_summed": "Each example contributes to ∂L/∂b¹: sum Δ¹ over the batch (all rows).",
    "bias_averaged": "Δ¹ already carries the 1/B of the mean loss: sum its rows, do not average "
    "them again.",
    "forgot_eta": "Scale the gradient by the learning rate η.",
    "unchanged": "Apply the update W¹ − η ∂L/∂W¹.",
}


def _sig_prime(a: np.ndarray) -> np.ndarray:
    return a * (1.0 - a)


@register_family
class MLPTrainingStep(Family):
    """Forward, mean loss, deltas, gradients and the update of a 2-2-1 net on a mini-batch."""

    name = "mlp_training_step"
    description = "a full mini-batch training step of a 2-2-1 network in matrix form"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "B": {"choices": [2, 3, 4]},
        "eta": {"choices": [0.1, 0.2, 0.3, 0.5]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Loss, both deltas, weight and bias gradients, the updated W¹."""
        return {
            "loss": QuantityInfo("numeric", ("sum_not_mean",), "L"),
            "delta2": QuantityInfo(
                "vector",
                ("sum_not_mean", "forgot_two", "sign_flipped"),
                "Δ² (one entry per example)",
            ),
            "delta1": QuantityInfo(
                "matrix",
                (
                    "forgot_activation_derivative",
                    "used_sigmoid_not_derivative",
                    "sum_not_mean",
                    "stale_weights",
                ),
                "Δ¹ (B×2)",
            ),
            "grad_W2": QuantityInfo("matrix", ("sum_not_mean", "used_preactivation"), "∂L/∂W²"),
            "grad_W1": QuantityInfo(
                "matrix",
                ("transposed", "forgot_activation_derivative", "sum_not_mean", "stale_weights"),
                "∂L/∂W¹",
            ),
            "grad_b1": QuantityInfo("vector", ("bias_not_summed", "bias_averaged"), "∂L/∂b¹"),
            "W1_new": QuantityInfo(
                "matrix",
                ("sign_flipped", "forgot_eta", "unchanged", "sum_not_mean"),
                "W¹ after the step",
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The drawn arrays."""
        return ("X", "T", "W1", "b1", "W2", "b2")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw a batch and a net, run the engine, derive every mistake."""
        B, eta = int(params["B"]), as_float(params["eta"])
        X = grid_array(rng, (B, 2), -0.9, 0.9)
        T = grid_array(rng, (B, 1), -1.0, 1.0)
        W1 = grid_array(rng, (2, 2), -1.0, 1.0)
        b1 = grid_array(rng, (2,), -0.5, 0.5, nonzero=False)
        W2 = grid_array(rng, (1, 2), -1.5, 1.5)
        b2 = grid_array(rng, (1,), -0.5, 0.5, nonzero=False)
        net = MLP([2, 2, 1], ["sigmoid", "linear"], loss="mse", weights=[W1, W2], biases=[b1, b2])
        bp = net.backprop(X, T)
        Z1, A1, Y = bp.zs[0], bp.activations[1], bp.activations[2]
        D2, D1 = bp.deltas[1], bp.deltas[0]
        gW1, gW2, gb1 = bp.grads.weights[0], bp.grads.weights[1], bp.grads.biases[0]
        require(bool(np.all(np.abs(Z1) <= 2.5)), "a hidden sigmoid saturates")
        require(float(np.min(np.abs(D2))) >= 0.02, "an example is fitted almost exactly")
        require(float(np.min(np.abs(gW1))) >= 2e-3, "a gradient entry is almost zero")
        require(float(np.min(np.abs(gb1))) >= 2e-3, "a bias gradient is almost zero")
        require(bool(abs(gW1[0, 1] - gW1[1, 0]) > 0.02), "∂L/∂W¹ is nearly symmetric")
        loss = float(bp.loss)
        W2_new = W2 - eta * gW2
        D1_stale = (D2 @ W2_new) * _sig_prime(A1)
        W1_new = W1 - eta * gW1

        def mv(code: str, value: Any) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        quantities = {
            "loss": Quantity("numeric", loss, (mv("sum_not_mean", B * loss),), label="L"),
            "delta2": Quantity(
                "vector",
                tolist(D2[:, 0]),
                (
                    mv("sum_not_mean", B * D2[:, 0]),
                    mv("forgot_two", D2[:, 0] / 2),
                    mv("sign_flipped", -D2[:, 0]),
                ),
                label="Δ²",
            ),
            "delta1": Quantity(
                "matrix",
                tolist(D1),
                (
                    mv("forgot_activation_derivative", D2 @ W2),
                    mv("used_sigmoid_not_derivative", (D2 @ W2) * A1),
                    mv("sum_not_mean", B * D1),
                    mv("stale_weights", D1_stale),
                ),
                # Δ¹ = (Δ² W²) ⊙ σ'(Z¹): follows from Δ²
                recipe=mul(op("outer", ref("delta2"), const(W2[0])), const(_sig_prime(A1))),
                label="Δ¹",
            ),
            "grad_W2": Quantity(
                "matrix",
                tolist(gW2),
                (mv("sum_not_mean", B * gW2), mv("used_preactivation", D2.T @ Z1)),
                recipe=op("as_row", op("matmul", ref("delta2"), const(A1))),  # (Δ²)ᵀ A¹
                label="∂L/∂W²",
            ),
            "grad_W1": Quantity(
                "matrix",
                tolist(gW1),
                (
                    mv("transposed", gW1.T),
                    mv("forgot_activation_derivative", (D2 @ W2).T @ X),
                    mv("sum_not_mean", B * gW1),
                    mv("stale_weights", D1_stale.T @ X),
                ),
                recipe=op("matmul", op("transpose", ref("delta1")), const(X)),  # (Δ¹)ᵀ X
                label="∂L/∂W¹",
            ),
            "grad_b1": Quantity(
                "vector",
                tolist(gb1),
                (mv("bias_not_summed", D1[0]), mv("bias_averaged", gb1 / B)),
                recipe=op("sum_rows", ref("delta1")),
                label="∂L/∂b¹",
            ),
            "W1_new": Quantity(
                "matrix",
                tolist(W1_new),
                (
                    mv("sign_flipped", W1 + eta * gW1),
                    mv("forgot_eta", W1 - gW1),
                    mv("unchanged", W1),
                    mv("sum_not_mean", W1 - eta * B * gW1),
                ),
                {"reference": tolist(W1)},  # an update: judged by its change (issue 12)
                recipe=add(const(W1), mul(const(-eta), ref("grad_W1"))),
                label="the new W¹",
            ),
        }
        require_separated(quantities)
        A = fmt_array
        solution = "\n".join(
            [
                "**Forward pass** (one row per example)",
                "",
                f"- $Z^1 = X (W^1)^T + b^1 = {A(Z1)}$",
                f"- $A^1 = \\sigma(Z^1) = {A(A1)}$",
                f"- $Y = A^1 (W^2)^T + b^2 = {A(Y[:, 0])}$ (one output per example)",
                f"- $L = \\frac{{1}}{{{B}}} \\sum_b (y_b - t_b)^2 = {fmt(loss)}$",
                "",
                "**Backward pass**",
                "",
                f"- $\\Delta^2 = \\frac{{2}}{{{B}}}(Y - T) = {A(D2[:, 0])}$",
                f"- $\\sigma'(Z^1) = A^1 \\odot (1 - A^1) = {A(_sig_prime(A1))}$",
                f"- $\\Delta^1 = (\\Delta^2 W^2) \\odot \\sigma'(Z^1) = {A(D1)}$",
                f"- $\\frac{{\\partial L}}{{\\partial W^2}} = (\\Delta^2)^T A^1 = {A(gW2)}$",
                f"- $\\frac{{\\partial L}}{{\\partial W^1}} = (\\Delta^1)^T X = {A(gW1)}$",
                f"- $\\frac{{\\partial L}}{{\\partial b^1}} = \\sum_b \\Delta^1_b = {A(gb1)}$",
                "",
                "**Update** (after every gradient is computed)",
                "",
                f"- $W^1 - \\eta \\frac{{\\partial L}}{{\\partial W^1}} = {A(W1)} - {fmt(eta)} "
                "\\cdot "
                f"{A(gW1)} = {A(W1_new)}$",
            ]
        )
        drawn = {
            "X": tolist(X), "T": tolist(T[:, 0]), "W1": tolist(W1), "b1": tolist(b1),
            "W2": tolist(W2), "b2": tolist(b2),
        }  # fmt: skip
        return FamilyOutput(
            quantities,
            {},
            solution,
            _diagram(W1, W2, gW1, gW2, False),
            _diagram(W1, W2, gW1, gW2, True),
            drawn=drawn,
        )


def _diagram(
    W1: np.ndarray, W2: np.ndarray, gW1: np.ndarray, gW2: np.ndarray, solution: bool
) -> str:
    """The 2-2-1 net with its weights; the solution adds each weight's batch gradient."""
    layers = [
        [Node(f"x{'₁₂'[i]}", kind="input") for i in range(2)],
        [Node(f"h{'₁₂'[j]}") for j in range(2)],
        [Node("y", kind="output")],
    ]
    edges = [
        Edge((0, i), (1, j), num(float(W1[j, i]), 3), float(gW1[j, i]) if solution else None)
        for j in range(2)
        for i in range(2)
    ]
    edges += [
        Edge((1, j), (2, 0), num(float(W2[0, j]), 3), float(gW2[0, j]) if solution else None)
        for j in range(2)
    ]
    return network_svg(
        layers, edges, title="2-2-1 network (σ hidden, linear output)", solution=solution
    )
