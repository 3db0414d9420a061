"""2-D convolution with stride and padding: the output, the kernel gradient, the input gradient.

y[i, j] = Σ_{a,b} w[a, b] x_p[i s + a, j s + b] on the zero-padded input x_p (valid
cross-correlation, as torch.nn.functional.conv2d). Given g = ∂L/∂y:
∂L/∂w[a, b] = Σ_{i,j} g[i, j] x_p[i s + a, j s + b], and ∂L/∂x scatters g[i, j] w[a, b] back to
x_p[i s + a, j s + b], then crops the padding. Numbers from the engine's ``conv2d`` and
``conv2d_backward``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import conv2d
from grader.exercises.families._engine import conv2d_backward
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
from grader.exercises.families.separation import require_separated

#: (input size, stride, padding) with a 2×2 kernel: every output is at most 3×3
CONFIGS = {"s1p0": (3, 1, 0), "s2p0": (4, 2, 0), "s2p1": (3, 2, 1), "s1p1": (2, 1, 1)}
FB = {
    "kernel_flipped": "Deep-learning convolution is a cross-correlation: w[a, b] multiplies "
    "x[i s + a, j s + b], with no flipping of the kernel.",
    "rotated": "∂L/∂w[a, b] pairs g[i, j] with the input at (i s + a, j s + b): the same "
    "orientation as the forward pass, not rotated by 180°.",
    "transposed": "Rows index the first axis and columns the second, as in x.",
    "forgot_upstream": "Weight each term by the upstream gradient g[i, j].",
    "kernel_not_flipped": "Each g[i, j] goes back to the input positions its window covered, "
    "weighted by w[a, b] at the same offset (a full convolution with the flipped kernel).",
}


def _pad(x: np.ndarray, p: int) -> np.ndarray:
    return np.pad(x, p) if p else x


@register_family
class Conv2dGrad(Family):
    """y, ∂L/∂w and ∂L/∂x for a 2×2 kernel with stride and padding."""

    name = "conv2d_grad"
    description = "2-D convolution with stride and padding: kernel and input gradients"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {"config": {"choices": list(CONFIGS)}}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Output, kernel gradient, input gradient."""
        return {
            "y": QuantityInfo("matrix", ("kernel_flipped", "transposed"), "y"),
            "dw": QuantityInfo("matrix", ("rotated", "transposed", "forgot_upstream"), "∂L/∂w"),
            "dx": QuantityInfo(
                "matrix", ("kernel_not_flipped", "transposed", "forgot_upstream"), "∂L/∂x"
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The drawn arrays, stride and padding."""
        return ("x", "w", "g", "stride", "padding", "H")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw small integers, run the engine, derive the mistakes."""
        H, s, p = CONFIGS[str(params["config"])]
        x = grid_array(rng, (H, H), -3, 3, 1)
        w = grid_array(rng, (2, 2), -2, 2, 1)
        y = conv2d(x, w, stride=s, padding=p)
        g = grid_array(rng, y.shape, -2, 2, 1)
        dx, dw = conv2d_backward(x, w, g, stride=s, padding=p)
        ones = np.ones_like(g)
        dx1, dw1 = conv2d_backward(x, w, ones, stride=s, padding=p)
        wf = w[::-1, ::-1]
        dx_flip, _ = conv2d_backward(x, wf, g, stride=s, padding=p)
        require(float(np.max(np.abs(y))) > 0 and float(np.max(np.abs(dw))) > 0, "all zero")

        def mv(code: str, value: Any) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        # No follow-through: ∂L/∂w and ∂L/∂x read the given g, never y (the loss is not
        # stated in terms of y), so a wrong y carries into nothing.
        quantities = {
            "y": Quantity(
                "matrix",
                tolist(y),
                (mv("kernel_flipped", conv2d(x, wf, stride=s, padding=p)), mv("transposed", y.T)),
                label="y",
            ),
            "dw": Quantity(
                "matrix",
                tolist(dw),
                (mv("rotated", dw[::-1, ::-1]), mv("transposed", dw.T), mv("forgot_upstream", dw1)),
                label="∂L/∂w",
            ),
            "dx": Quantity(
                "matrix",
                tolist(dx),
                (
                    mv("kernel_not_flipped", dx_flip),
                    mv("transposed", dx.T),
                    mv("forgot_upstream", dx1),
                ),
                label="∂L/∂x",
            ),
        }
        require_separated(quantities)
        A = fmt_array
        xp = _pad(x, p)
        terms = []
        for a in range(2):
            for b in range(2):
                window = xp[
                    a : a + s * (g.shape[0] - 1) + 1 : s, b : b + s * (g.shape[1] - 1) + 1 : s
                ]
                terms.append(
                    f"- $\\partial L/\\partial w_{{{a + 1}{b + 1}}} = \\sum g \\odot {A(window)} = "
                    f"{dw[a, b]:g}$"
                )
        solution = "\n".join(
            [
                f"- padded input ($p = {p}$): $x_p = {A(xp)}$" if p else "- no padding: $x_p = x$",
                f"- $y = {A(y)}$ (stride {s}: windows start every {s} positions)",
                "- kernel gradient: each entry sums g times the input entries that weight touched",
                *terms,
                f"- input gradient: scatter $g_{{ij}} w$ onto each window of $x_p$, add overlaps, "
                f"crop the padding: $\\partial L/\\partial x = {A(dx)}$",
            ]
        )
        drawn = {"x": tolist(x), "w": tolist(w), "g": tolist(g), "stride": s, "padding": p, "H": H}
        return FamilyOutput(quantities, {}, solution, drawn=drawn)
