"""Debugging a backward pass: one line of a printed backward pass has a wrong factor.

The network x → z = w₁x + b₁ → h = σ(z) → y = w₂h + b₂ → L = ½(y − t)² is backpropagated
correctly by the engine (``MLP([1, 1, 1], ["sigmoid", "linear"], loss="half_sse")``); then a
real bug is injected into one line of the printed backward pass (a sign, the wrong weight,
σ instead of σ', the wrong input), and every later line computes from the wrong value, as buggy
code would. The student recomputes line by line and names the first line whose value does not
follow from its inputs, then gives that line's correct value.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.diagram import Edge
from grader.exercises.diagram import Node
from grader.exercises.diagram import network_svg
from grader.exercises.diagram import num
from grader.exercises.families._engine import MLP
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

#: (what the line computes, its rule in LaTeX)
LINES = (
    ("\\delta_y = \\partial L/\\partial y", "y - t"),
    ("\\partial L/\\partial w_2", "\\delta_y\\, h"),
    ("\\partial L/\\partial h", "\\delta_y\\, w_2"),
    ("\\delta_h = \\partial L/\\partial z", "\\frac{\\partial L}{\\partial h}\\, h(1-h)"),
    ("\\partial L/\\partial w_1", "\\delta_h\\, x"),
    ("\\partial L/\\partial b_1", "\\delta_h"),
)
#: the bug injected on each line, in words (for the worked solution)
BUGS = (
    "the sign is flipped: t − y",
    "it multiplies by x instead of h",
    "it multiplies by w₁ instead of w₂",
    "it multiplies by h = σ(z) instead of σ'(z) = h(1 − h)",
    "it multiplies by h instead of x",
)


def _backward(
    y: float, t: float, h: float, x: float, w1: float, w2: float, bug: int | None
) -> list[float]:
    """The six printed values, with the bug (if any) injected on line ``bug`` (0-based)."""
    rules: list[Callable[[list[float]], float]] = [
        lambda v: (t - y) if bug == 0 else (y - t),
        lambda v: v[0] * (x if bug == 1 else h),
        lambda v: v[0] * (w1 if bug == 2 else w2),
        lambda v: v[2] * (h if bug == 3 else h * (1 - h)),
        lambda v: v[3] * (h if bug == 4 else x),
        lambda v: v[3],
    ]
    values: list[float] = []
    for rule in rules:
        values.append(rule(values))
    return values


@register_family
class FindTheBug(Family):
    """Which printed line is wrong, and its right value."""

    name = "find_the_bug"
    description = "find the line of a printed backward pass that has a wrong factor"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "x": {"range": [-2, 2], "step": 0.5, "exclude": [0, 1, -1]},
        "t": {"range": [-1, 1], "step": 0.5},
        "w1": {"range": [-1.5, 1.5], "step": 0.1, "exclude": [0, 1, -1]},
        "b1": {"range": [-0.5, 0.5], "step": 0.1},
        "w2": {"range": [-2, 2], "step": 0.1, "exclude": [0, 1, -1]},
        "b2": {"range": [-0.5, 0.5], "step": 0.1},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The buggy line and its correct value."""
        codes = tuple(f"line_{k}" for k in range(1, 7))
        return {
            "bug_line": QuantityInfo("choice", codes, "the first wrong line"),
            "fixed_value": QuantityInfo("numeric", ("printed_value",), "that line's right value"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The forward values and the printed listing (Markdown)."""
        return ("h", "y", "listing")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Backpropagate with the engine, inject one bug, print the listing."""
        x, t, w1, b1, w2, b2 = as_floats(params, "x", "t", "w1", "b1", "w2", "b2")
        net = MLP([1, 1, 1], ["sigmoid", "linear"], loss="half_sse", weights=[[[w1]], [[w2]]],
                  biases=[[b1], [b2]])  # fmt: skip
        bp = net.backprop(np.array([[x]]), np.array([[t]]))
        z = float(bp.zs[0][0, 0])
        h, y = float(bp.activations[1][0, 0]), float(bp.activations[2][0, 0])
        require(abs(z) <= 2.5, "the sigmoid saturates")
        require(abs(y - t) >= 0.1, "the output is almost on target")
        right = _backward(y, t, h, x, w1, w2, None)
        engine = (
            bp.deltas[1][0, 0], bp.grads.weights[1][0, 0], None, bp.deltas[0][0, 0],
            bp.grads.weights[0][0, 0], bp.grads.biases[0][0],
        )  # fmt: skip
        for mine, theirs in zip(right, engine, strict=True):
            require(theirs is None or abs(mine - float(theirs)) < 1e-12, "engine disagreement")
        bug = int(rng.integers(len(BUGS)))
        printed = _backward(y, t, h, x, w1, w2, bug)
        require(
            abs(printed[bug] - right[bug]) > 0.05 * abs(right[bug]) + 1e-3, "the bug is invisible"
        )
        require(min(abs(v) for v in right) >= 5e-3, "a value is almost zero")
        letters = "ABCDEF"
        mistakes = []
        for k in range(6):
            if k == bug:
                continue
            fb = (
                f"Line {k + 1} is right: its value follows from correct inputs."
                if k < bug
                else f"Line {k + 1} follows correctly from the lines above it; its value is wrong "
                "only because an earlier line is."
            )
            mistakes.append(MistakeValue(f"line_{k + 1}", letters[k], fb))
        choices = tuple({"id": letters[k], "text": f"line {k + 1}"} for k in range(6))
        quantities = {
            "bug_line": Quantity("choice", letters[bug], tuple(mistakes), choices=choices),
            "fixed_value": Quantity(
                "numeric",
                right[bug],
                (
                    MistakeValue(
                        "printed_value",
                        printed[bug],
                        "That is the buggy line's printed value; recompute it from the rule.",
                    ),
                ),
            ),
        }
        require_separated(quantities)
        rows = ["| line | computes | rule | printed value |", "|---|---|---|---|"]
        for k, ((name, rule), value) in enumerate(zip(LINES, printed, strict=True)):
            rows.append(f"| {k + 1} | ${name}$ | ${rule}$ | {fmt(value, 6)} |")
        listing = "\n".join(rows)
        check_rows = [
            f"- line {k + 1}: ${LINES[k][0]} = {fmt(right[k], 6)}$"
            + (
                " (printed " + fmt(printed[k], 6) + ")"
                if abs(printed[k] - right[k]) > 1e-12
                else ""
            )
            for k in range(6)
        ]
        solution = "\n".join(
            [
                f"Forward: $z = {fmt(z)}$, $h = {fmt(h, 6)}$, $y = {fmt(y, 6)}$. Recomputing each "
                "line from the lines above it:",
                "",
                *check_rows,
                "",
                f"The first line that does not follow from its inputs is **line {bug + 1}**: "
                f"{BUGS[bug]}. Its right value is {fmt(right[bug], 6)}; every later line inherits "
                "the error.",
            ]
        )
        return FamilyOutput(
            quantities,
            {"h": h, "y": y, "listing": listing},
            solution,
            _diagram(x, t, w1, w2, h, y, right, False),
            _diagram(x, t, w1, w2, h, y, right, True),
        )


def _diagram(
    x: float, t: float, w1: float, w2: float, h: float, y: float, right: list[float],
    solution: bool,
) -> str:  # fmt: skip
    """The 1-1-1 network; the solution adds the right deltas and weight gradients."""
    layers = [
        [Node("x", x, kind="input")],
        [Node("h", h, delta=right[3])],
        [Node("y", y, kind="output", delta=right[0])],
    ]
    edges = [
        Edge((0, 0), (1, 0), f"w₁ = {num(w1, 3)}", right[4] if solution else None),
        Edge((1, 0), (2, 0), f"w₂ = {num(w2, 3)}", right[1] if solution else None),
    ]
    return network_svg(layers, edges, targets=[f"t = {num(t)}"], title="1-1-1 network",
                       solution=solution)  # fmt: skip
