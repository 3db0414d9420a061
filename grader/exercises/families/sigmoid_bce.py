"""A sigmoid output with binary cross-entropy: why dL/dz is simply s − t.

z = w₁x₁ + w₂x₂ + b, s = σ(z), L = −[t log s + (1 − t) log(1 − s)] with t ∈ {0, 1}. The
σ'(z) = s(1 − s) of the chain rule cancels against dL/ds = (s − t)/(s(1 − s)), so
dL/dz = s − t and dL/dw_i = (s − t) x_i. Numbers from the engine's
``MLP([2, 1], ["sigmoid"], loss="binary_cross_entropy")``.
"""

from __future__ import annotations

import math
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
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import ref

FB = {
    "log10": "Cross-entropy uses the natural logarithm.",
    "sign_flipped": "The loss is minus the log-probability of the target (it is positive); its "
    "gradient is s − t, not t − s.",
    "extra_sigmoid_derivative": "With cross-entropy, σ'(z) cancels: dL/dz = s − t, with no "
    "extra factor s(1 − s) (that factor belongs to the squared error).",
    "wrong_class_term": "For t = {t}, only the term −log({which}) is nonzero.",
    "forgot_input": "dL/dw₁ = dL/dz · ∂z/∂w₁ = (s − t) x₁.",
}


@register_family
class SigmoidBCE(Family):
    """s, L, dL/ds, dL/dz and dL/dw₁ for a sigmoid neuron with binary cross-entropy."""

    name = "sigmoid_bce"
    description = "a sigmoid neuron with binary cross-entropy: dL/dz = s - t"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "x1": {"range": [-2, 2], "step": 0.5, "exclude": [0, 1, -1]},
        "x2": {"range": [-2, 2], "step": 0.5, "exclude": [0]},
        "w1": {"range": [-1.5, 1.5], "step": 0.1, "exclude": [0, 1, -1]},
        "w2": {"range": [-1.5, 1.5], "step": 0.1, "exclude": [0]},
        "b": {"range": [-0.5, 0.5], "step": 0.1},
        "t": {"choices": [0, 1]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The output, the loss and three gradients."""
        return {
            "s": QuantityInfo("numeric", (), "s"),
            "loss": QuantityInfo("numeric", ("log10", "sign_flipped", "wrong_class_term"), "L"),
            "dL_ds": QuantityInfo("numeric", ("sign_flipped",), "∂L/∂s"),
            "dL_dz": QuantityInfo("numeric", ("extra_sigmoid_derivative", "sign_flipped"), "∂L/∂z"),
            "dL_dw1": QuantityInfo(
                "numeric", ("extra_sigmoid_derivative", "sign_flipped", "forgot_input"), "∂L/∂w₁"
            ),
        }

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Run the engine; keep s away from 0 and 1 so every term is visible."""
        x1, x2, w1, w2, b, t = as_floats(params, "x1", "x2", "w1", "w2", "b", "t")
        net = MLP([2, 1], ["sigmoid"], loss="binary_cross_entropy", weights=[[[w1, w2]]],
                  biases=[[b]])  # fmt: skip
        bp = net.backprop(np.array([[x1, x2]]), np.array([[t]]))
        z = float(bp.zs[0][0, 0])
        s = float(bp.activations[1][0, 0])
        loss = float(bp.loss)
        dz = float(bp.deltas[0][0, 0])
        dw1 = float(bp.grads.weights[0][0, 0])
        require(0.1 <= s <= 0.9, "the sigmoid is nearly saturated")
        require(abs(s - 0.5) >= 0.05, "s is almost 1/2")
        ds = -t / s + (1 - t) / (1 - s)
        which = "s" if t == 1 else "1 − s"
        other = -math.log(1 - s) if t == 1 else -math.log(s)

        def mv(code: str, value: float) -> MistakeValue:
            return MistakeValue(code, float(value), FB[code].format(t=int(t), which=which))

        quantities = {
            "s": Quantity("numeric", s, label="s"),
            "loss": Quantity(
                "numeric",
                loss,
                (
                    mv("log10", loss / math.log(10)),
                    mv("sign_flipped", -loss),
                    mv("wrong_class_term", other),
                ),
            ),
            "dL_ds": Quantity("numeric", ds, (mv("sign_flipped", -ds),), label="∂L/∂s"),
            # the chain: ∂L/∂z = ∂L/∂s · s(1 − s), ∂L/∂w1 = ∂L/∂z · x1 (follow-through)
            "dL_dz": Quantity(
                "numeric",
                dz,
                (mv("extra_sigmoid_derivative", dz * s * (1 - s)), mv("sign_flipped", -dz)),
                recipe=mul(ref("dL_ds"), const(s * (1 - s))),
                label="∂L/∂z",
            ),
            "dL_dw1": Quantity(
                "numeric",
                dw1,
                (
                    mv("extra_sigmoid_derivative", dw1 * s * (1 - s)),
                    mv("sign_flipped", -dw1),
                    mv("forgot_input", dz),
                ),
                recipe=mul(ref("dL_dz"), const(x1)),
                label="∂L/∂w1",
            ),
        }
        require_separated(quantities)
        term = "\\log s" if t == 1 else "\\log(1 - s)"
        solution = "\n".join(
            [
                f"- $z = w_1 x_1 + w_2 x_2 + b = {fmt(w1)} \\cdot {pfmt(x1)} + {pfmt(w2)} \\cdot "
                f"{pfmt(x2)} + {pfmt(b)} = {fmt(z)}$",
                f"- $s = \\sigma(z) = {fmt(s)}$",
                f"- $t = {int(t)}$, so $L = -{term} = {fmt(loss)}$",
                "- $\\frac{\\partial L}{\\partial s} = -\\frac{t}{s} + "
                "\\frac{1-t}{1-s} = "
                f"{fmt(ds)}$",
                "- $\\frac{\\partial L}{\\partial z} = \\frac{\\partial L}{\\partial "
                "s}\\,s(1-s) "
                f"= s - t = {fmt(dz)}$ (the σ' cancels)",
                f"- $\\frac{{\\partial L}}{{\\partial w_1}} = (s - t)\\,x_1 = {fmt(dz)} \\cdot "
                f"{pfmt(x1)} "
                f"= {fmt(dw1)}$",
            ]
        )
        return FamilyOutput(
            quantities,
            {},
            solution,
            _diagram((x1, x2), (w1, w2), s, t, dz, dw1, False),
            _diagram((x1, x2), (w1, w2), s, t, dz, dw1, True),
        )


def _diagram(
    x: tuple[float, float], w: tuple[float, float], s: float, t: float, dz: float, dw1: float,
    solution: bool,
) -> str:  # fmt: skip
    layers = [
        [Node(f"x{'₁₂'[i]}", x[i], kind="input") for i in range(2)],
        [Node("s", s, kind="output", delta=dz)],
    ]
    grads = (dw1, dz * x[1]) if solution else (None, None)
    edges = [Edge((0, i), (1, 0), f"w{'₁₂'[i]} = {num(w[i], 3)}", grads[i]) for i in range(2)]
    return network_svg(layers, edges, targets=[f"t = {int(t)}"], title="sigmoid neuron",
                       solution=solution)  # fmt: skip
