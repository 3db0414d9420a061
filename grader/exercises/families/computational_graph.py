"""A computational graph in the cs231n style: gates, a max, a sigmoid and a fan-out.

    q = x · y      (multiply gate)
    m = max(q, w)  (max gate: routes the gradient to the larger input only)
    s = σ(m)       (sigmoid gate: local derivative s (1 − s))
    p = x + z      (add gate: passes the gradient unchanged)
    f = s · p      (multiply gate: each input gets the other one times the upstream gradient)

x fans out into q and p, so ∂f/∂x is the SUM of the gradients arriving along both branches.
Values and gradients are computed by walking the graph (forward, then backward in reverse
topological order); the tests check them against PyTorch autograd.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.diagram import num
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.common import act
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.common import pfmt
from grader.exercises.families.registry import register_family
from grader.exercises.families.separation import require_separated
from grader.exercises.graph import Field
from grader.exercises.graph import GraphLayout
from grader.exercises.graph import GraphNode
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import ref

FB = {
    "one_branch_only": "x feeds two gates: the gradients arriving along both branches ADD at "
    "the fork.",
    "other_branch_only": "x feeds two gates: add the gradient through q = x·y to the one "
    "through p = x + z.",
    "used_sigmoid_not_derivative": "The sigmoid gate's local derivative is σ(m)(1 − σ(m)), not "
    "σ(m).",
    "forgot_sigmoid_derivative": "Multiply by the sigmoid gate's local derivative σ(m)(1 − σ(m)).",
    "max_to_both": "A max gate routes the whole gradient to the input that won; the other gets 0.",
    "used_own_input": "A multiply gate gives each input the OTHER input times the upstream "
    "gradient.",
    "routed_to_loser": "A max gate routes the whole gradient to the input that won (here q).",
}


def _build_graph(x: float, y: float, z: float, w: float) -> dict[str, float]:
    q = x * y
    m = max(q, w)
    s = act("sigmoid", m)
    p = x + z
    f = s * p
    df_ds, df_dp = p, s
    df_dm = df_ds * s * (1 - s)
    df_dq = df_dm if q > w else 0.0
    df_dw = df_dm if w > q else 0.0
    df_dx = df_dq * y + df_dp
    return {
        "q": q, "m": m, "s": s, "p": p, "f": f, "df_ds": df_ds, "df_dp": df_dp,
        "df_dm": df_dm, "df_dq": df_dq, "df_dw": df_dw, "df_dx": df_dx,
        "df_dy": df_dq * x, "df_dz": df_dp,
    }  # fmt: skip


@register_family
class ComputationalGraph(Family):
    """Forward values and gradients at every node of a small gate graph with a fan-out."""

    name = "computational_graph"
    description = "forward and backward through a gate graph with max, sigmoid and a fan-out"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "x": {"range": [-2, 2], "step": 0.5, "exclude": [0, 1, -1]},
        "y": {"range": [-2, 2], "step": 0.5, "exclude": [0, 1, -1]},
        "z": {"range": [-2, 2], "step": 0.5, "exclude": [0]},
        "w": {"range": [-2, 2], "step": 0.5},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """f and the gradient at m, w, x, y, z."""
        return {
            "f": QuantityInfo("numeric", (), "f"),
            "df_dm": QuantityInfo(
                "numeric", ("used_sigmoid_not_derivative", "forgot_sigmoid_derivative"), "∂f/∂m"
            ),
            "df_dw": QuantityInfo("numeric", ("max_to_both",), "∂f/∂w"),
            "df_dx": QuantityInfo("numeric", ("one_branch_only", "other_branch_only"), "∂f/∂x"),
            "df_dy": QuantityInfo("numeric", ("used_own_input",), "∂f/∂y"),
            "df_dz": QuantityInfo("numeric", ("forgot_sigmoid_derivative",), "∂f/∂z"),
            "df_ds": QuantityInfo("numeric", ("used_own_input",), "∂f/∂s"),
            "df_dp": QuantityInfo("numeric", ("used_own_input",), "∂f/∂p"),
            "df_dq": QuantityInfo("numeric", ("routed_to_loser",), "∂f/∂q"),
        }

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Walk the graph; the max must pick q (so x really fans out) by a clear margin."""
        x, y, z, w = as_floats(params, "x", "y", "z", "w")
        g = _build_graph(x, y, z, w)
        require(g["q"] > w + 0.25, "the max gate should route to q by a clear margin")
        require(abs(g["m"]) <= 3.0, "the sigmoid saturates")
        require(abs(g["p"]) >= 0.5, "x + z is almost zero")
        s, p = g["s"], g["p"]

        def mv(code: str, value: float) -> MistakeValue:
            return MistakeValue(code, float(value), FB[code])

        # Each gradient follows from the one flowing into its gate (follow-through from the
        # student's own upstream values): df/dm from df/ds, df/dq from df/dm (the max routes
        # to q, required above), df/dy and the multiply branch of df/dx from df/dq, df/dz
        # and the add branch of df/dx from df/dp. A student who skips df/dq still carries
        # their df/dm forward through it (``follow.implied``). df/dw = 0 follows nothing.
        quantities = {
            "f": Quantity("numeric", g["f"], label="f"),
            "df_ds": Quantity("numeric", g["df_ds"], (mv("used_own_input", s),), label="∂f/∂s"),
            "df_dp": Quantity("numeric", g["df_dp"], (mv("used_own_input", p),), label="∂f/∂p"),
            "df_dm": Quantity(
                "numeric",
                g["df_dm"],
                (mv("used_sigmoid_not_derivative", p * s), mv("forgot_sigmoid_derivative", p)),
                recipe=mul(ref("df_ds"), const(s * (1 - s))),
                label="∂f/∂m",
            ),
            "df_dq": Quantity(
                "numeric",
                g["df_dq"],
                (mv("routed_to_loser", 0.0),),
                recipe=ref("df_dm"),
                label="∂f/∂q",
            ),
            "df_dw": Quantity(
                "numeric", g["df_dw"], (mv("max_to_both", g["df_dm"]),), label="∂f/∂w"
            ),
            "df_dx": Quantity(
                "numeric",
                g["df_dx"],
                (mv("one_branch_only", g["df_dq"] * y), mv("other_branch_only", g["df_dp"])),
                recipe=add(mul(const(y), ref("df_dq")), ref("df_dp")),
                label="∂f/∂x",
            ),
            "df_dy": Quantity(
                "numeric",
                g["df_dy"],
                (mv("used_own_input", g["df_dq"] * y),),
                recipe=mul(const(x), ref("df_dq")),
                label="∂f/∂y",
            ),
            "df_dz": Quantity(
                "numeric",
                g["df_dz"],
                (mv("forgot_sigmoid_derivative", s * (1 - s)),),
                recipe=ref("df_dp"),
                label="∂f/∂z",
            ),
        }
        require(abs(g["df_dx"]) >= 0.01 and abs(g["df_dy"]) >= 0.01, "a gradient is almost zero")
        require_separated(quantities)
        solution = "\n".join(
            [
                "**Forward pass**",
                "",
                f"- $q = x y = {fmt(x)} \\cdot {pfmt(y)} = {fmt(g['q'])}$",
                f"- $m = \\max(q, w) = \\max({fmt(g['q'])}, {fmt(w)}) = {fmt(g['m'])}$ (q wins)",
                f"- $s = \\sigma(m) = {fmt(s)}$",
                f"- $p = x + z = {fmt(x)} + {pfmt(z)} = {fmt(p)}$",
                f"- $f = s\\,p = {fmt(g['f'])}$",
                "",
                "**Backward pass** (start with $\\partial f/\\partial f = 1$)",
                "",
                f"- multiply gate: $\\partial f/\\partial s = p = {fmt(p)}$, "
                f"$\\partial f/\\partial p = s = {fmt(s)}$",
                f"- sigmoid gate: $\\partial f/\\partial m = p \\cdot s(1-s) = {fmt(g['df_dm'])}$",
                f"- max gate: $\\partial f/\\partial q = {fmt(g['df_dq'])}$ (q won), "
                "$\\partial f/\\partial w = 0$",
                "- add gate: $\\partial f/\\partial z = \\partial f/\\partial p = "
                f"{fmt(g['df_dz'])}$",
                f"- multiply gate: $\\partial f/\\partial y = x\\,\\partial f/\\partial q = "
                f"{fmt(g['df_dy'])}$",
                "- fan-out at x (gradients add): $\\partial f/\\partial x = y\\,\\partial "
                "f/\\partial q "
                f"+ \\partial f/\\partial p = {fmt(g['df_dq'] * y)} + {pfmt(g['df_dp'])} = "
                f"{fmt(g['df_dx'])}$",
            ]
        )
        return FamilyOutput(
            quantities,
            {},
            solution,
            graph_svg(g, (x, y, z, w), solution=False),
            graph_svg(g, (x, y, z, w), solution=True),
            graph=graph_layout(g, (x, y, z, w)),
        )


#: node id -> (label, column, row); inputs in column 0
_NODES = {
    "x": ("x", 0, 1.0), "y": ("y", 0, 0.0), "w": ("w", 0, 2.0), "z": ("z", 0, 3.0),
    "q": ("×", 1, 0.5), "p": ("+", 1, 2.6), "m": ("max", 2, 1.1), "s": ("σ", 3, 1.1),
    "f": ("×", 4, 1.8),
}  # fmt: skip
_EDGES = [("x", "q"), ("y", "q"), ("q", "m"), ("w", "m"), ("m", "s"), ("x", "p"), ("z", "p"),
          ("s", "f"), ("p", "f")]  # fmt: skip
_GRAD = {"x": "df_dx", "y": "df_dy", "z": "df_dz", "w": "df_dw", "q": "df_dq", "p": "df_dp",
         "m": "df_dm", "s": "df_ds"}  # fmt: skip


_COL, _ROWH, _PAD = 150, 70, 40
#: the gates in backward order (output first), then the inputs, each with how a screen
#: reader names its gradient
_BACKWARD = ("f", "s", "p", "m", "q", "w", "z", "y", "x")
_NAMES = {"f": "f = s·p", "s": "s = σ(m)", "p": "p = x + z", "m": "m = max(q, w)",
          "q": "q = x·y", "w": "w", "z": "z", "y": "y", "x": "x"}  # fmt: skip


def _positions() -> dict[str, tuple[float, float]]:
    return {k: (_PAD + 20 + c * _COL, _PAD + r * _ROWH) for k, (_, c, r) in _NODES.items()}


def _size() -> tuple[float, float]:
    return float(_PAD * 2 + 4 * _COL + 80), float(_PAD * 2 + 3 * _ROWH + 30)


def graph_layout(g: Mapping[str, float], inputs: tuple[float, float, float, float]) -> GraphLayout:
    """Every gate and input, output first; forward values are given on the wires (the
    plain diagram shows them) except f, which is asked."""
    values = {"x": inputs[0], "y": inputs[1], "z": inputs[2], "w": inputs[3], **g}
    pos = _positions()
    nodes = []
    for k in _BACKWARD:
        forward = Field("forward", "f", "f") if k == "f" else None
        gradient = None if k == "f" else Field("gradient", f"df_d{k}", f"∂f/∂{k}")
        nodes.append(
            GraphNode(
                k,
                _NAMES[k],
                (pos[k],),
                radius=22.0,
                forward=forward,
                gradient=gradient,
                known="∂f/∂f = 1" if k == "f" else f"{k} = {num(values[k], 3)}",
            )
        )
    width, height = _size()
    return GraphLayout(width, height, tuple(nodes))


def graph_svg(
    g: Mapping[str, float], inputs: tuple[float, float, float, float], solution: bool
) -> str:
    """The gate graph; forward values above each wire, gradients below in the solution."""
    values = {"x": inputs[0], "y": inputs[1], "z": inputs[2], "w": inputs[3], **g}
    pad = _PAD
    pos = _positions()
    width, height = (int(v) for v in _size())
    esc = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
        f'width="{width}" height="{height:.0f}" role="img" aria-label="computational graph" '
        'font-family="sans-serif" font-size="13">'
    ]
    for a, b in _EDGES:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        out.append(
            f'<line x1="{x1 + 18}" y1="{y1:.0f}" x2="{x2 - 18}" y2="{y2:.0f}" stroke="#555" '
            'stroke-width="1.5"/>'
        )
        frac = 0.72 if (a, b) == ("x", "p") else 0.5  # keep the fork's labels apart
        mx, my = x1 + frac * (x2 - x1), y1 + frac * (y2 - y1)
        out.append(f'<text x="{mx:.0f}" y="{my - 6:.0f}" text-anchor="middle" fill="#1a5">'
                   f"{esc(num(values[a], 3))}</text>")  # fmt: skip
        if solution and a in _GRAD and not (a == "x" and b == "p"):
            grad = g["df_dq"] * values["y"] if (a, b) == ("x", "q") else g[_GRAD[a]]
            out.append(f'<text x="{mx:.0f}" y="{my + 16:.0f}" text-anchor="middle" fill="#b22">'
                       f"{esc(num(grad, 3))}</text>")  # fmt: skip
        elif solution and (a, b) == ("x", "p"):
            out.append(f'<text x="{mx:.0f}" y="{my + 16:.0f}" text-anchor="middle" fill="#b22">'
                       f"{esc(num(g['df_dp'], 3))}</text>")  # fmt: skip
    for k, (label, c, _) in _NODES.items():
        x0, y0 = pos[k]
        shape = "circle" if c else "rect"
        if shape == "circle":
            out.append(f'<circle cx="{x0}" cy="{y0:.0f}" r="18" fill="#fff" stroke="#333"/>')
        else:
            out.append(f'<rect x="{x0 - 18}" y="{y0 - 14:.0f}" width="36" height="28" rx="4" '
                       'fill="#eef" stroke="#333"/>')  # fmt: skip
        out.append(f'<text x="{x0}" y="{y0 + 5:.0f}" text-anchor="middle">{esc(label)}</text>')
        if solution and not c:  # an input's total gradient (at x: the sum of both branches)
            out.append(
                f'<text x="{x0}" y="{y0 + 28:.0f}" text-anchor="middle" fill="#b22" '
                f'font-weight="bold">{esc(num(g[_GRAD[k]], 3))}</text>'
            )
    fx, fy = pos["f"]
    if solution:  # f is asked: the plain diagram must not give it away
        out.append(
            f'<text x="{fx + 26}" y="{fy + 5:.0f}" fill="#1a5">f = {esc(num(g["f"], 4))}</text>'
        )
    if solution:
        legend = "red: ∂f/∂(wire); bold under an input: its total gradient; green: forward values"
        out.append(f'<text x="{pad}" y="{height - 8:.0f}" fill="#b22">{esc(legend)}</text>')
    out.append("</svg>")
    return "\n".join(out)
