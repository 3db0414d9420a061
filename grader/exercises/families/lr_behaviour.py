"""Family 13: learning-rate behaviour on a 1-D quadratic: converge, oscillate, diverge.

L(w) = a (w − c)², so gradient descent gives w_{k+1} − c = (1 − 2 a η)(w_k − c). The
factor r = 1 − 2aη decides: 0 < r < 1 converges monotonically, −1 < r < 0 oscillates
while converging, r = −1 oscillates forever, |r| > 1 diverges. The steps come from the
engine's SGD on a one-weight linear model whose SSE is exactly a (w − c)².
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import MLP
from grader.exercises.families._engine import SGD
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
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref

REGIMES = {
    "monotone": "It converges to the minimum without overshooting.",
    "oscillating": "It overshoots back and forth but converges to the minimum.",
    "cycling": "It jumps back and forth between two values forever.",
    "diverging": "It overshoots by more each step and diverges.",
}
FEEDBACK = {
    "forgot_factor_two": "dL/dw = 2a(w − c): the factor 2 is missing.",
    "sign_flipped": "Gradient descent steps against the gradient: w − η dL/dw.",
    "one_step_only": "Take every step, each from the previous weight.",
    **{
        k: f"Look at r = 1 − 2aη: here the iterates do not behave like this ({v.lower()})"
        for k, v in REGIMES.items()
    },
}


def regime(r: float) -> str:
    """The behaviour of w_{k+1} − c = r (w_k − c)."""
    if math.isclose(r, -1.0, abs_tol=1e-9):
        return "cycling"
    if abs(r) > 1:
        return "diverging"
    return "monotone" if r > 0 else "oscillating"


@register_family
class LRBehaviour(Family):
    """Three gradient-descent steps on a (w − c)², the factor r and the regime."""

    name = "lr_behaviour"
    description = "learning-rate behaviour over a few steps on a 1-D loss"
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "a": {"choices": [0.5, 1, 2]},
        "c": {"range": [-2.0, 2.0], "step": 0.5},
        "w0": {"range": [-3.0, 3.0], "step": 0.5},
        "eta": {"choices": [0.05, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The three iterates, the factor r, and the regime."""
        return {
            "w1": QuantityInfo(
                "numeric", ("forgot_factor_two", "sign_flipped"), "w after one step"
            ),
            "w3": QuantityInfo(
                "numeric", ("forgot_factor_two", "sign_flipped", "one_step_only"), "w after 3 steps"
            ),
            "ratio": QuantityInfo("numeric", ("forgot_factor_two", "sign_flipped"), "r = 1 − 2aη"),
            "regime": QuantityInfo("choice", tuple(REGIMES), "the long-run behaviour"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """r for prompts and constraints."""
        return ("r",)

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Engine SGD on sqrt(a)·w ≈ sqrt(a)·c; replays for the mistakes."""
        a, c, w0, eta = as_floats(params, "a", "c", "w0", "eta")
        require(abs(w0 - c) >= 0.5, "the start is at the minimum")
        r = 1 - 2 * a * eta
        require(abs(r) >= 0.05, "one step lands on the minimum")
        s = math.sqrt(a)
        net = MLP([1, 1], ["linear"], loss="sse", weights=[[[w0]]], bias=False)
        opt = SGD(lr=eta)
        ws = []
        for _ in range(3):
            _, grads = net.loss_and_gradients([s], [s * c])
            opt.step(net, grads)
            ws.append(float(net.weights[0][0, 0]))

        def replay(factor: float, steps: int) -> float:
            return c + factor**steps * (w0 - c)

        r_half, r_up = 1 - a * eta, 1 + 2 * a * eta
        name = regime(r)
        order = [list(REGIMES)[int(i)] for i in rng.permutation(len(REGIMES))]
        ids = {n: "ABCD"[i] for i, n in enumerate(order)}
        quantities = {
            "w1": Quantity(
                "numeric",
                ws[0],
                (
                    MistakeValue(
                        "forgot_factor_two", replay(r_half, 1), FEEDBACK["forgot_factor_two"]
                    ),
                    MistakeValue("sign_flipped", replay(r_up, 1), FEEDBACK["sign_flipped"]),
                ),
                {"reference": w0},  # an update: judged by its change
                label="w₁",
            ),
            "w3": Quantity(
                "numeric",
                ws[2],
                (
                    MistakeValue(
                        "forgot_factor_two", replay(r_half, 3), FEEDBACK["forgot_factor_two"]
                    ),
                    MistakeValue("sign_flipped", replay(r_up, 3), FEEDBACK["sign_flipped"]),
                    # When the iterates cycle, w3 is w1: stopping after one step is no mistake.
                    *(
                        (MistakeValue("one_step_only", ws[0], FEEDBACK["one_step_only"]),)
                        if name != "cycling"
                        else ()
                    ),
                ),
                {"reference": ws[1]},  # the third step starts from w2
                # two more steps from the student's w1: w3 − c = r² (w1 − c)
                recipe=add(const(c), mul(const(r**2), op("sub", ref("w1"), const(c)))),
                label="w₃",
            ),
            "ratio": Quantity(
                "numeric",
                r,
                (
                    MistakeValue("forgot_factor_two", r_half, FEEDBACK["forgot_factor_two"]),
                    MistakeValue("sign_flipped", r_up, FEEDBACK["sign_flipped"]),
                ),
                # read off the student's first step: r = (w1 − c) / (w0 − c)
                recipe=op("div", op("sub", ref("w1"), const(c)), const(w0 - c)),
                label="r",
            ),
            "regime": Quantity(
                "choice",
                ids[name],
                tuple(MistakeValue(n, ids[n], FEEDBACK[n]) for n in order if n != name),
                choices=tuple({"id": ids[n], "text": REGIMES[n]} for n in order),
                label="the long-run behaviour",
            ),
        }
        steps = "\n".join(
            f"{k + 1}. $w_{k + 1} = {fmt(c)} + {pfmt(r)}\\,({fmt(prev)} - {pfmt(c)}) = {fmt(w)}$"
            for k, (prev, w) in enumerate(zip([w0, *ws[:2]], ws, strict=True))
        )
        solution = "\n".join(
            [
                "$\\frac{dL}{dw} = 2a(w - c)$, so "
                "$w_{k+1} = w_k - \\eta\\, 2a (w_k - c)$, i.e. "
                f"$w_{{k+1}} - c = (1 - 2a\\eta)(w_k - c)$ with $r = 1 - 2 \\cdot {fmt(a)} \\cdot "
                f"{fmt(eta)} = {fmt(r)}$.",
                "",
                steps,
                "",
                f"Since $r = {fmt(r)}$: {REGIMES[name]}",
            ]
        )
        return FamilyOutput(quantities, {"r": r}, solution)
