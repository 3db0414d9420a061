"""Family 9: mini-batch versus single-example gradients (averaging).

A linear neuron y = w x + b with the mean squared error over a batch,
L = (1/n) Σ (y_i − t_i)²: the batch gradient is the average of the per-example gradients
2 (y_i − t_i) x_i. Numbers from the engine's ``MLP([1, 1], ["linear"], loss="mse")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import MLP
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.base import tolist
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.common import pfmt
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref

FEEDBACK = {
    "share_of_the_mean": "That is example 1's share of the mini-batch gradient (divided by "
    "n); on its own its loss is L₁ = (y₁ − t₁)², with no 1/n.",
    "summed_instead_of_averaged": "The loss is the mean over the batch, so its gradient "
    "averages the per-example gradients: divide the sum by n.",
    "forgot_factor_two": "d/dy (y − t)² = 2 (y − t): the factor 2 is missing.",
    "sign_flipped": "Each example contributes 2 (y_i − t_i) x_i: output minus target.",
    "single_example": "That is the first example's gradient; the mini-batch gradient "
    "averages over all examples.",
    "forgot_learning_rate": "The update is w − η · gradient.",
}
CODES = ("summed_instead_of_averaged", "forgot_factor_two", "sign_flipped", "single_example")


@register_family
class MinibatchAverage(Family):
    """Batch-mean gradient, single-example gradient and the batch update of w."""

    name = "minibatch_average"
    description = "mini-batch versus single-example gradient (averaging)"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "w": {"range": [-1.0, 1.0], "step": 0.1, "exclude": [0.0]},
        "b": {"range": [-0.5, 0.5], "step": 0.1},
        "n": {"choices": [3, 4]},
        "eta": {"choices": [0.1, 0.05]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Gradients (batch and single) and the updated weight."""
        return {
            "grad_w_batch": QuantityInfo("numeric", CODES, "dL/dw over the batch"),
            "grad_b_batch": QuantityInfo("numeric", CODES, "dL/db over the batch"),
            "grad_w_single": QuantityInfo(
                "numeric",
                ("forgot_factor_two", "sign_flipped", "share_of_the_mean"),
                "dL1/dw for the loss of example 1 alone, L1 = (y1 - t1)^2",
            ),
            "w_new": QuantityInfo(
                "numeric",
                (
                    "summed_instead_of_averaged",
                    "sign_flipped",
                    "single_example",
                    "forgot_learning_rate",
                ),
                "w after one mini-batch step",
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The batch as a Markdown table."""
        return ("batch_table",)

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Engine gradients for the batch and for example 1."""
        w, b, eta = as_floats(params, "w", "b", "eta")
        n = int(params["n"])
        xs = grid_array(rng, (n,), -2.0, 2.0)
        ts = grid_array(rng, (n,), -1.0, 1.0, nonzero=False)
        net = MLP([1, 1], ["linear"], loss="mse", weights=[[[w]]], biases=[[b]])
        _, gb = net.loss_and_gradients(xs[:, None], ts[:, None])
        _, g1 = net.loss_and_gradients(xs[:1, None], ts[:1, None])
        gw, gbias, gw1 = (
            float(gb.weights[0][0, 0]),
            float(gb.biases[0][0]),
            float(g1.weights[0][0, 0]),
        )
        ys = w * xs + b
        per_w = 2 * (ys - ts) * xs
        per_b = 2 * (ys - ts)
        require(min(abs(gw), abs(gbias), abs(gw1)) >= 0.05, "a gradient is almost zero")
        require(abs(gw - gw1) >= 0.05, "the batch and single gradients nearly agree")

        def mistakes(avg: float, per: np.ndarray) -> tuple[MistakeValue, ...]:
            values = {
                "summed_instead_of_averaged": float(per.sum()),
                "forgot_factor_two": avg / 2,
                "sign_flipped": -avg,
                "single_example": float(per[0]),
            }
            return tuple(MistakeValue(c, v, FEEDBACK[c]) for c, v in values.items())

        w_new = w - eta * gw
        quantities = {
            # the mean of the per-example gradients, of which example 1's is asked alone:
            # (∂L₁/∂w + Σ_{i≥2} 2(y_i − t_i)x_i) / n
            "grad_w_batch": Quantity(
                "numeric",
                gw,
                mistakes(gw, per_w),
                recipe=op("div", add(ref("grad_w_single"), const(per_w[1:].sum())), const(n)),
                label="∂L/∂w",
            ),
            "grad_b_batch": Quantity("numeric", gbias, mistakes(gbias, per_b), label="∂L/∂b"),
            "grad_w_single": Quantity(
                "numeric",
                gw1,
                (
                    MistakeValue("forgot_factor_two", gw1 / 2, FEEDBACK["forgot_factor_two"]),
                    MistakeValue("sign_flipped", -gw1, FEEDBACK["sign_flipped"]),
                    MistakeValue("share_of_the_mean", gw1 / n, FEEDBACK["share_of_the_mean"]),
                ),
                label="∂L₁/∂w",
            ),
            "w_new": Quantity(
                "numeric",
                w_new,
                (
                    MistakeValue(
                        "summed_instead_of_averaged",
                        w - eta * float(per_w.sum()),
                        FEEDBACK["summed_instead_of_averaged"],
                    ),
                    MistakeValue("sign_flipped", w + eta * gw, FEEDBACK["sign_flipped"]),
                    MistakeValue("single_example", w - eta * gw1, FEEDBACK["single_example"]),
                    MistakeValue("forgot_learning_rate", w - gw, FEEDBACK["forgot_learning_rate"]),
                ),
                {"reference": w},  # an update: judged by its change
                recipe=add(const(w), mul(const(-eta), ref("grad_w_batch"))),
                label="the new w",
            ),
        }
        table = "| $i$ | $x_i$ | $t_i$ |\n|---|---|---|\n" + "\n".join(
            f"| {i + 1} | {fmt(float(x))} | {fmt(float(t))} |"
            for i, (x, t) in enumerate(zip(xs, ts, strict=True))
        )
        rows = [
            "| $i$ | $y_i = w x_i + b$ | $2(y_i - t_i)x_i$ | $2(y_i - t_i)$ |",
            "|---|---|---|---|",
        ]
        rows += [
            f"| {i + 1} | {fmt(float(ys[i]))} | {fmt(float(per_w[i]))} | {fmt(float(per_b[i]))} |"
            for i in range(n)
        ]
        solution = "\n".join(
            [
                *rows,
                "",
                f"- Example 1 alone: $\\partial L_1/\\partial w = {fmt(gw1)}$",
                f"- Batch: $\\partial L/\\partial w = \\frac{{1}}{{{n}}}\\sum_i 2(y_i - t_i)x_i = "
                f"\\frac{{{fmt(float(per_w.sum()))}}}{{{n}}} = {fmt(gw)}$, "
                f"$\\partial L/\\partial b = {fmt(gbias)}$",
                f"- Update: $w' = {fmt(w)} - {fmt(eta)} \\cdot {pfmt(gw)} = {fmt(w_new)}$",
            ]
        )
        return FamilyOutput(
            quantities,
            {"batch_table": table},
            solution,
            drawn={"xs": tolist(xs), "ts": tolist(ts)},
        )
