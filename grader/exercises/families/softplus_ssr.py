"""Family 4: softplus hidden units fit by the sum of squared residuals; descend on b3.

y(x) = w3 softplus(w1 x + b1) + w4 softplus(w2 x + b2) + b3 over a few (dosage, observed)
points, SSR = Σ (observed − predicted)², dSSR/db3 = Σ −2 (observed − predicted), and a few
gradient-descent steps b3 ← b3 − η dSSR/db3. The defaults are the seed material's numbers.
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
from grader.exercises.recipe import Recipe
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import ref

_FB = {
    "forgot_factor_two": "d/db3 of (observed − predicted)² is −2(observed − predicted): "
    "the factor 2 is missing.",
    "sign_flipped": "The residual's derivative with respect to b3 is −1, so each term is "
    "−2(observed − predicted); descent then subtracts η times that.",
    "single_point": "The SSR sums over every data point; so does its derivative.",
    "forgot_learning_rate": "The step is η times the derivative, not the derivative itself.",
    "one_step_only": "That is b3 after one step; take every step, recomputing the "
    "derivative each time.",
}


@register_family
class SoftplusSSR(Family):
    """dSSR/db3 and gradient descent on b3 for a softplus network."""

    name = "softplus_ssr"
    description = "softplus hidden units fit by SSR: dSSR/db3 and gradient steps on b3"
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "data": {
                "type": "array",
                "minItems": 2,
                "maxItems": 6,
                "items": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
        },
    }
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "w1": {"value": 3.34},
        "b1": {"value": -1.43},
        "w2": {"value": -3.53},
        "b2": {"value": 0.57},
        "w3": {"value": -1.22},
        "w4": {"value": -2.3},
        "b3": {"range": [-1.0, 1.0], "step": 0.1},
        "eta": {"choices": [0.1]},
        "steps": {"choices": [2, 3]},
    }
    DATA: ClassVar[list[list[float]]] = [[0.0, 0.0], [0.5, 1.0], [1.0, 0.0]]

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The derivative at the start, b3 after one step and after all steps."""
        return {
            "dssr_db3": QuantityInfo(
                "numeric", ("forgot_factor_two", "sign_flipped", "single_point"), "dSSR/db3"
            ),
            "b3_step1": QuantityInfo(
                "numeric",
                ("sign_flipped", "forgot_learning_rate", "forgot_factor_two"),
                "b3 after one step",
            ),
            "b3_final": QuantityInfo(
                "numeric",
                ("sign_flipped", "forgot_factor_two", "one_step_only"),
                "b3 after all steps",
            ),
            "ssr": QuantityInfo("numeric", (), "the SSR at the start"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The data as a Markdown table, and the start values."""
        return ("data_table", "ssr", "dssr_db3")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Run the descent through the engine, then replay it with each mistake."""
        w1, b1, w2, b2, w3, w4, b3, eta = as_floats(
            params, "w1", "b1", "w2", "b2", "w3", "w4", "b3", "eta"
        )
        steps = int(params["steps"])
        data = np.asarray(options.get("data", self.DATA), dtype=float)
        X, T = data[:, :1], data[:, 1:]
        net = MLP(
            [1, 2, 1],
            ["softplus", "linear"],
            loss="sse",
            weights=[[[w1], [w2]], [[w3, w4]]],
            biases=[[b1, b2], [b3]],
        )

        def grad_at(b: float) -> tuple[float, float, np.ndarray]:
            net.biases[1] = [b]
            loss, grads = net.loss_and_gradients(X, T)
            return float(loss), float(grads.biases[1][0]), net.forward(X)[:, 0]

        ssr, g0, pred0 = grad_at(b3)
        require(abs(g0) >= 0.05, "dSSR/db3 is almost zero at the start")
        history = [(b3, g0, ssr)]
        b = b3
        for _ in range(steps):
            b = b - eta * history[-1][1]
            loss_b, g_b, _ = grad_at(b)
            history.append((b, g_b, loss_b))
        b_final = history[-1][0]
        step1 = history[1][0]

        def replay(rule: str) -> float:
            b = b3
            for _ in range(steps):
                g = grad_at(b)[1]
                b = b + eta * g if rule == "sign" else b - eta * g / 2
            return b

        resid0 = T[:, 0] - pred0
        # Each later step recomputes the derivative at the student's own b3. The prediction
        # is q_i + b3 (q_i: the rest of the network), so dSSR/db3 at b is exactly
        # Σ −2(t_i − q_i) + 2n b: b ← b − η(Σ −2(t_i − q_i) + 2n b), the real iteration.
        n = len(T)
        c0 = float(-2 * np.sum(T[:, 0] - (pred0 - b3)))
        final: Recipe = ref("b3_step1")
        for _ in range(steps - 1):
            final = add(mul(const(1 - 2 * n * eta), final), const(-eta * c0))
        # when 2nη = 1 one step lands on the minimum: later steps forget where they started
        depends = steps == 1 or abs(1 - 2 * n * eta) > 1e-9
        quantities = {
            "dssr_db3": Quantity(
                "numeric",
                g0,
                (
                    MistakeValue("forgot_factor_two", g0 / 2, _FB["forgot_factor_two"]),
                    MistakeValue("sign_flipped", -g0, _FB["sign_flipped"]),
                    MistakeValue("single_point", float(-2 * resid0[0]), _FB["single_point"]),
                ),
                label="dSSR/db₃",
            ),
            "b3_step1": Quantity(
                "numeric",
                step1,
                (
                    MistakeValue("sign_flipped", b3 + eta * g0, _FB["sign_flipped"]),
                    MistakeValue("forgot_learning_rate", b3 - g0, _FB["forgot_learning_rate"]),
                    MistakeValue("forgot_factor_two", b3 - eta * g0 / 2, _FB["forgot_factor_two"]),
                ),
                {"reference": b3},  # an update: judged by its change
                recipe=add(const(b3), mul(const(-eta), ref("dssr_db3"))),
                label="b₃ after one step",
            ),
            "b3_final": Quantity(
                "numeric",
                b_final,
                (
                    MistakeValue("sign_flipped", replay("sign"), _FB["sign_flipped"]),
                    MistakeValue("forgot_factor_two", replay("half"), _FB["forgot_factor_two"]),
                    MistakeValue("one_step_only", step1, _FB["one_step_only"]),
                ),
                recipe=final if depends else None,
                label="the final b₃",
            ),
            "ssr": Quantity("numeric", ssr, label="the SSR"),
        }
        table = "| dosage $x$ | observed |\n|---|---|\n" + "\n".join(
            f"| {num(x)} | {num(t)} |" for x, t in data
        )
        lines = [
            f"**Predictions at the start** ($b_3 = {fmt(b3)}$):",
            "",
            "| $x$ | observed | predicted | residual | $-2\\cdot$residual |",
            "|---|---|---|---|---|",
        ]
        for (x, t), p, r in zip(data, pred0, resid0, strict=True):
            lines.append(f"| {num(x)} | {num(t)} | {num(p)} | {num(r)} | {num(-2 * r)} |")
        lines += [
            "",
            f"$\\frac{{d\\,\\mathrm{{SSR}}}}{{d b_3}} = \\sum_i -2(\\text{{observed}}_i - "
            f"\\text{{predicted}}_i) = {fmt(g0)}$",
            "",
            f"**Gradient descent** with $\\eta = {fmt(eta)}$:",
            "",
        ]
        for i in range(steps):
            b_old, g_old, _ = history[i]
            lines.append(
                f"{i + 1}. $b_3 = {fmt(b_old)} - {fmt(eta)} \\cdot {pfmt(g_old)} = "
                f"{fmt(history[i + 1][0])}$"
            )
        layers = [
            [Node("x", kind="input")],
            [Node("h₁", bias=f"b₁ = {num(b1)}"), Node("h₂", bias=f"b₂ = {num(b2)}")],
            [Node("y", bias=f"b₃ = {num(b3)}", kind="output")],
        ]
        edges = [
            Edge((0, 0), (1, 0), f"w₁ = {num(w1)}"),
            Edge((0, 0), (1, 1), f"w₂ = {num(w2)}"),
            Edge((1, 0), (2, 0), f"w₃ = {num(w3)}"),
            Edge((1, 1), (2, 0), f"w₄ = {num(w4)}"),
        ]
        svg = network_svg(layers, edges, title="softplus network")
        return FamilyOutput(
            quantities,
            {"data_table": table, "ssr": ssr, "dssr_db3": g0},
            "\n".join(lines),
            svg,
            None,
        )
