"""Batch normalization backward for one feature over a small batch (training mode).

x̂_n = (x_n − μ)/√(σ² + ε) with the batch mean μ and the biased variance σ² (divided by N),
y_n = γ x̂_n + β. Given dy = ∂L/∂y: ∂L/∂β = Σ dy_n, ∂L/∂γ = Σ dy_n x̂_n and
∂L/∂x_n = γ/(N√(σ²+ε)) (N dy_n − Σ dy − x̂_n Σ dy x̂), because every x_n also moves μ and σ².
Numbers from the engine's ``batchnorm_forward``/``batchnorm_backward``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import batchnorm_backward
from grader.exercises.families._engine import batchnorm_forward
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
from grader.exercises.recipe import op
from grader.exercises.recipe import ref

EPS = 1e-5
FB = {
    "unbiased_variance": "Batch norm normalises with the biased batch variance (divide by N).",
    "forgot_std": "Divide the centred inputs by the batch standard deviation √(σ² + ε).",
    "mean_not_sum": "Every example's output depends on the parameter: sum over the batch.",
    "used_x_not_xhat": "∂y_n/∂γ = x̂_n, the normalised input.",
    "stats_constant": "μ and σ² depend on every x_n: the gradient has two more terms, through the "
    "mean and through the variance.",
    "forgot_variance_path": "Include the path through σ²: subtract x̂_n · mean(dy ⊙ x̂).",
    "forgot_mean_path": "Include the path through μ: subtract mean(dy).",
}


@register_family
class BatchNormGrad(Family):
    """x̂, ∂L/∂β, ∂L/∂γ and ∂L/∂x for one feature."""

    name = "batchnorm_grad"
    description = "batch normalization backward (training mode) for a small batch"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "N": {"choices": [3, 4]},
        "gamma": {"range": [0.5, 2], "step": 0.1, "exclude": [1]},
        "beta": {"range": [-0.5, 0.5], "step": 0.1},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The normalised inputs and three gradients."""
        return {
            "x_hat": QuantityInfo("vector", ("unbiased_variance", "forgot_std"), "x̂"),
            "dbeta": QuantityInfo("numeric", ("mean_not_sum",), "∂L/∂β"),
            "dgamma": QuantityInfo(
                "numeric", ("used_x_not_xhat", "forgot_std", "mean_not_sum"), "∂L/∂γ"
            ),
            "dx": QuantityInfo(
                "vector", ("stats_constant", "forgot_variance_path", "forgot_mean_path"), "∂L/∂x"
            ),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The batch and the upstream gradient."""
        return ("x", "dy")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw a batch, run the engine, derive the mistakes."""
        N = int(params["N"])
        gamma, beta = as_floats(params, "gamma", "beta")
        x = grid_array(rng, (N,), -2.0, 2.0, 0.5)
        dy = grid_array(rng, (N,), -1.0, 1.0, 0.1)
        require(float(np.std(x)) >= 0.3, "the batch has almost no spread")
        fwd = batchnorm_forward(x[:, None], [gamma], [beta], eps=EPS)
        grads = batchnorm_backward(x[:, None], [gamma], dy[:, None], eps=EPS)
        xh, dx = fwd.x_hat[:, 0], grads.dx[:, 0]
        dgamma, dbeta = float(grads.dgamma[0]), float(grads.dbeta[0])
        require(abs(dbeta) >= 0.05 and abs(dgamma) >= 0.05, "a parameter gradient is almost zero")
        require(float(np.min(np.abs(dx))) >= 5e-3, "an input gradient is almost zero")
        inv = 1.0 / np.sqrt(float(fwd.var[0]) + EPS)
        mu = float(fwd.mean[0])

        def mv(code: str, value: Any) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        quantities = {
            "x_hat": Quantity(
                "vector",
                tolist(xh),
                (mv("unbiased_variance", (x - mu) / np.std(x, ddof=1)), mv("forgot_std", x - mu)),
                label="x̂",
            ),
            # Σ dy: read from the given dy alone, no earlier answer
            "dbeta": Quantity("numeric", dbeta, (mv("mean_not_sum", dbeta / N),), label="∂L/∂β"),
            "dgamma": Quantity(
                "numeric",
                dgamma,
                (
                    mv("used_x_not_xhat", float(dy @ x)),
                    mv("forgot_std", float(dy @ (x - mu))),
                    mv("mean_not_sum", dgamma / N),
                ),
                recipe=op("dot", const(dy), ref("x_hat")),  # Σ dy_n x̂_n
                label="∂L/∂γ",
            ),
            "dx": Quantity(
                "vector",
                tolist(dx),
                (
                    mv("stats_constant", gamma * inv * dy),
                    mv("forgot_variance_path", gamma * inv * (dy - dy.mean())),
                    mv("forgot_mean_path", gamma * inv * (dy - xh * float((dy * xh).mean()))),
                ),
                # γ/(N√(σ²+ε)) (N dy − ∂L/∂β − x̂ ∂L/∂γ), written with the student's own
                # x̂, ∂L/∂β and ∂L/∂γ, as they would compute it (a skipped ∂L/∂γ is the
                # one their x̂ gives).
                recipe=mul(
                    const(gamma * inv / N),
                    op(
                        "sub",
                        op("sub", const(N * dy), ref("dbeta")),
                        mul(ref("x_hat"), ref("dgamma")),
                    ),
                ),
                label="∂L/∂x",
            ),
        }
        require_separated(quantities)
        A = fmt_array
        solution = "\n".join(
            [
                f"- $\\mu = {fmt(mu)}$, $\\sigma^2 = \\frac{{1}}{{{N}}}\\sum (x_n - \\mu)^2 = "
                f"{fmt(float(fwd.var[0]))}$ (biased), $1/\\sqrt{{\\sigma^2 + \\varepsilon}} = "
                f"{fmt(inv)}$",
                f"- $\\hat x = {A(xh)}$",
                f"- $\\partial L/\\partial \\beta = \\sum_n dy_n = {fmt(dbeta)}$",
                f"- $\\partial L/\\partial \\gamma = \\sum_n dy_n \\hat x_n = {fmt(dgamma)}$",
                "- $\\partial L/\\partial x_n = \\frac{\\gamma}{N\\sqrt{\\sigma^2+\\varepsilon}}"
                "\\big(N\\,dy_n - \\sum dy - \\hat x_n \\sum dy\\,\\hat x\\big)$: "
                f"$\\partial L/\\partial x = {A(dx)}$",
            ]
        )
        return FamilyOutput(quantities, {}, solution, drawn={"x": tolist(x), "dy": tolist(dy)})
