"""Family 1: a two-input linear neuron and one delta-rule update.

y = w1 x1 + w2 x2, L = ½ (t − y)², w_i' = w_i + η (t − y) x_i. The classic seed example
(x = 1.0, 0.8; w = 0.5, −0.2; t = 0.6; η = 0.1) gives y = 0.34 and w' = 0.526, −0.1792.
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
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.common import pfmt
from grader.exercises.families.common import renamed
from grader.exercises.families.registry import register_family
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref
from grader.exercises.solutions import trace_mlp

_W_MISTAKES = (
    "sign_flipped",
    "forgot_input",
    "forgot_learning_rate",
    "extra_factor_two",
    "forgot_old_weight",
)


@register_family
class DeltaRule(Family):
    """One delta-rule step on a two-input linear neuron."""

    name = "delta_rule"
    description = "two-input linear neuron, one delta-rule update"
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        # Not 0 (no update) nor ±1 (forgetting the input changes nothing).
        "x1": {"range": [-1.0, 2.0], "step": 0.1, "exclude": [0.0, -1.0, 1.0]},
        "x2": {"range": [-1.0, 2.0], "step": 0.1, "exclude": [0.0, -1.0, 1.0]},
        "w1": {"range": [-1.0, 1.0], "step": 0.1},
        "w2": {"range": [-1.0, 1.0], "step": 0.1},
        "t": {"range": [-1.0, 1.0], "step": 0.1},
        # Not 0.5 (an extra factor 2 would equal a forgotten eta) nor 1 (eta is invisible).
        "eta": {"choices": [0.05, 0.1, 0.2, 0.3]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """y, the error t − y, and the updated weights (each, or as a vector)."""
        return {
            "y": QuantityInfo("numeric", ("forgot_term",), "the output w1 x1 + w2 x2"),
            "error": QuantityInfo("numeric", ("sign_flipped",), "t − y"),
            "w1_new": QuantityInfo("numeric", _W_MISTAKES, "w1 after one update"),
            "w2_new": QuantityInfo("numeric", _W_MISTAKES, "w2 after one update"),
            "w_new": QuantityInfo("vector", _W_MISTAKES, "[w1', w2']"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The output, error and gradients can appear in prompts and constraints."""
        return ("y", "error", "g1", "g2")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Forward pass, gradient and update through the engine, with the usual mistakes."""
        x1, x2, w1, w2, t, eta = as_floats(params, "x1", "x2", "w1", "w2", "t", "eta")
        net = MLP([2, 1], ["linear"], loss="half_sse", weights=[[[w1, w2]]], bias=False)
        x, w = np.array([x1, x2]), np.array([w1, w2])
        _, grads = net.loss_and_gradients(x, [t])
        g = grads.weights[0][0]
        y = float(net.forward(x[None, :])[0, 0])
        err = t - y
        require(abs(err) >= 0.05, "the output is already (almost) at the target")
        new = w - eta * g
        mistakes = {
            "sign_flipped": (
                w + eta * g,
                "You moved the weight up the gradient: the update "
                "subtracts η·∂L/∂w, which adds η(t − y)x.",
            ),
            "forgot_input": (
                w + eta * err,
                "Each weight's change is scaled by its own input x_i: Δw_i = η (t − y) x_i.",
            ),
            "forgot_learning_rate": (w - g, "The step is scaled by the learning rate η."),
            "extra_factor_two": (
                w - 2 * eta * g,
                "With L = ½(t − y)² the ½ cancels the 2 from the square: there is no factor 2.",
            ),
            "forgot_old_weight": (
                -eta * g,
                "That is the change Δw; the new weight is the old weight plus Δw.",
            ),
        }

        def weight_q(i: int | None) -> Quantity:
            pick = (lambda v: float(v[i])) if i is not None else (lambda v: [float(a) for a in v])
            return Quantity(
                "numeric" if i is not None else "vector",
                pick(new),
                tuple(MistakeValue(c, pick(v), fb) for c, (v, fb) in mistakes.items()),
                {"reference": pick(w)},  # an update: judged by its change
                # w' = w + eta x (t - y): follows from the error
                recipe=add(const(pick(w)), mul(const(pick(eta * x)), ref("error"))),
                label=f"the new w{i + 1}" if i is not None else "the new weights",
            )

        quantities = {
            "y": Quantity(
                "numeric",
                y,
                (MistakeValue("forgot_term", w1 * x1, "y sums both inputs: w1 x1 + w2 x2."),),
                label="y",
            ),
            "error": Quantity(
                "numeric",
                err,
                (MistakeValue("sign_flipped", -err, "The error is t − y."),),
                recipe=add(const(t), op("neg", ref("y"))),
                label="t − y",
            ),
            "w1_new": weight_q(0),
            "w2_new": weight_q(1),
            "w_new": weight_q(None),
        }
        trace = trace_mlp(net, x, [t])
        # The prompt's names: w_1, w_2, t and y (= z, the neuron is linear).
        names = {  # the delta first: "\\delta^{(1)}_{1}" contains "a^{(1)}_{1}"
            "\\delta^{(1)}_{1}": "\\delta",
            "w^{(1)}_{11}": "w_{1}",
            "w^{(1)}_{12}": "w_{2}",
            "t_{1}": "t",
            "a^{(1)}_{1}": "y",
            "z^{(1)}_{1}": "z",
        }
        forward = renamed(trace.to_markdown("Forward and backward pass"), names)
        lines = [forward, "**Delta-rule update**", ""]
        for i in range(2):
            lines.append(
                f"- $w_{i + 1}' = w_{i + 1} + \\eta\\,(t - y)\\,x_{i + 1} = {fmt(w[i])} + "
                f"{fmt(eta)} \\cdot {pfmt(err)} \\cdot {pfmt(x[i])} = {fmt(new[i])}$"
            )
        layers = [
            [Node("x₁", x1, kind="input"), Node("x₂", x2, kind="input")],
            [Node("y", y, kind="output")],
        ]
        edges = [
            Edge((0, 0), (1, 0), f"w₁ = {num(w1)}", float(g[0])),
            Edge((0, 1), (1, 0), f"w₂ = {num(w2)}", float(g[1])),
        ]
        targets = [f"t = {num(t)}"]
        return FamilyOutput(
            quantities,
            {"y": y, "error": err, "g1": float(g[0]), "g2": float(g[1])},
            "\n".join(lines),
            network_svg(layers, edges, targets=targets, title="linear neuron"),
            network_svg(layers, edges, targets=targets, title="linear neuron", solution=True),
        )
