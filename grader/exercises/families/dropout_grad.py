"""Inverted dropout: the mask and the 1/(1 − p) scaling, forward and backward.

Training with drop probability p keeps each unit with mask m_i ∈ {0, 1} and scales the kept
ones: ĥ = h ⊙ m / (1 − p), so nothing changes at evaluation time. The backward pass applies
the same mask and the same scale: ∂L/∂h = ∂L/∂ĥ ⊙ m / (1 − p). Numbers from the engine's
``dropout`` and ``dropout_backward``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import dropout
from grader.exercises.families._engine import dropout_backward
from grader.exercises.families._engine import fmt_array
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.base import tolist
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import ref

FB = {
    "forgot_scaling": "Inverted dropout scales the kept units by 1/(1 − p) during training.",
    "scaled_by_keep": "Divide by the keep probability 1 − p; multiplying by it is what "
    "non-inverted dropout does at test time.",
    "divided_by_p": "p is the DROP probability: divide by the keep probability 1 − p.",
    "forgot_mask": "A dropped unit did not affect the output: its gradient is 0.",
}


@register_family
class DropoutGrad(Family):
    """ĥ, ∂L/∂h and a downstream weight gradient through inverted dropout."""

    name = "dropout_grad"
    description = "inverted dropout with a given mask: forward scaling and backward pass"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {"p": {"choices": [0.2, 0.25, 0.4]}}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The dropped-out activations, their gradient, the next weight's gradient."""
        return {
            "h_drop": QuantityInfo(
                "vector", ("forgot_scaling", "scaled_by_keep", "divided_by_p"), "ĥ"
            ),
            "dh": QuantityInfo(
                "vector", ("forgot_mask", "forgot_scaling", "scaled_by_keep"), "∂L/∂h"
            ),
            "dv": QuantityInfo("vector", ("forgot_scaling", "forgot_mask"), "∂L/∂v"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """Activations, mask, next-layer weights, upstream gradient."""
        return ("h", "m", "v", "dy")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw a mask with drops and keeps; the engine applies it both ways."""
        (p,) = as_floats(params, "p")
        h = grid_array(rng, (4,), 0.1, 0.9, 0.1)
        m = (rng.random(4) >= p).astype(float)
        require(0 < m.sum() < 4, "the mask should both drop and keep")
        v = grid_array(rng, (4,), -1.5, 1.5, 0.1)
        dy = float(grid_array(rng, (1,), -2.0, 2.0, 0.5)[0])
        hd = dropout(h, m, p)
        y_grad = dy * v  # y = v · ĥ, so ∂L/∂ĥ = dy v
        dh = dropout_backward(y_grad, m, p)
        dv = dy * hd

        def mv(code: str, value: Any) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        keep = 1 - p
        quantities = {
            "h_drop": Quantity(
                "vector",
                tolist(hd),
                (
                    mv("forgot_scaling", h * m),
                    mv("scaled_by_keep", h * m * keep),
                    mv("divided_by_p", h * m / p),
                ),
                label="ĥ",
            ),
            "dh": Quantity(
                "vector",
                tolist(dh),
                (
                    mv("forgot_mask", y_grad / keep),
                    mv("forgot_scaling", y_grad * m),
                    mv("scaled_by_keep", y_grad * m * keep),
                ),
                # dy v ⊙ m / (1 − p): the mask and scale, not ĥ, so no recipe
                label="∂L/∂h",
            ),
            "dv": Quantity(
                "vector",
                tolist(dv),
                (mv("forgot_scaling", dy * h * m), mv("forgot_mask", dy * h / keep)),
                recipe=mul(const(dy), ref("h_drop")),  # y = v · ĥ, so ∂L/∂v = dy ĥ
                label="∂L/∂v",
            ),
        }
        require_separated(quantities)
        A = fmt_array
        solution = "\n".join(
            [
                f"- keep probability $1 - p = {fmt(keep)}$, scale $1/(1-p) = {fmt(1 / keep)}$",
                f"- $\\hat h = h \\odot m / (1-p) = {A(hd)}$",
                "- $\\partial L/\\partial v = \\frac{\\partial L}{\\partial y}\\,\\hat h = "
                f"{A(dv)}$",
                "- $\\partial L/\\partial \\hat h = \\frac{\\partial L}{\\partial y}\\, v = "
                f"{A(y_grad)}$",
                "- $\\partial L/\\partial h = \\partial L/\\partial \\hat h \\odot m / (1-p) = "
                f"{A(dh)}$ "
                "(dropped units get 0; kept ones the same scale as in the forward pass)",
            ]
        )
        drawn = {"h": tolist(h), "m": tolist(m), "v": tolist(v), "dy": dy}
        return FamilyOutput(quantities, {}, solution, drawn=drawn)
