"""Vanishing and exploding gradients through depth.

A chain of L scalar layers h_k = f(w h_{k−1}) from h_0 = x passes the gradient back as the
product ∂h_L/∂x = Π_k w f'(z_k): one factor w f'(z_k) per layer. With the bound
|w f'(z)| ≤ |w| max f' (sigmoid: max σ' = 1/4; tanh: 1), the gradient is at most r^D after D
layers, r = |w| max f'; the depth where that bound first falls below θ is the smallest D with
r^D < θ. A ReLU chain whose units are all active multiplies by w exactly, so it vanishes for
|w| < 1 and explodes for |w| > 1. Forward values from the engine's activations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.diagram import Edge
from grader.exercises.diagram import Node
from grader.exercises.diagram import network_svg
from grader.exercises.diagram import num
from grader.exercises.families._engine import ACTIVATIONS
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.common import ACT_LATEX
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated

MAX_PRIME = {"sigmoid": 0.25, "tanh": 1.0}
FB = {
    "forgot_weights": "Each layer contributes w · f'(z_k): the weight is part of the local "
    "derivative ∂h_k/∂h_{k−1}.",
    "forgot_activation_derivative": "Each layer also contributes f'(z_k), not just w.",
    "used_activation": "Multiply by the derivative f'(z_k), not by the activation f(z_k).",
    "off_by_one": "Find the smallest D with r^D below θ: at D − 1 the bound is still above it.",
    "regime": "Every active ReLU layer multiplies the gradient by exactly w.",
}
REGIMES = (
    ("vanishes", "It vanishes: it shrinks geometrically toward 0."),
    ("explodes", "It explodes: it grows geometrically."),
    ("stable", "It keeps its size: ReLU's derivative is 1, so nothing shrinks or grows."),
)


@register_family
class DepthGradients(Family):
    """The product of local derivatives through L layers, a depth bound and a ReLU regime."""

    name = "depth_gradients"
    description = "vanishing and exploding gradients: products of local derivatives through depth"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "f": {"choices": ["sigmoid", "tanh"]},
        "L": {"choices": [3, 4, 5]},
        "w": {"range": [-3, 3], "step": 0.1, "exclude": [0, 1, -1]},
        "x": {"range": [-2, 2], "step": 0.5, "exclude": [0, 1, -1]},
        "theta": {"choices": [0.01, 0.001, 0.0001]},
        "w_relu": {"choices": [0.5, 0.8, 0.9, 1.1, 1.25, 1.5, 2]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The product, the depth, the ReLU regime."""
        return {
            "product": QuantityInfo(
                "numeric",
                ("forgot_weights", "forgot_activation_derivative", "used_activation"),
                "∂h_L/∂x",
            ),
            "factor": QuantityInfo("numeric", (), "r = |w| max f'"),
            "depth": QuantityInfo("numeric", ("off_by_one",), "smallest D with r^D < θ"),
            "relu_regime": QuantityInfo("choice", tuple(c for c, _ in REGIMES), "ReLU chain"),
        }

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Run the chain forward, multiply the local derivatives, find the depth."""
        f = str(params["f"])
        L = int(params["L"])
        w, x, theta, w_relu = as_floats(params, "w", "x", "theta", "w_relu")
        act = ACTIVATIONS[f]
        zs, hs, primes = [], [x], []
        for _ in range(L):
            z = np.array([w * hs[-1]])
            zs.append(float(z[0]))
            a = act.forward(z)
            hs.append(float(a[0]))
            assert act.derivative is not None  # sigmoid and tanh are elementwise
            primes.append(float(act.derivative(z, a)[0]))
        require(all(abs(z) <= 2.5 for z in zs), "a layer saturates")
        require(all(abs(z) >= 0.1 for z in zs), "a pre-activation is almost 0 (f' at its maximum)")
        product = math.prod(w * p for p in primes)
        require(abs(product) >= 2e-3, "the product rounds to zero")
        r = abs(w) * MAX_PRIME[f]
        require(0.2 <= r <= 0.8, "the bound factor is not clearly below 1")
        depth = math.floor(math.log(theta) / math.log(r)) + 1  # smallest D with r^D < theta
        require(r ** (depth - 1) > theta * 1.02 and r**depth < theta * 0.98, "a bound sits on θ")

        def mv(code: str, value: float) -> MistakeValue:
            return MistakeValue(code, float(value), FB[code])

        regime = 0 if w_relu < 1 else 1
        letters = "ABC"
        order = [int(i) for i in rng.permutation(3)]
        pos = {o: letters[p] for p, o in enumerate(order)}
        quantities = {
            "product": Quantity(
                "numeric",
                product,
                (
                    mv("forgot_weights", math.prod(primes)),
                    mv("forgot_activation_derivative", w**L),
                    mv("used_activation", math.prod(w * h for h in hs[1:])),
                ),
                label="∂h_L/∂x",
            ),
            # No recipe for the depth: it is floor(log θ / log r) + 1, a step function of r
            # that most wrong r leave unchanged (and a wrong r ≤ 0 or ≥ 1 has no depth).
            "factor": Quantity("numeric", r, label="r"),
            "depth": Quantity(
                "numeric",
                float(depth),
                (mv("off_by_one", depth - 1),),
                check={"mode": "absolute", "atol": 0.1},
                label="the depth D",
            ),
            "relu_regime": Quantity(
                "choice",
                pos[regime],
                tuple(
                    MistakeValue(REGIMES[i][0], pos[i], FB["regime"])
                    for i in range(3)
                    if i != regime
                ),
                choices=tuple(
                    {"id": letters[p], "text": REGIMES[o][1]} for p, o in enumerate(order)
                ),
                label="the ReLU chain's gradient",
            ),
        }
        require_separated(quantities)
        fl = ACT_LATEX[f]
        rows = [
            f"- layer {k + 1}: $z_{k + 1} = w h_{k} = {fmt(zs[k])}$, $h_{k + 1} = {fl}(z_{k + 1}) "
            "= "
            f"{fmt(hs[k + 1])}$, local derivative $w\\,{fl}'(z_{k + 1}) = {fmt(w * primes[k])}$"
            for k in range(L)
        ]
        solution = "\n".join(
            [
                *rows,
                f"- product: $\\partial h_{L}/\\partial x = {fmt(product)}$",
                f"- bound per layer: $r = |w| \\max {fl}' = {fmt(r)}$; $r^{{{depth - 1}}} = "
                f"{fmt(r ** (depth - 1))} \\ge \\theta$ and $r^{{{depth}}} = {fmt(r**depth)} < "
                f"\\theta$, so $D = {depth}$",
                f"- ReLU chain: every active layer multiplies by $w = {fmt(w_relu)}$: after 50 "
                "layers "
                f"${fmt(w_relu)}^{{50}} = {fmt(w_relu**50)}$, so it **{REGIMES[regime][0]}** "
                f"(**{pos[regime]}**).",
            ]
        )
        return FamilyOutput(
            quantities,
            {},
            solution,
            _diagram(L, w, x, hs, primes, False),
            _diagram(L, w, x, hs, primes, True),
        )


def _diagram(
    L: int, w: float, x: float, hs: list[float], primes: list[float], solution: bool
) -> str:
    layers = [[Node("x", x, kind="input")]]
    sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    layers += [
        [Node(f"h{k + 1}".translate(sub), hs[k + 1], kind="output" if k == L - 1 else "unit")]
        for k in range(L)
    ]
    # each edge's number is its layer's local derivative w f'(z_k), not a loss gradient
    edges = [
        Edge(
            (k, 0),
            (k + 1, 0),
            f"w = {num(w, 3)}",
            w * primes[k] if solution else None,
            grad_name="w f′",
        )
        for k in range(L)
    ]
    return network_svg(layers, edges, title=f"a chain of {L} layers", solution=solution)
