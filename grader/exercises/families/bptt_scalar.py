"""Family 10: backpropagation through time for a scalar RNN, and the vanishing factor.

h_t = tanh(w_x x_t + w_h h_{t-1}), y_t = w_y h_t, h_0 = 0, L = Σ_t (y_t − t_t)².
The gradient of w_h sums a term per step, each reaching back through the recurrence;
∂h_T/∂h_1 = Π_{k=2}^{T} w_h (1 − h_k²) is the factor that vanishes or explodes over long
sequences. The key and worked solution come from the engine's RNN (BPTT) and its trace;
the mistakes are replayed by hand with one rule changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import RNN
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.base import tolist
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.common import pfmt
from grader.exercises.families.common import renamed
from grader.exercises.families.grid import grid_array
from grader.exercises.families.registry import register_family
from grader.exercises.recipe import Recipe
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref
from grader.exercises.solutions import trace_rnn

#: the prompt's names for the engine's weight matrices (all scalars here)
_PROMPT_NAMES = {
    "W_{xh}": "w_x",
    "W_{hh}": "w_h",
    "W_{hy}": "w_y",
    "b_{h}": "b_h",
    "b_{y}": "b_y",
}

FEEDBACK = {
    "only_last_step": "w_h acts at every step: add each step's contribution, including the "
    "paths back through earlier hidden states.",
    "truncated": "Each step's error also flows back through the recurrence h_t → h_{t-1}; "
    "that path is missing.",
    "forgot_tanh_derivative": "Each step back through h = tanh(z) multiplies by 1 − h².",
    "forgot_factor_two": "d/dy (y − t)² = 2 (y − t): the factor 2 is missing.",
    "sign_flipped": "dL/dy_t = 2 (y_t − t_t): output minus target.",
    "one_factor_only": "∂h_T/∂h_1 multiplies one factor w_h (1 − h_k²) per step from 2 to T.",
    "vanishing": "Each step multiplies the gradient by |w_h (1 − h²)|; above 1 it grows.",
    "exploding": "Each step multiplies the gradient by |w_h (1 − h²)|; below 1 it shrinks.",
}
CHOICES = {
    "vanishing": "It shrinks towards zero (vanishing gradient).",
    "exploding": "It grows without bound (exploding gradient).",
}


def hand_bptt(
    wx: float, wh: float, wy: float, xs: list[float], ts: list[float], slip: str = ""
) -> dict[str, float]:
    """Scalar BPTT in floats; ``slip`` replays one mistake."""
    hs = [0.0]
    for x in xs:
        hs.append(math.tanh(wx * x + wh * hs[-1]))
    T = len(xs)
    dWh = dWx = 0.0
    carry = 0.0  # dL/dz_{t+1} flowing back into h_t
    two = 1.0 if slip == "forgot_factor_two" else 2.0
    sign = -1.0 if slip == "sign_flipped" else 1.0
    for t in range(T, 0, -1):
        if slip == "only_last_step" and t < T:
            break
        dy = sign * two * (wy * hs[t] - ts[t - 1])
        dh = dy * wy + (0.0 if slip == "truncated" else carry * wh)
        tprime = 1.0 if slip == "forgot_tanh_derivative" else 1.0 - hs[t] ** 2
        dz = dh * tprime
        dWh += dz * hs[t - 1]
        dWx += dz * xs[t - 1]
        carry = dz
    factor = 1.0
    for k in range(2, T + 1):
        factor *= wh * (1.0 if slip == "forgot_tanh_derivative" else 1.0 - hs[k] ** 2)
    return {"dWhh": dWh, "dWxh": dWx, "factor": factor}


def bptt_recipes(
    wx: float, wh: float, wy: float, xs: list[float], ts: list[float]
) -> dict[str, Recipe]:
    """dL/dw_h, dL/dw_x and ∂h_T/∂h_1 as recipes over the hidden states ``hs`` = [h_1..h_T].

    Follow-through: a student who got a hidden state wrong runs the backward pass (and
    the recurrence factor) with their own states, as a teacher carrying the error would.
    """
    T = len(xs)

    def h(t: int) -> Recipe:  # h_t for t = 1..T: pick entry t of the student's vector
        return op("dot", ref("hs"), const([1.0 if k == t - 1 else 0.0 for k in range(T)]))

    def tanh_prime(t: int) -> Recipe:  # 1 − h_t²
        return op("sub", const(1.0), op("pow", h(t), const(2.0)))

    dwh: list[Recipe] = []
    dwx: list[Recipe] = []
    carry: Recipe | None = None  # dL/dz_{t+1}
    for t in range(T, 0, -1):
        dy = add(mul(const(2.0 * wy), h(t)), const(-2.0 * ts[t - 1]))  # 2 (w_y h_t − t_t)
        dh = mul(const(wy), dy) if carry is None else add(mul(const(wy), dy), mul(const(wh), carry))
        dz = mul(dh, tanh_prime(t))
        if t > 1:  # h_0 = 0: the first step adds nothing to dL/dw_h
            dwh.append(mul(dz, h(t - 1)))
        dwx.append(mul(dz, const(xs[t - 1])))
        carry = dz
    factor = mul(*(mul(const(wh), tanh_prime(k)) for k in range(2, T + 1)))
    return {"dWhh": add(*dwh), "dWxh": add(*dwx), "factor": factor}


@register_family
class BPTTScalar(Family):
    """dL/dw_h, dL/dw_x, ∂h_T/∂h_1 and whether the factor vanishes or explodes."""

    name = "bptt_scalar"
    description = "backpropagation through time for a scalar RNN; vanishing/exploding factor"
    draws = True
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "wx": {"range": [-1.0, 1.0], "step": 0.1, "exclude": [0.0]},
        "wh": {"range": [-2.5, 2.5], "step": 0.1, "exclude": [0.0]},
        "wy": {"range": [-1.5, 1.5], "step": 0.1, "exclude": [0.0]},
        # Not 2: with h0 = 0 a 2-step sequence makes "ignored the recurrence" and "one
        # factor only" exactly the key, so no T = 2 variant could tell them apart.
        "T": {"choices": [3]},
    }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """Two gradients, the recurrence factor, and the regime."""
        grad_codes = (
            "truncated",
            "only_last_step",
            "forgot_tanh_derivative",
            "forgot_factor_two",
            "sign_flipped",
        )
        return {
            "hs": QuantityInfo("vector", (), "the hidden states [h_1, ..., h_T]"),
            "dWhh": QuantityInfo("numeric", grad_codes, "dL/dw_h"),
            "dWxh": QuantityInfo("numeric", grad_codes, "dL/dw_x"),
            "factor": QuantityInfo(
                "numeric", ("forgot_tanh_derivative", "one_factor_only"), "∂h_T/∂h_1"
            ),
            "regime": QuantityInfo("choice", ("vanishing", "exploding"), "vanishing or exploding"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The sequence, as a table."""
        return ("seq_table",)

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Engine BPTT for the key, hand replays for the mistakes."""
        wx, wh, wy = as_floats(params, "wx", "wh", "wy")
        T = int(params["T"])
        xs = grid_array(rng, (T,), -1.0, 1.0)
        ts = grid_array(rng, (T,), -1.0, 1.0, nonzero=False)
        rnn = RNN(
            1,
            1,
            1,
            params={"W_xh": [[wx]], "W_hh": [[wh]], "b_h": [0.0], "W_hy": [[wy]], "b_y": [0.0]},
        )
        bp = rnn.bptt(xs[:, None], ts[:, None])
        hs = bp.hs[:, 0]
        require(bool(np.all(np.abs(hs[1:]) <= 0.96)), "a hidden state saturates")
        key = {
            "dWhh": float(bp.grads["W_hh"][0, 0]),
            "dWxh": float(bp.grads["W_xh"][0, 0]),
        }
        factors = [wh * (1 - hs[k] ** 2) for k in range(2, T + 1)]
        key["factor"] = float(np.prod(factors))
        rho = abs(key["factor"]) ** (1.0 / (T - 1))
        require(abs(math.log(rho)) >= 0.15, "the per-step factor is too close to 1")
        require(min(abs(key["dWhh"]), abs(key["dWxh"])) >= 0.02, "a gradient is almost zero")
        x_l, t_l = [float(v) for v in xs], [float(v) for v in ts]
        recipes = bptt_recipes(wx, wh, wy, x_l, t_l)
        labels = {"dWhh": "∂L/∂w_h", "dWxh": "∂L/∂w_x"}
        quantities: dict[str, Quantity] = {
            "hs": Quantity("vector", tolist(hs[1:]), label="the hidden states")
        }
        for q in ("dWhh", "dWxh"):
            ms = tuple(
                MistakeValue(code, hand_bptt(wx, wh, wy, x_l, t_l, code)[q], FEEDBACK[code])
                for code in (
                    "truncated",
                    "only_last_step",
                    "forgot_tanh_derivative",
                    "forgot_factor_two",
                    "sign_flipped",
                )
            )
            quantities[q] = Quantity("numeric", key[q], ms, recipe=recipes[q], label=labels[q])
        quantities["factor"] = Quantity(
            "numeric",
            key["factor"],
            (
                MistakeValue(
                    "forgot_tanh_derivative", wh ** (T - 1), FEEDBACK["forgot_tanh_derivative"]
                ),
                MistakeValue("one_factor_only", float(factors[-1]), FEEDBACK["one_factor_only"]),
            ),
            recipe=recipes["factor"],
            label="∂h_T/∂h_1",
        )
        regime = "vanishing" if rho < 1 else "exploding"
        order = [int(i) for i in rng.permutation(2)]
        names = [("vanishing", "exploding")[i] for i in order]
        ids = {name: "AB"[pos] for pos, name in enumerate(names)}
        other = "exploding" if regime == "vanishing" else "vanishing"
        quantities["regime"] = Quantity(
            "choice",
            ids[regime],
            (MistakeValue(other, ids[other], FEEDBACK[other]),),
            choices=tuple({"id": ids[n], "text": CHOICES[n]} for n in names),
            label="vanishing or exploding",
        )
        table = "| $t$ | $x_t$ | $t_t$ |\n|---|---|---|\n" + "\n".join(
            f"| {i + 1} | {fmt(x_l[i])} | {fmt(t_l[i])} |" for i in range(T)
        )
        trace = trace_rnn(rnn, xs[:, None], ts[:, None])
        prod = " \\cdot ".join(f"{fmt(wh)}\\,(1 - {pfmt(float(hs[k]))}^2)" for k in range(2, T + 1))
        solution = "\n".join(
            [
                "The network has no biases: $b_h = b_y = 0$ below.",
                "",
                renamed(trace.to_markdown("Backpropagation through time"), _PROMPT_NAMES),
                f"**The recurrence factor**: $\\frac{{\\partial h_{T}}}{{\\partial h_1}} = "
                f"\\prod_{{k=2}}^{{{T}}} w_h (1 - h_k^2) = {prod} = {fmt(key['factor'])}$.",
                "",
                f"Per step that is about $|{fmt(key['factor'])}|^{{1/{T - 1}}} = {fmt(rho)}$, "
                f"so over many steps the gradient is {'vanishing' if rho < 1 else 'exploding'}.",
            ]
        )
        return FamilyOutput(
            quantities, {"seq_table": table}, solution, drawn={"xs": tolist(xs), "ts": tolist(ts)}
        )
