"""Family 6: backpropagation in matrix form for a 2-3-2 sigmoid network.

With C = ½‖a² − y‖²: δ² = ∇_a C ⊙ σ'(z²), δ¹ = (W²)ᵀ δ² ⊙ σ'(z¹), ∂C/∂W² = δ² (a¹)ᵀ,
∂C/∂W¹ = δ¹ xᵀ, ∂C/∂b = δ. Every number comes from the engine's ``MLP.backprop``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.diagram import Edge
from grader.exercises.diagram import Node
from grader.exercises.diagram import network_geometry
from grader.exercises.diagram import network_svg
from grader.exercises.diagram import num
from grader.exercises.families._engine import MLP
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
from grader.exercises.graph import Field
from grader.exercises.graph import GraphLayout
from grader.exercises.graph import GraphNode
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref

FB = {
    "forgot_activation_derivative": "δ is the error times σ'(z) of that layer (⊙ σ'(z)).",
    "forgot_output_derivative": "δ² already includes σ'(z²); back-propagate δ², "
    "not the raw error a² − y.",
    "sign_flipped": "∇_a C = a − y for C = ½‖a − y‖², not y − a.",
    "transposed": "∂C/∂W has the shape of W: rows are the layer's units, so it is δ aᵀ.",
    "used_wrong_activation": "∂C/∂W² uses the activations feeding W², i.e. a¹, not x.",
    "forgot_bias": "The pre-activation includes the bias: z = W a + b.",
    "forgot_activation": "A layer's activations are σ of its pre-activations: a = σ(z).",
}


def sig_prime(z: np.ndarray) -> np.ndarray:
    """σ'(z) for the mistakes (the key itself comes from the engine)."""
    s = 1.0 / (1.0 + np.exp(-z))
    return s * (1.0 - s)


@register_family
class MatrixDeltas(Family):
    """δ², δ¹ and the weight gradients of a 2-3-2 sigmoid network."""

    name = "matrix_deltas"
    description = "matrix form: deltas and weight gradients for a 2-3-2 network"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Deltas (vectors) and gradients (matrices)."""
        return {
            "delta_out": QuantityInfo(
                "vector", ("forgot_activation_derivative", "sign_flipped"), "δ²"
            ),
            "delta_hidden": QuantityInfo(
                "vector",
                ("forgot_activation_derivative", "forgot_output_derivative", "sign_flipped"),
                "δ¹",
            ),
            "grad_W2": QuantityInfo(
                "matrix",
                ("transposed", "forgot_activation_derivative", "sign_flipped"),
                "∂C/∂W²",
            ),
            "grad_W1": QuantityInfo(
                "matrix", ("transposed", "forgot_activation_derivative", "sign_flipped"), "∂C/∂W¹"
            ),
            "grad_b2": QuantityInfo("vector", ("sign_flipped",), "∂C/∂b²"),
            "output": QuantityInfo("vector", ("forgot_bias", "forgot_activation"), "a²"),
            "hidden": QuantityInfo("vector", ("forgot_bias", "forgot_activation"), "a¹"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The drawn arrays (LaTeX in prompts)."""
        return ("x", "y", "W1", "b1", "W2", "b2")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw the network, backpropagate with the engine, derive the mistakes."""
        x = grid_array(rng, (2,), -1.0, 1.0)
        W1 = grid_array(rng, (3, 2), -1.0, 1.0)
        b1 = grid_array(rng, (3,), -0.5, 0.5, nonzero=False)
        W2 = grid_array(rng, (2, 3), -1.5, 1.5)
        b2 = grid_array(rng, (2,), -0.5, 0.5, nonzero=False)
        y = rng.integers(0, 2, size=2).astype(float)
        net = MLP(
            [2, 3, 2], ["sigmoid", "sigmoid"], loss="half_sse", weights=[W1, W2], biases=[b1, b2]
        )
        bp = net.backprop(x[None, :], y[None, :])
        z1, z2 = bp.zs[0][0], bp.zs[1][0]
        a1, a2 = bp.activations[1][0], bp.activations[2][0]
        require(bool(np.all(np.abs(z1) <= 3) and np.all(np.abs(z2) <= 3)), "a sigmoid saturates")
        d2, d1 = bp.deltas[1][0], bp.deltas[0][0]
        gW2, gW1 = bp.grads.weights[1], bp.grads.weights[0]
        require(float(np.min(np.abs(d1))) >= 2e-3, "a hidden delta is almost zero")
        require(float(np.min(np.abs(gW1))) >= 2e-3, "a gradient entry is almost zero")
        err = a2 - y
        d1_no_out = (W2.T @ err) * sig_prime(z1)

        def mv(code: str, value: np.ndarray) -> MistakeValue:
            return MistakeValue(code, tolist(value), FB[code])

        quantities = {
            "delta_out": Quantity(
                "vector",
                tolist(d2),
                (mv("forgot_activation_derivative", err), mv("sign_flipped", -d2)),
                # δ² = (a² − y) ⊙ a²(1 − a²): follows from the student's a²
                recipe=mul(
                    add(ref("output"), const(-y)),
                    ref("output"),
                    add(const(1.0), op("neg", ref("output"))),
                ),
                label="δ (output)",
            ),
            "delta_hidden": Quantity(
                "vector",
                tolist(d1),
                (
                    mv("forgot_activation_derivative", W2.T @ d2),
                    mv("forgot_output_derivative", d1_no_out),
                    mv("sign_flipped", -d1),
                ),
                # δ¹ = (W²ᵀ δ²) ⊙ σ'(z¹): follows from δ² (follow-through)
                recipe=mul(op("matmul", const(W2.T), ref("delta_out")), const(sig_prime(z1))),
                label="δ (hidden)",
            ),
            "grad_W2": Quantity(
                "matrix",
                tolist(gW2),
                (
                    mv("transposed", gW2.T),
                    mv("forgot_activation_derivative", np.outer(err, a1)),
                    mv("sign_flipped", -gW2),
                ),
                recipe=op("outer", ref("delta_out"), ref("hidden")),
                label="∂L/∂W²",
            ),
            "grad_W1": Quantity(
                "matrix",
                tolist(gW1),
                (
                    mv("transposed", gW1.T),
                    mv("forgot_activation_derivative", np.outer(W2.T @ d2, x)),
                    mv("sign_flipped", -gW1),
                ),
                recipe=op("outer", ref("delta_hidden"), const(x)),
                label="∂L/∂W¹",
            ),
            "grad_b2": Quantity(
                "vector",
                tolist(bp.grads.biases[1]),
                (mv("sign_flipped", -d2),),
                recipe=ref("delta_out"),
                label="∂L/∂b²",
            ),
            "hidden": Quantity("vector", tolist(a1), forward_mistakes(W1 @ x, b1, z1), label="a¹"),
            "output": Quantity(
                "vector",
                tolist(a2),
                forward_mistakes(W2 @ a1, b2, z2),
                # a² = σ(W² a¹ + b²): follows from a¹ (follow-through)
                recipe=op("sigmoid", add(op("matmul", const(W2), ref("hidden")), const(b2))),
                label="a²",
            ),
        }
        A = fmt_array
        solution = "\n".join(
            [
                "**Forward pass**",
                "",
                f"- $z^1 = W^1 x + b^1 = {A(z1)}$, $a^1 = \\sigma(z^1) = {A(a1)}$",
                f"- $z^2 = W^2 a^1 + b^2 = {A(z2)}$, $a^2 = \\sigma(z^2) = {A(a2)}$",
                "",
                "**Backward pass** ($\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))$)",
                "",
                f"- $\\nabla_a C = a^2 - y = {A(err)}$, $\\sigma'(z^2) = {A(sig_prime(z2))}$",
                f"- $\\delta^2 = \\nabla_a C \\odot \\sigma'(z^2) = {A(d2)}$",
                f"- $(W^2)^T \\delta^2 = {A(W2.T @ d2)}$, $\\sigma'(z^1) = {A(sig_prime(z1))}$",
                f"- $\\delta^1 = (W^2)^T \\delta^2 \\odot \\sigma'(z^1) = {A(d1)}$",
                f"- $\\frac{{\\partial C}}{{\\partial W^2}} = \\delta^2 (a^1)^T = {A(gW2)}$",
                f"- $\\frac{{\\partial C}}{{\\partial W^1}} = \\delta^1 x^T = {A(gW1)}$",
                "- $\\frac{\\partial C}{\\partial b^2} = \\delta^2$, "
                "$\\frac{\\partial C}{\\partial b^1} = \\delta^1$",
            ]
        )
        drawn = {
            "x": tolist(x), "y": tolist(y), "W1": tolist(W1), "b1": tolist(b1),
            "W2": tolist(W2), "b2": tolist(b2),
        }  # fmt: skip
        return FamilyOutput(
            quantities,
            {},
            solution,
            _diagram(x, y, W1, W2, a1, a2, d1, d2, False),
            _diagram(x, y, W1, W2, a1, a2, d1, d2, True),
            drawn=drawn,
            graph=graph_layout(_layers(x, a1, a2, d1, d2)),
        )


def forward_mistakes(wa: np.ndarray, b: np.ndarray, z: np.ndarray) -> tuple[MistakeValue, ...]:
    """The forward-pass slips of a = σ(W a + b) that give other numbers here."""
    out = [MistakeValue("forgot_activation", tolist(z), FB["forgot_activation"])]
    if np.any(b != 0):
        out.insert(0, MistakeValue("forgot_bias", tolist(1 / (1 + np.exp(-wa))), FB["forgot_bias"]))
    return tuple(out)


def graph_layout(layers: list[list[Node]]) -> GraphLayout:
    """The layers as nodes, output first: a², W², a¹, W¹, then the input x."""
    geo = network_geometry(layers, has_targets=True)

    def units(layer: int) -> tuple[tuple[float, float], ...]:
        return tuple(geo.pos[(layer, i)] for i in range(len(layers[layer])))

    def weights(layer: int) -> tuple[tuple[float, float], ...]:
        return tuple(
            geo.edge_label_at((layer - 1, i), (layer, j))
            for j in range(len(layers[layer]))
            for i in range(len(layers[layer - 1]))
        )

    return GraphLayout(
        geo.width,
        geo.height,
        (
            GraphNode(
                "a2",
                "a² (output layer)",
                units(2),
                forward=Field("forward", "output", "a²"),
                gradient=Field("gradient", "delta_out", "δ² = ∂C/∂z²"),
            ),
            GraphNode(
                "W2",
                "W²",
                weights(2),
                radius=12.0,
                gradient=Field("gradient", "grad_W2", "∂C/∂W²"),
                also=(Field("also", "grad_b2", "∂C/∂b²"),),
                known="W² and b² are given",
            ),
            GraphNode(
                "a1",
                "a¹ (hidden layer)",
                units(1),
                forward=Field("forward", "hidden", "a¹"),
                gradient=Field("gradient", "delta_hidden", "δ¹ = ∂C/∂z¹"),
            ),
            GraphNode(
                "W1",
                "W¹",
                weights(1),
                radius=12.0,
                gradient=Field("gradient", "grad_W1", "∂C/∂W¹"),
                known="W¹ and b¹ are given",
            ),
            GraphNode("x", "x (input)", units(0), known="x is given"),
        ),
    )


def _layers(
    x: np.ndarray, a1: np.ndarray, a2: np.ndarray, d1: np.ndarray, d2: np.ndarray
) -> list[list[Node]]:
    return [
        [Node(f"x{'₁₂'[i]}", float(x[i]), kind="input") for i in range(2)],
        [Node(f"a¹{'₁₂₃'[j]}", float(a1[j]), delta=float(d1[j])) for j in range(3)],
        [Node(f"a²{'₁₂'[k]}", float(a2[k]), kind="output", delta=float(d2[k])) for k in range(2)],
    ]


def _diagram(
    x: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    W2: np.ndarray,
    a1: np.ndarray,
    a2: np.ndarray,
    d1: np.ndarray,
    d2: np.ndarray,
    solution: bool,
) -> str:
    """The network with its weights; the solution adds activations and deltas per unit
    (per-edge gradients would crowd a dense drawing: they are δ times the input)."""
    layers = _layers(x, a1, a2, d1, d2)
    edges = [Edge((0, i), (1, j), num(float(W1[j, i]), 3)) for j in range(3) for i in range(2)]
    edges += [Edge((1, j), (2, k), num(float(W2[k, j]), 3)) for k in range(2) for j in range(3)]
    targets = [f"y{'₁₂'[k]} = {num(float(y[k]))}" for k in range(2)]
    return network_svg(layers, edges, targets=targets, title="2-3-2 network", solution=solution)
