"""L2 weight decay inside the gradient-descent update.

With the penalty (λ/2)‖w‖² added to the loss (torch.optim.SGD's ``weight_decay=λ``), the
gradient is g + λw and the step is w ← w − η(g + λw) = (1 − ηλ)w − ηg: the decay shrinks every
weight by the factor 1 − ηλ before the data gradient moves it. Numbers from the engine's
``SGD(lr=η, weight_decay=λ)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import SGD
from grader.exercises.families._engine import fmt_array
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import tolist
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import ref

FB = {
    "forgot_decay": "The penalty (λ/2)‖w‖² adds λw to the gradient.",
    "factor_two": "The derivative of (λ/2)‖w‖² is λw (the ½ cancels the 2).",
    "decay_sign": "The penalty's gradient is +λw: weight decay pulls weights toward 0.",
    "decay_outside_eta": "The whole gradient g + λw is scaled by η: w − η(g + λw).",
    "sign_flipped": "Gradient descent subtracts: w − η(g + λw).",
    "forgot_eta": "The decay factor is 1 − ηλ: the learning rate scales the decay too.",
}


@register_family
class WeightDecay(Family):
    """The regularised gradient, the decay factor and the updated weights."""

    name = "weight_decay"
    description = "L2 weight decay inside the SGD update"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "eta": {"choices": [0.1, 0.2, 0.3, 0.5]},
        "lam": {"choices": [0.1, 0.2, 0.3, 0.5]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """g + λw, 1 − ηλ, w after the step."""
        return {
            "reg_grad": QuantityInfo(
                "vector", ("forgot_decay", "factor_two", "decay_sign"), "g + λw"
            ),
            "shrink": QuantityInfo("numeric", ("forgot_eta",), "1 − ηλ"),
            "w_new": QuantityInfo(
                "vector",
                ("forgot_decay", "factor_two", "decay_outside_eta", "sign_flipped"),
                "w after one step",
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The drawn weights and data gradient."""
        return ("w", "g")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw weights and a gradient; the engine's SGD with weight decay takes the step."""
        eta, lam = as_floats(params, "eta", "lam")
        w = grid_array(rng, (3,), -2.0, 2.0, 0.1)
        g = grid_array(rng, (3,), -1.0, 1.0, 0.1)
        new = w.copy()
        SGD(lr=eta, weight_decay=lam).step(new, g)
        reg = g + lam * w

        def mv(code: str, value: Any) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        quantities = {
            "reg_grad": Quantity(
                "vector",
                tolist(reg),
                (
                    mv("forgot_decay", g),
                    mv("factor_two", g + 2 * lam * w),
                    mv("decay_sign", g - lam * w),
                ),
                label="g + λw",
            ),
            "shrink": Quantity(
                "numeric", 1 - eta * lam, (mv("forgot_eta", 1 - lam),), label="the decay factor"
            ),
            "w_new": Quantity(
                "vector",
                tolist(new),
                (
                    mv("forgot_decay", w - eta * g),
                    mv("factor_two", w - eta * (g + 2 * lam * w)),
                    mv("decay_outside_eta", w - eta * g - lam * w),
                    mv("sign_flipped", w + eta * reg),
                ),
                {"reference": tolist(w)},  # an update: judged by its change (issue 12)
                # w − η (g + λw): the step is η times the regularised gradient. The same
                # key is (1 − ηλ) w − η g, but one rule reads one route, and this one
                # carries the most slips (a forgotten, doubled or flipped decay term)
                recipe=add(const(w), mul(const(-eta), ref("reg_grad"))),
                label="the new w",
            ),
        }
        require_separated(quantities)
        A = fmt_array
        solution = "\n".join(
            [
                "- $\\nabla_w\\big(L + \\tfrac{\\lambda}{2}\\lVert w\\rVert^2\\big) = g + "
                "\\lambda w "
                f"= {A(g)} + {fmt(lam)} \\cdot {A(w)} = {A(reg)}$",
                f"- decay factor: $1 - \\eta\\lambda = 1 - {fmt(eta)} \\cdot {fmt(lam)} = "
                f"{fmt(1 - eta * lam)}$",
                f"- $w' = w - \\eta(g + \\lambda w) = (1 - \\eta\\lambda) w - \\eta g = {A(new)}$",
            ]
        )
        return FamilyOutput(quantities, {}, solution, drawn={"w": tolist(w), "g": tolist(g)})
