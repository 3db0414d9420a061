"""Gradient checking: central differences against the analytic gradient, the relative error,
and the choice of ε.

L(w) = ½(σ(w x + b) − t)² for one weight. The central difference (L(w+ε) − L(w−ε))/(2ε) has
error O(ε²); the one-sided (L(w+ε) − L(w))/ε only O(ε). The relative error
|a − n| / max(|a|, |n|) says whether a backward pass is right: in float64 with ε ≈ 1e-6, below
about 1e-7 is right, above 1e-2 is a bug. Values come from the engine (`MLP` and its
finite-difference checker `numerical_gradient`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import MLP
from grader.exercises.families._engine import numerical_gradient
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated

FB = {
    "one_sided": "A central difference uses both L(w + ε) and L(w − ε) and divides by 2ε.",
    "forgot_two": "The two evaluations are 2ε apart: divide by 2ε, not ε.",
    "forgot_activation_derivative": "The chain rule passes through σ: multiply by σ'(z) = "
    "σ(z)(1 − σ(z)).",
    "forgot_input": "∂z/∂w = x: multiply by the input.",
    "absolute_error": "The relative error divides |a − n| by max(|a|, |n|), so it does not "
    "depend on the gradient's scale.",
    "divided_by_sum": "Divide by max(|a|, |n|), not by |a| + |n|.",
}

EPS_CHOICES = (
    ("right", "ε ≈ 10⁻⁶ (about the square root of float64's precision, scaled to |w|)", ""),
    (
        "too_large",
        "ε ≈ 10⁻¹",
        "The truncation error grows like ε²: with ε = 0.1 a correct gradient can look wrong.",
    ),
    (
        "too_small",
        "ε ≈ 10⁻¹⁵",
        "Rounding error grows like 10⁻¹⁶/ε: L(w + ε) − L(w − ε) loses every significant digit.",
    ),
    ("zero", "ε = 0, the exact limit", "With ε = 0 the difference quotient is 0/0."),
)

VERDICTS = (
    ("bug", "Almost certainly a bug in the backward pass (relative error above 1e-2)"),
    ("uncomfortable", "Suspicious: investigate (relative error between 1e-4 and 1e-2)"),
    ("fine", "The backward pass is right (relative error below 1e-7 in float64)"),
)


def _loss(w: float, x: float, b: float, t: float) -> float:
    net = MLP([1, 1], ["sigmoid"], loss="half_sse", weights=[[[w]]], biases=[[b]])
    return float(net.loss_value(np.array([[x]]), np.array([[t]])))


@register_family
class GradientCheck(Family):
    """A central difference, the analytic gradient, a relative error and two judgements."""

    name = "gradient_check"
    description = "gradient checking: central differences, relative error, choosing epsilon"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "w": {"range": [-1.5, 1.5], "step": 0.1, "exclude": [0, 1, -1]},
        "x": {"range": [-2, 2], "step": 0.5, "exclude": [0, 1, -1]},
        "b": {"range": [-0.5, 0.5], "step": 0.1},
        "t": {"range": [0, 1], "step": 0.25, "exclude": [0.5]},
        "eps": {"choices": [0.1, 0.2]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Numerical and analytic gradient, relative error, the verdict, the choice of ε."""
        return {
            "numerical": QuantityInfo("numeric", ("one_sided", "forgot_two"), "central difference"),
            "analytic": QuantityInfo(
                "numeric", ("forgot_activation_derivative", "forgot_input"), "dL/dw"
            ),
            "rel_error": QuantityInfo(
                "numeric", ("absolute_error", "divided_by_sum"), "relative error of a reported pair"
            ),
            "verdict": QuantityInfo(
                "choice", tuple(f"verdict_{c}" for c, _ in VERDICTS), "what the relative error says"
            ),
            "eps_choice": QuantityInfo(
                "choice", tuple(c for c, _, _ in EPS_CHOICES[1:]), "epsilon for float64"
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The reported analytic/numerical pair of the relative-error part."""
        return ("ga", "gn")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Finite differences from the engine; a reported pair drawn as a bug or as fine."""
        w, x, b, t, eps = as_floats(params, "w", "x", "b", "t", "eps")
        lp, l0, lm = _loss(w + eps, x, b, t), _loss(w, x, b, t), _loss(w - eps, x, b, t)
        central = (lp - lm) / (2 * eps)
        net = MLP([1, 1], ["sigmoid"], loss="half_sse", weights=[[[w]]], biases=[[b]])
        X, T = np.array([[x]]), np.array([[t]])
        _, grads = net.loss_and_gradients(X, T)
        analytic = float(grads.weights[0][0, 0])
        fd = numerical_gradient(lambda: net.loss_value(X, T), net.parameters())[0][0, 0]
        require(abs(fd - analytic) <= 1e-7 * max(1.0, abs(analytic)), "engine disagreement")
        s = 1.0 / (1.0 + np.exp(-(w * x + b)))
        require(0.1 <= s <= 0.9, "the sigmoid is nearly saturated")
        require(abs(analytic) >= 0.01, "the gradient is almost zero")
        # a reported pair: a bug (relative error 0.05..0.5) or an uncomfortable one (2e-3..8e-3)
        is_bug = bool(rng.integers(2))
        ga = float(np.round(rng.uniform(0.2, 2.0) * rng.choice([-1.0, 1.0]), 4))
        rel = rng.uniform(0.05, 0.5) if is_bug else rng.uniform(2e-3, 8e-3)
        gn = float(f"{ga * (1 + rel):.6g}")
        require(abs(ga) >= 0.2, "the reported gradient is too small")
        rel_error = abs(ga - gn) / max(abs(ga), abs(gn))

        def mv(code: str, value: float) -> MistakeValue:
            return MistakeValue(code, float(value), FB[code])

        order = [int(i) for i in rng.permutation(len(EPS_CHOICES))]
        letters = "ABCD"
        eps_choices = tuple(
            {"id": letters[p], "text": EPS_CHOICES[o][1]} for p, o in enumerate(order)
        )
        pos = {o: letters[p] for p, o in enumerate(order)}
        verdict_key = "A" if is_bug else "B"  # VERDICTS order
        quantities = {
            "numerical": Quantity(
                "numeric",
                central,
                (mv("one_sided", (lp - l0) / eps), mv("forgot_two", (lp - lm) / eps)),
                label="the central difference",
            ),
            "analytic": Quantity(
                "numeric",
                analytic,
                (mv("forgot_activation_derivative", (s - t) * x), mv("forgot_input", analytic / x)),
                label="dL/dw",
            ),
            "verdict": Quantity(
                "choice",
                verdict_key,
                tuple(
                    MistakeValue(
                        f"verdict_{VERDICTS[i][0]}",
                        letter,
                        "Compare the relative error with the thresholds: above 1e-2 a bug, "
                        "1e-4 to 1e-2 suspicious, below 1e-7 right (float64).",
                    )
                    for i, letter in enumerate("ABC")
                    if letter != verdict_key
                ),
                choices=tuple({"id": "ABC"[i], "text": VERDICTS[i][1]} for i in range(3)),
                label="the verdict",
            ),
            "eps_choice": Quantity(
                "choice",
                pos[0],
                tuple(
                    MistakeValue(code, pos[i], fb)
                    for i, (code, _, fb) in enumerate(EPS_CHOICES)
                    if i
                ),
                choices=eps_choices,
                label="the choice of ε",
            ),
        }
        quantities["rel_error"] = Quantity(
            "numeric",
            rel_error,
            (
                mv("absolute_error", abs(ga - gn)),
                mv("divided_by_sum", abs(ga - gn) / (abs(ga) + abs(gn))),
            ),
            # No recipe: the pair (a, n) is reported from another network, not the student's
            # central difference and analytic gradient above.
            label="the relative error",
        )
        require_separated(quantities)
        solution = "\n".join(
            [
                f"- $L(w+\\varepsilon) = {fmt(lp, 8)}$, $L(w-\\varepsilon) = {fmt(lm, 8)}$",
                "- central difference: $\\frac{L(w+\\varepsilon) - "
                "L(w-\\varepsilon)}{2\\varepsilon}"
                f" = {fmt(central, 6)}$",
                "- analytic: $(\\sigma(z) - t)\\,\\sigma(z)(1-\\sigma(z))\\,x = "
                f"{fmt(analytic, 6)}$ "
                f"(with $\\varepsilon = {fmt(eps)}$ they differ by "
                f"{fmt(abs(central - analytic) / abs(analytic), 2)} relative: the O(ε²) truncation "
                "error)",
                f"- reported pair: $\\frac{{|a - n|}}{{\\max(|a|, |n|)}} = {fmt(rel_error, 4)}$: "
                + ("a bug." if is_bug else "suspicious: investigate."),
                f"- ε: **{pos[0]}**. Too large and truncation error (∝ ε²) dominates; too small "
                "and rounding error (∝ 10⁻¹⁶/ε) does.",
            ]
        )
        return FamilyOutput(quantities, {"ga": ga, "gn": gn}, solution)
