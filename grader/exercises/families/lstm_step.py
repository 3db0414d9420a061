"""One LSTM cell step backward, on scalars.

a_k = w_k x + u_k h + b_k for the gates k = i, f, g, o; i, f, o = σ(a), g = tanh(a_g);
c' = f c + i g, h' = o tanh(c'). Given dL/dh' (and no gradient arriving at c' directly):
dL/dc' = dL/dh' · o · (1 − tanh²c'), dL/dc = dL/dc' · f (the forget gate is the cell's
"gradient highway"), dL/da_f = dL/dc' · c · f(1 − f), dL/da_o = dL/dh' · tanh c' · o(1 − o).
Numbers from the engine's ``lstm_cell_steps``/``lstm_cell_backward`` (torch.nn.LSTMCell's
equations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import lstm_cell_backward
from grader.exercises.families._engine import lstm_cell_steps
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
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref

GATES = ("i", "f", "g", "o")
FB = {
    "forgot_forget_gate": "The old cell state is multiplied by the forget gate: c' = f c + i g.",
    "forgot_tanh": "The output is h' = o · tanh(c'), not o · c'.",
    "forgot_tanh_derivative": "h' = o tanh(c'): the path from h' to c' passes tanh', "
    "1 − tanh²(c').",
    "forgot_output_gate": "h' = o tanh(c'): the path from h' to c' is scaled by o.",
    "skipped_forget_gate": "c' = f c + i g, so ∂c'/∂c = f.",
    "forgot_sigmoid_derivative": "The gate is σ(a): multiply by σ'(a) = σ(a)(1 − σ(a)).",
    "used_new_cell": "∂c'/∂f = c, the OLD cell state.",
}


@register_family
class LSTMStep(Family):
    """Forward c', h' and the backward gradients of one scalar LSTM step."""

    name = "lstm_step"
    description = "one LSTM cell step backward on scalars"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "x": {"range": [-1, 1], "step": 0.1, "exclude": [0, 1, -1]},
        "h": {"range": [-0.9, 0.9], "step": 0.1, "exclude": [0]},
        "c": {"range": [-1.5, 1.5], "step": 0.1, "exclude": [0, 1, -1]},
        "dh": {"range": [-2, 2], "step": 0.5, "exclude": [0, 1, -1]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """c', h', dL/dc', dL/dc, dL/da_f, dL/da_o."""
        return {
            "c_new": QuantityInfo("numeric", ("forgot_forget_gate",), "c'"),
            "h_new": QuantityInfo("numeric", ("forgot_tanh",), "h'"),
            "dc_new": QuantityInfo(
                "numeric", ("forgot_tanh_derivative", "forgot_output_gate"), "∂L/∂c'"
            ),
            "dc": QuantityInfo(
                "numeric", ("skipped_forget_gate", "forgot_tanh_derivative"), "∂L/∂c"
            ),
            "da_f": QuantityInfo(
                "numeric", ("forgot_sigmoid_derivative", "used_new_cell"), "∂L/∂a_f"
            ),
            "da_o": QuantityInfo("numeric", ("forgot_sigmoid_derivative",), "∂L/∂a_o"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """Gate weights (w_k, u_k, b_k) and the gate table (Markdown)."""
        return ("gate_table",)

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Draw gate weights; the engine computes the step and its gradients."""
        x, h, c, dh = as_floats(params, "x", "h", "c", "dh")
        W = grid_array(rng, (4, 1), -1.5, 1.5, 0.1)
        U = grid_array(rng, (4, 1), -1.5, 1.5, 0.1)
        b = grid_array(rng, (4,), -0.5, 0.5, 0.1, nonzero=False)
        st = lstm_cell_steps([x], [h], [c], W, U, b)
        i, f, g, o = (float(v[0, 0]) for v in (st.i, st.f, st.g, st.o))
        c2, h2 = float(st.c_new[0, 0]), float(st.h_new[0, 0])
        a = W[:, 0] * x + U[:, 0] * h + b
        require(bool(np.all(np.abs(a) <= 2.5)), "a gate saturates")
        require(bool(np.all(np.abs(a) >= 0.1)), "a gate pre-activation is almost 0")
        gr = lstm_cell_backward([x], [h], [c], W, U, b, [dh])
        dc_new = float(gr.dc_total[0])
        dc = float(gr.c[0])
        da_f, da_o = float(gr.gates[1]), float(gr.gates[3])
        tc = math.tanh(c2)

        def mv(code: str, value: float) -> MistakeValue:
            return MistakeValue(code, float(value), FB[code])

        # Follow-through: h', ∂L/∂c' and ∂L/∂a_o use the student's c' (through tanh c'),
        # ∂L/∂c and ∂L/∂a_f the student's ∂L/∂c'; the gates are constants of the draw.
        tanh_c2 = op("tanh", ref("c_new"))
        quantities = {
            "c_new": Quantity("numeric", c2, (mv("forgot_forget_gate", c + i * g),), label="c'"),
            "h_new": Quantity(
                "numeric",
                h2,
                (mv("forgot_tanh", o * c2),),
                recipe=mul(const(o), tanh_c2),  # o tanh c'
                label="h'",
            ),
            "dc_new": Quantity(
                "numeric",
                dc_new,
                (mv("forgot_tanh_derivative", dh * o), mv("forgot_output_gate", dh * (1 - tc**2))),
                # ∂L/∂h' · o · (1 − tanh² c')
                recipe=mul(const(dh * o), add(const(1.0), op("neg", op("pow", tanh_c2, const(2))))),
                label="∂L/∂c'",
            ),
            "dc": Quantity(
                "numeric",
                dc,
                (mv("skipped_forget_gate", dc_new), mv("forgot_tanh_derivative", dh * o * f)),
                recipe=mul(ref("dc_new"), const(f)),  # ∂L/∂c' · f
                label="∂L/∂c",
            ),
            "da_f": Quantity(
                "numeric",
                da_f,
                (
                    mv("forgot_sigmoid_derivative", dc_new * c),
                    mv("used_new_cell", dc_new * c2 * f * (1 - f)),
                ),
                recipe=mul(ref("dc_new"), const(c * f * (1 - f))),  # ∂L/∂c' · c · f(1 − f)
                label="∂L/∂a_f",
            ),
            "da_o": Quantity(
                "numeric",
                da_o,
                (mv("forgot_sigmoid_derivative", dh * tc),),
                recipe=mul(const(dh * o * (1 - o)), tanh_c2),  # ∂L/∂h' · tanh c' · o(1 − o)
                label="∂L/∂a_o",
            ),
        }
        require(min(abs(da_f), abs(da_o), abs(dc)) >= 5e-3, "a gradient is almost zero")
        require_separated(quantities)
        rows = ["| gate $k$ | $w_k$ | $u_k$ | $b_k$ |", "|---|---|---|---|"]
        for k, name in enumerate(GATES):
            rows.append(f"| {name} | {W[k, 0]:g} | {U[k, 0]:g} | {b[k]:g} |")
        gate_vals = {"i": i, "f": f, "g": g, "o": o}
        solution = "\n".join(
            [
                "- pre-activations $a_k = w_k x + u_k h + b_k$: "
                + ", ".join(f"$a_{n} = {fmt(float(a[k]))}$" for k, n in enumerate(GATES)),
                "- gates: " + ", ".join(f"${n} = {fmt(gate_vals[n])}$" for n in GATES),
                f"- $c' = f c + i g = {fmt(c2)}$, $h' = o \\tanh c' = {fmt(h2)}$",
                "- $\\partial L/\\partial c' = \\partial L/\\partial h' \\cdot o \\cdot (1 - "
                "\\tanh^2 c') "
                f"= {fmt(dc_new)}$",
                f"- $\\partial L/\\partial c = \\partial L/\\partial c' \\cdot f = {fmt(dc)}$",
                f"- $\\partial L/\\partial a_f = \\partial L/\\partial c' \\cdot c \\cdot f(1-f) = "
                f"{fmt(da_f)}$",
                "- $\\partial L/\\partial a_o = \\partial L/\\partial h' \\cdot \\tanh c' \\cdot "
                "o(1-o) = "
                f"{fmt(da_o)}$",
            ]
        )
        drawn = {"W": tolist(W[:, 0]), "U": tolist(U[:, 0]), "b": tolist(b)}
        return FamilyOutput(quantities, {"gate_table": "\n".join(rows)}, solution, drawn=drawn)
