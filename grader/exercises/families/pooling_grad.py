"""Max- and average-pooling backward passes.

Max pooling sends each window's gradient g[i, j] to the one position that held the window's
maximum (overlapping windows add); average pooling spreads g[i, j] / (k·k) over the window.
Inputs are distinct integers, so no window has a tie. Numbers from the engine's
``max_pool2d``/``avg_pool2d`` and their backward passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import avg_pool2d_backward
from grader.exercises.families._engine import fmt_array
from grader.exercises.families._engine import max_pool2d
from grader.exercises.families._engine import max_pool2d_backward
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import tolist
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated

#: input size for each stride (a 2×2 window): non-overlapping, or overlapping windows that add
SIZES = {2: 4, 1: 3}
FB = {
    "spread_evenly": "Max pooling is not an average: only the position that held the maximum "
    "receives the gradient.",
    "copied_to_window": "Only the maximum's position gets g; the other positions of the window "
    "had no effect on the output and get 0.",
    "overlap_not_added": "With overlapping windows, a position that is the maximum of several "
    "windows receives the sum of their gradients.",
    "forgot_divide": "Each of the k·k inputs contributes 1/(k·k) of the average: divide g by 4.",
    "routed_to_max": "Average pooling uses every input of the window: spread g/(k·k) over all of "
    "them.",
    "wrong_max": "Take the largest value in each 2×2 window.",
}


@register_family
class PoolingGrad(Family):
    """Max-pool output and both backward passes for a 2×2 window."""

    name = "pooling_grad"
    description = "max- and average-pooling backward passes (2x2 windows, stride 1 or 2)"
    draws = True
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"stride": {"enum": [1, 2]}},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Max-pool output, max-pool input gradient, average-pool input gradient."""
        overlap = ("overlap_not_added",) if options.get("stride", 2) == 1 else ()
        return {
            "y_max": QuantityInfo("matrix", ("wrong_max",), "max-pool output"),
            "dx_max": QuantityInfo(
                "matrix", ("spread_evenly", "copied_to_window", *overlap), "∂L/∂x (max)"
            ),
            "dx_avg": QuantityInfo("matrix", ("forgot_divide", "routed_to_max"), "∂L/∂x (avg)"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The drawn arrays and the stride."""
        return ("x", "g", "stride", "H")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Distinct integers (no ties), the engine's pooling, the usual slips."""
        s = int(options.get("stride", 2))
        H = SIZES[s]
        x = rng.permutation(np.arange(-9, 10))[: H * H].reshape(H, H).astype(float)
        y = max_pool2d(x, 2, s)
        g = grid_array(rng, y.shape, -3, 3, 1)
        dmax = max_pool2d_backward(x, g, 2, s)
        davg = avg_pool2d_backward(x, g, 2, s)
        # a max that ignores overlaps: the last window to write a position wins
        no_add = np.zeros_like(x)
        min_pool = -max_pool2d(-x, 2, s)
        for i in range(y.shape[0]):
            for j in range(y.shape[1]):
                win = x[i * s : i * s + 2, j * s : j * s + 2]
                a, b = np.unravel_index(int(np.argmax(win)), (2, 2))
                no_add[i * s + a, j * s + b] = g[i, j]

        def mv(code: str, value: Any) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        max_mistakes = [mv("spread_evenly", davg), mv("copied_to_window", 4 * davg)]
        if s == 1:
            max_mistakes.append(mv("overlap_not_added", no_add))
        # No follow-through: max pooling routes g by where each window's maximum sits in x,
        # not by the pooled values, and average pooling reads g alone; no part's key is
        # computed from another's.
        quantities = {
            "y_max": Quantity(
                "matrix", tolist(y), (mv("wrong_max", min_pool),), label="the max-pooled y"
            ),
            "dx_max": Quantity(
                "matrix", tolist(dmax), tuple(max_mistakes), label="∂L/∂x (max pooling)"
            ),
            "dx_avg": Quantity(
                "matrix",
                tolist(davg),
                (mv("forgot_divide", 4 * davg), mv("routed_to_max", dmax)),
                label="∂L/∂x (average pooling)",
            ),
        }
        require_separated(quantities)
        A = fmt_array
        solution = "\n".join(
            [
                f"- max pooling (2×2 windows, stride {s}): $y = {A(y)}$",
                "- max backward: each $g_{ij}$ goes to the position of its window's maximum"
                + (" (positions that are the maximum of several windows add)" if s == 1 else "")
                + f": $\\partial L/\\partial x = {A(dmax)}$",
                "- average backward: each $g_{ij}/4$ goes to all four positions of its window"
                + (" (overlaps add)" if s == 1 else "")
                + f": $\\partial L/\\partial x = {A(davg)}$",
            ]
        )
        drawn = {"x": tolist(x), "g": tolist(g), "stride": s, "H": H}
        return FamilyOutput(quantities, {}, solution, drawn=drawn)
