"""Family 11: the gradient of a 1-D convolution with respect to its kernel and its input.

y = conv1d(x, w) is the valid cross-correlation y_i = Σ_k w_k x_{i+k} (as in deep-learning
libraries). Given the upstream gradient g = ∂L/∂y: ∂L/∂w_k = Σ_i g_i x_{i+k} (a correlation
of x with g) and ∂L/∂x_j = Σ_i g_i w_{j−i} (a full convolution of g with w, i.e. the kernel
flipped). Numbers from the engine's ``conv1d`` and ``conv1d_backward``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import conv1d
from grader.exercises.families._engine import conv1d_backward
from grader.exercises.families._engine import fmt_array
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.base import tolist
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family

FEEDBACK = {
    "kernel_not_flipped": "∂L/∂x_j = Σ_i g_i w_{j−i+1}: going back, the kernel is applied "
    "flipped (a full convolution), not as in the forward correlation.",
    "reversed": "∂L/∂w_k = Σ_i g_i x_{i+k−1}: index k lines up with x_{i+k−1}, not reversed.",
    "sign_flipped": "The upstream gradient g is used as given, without a sign change.",
    "forgot_upstream": "Each term is weighted by the upstream gradient g_i = ∂L/∂y_i.",
}


@register_family
class Conv1dGrad(Family):
    """y, ∂L/∂w and ∂L/∂x for a length-5 input and a length-3 kernel."""

    name = "conv1d_grad"
    description = "gradient of a 1-D convolution with respect to its kernel and input"
    draws = True
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "input_length": {"type": "integer", "minimum": 4, "maximum": 7},
            "kernel_length": {"type": "integer", "minimum": 2, "maximum": 3},
        },
    }
    parameters: ClassVar[dict[str, dict[str, Any]]] = {}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Output, kernel gradient, input gradient."""
        return {
            "y": QuantityInfo("vector", ("kernel_not_flipped",), "y = conv1d(x, w)"),
            "dw": QuantityInfo("vector", ("reversed", "sign_flipped", "forgot_upstream"), "∂L/∂w"),
            "dx": QuantityInfo(
                "vector", ("kernel_not_flipped", "sign_flipped", "forgot_upstream"), "∂L/∂x"
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """x, w and g as drawn."""
        return ("x", "w", "g")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Engine forward and backward; mistakes from the same arrays."""
        n, k = int(options.get("input_length", 5)), int(options.get("kernel_length", 3))
        x = grid_array(rng, (n,), -2.0, 2.0, step=1.0)
        w = grid_array(rng, (k,), -1.0, 1.0, step=0.5)
        g = grid_array(rng, (n - k + 1,), -1.0, 1.0, step=0.5)
        y = conv1d(x, w)
        dx, dw = conv1d_backward(x, w, g)
        require(bool(np.any(np.abs(w - w[::-1]) > 1e-9)), "a symmetric kernel hides the flip")
        require(bool(np.any(np.abs(dw - dw[::-1]) > 1e-9)), "a symmetric dw hides the order")
        ones = np.ones_like(g)
        dx_ones, dw_ones = conv1d_backward(x, w, ones)
        dx_noflip, _ = conv1d_backward(x, w[::-1], g)

        def mv(code: str, value: np.ndarray) -> MistakeValue:
            return MistakeValue(code, tolist(value), FEEDBACK[code])

        # No follow-through: ∂L/∂w and ∂L/∂x read the given g, never y (the loss is not
        # stated in terms of y), so a wrong y carries into nothing.
        quantities = {
            "y": Quantity(
                "vector", tolist(y), (mv("kernel_not_flipped", conv1d(x, w[::-1])),), label="y"
            ),
            "dw": Quantity(
                "vector",
                tolist(dw),
                (mv("reversed", dw[::-1]), mv("sign_flipped", -dw), mv("forgot_upstream", dw_ones)),
                label="∂L/∂w",
            ),
            "dx": Quantity(
                "vector",
                tolist(dx),
                (
                    mv("kernel_not_flipped", dx_noflip),
                    mv("sign_flipped", -dx),
                    mv("forgot_upstream", dx_ones),
                ),
                label="∂L/∂x",
            ),
        }
        A = fmt_array
        dw_terms = ", ".join(
            f"$\\frac{{\\partial L}}{{\\partial w_{j + 1}}} = "
            + " + ".join(f"g_{i + 1} x_{i + j + 1}" for i in range(n - k + 1))
            + f" = {float(dw[j]):g}$"
            for j in range(k)
        )
        solution = "\n".join(
            [
                f"- Forward: $y_i = \\sum_k w_k x_{{i+k-1}}$ (indices from 1), so $y = {A(y)}$.",
                f"- Kernel gradient (correlate $x$ with $g$): {dw_terms}; "
                f"$\\frac{{\\partial L}}{{\\partial w}} = {A(dw)}$.",
                "- Input gradient: each $x_j$ feeds $y_i$ through $w_{j-i+1}$, so "
                "$\\frac{\\partial L}{\\partial x_j} = \\sum_i g_i w_{j-i+1}$ "
                f"(pad $g$ with zeros and slide the flipped kernel): $\\frac{{\\partial L}}"
                f"{{\\partial x}} = {A(dx)}$.",
            ]
        )
        return FamilyOutput(
            quantities, {}, solution, drawn={"x": tolist(x), "w": tolist(w), "g": tolist(g)}
        )
