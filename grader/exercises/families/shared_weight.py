"""Family 12: parameter sharing; a weight used twice gets the sum of both paths' gradients.

z_i = w x_i, h_i = f(z_i) for i = 1, 2 (one weight w shared by both), y = v1 h1 + v2 h2,
L = ½ (y − t)². Then ∂L/∂w = (y − t)(v1 f'(z1) x1 + v2 f'(z2) x2). The engine computes a
2-2-1 network whose first layer is diag(w, w); the shared gradient is the sum of the two
diagonal entries of its weight gradient.
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
from grader.exercises.families.registry import register_family
from grader.exercises.recipe import add
from grader.exercises.recipe import ref

FEEDBACK = {
    "only_first_use": "w is used on both edges: add the gradient through the second use too.",
    "only_second_use": "w is used on both edges: add the gradient through the first use too.",
    "averaged_uses": "Gradients of a shared weight add up; they are not averaged.",
    "sign_flipped": "dL/dy = y − t: output minus target.",
}
CODES = ("only_first_use", "only_second_use", "averaged_uses", "sign_flipped")


@register_family
class SharedWeight(Family):
    """The gradient of a weight used on two edges."""

    name = "shared_weight"
    description = "parameter sharing: a weight used twice, gradients add"
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "activations": {
                "type": "array",
                "items": {"type": "string", "enum": ["sigmoid", "tanh", "linear"]},
                "minItems": 1,
            }
        },
    }
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "x1": {"range": [-2.0, 2.0], "step": 0.5, "exclude": [0.0]},
        "x2": {"range": [-2.0, 2.0], "step": 0.5, "exclude": [0.0]},
        "w": {"range": [-1.0, 1.0], "step": 0.1, "exclude": [0.0]},
        "v1": {"range": [-1.5, 1.5], "step": 0.5, "exclude": [0.0]},
        "v2": {"range": [-1.5, 1.5], "step": 0.5, "exclude": [0.0]},
        "t": {"range": [-1.0, 1.0], "step": 0.5},
    }

    def parameter_defaults(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The numbers and the hidden activation."""
        return {**self.parameters, "f": {"choices": list(options.get("activations", ["tanh"]))}}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The shared gradient, and the two per-use contributions."""
        return {
            "dw": QuantityInfo("numeric", CODES, "∂L/∂w (shared)"),
            "path1": QuantityInfo(
                "numeric", ("sign_flipped",), "the contribution of the first use"
            ),
            "path2": QuantityInfo(
                "numeric", ("sign_flipped",), "the contribution of the second use"
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The activation's LaTeX name."""
        return ("f_tex",)

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Engine gradient of the tied network; the two paths from its diagonal."""
        x1, x2, w, v1, v2, t = as_floats(params, "x1", "x2", "w", "v1", "v2", "t")
        f = str(params["f"])
        net = MLP(
            [2, 2, 1],
            [f, "linear"],
            loss="half_sse",
            weights=[[[w, 0.0], [0.0, w]], [[v1, v2]]],
            bias=False,
        )
        bp = net.backprop([x1, x2], [t])
        G = bp.grads.weights[0]
        p1, p2 = float(G[0, 0]), float(G[1, 1])
        dw = p1 + p2
        z = bp.zs[0][0]
        h = bp.activations[1][0]
        y = float(bp.activations[2][0, 0])
        if f in ("sigmoid", "tanh"):
            require(bool(np.all(np.abs(z) <= 3)), "a hidden unit saturates")
        require(min(abs(p1), abs(p2), abs(dw)) >= 0.01, "a path's gradient is almost zero")
        require(abs(p1 - p2) >= 0.01, "the two uses contribute the same")
        quantities = {
            "dw": Quantity(
                "numeric",
                dw,
                tuple(
                    MistakeValue(c, v, FEEDBACK[c])
                    for c, v in (
                        ("only_first_use", p1),
                        ("only_second_use", p2),
                        ("averaged_uses", dw / 2),
                        ("sign_flipped", -dw),
                    )
                ),
                # the uses add up: follows from the student's own per-use contributions
                recipe=add(ref("path1"), ref("path2")),
                label="∂L/∂w",
            ),
            "path1": Quantity(
                "numeric",
                p1,
                (MistakeValue("sign_flipped", -p1, FEEDBACK["sign_flipped"]),),
                label="the first use's contribution",
            ),
            "path2": Quantity(
                "numeric",
                p2,
                (MistakeValue("sign_flipped", -p2, FEEDBACK["sign_flipped"]),),
                label="the second use's contribution",
            ),
        }
        fprime = bp.deltas[0][0] / (bp.deltas[1][0, 0] * np.array([v1, v2]))
        solution = "\n".join(
            [
                f"- Forward: $z_1 = {fmt(float(z[0]))}$, $z_2 = {fmt(float(z[1]))}$, "
                f"$h_1 = {fmt(float(h[0]))}$, $h_2 = {fmt(float(h[1]))}$, $y = {fmt(y)}$, "
                f"$\\frac{{\\partial L}}{{\\partial y}} = y - t = {fmt(y - t)}$.",
                _path_line("First", 1, y - t, v1, float(fprime[0]), x1, p1),
                _path_line("Second", 2, y - t, v2, float(fprime[1]), x2, p2),
                "- The weight is shared, so the gradients add: "
                f"$\\frac{{\\partial L}}{{\\partial w}} = {fmt(p1)} + {pfmt(p2)} = {fmt(dw)}$",
            ]
        )
        layers = [
            [Node("x₁", x1, kind="input"), Node("x₂", x2, kind="input")],
            [Node("h₁", float(h[0])), Node("h₂", float(h[1]))],
            [Node("y", y, kind="output")],
        ]
        edges = [
            Edge((0, 0), (1, 0), f"w = {num(w)}", p1),
            Edge((0, 1), (1, 1), f"w = {num(w)}", p2),
            Edge((1, 0), (2, 0), f"v₁ = {num(v1)}"),
            Edge((1, 1), (2, 0), f"v₂ = {num(v2)}"),
        ]
        tex = {"sigmoid": r"\sigma", "tanh": r"\tanh", "linear": r"\operatorname{id}"}[f]
        return FamilyOutput(
            quantities,
            {"f_tex": tex},
            solution,
            network_svg(layers, edges, targets=[f"t = {num(t)}"], title="shared weight"),
            network_svg(
                layers, edges, targets=[f"t = {num(t)}"], title="shared weight", solution=True
            ),
        )


def _path_line(which: str, i: int, dy: float, v: float, fp: float, x: float, total: float) -> str:
    numbers = " \\cdot ".join(pfmt(n) for n in (dy, v, fp, x))
    return (
        f"- {which} use: $\\frac{{\\partial L}}{{\\partial y}}\\,v_{i} f'(z_{i})\\,x_{i} = "
        f"{numbers} = {fmt(total)}$"
    )
