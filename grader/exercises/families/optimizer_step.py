"""Family 8: optimizer steps on one weight: momentum, RMSprop, Adam (with bias correction).

The key comes from the engine's optimizers (the same update rules as ``torch.optim``), two
steps with given gradients g1, g2. The mistakes replay the same steps with one rule
changed (no bias correction, no square root, no velocity, ascent), in plain floats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import Adam
from grader.exercises.families._engine import Momentum
from grader.exercises.families._engine import RMSprop
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.registry import register_family
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import ref

OPTIMIZERS = ["momentum", "rmsprop", "adam"]
EPS = 1e-8
MISTAKES = {
    "momentum": ("no_velocity", "dampened_velocity", "ema_velocity", "sign_flipped"),
    "rmsprop": ("forgot_sqrt", "no_velocity", "sign_flipped"),
    "adam": ("forgot_bias_correction", "forgot_sqrt", "no_velocity", "sign_flipped"),
}
FEEDBACK = {
    "no_velocity": "That is plain gradient descent: the optimizer's running averages change "
    "the step.",
    "dampened_velocity": "Momentum (as in PyTorch) keeps v = μ v + g, without a (1 − μ) factor.",
    "ema_velocity": "This momentum (as in PyTorch) starts from v₁ = g₁ and keeps v = μ v + g: "
    "the average v = μ v + (1 − μ) g is another convention.",
    "forgot_sqrt": "Divide by the square root of the running average of g², not by the "
    "average itself.",
    "forgot_bias_correction": "Adam divides m and v by (1 − β₁ᵗ) and (1 − β₂ᵗ) before the step: "
    "the bias correction is missing.",
    "sign_flipped": "The update moves against the gradient: w ← w − (step).",
}


def simulate(
    kind: str, w: float, grads: list[float], hp: Mapping[str, float], slip: str = ""
) -> list[dict[str, float]]:
    """Replay the update rule by hand (``slip`` names a mistake to make); one dict per step."""
    lr, mu, a, b1, b2 = hp["lr"], hp["momentum"], hp["alpha"], hp["beta1"], hp["beta2"]
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, 1):
        if slip == "no_velocity":
            step = lr * g
        elif kind == "momentum":
            if slip == "ema_velocity":  # v = μ v + (1 − μ) g from v₀ = 0, every step
                m = mu * m + (1 - mu) * g
            else:
                m = mu * m + ((1 - mu) * g if slip == "dampened_velocity" else g) if t > 1 else g
            step = lr * m
        elif kind == "rmsprop":
            v = a * v + (1 - a) * g * g
            step = lr * g / (v if slip == "forgot_sqrt" else math.sqrt(v) + EPS)
        else:
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mh, vh = (
                (m, v) if slip == "forgot_bias_correction" else (m / (1 - b1**t), v / (1 - b2**t))
            )
            step = lr * mh / (vh if slip == "forgot_sqrt" else math.sqrt(vh) + EPS)
        w = w + step if slip == "sign_flipped" else w - step
        out.append({"w": w, "m": m, "v": v, "step": step})
    return out


def engine_steps(kind: str, w: float, grads: list[float], hp: Mapping[str, float]) -> list[float]:
    """The weights after each step, from the engine's optimizer."""
    if kind == "momentum":
        opt: Any = Momentum(lr=hp["lr"], momentum=hp["momentum"])
    elif kind == "rmsprop":
        opt = RMSprop(lr=hp["lr"], alpha=hp["alpha"], eps=EPS)
    else:
        opt = Adam(lr=hp["lr"], beta1=hp["beta1"], beta2=hp["beta2"], eps=EPS)
    param = np.array([w], dtype=float)
    out = []
    for g in grads:
        opt.step(param, np.array([g]))
        out.append(float(param[0]))
    return out


@register_family
class OptimizerStep(Family):
    """Two steps of momentum, RMSprop or Adam on one weight."""

    name = "optimizer_step"
    description = "one optimizer step: momentum, RMSprop, Adam (with bias correction)"
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "optimizers": {
                "type": "array",
                "items": {"type": "string", "enum": OPTIMIZERS},
                "minItems": 1,
            }
        },
    }
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "w0": {"range": [-1.0, 1.0], "step": 0.1},
        # Not ±1: a forgotten square root would change nothing.
        "g1": {"range": [-2.0, 2.0], "step": 0.1, "exclude": [0.0, -1.0, 1.0]},
        "g2": {"range": [-2.0, 2.0], "step": 0.1, "exclude": [0.0, -1.0, 1.0]},
        "lr": {"choices": [0.1, 0.01]},
        "momentum": {"value": 0.9},
        "alpha": {"value": 0.9},
        "beta1": {"value": 0.9},
        "beta2": {"value": 0.999},
    }

    def parameter_defaults(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The numbers, and which optimizer."""
        return {**self.parameters, "opt": {"choices": list(options.get("optimizers", OPTIMIZERS))}}

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The weight after step 1 and after step 2."""
        kinds = options.get("optimizers", OPTIMIZERS)

        def codes(step: int) -> tuple[str, ...]:
            return tuple(dict.fromkeys(c for k in kinds for c in _step_codes(k, step)))

        return {
            "w1": QuantityInfo("numeric", codes(0), "w after one step"),
            "w2": QuantityInfo("numeric", codes(1), "w after two steps"),
        }

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The optimizer's name and update rule in LaTeX."""
        return ("opt_name", "rule")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Key from the engine; mistakes by replaying with one slip."""
        kind = str(params["opt"])
        w0, g1, g2, lr, mu, a, b1, b2 = as_floats(
            params, "w0", "g1", "g2", "lr", "momentum", "alpha", "beta1", "beta2"
        )
        hp = {"lr": lr, "momentum": mu, "alpha": a, "beta1": b1, "beta2": b2}
        grads = [g1, g2]
        ws = engine_steps(kind, w0, grads, hp)
        hand = simulate(kind, w0, grads, hp)
        require(
            all(
                math.isclose(x, h["w"], rel_tol=1e-9, abs_tol=1e-12)
                for x, h in zip(ws, hand, strict=True)
            ),
            "engine and hand replay disagree",
        )
        require(abs(ws[1] - ws[0]) >= 1e-3 and abs(ws[0] - w0) >= 1e-3, "a step is too small")
        quantities = {}
        for i, key in enumerate(("w1", "w2")):
            ms = tuple(
                MistakeValue(code, simulate(kind, w0, grads, hp, code)[i]["w"], FEEDBACK[code])
                for code in _step_codes(kind, i)
            )
            # Judged by the step: the tolerance is relative to the change from w_{t-1}.
            # The second step starts from the student's w₁; its size comes from the given
            # gradients and the optimizer's state, which never reads w.
            quantities[key] = Quantity(
                "numeric",
                ws[i],
                ms,
                {"reference": [w0, *ws][i]},
                recipe=add(ref("w1"), const(ws[1] - ws[0])) if i == 1 else None,
                label=("w₁", "w₂")[i],
            )
        name, rule = _describe(kind, hp)
        lines = [f"Update rule ({name}): ${rule}$", ""]
        for t, (g, h) in enumerate(zip(grads, hand, strict=True), 1):
            lines.append(_step_line(kind, t, g, h, hp))
        return FamilyOutput(quantities, {"opt_name": name, "rule": rule}, "\n".join(lines))


def _step_codes(kind: str, step: int) -> tuple[str, ...]:
    """The mistakes step ``step`` (0-based) can show: momentum's first step is plain
    gradient descent (v₁ = g₁), so forgetting or damping the velocity changes nothing (only
    the averaging convention, damped from the first step, does)."""
    if kind == "momentum" and step == 0:
        return ("ema_velocity", "sign_flipped")
    return MISTAKES[kind]


def _describe(kind: str, hp: Mapping[str, float]) -> tuple[str, str]:
    if kind == "momentum":
        return "momentum", r"v_t = \mu v_{t-1} + g_t,\; w_t = w_{t-1} - \eta v_t \;(v_1 = g_1)"
    if kind == "rmsprop":
        return "RMSprop", (
            r"s_t = \alpha s_{t-1} + (1 - \alpha) g_t^2,\; "
            r"w_t = w_{t-1} - \eta\, g_t / (\sqrt{s_t} + \epsilon)"
        )
    return "Adam", (
        r"m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t,\; "
        r"v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,\; "
        r"\hat m_t = \frac{m_t}{1 - \beta_1^t},\; \hat v_t = \frac{v_t}{1 - \beta_2^t},\; "
        r"w_t = w_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)"
    )


def _step_line(kind: str, t: int, g: float, h: Mapping[str, float], hp: Mapping[str, float]) -> str:
    head = f"{t}. $g_{t} = {fmt(g)}$: "
    if kind == "momentum":
        body = f"$v_{t} = {fmt(h['m'], 6)}$"
    elif kind == "rmsprop":
        body = f"$s_{t} = {fmt(h['v'], 6)}$"
    else:
        mh = h["m"] / (1 - hp["beta1"] ** t)
        vh = h["v"] / (1 - hp["beta2"] ** t)
        body = (
            f"$m_{t} = {fmt(h['m'], 6)}$, $v_{t} = {fmt(h['v'], 6)}$, "
            f"$\\hat m_{t} = {fmt(mh, 6)}$, $\\hat v_{t} = {fmt(vh, 6)}$"
        )
    return head + body + f", step ${fmt(h['step'], 6)}$, so $w_{t} = {fmt(h['w'], 6)}$"
