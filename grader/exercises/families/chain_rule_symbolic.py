"""Family 3: the chain-rule gradients of one hidden unit as expressions.

The keys are written in the answer language over x, t, w1, b1, w2, b2, fully expanded
(z1 = w1*x + b1, h = f(z1), z2 = w2*h + b2, y = g(z2)); the check defines z1, h, z2 and y,
so a student may write ``2*(y - t)*sigmoid(z2)*(1 - sigmoid(z2))*h``. Activations stay
named (sigmoid, tanh, softplus) as the checker knows them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np
import sympy

from grader.engine.symbolic import checker_string
from grader.engine.symbolic import symbolic_mlp
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.chain_rule_numeric import _TEX
from grader.exercises.families.chain_rule_numeric import FEEDBACK
from grader.exercises.families.chain_rule_numeric import GRADS
from grader.exercises.families.chain_rule_numeric import _mistake_codes
from grader.exercises.families.common import renamed
from grader.exercises.families.registry import register_family

SMOOTH = ["sigmoid", "tanh", "softplus", "linear"]
VARIABLES = ("x", "t", "w1", "b1", "w2", "b2")

_PRIME = {
    "sigmoid": "sigmoid({a})*(1 - sigmoid({a}))",
    "tanh": "(1 - tanh({a})^2)",
    "softplus": "sigmoid({a})",
    "linear": "",
}
_TEX_PRIME = {
    "sigmoid": r"\sigma(z)\,(1 - \sigma(z))",
    "tanh": r"1 - \tanh^2 z",
    "softplus": r"\sigma(z)",
    "linear": "1",
}


def apply(name: str, arg: str) -> str:
    """f(arg) in the answer language."""
    return f"({arg})" if name == "linear" else f"{name}({arg})"


def prime(name: str, arg: str) -> str:
    """f'(arg) in the answer language ('' for the identity)."""
    return _PRIME[name].format(a=arg)


def product(*factors: str) -> str:
    """Multiply non-empty factors."""
    kept = [f for f in factors if f]
    return "*".join(kept) if kept else "1"


def expressions(f: str, g: str, loss: str) -> dict[str, Any]:
    """Keys, mistake answers and check definitions for activations f, g and the loss."""
    z1 = "w1*x + b1"
    h = apply(f, z1)
    z2 = f"w2*{h} + b2"
    y = apply(g, z2)
    two = "2*" if loss == "sse" else ""
    dldy = f"{two}({y} - t)"
    wrong_two = f"({y} - t)" if loss == "sse" else f"2*({y} - t)"
    gp, fp = prime(g, z2), prime(f, z1)
    parts = {
        "dw2": (dldy, gp, h),
        "db2": (dldy, gp),
        "dw1": (dldy, gp, "w2", fp, "x"),
        "db1": (dldy, gp, "w2", fp),
    }
    keys = {k: product(*v) for k, v in parts.items()}
    mistakes: dict[str, dict[str, str]] = {}
    for k, factors in parts.items():
        own = gp if k in ("dw2", "db2") else fp
        m = {"sign_flipped": f"-{keys[k]}", "forgot_factor_two": product(wrong_two, *factors[1:])}
        if own:  # the identity has derivative 1: forgetting it is no mistake
            m["forgot_activation_derivative"] = product(*(x for x in factors if x is not own))
        if k in ("dw1", "db1") and gp:
            m["forgot_output_derivative"] = product(*(x for x in factors if x is not gp))
        if k in ("dw1", "db1"):  # w2 is a factor whatever the output activation is
            m["forgot_weight"] = product(*(x for x in factors if x != "w2"))
        if k in ("dw1", "dw2"):
            m["forgot_input"] = product(*factors[:-1])
        mistakes[k] = m
    definitions = {"z1": "w1*x + b1", "h": h, "z2": f"w2*{h} + b2", "y": y}
    return {"keys": keys, "mistakes": mistakes, "definitions": definitions}


@functools.lru_cache(maxsize=64)
def engine_gradients(f: str, g: str, loss: str) -> dict[str, tuple[str, str]]:
    """(expanded, chain-rule form) of each gradient from the engine's symbolic twin."""
    net = symbolic_mlp([1, 1, 1], [f, g], loss)
    out = {}
    for key in GRADS:
        param = key[1:]
        out[key] = (
            checker_string(net.gradient(param)),
            sympy.latex(net.gradient(param, form="chain")),
        )
    return out


#: the prompt's names for the engine's (the hidden unit is h, not h_1)
_PROMPT_NAMES = {"h_{1}": "h"}


@register_family
class ChainRuleSymbolic(Family):
    """dL/dw1 etc. of a one-hidden-unit network, as expressions."""

    name = "chain_rule_symbolic"
    description = "one hidden unit, chain rule, gradients as expressions"
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "hidden": {"type": "array", "items": {"type": "string", "enum": SMOOTH}, "minItems": 1},
            "output": {"type": "array", "items": {"type": "string", "enum": SMOOTH}, "minItems": 1},
            "loss": {"type": "string", "enum": ["sse", "half_sse"]},
        },
    }

    def parameter_defaults(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Only the activations are drawn; the answer is in symbols."""
        return {
            "f": {"choices": list(options.get("hidden", ["sigmoid"]))},
            "g": {"choices": list(options.get("output", ["linear"]))},
        }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The four gradients as expressions."""
        loss = options.get("loss", "sse")
        return {k: QuantityInfo("expression", _mistake_codes(k, loss), f"dL/{k}") for k in GRADS}

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """LaTeX of f, g and their derivatives."""
        return ("f_tex", "g_tex", "loss_tex")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Keys and mistakes as text (cached per activation pair)."""
        f, g = str(params["f"]), str(params["g"])
        loss = options.get("loss", "sse")
        e = expressions(f, g, loss)
        twin = engine_gradients(f, g, loss)
        check = {"variables": list(VARIABLES), "definitions": e["definitions"]}
        quantities = {}
        for k in GRADS:
            ms = []
            for code, text in e["mistakes"][k].items():
                code_out = code
                if code == "forgot_factor_two" and loss != "sse":
                    code_out = "extra_factor_two"
                ms.append(MistakeValue(code_out, text, FEEDBACK[code_out]))
            quantities[k] = Quantity("expression", twin[k][0], tuple(ms), check)

        loss_tex = r"(y - t)^2" if loss == "sse" else r"\tfrac12 (y - t)^2"
        solution = "\n".join(
            [
                "With $z_1 = w_1 x + b_1$, $h = f(z_1)$, $z_2 = w_2 h + b_2$, $y = g(z_2)$ and "
                f"$L = {loss_tex}$:",
                "",
                r"- $\frac{\partial L}{\partial w_2} = \frac{\partial L}{\partial y}\,"
                r"g'(z_2)\,h$",
                r"- $\frac{\partial L}{\partial b_2} = \frac{\partial L}{\partial y}\,g'(z_2)$",
                r"- $\frac{\partial L}{\partial w_1} = \frac{\partial L}{\partial y}\,"
                r"g'(z_2)\,w_2\,f'(z_1)\,x$",
                r"- $\frac{\partial L}{\partial b_1} = \frac{\partial L}{\partial y}\,"
                r"g'(z_2)\,w_2\,f'(z_1)$",
                "",
                f"Here $\\frac{{\\partial L}}{{\\partial y}} = "
                f"{'2(y - t)' if loss == 'sse' else 'y - t'}$, "
                f"$f = {_TEX[f]}$ with $f'(z) = {_TEX_PRIME[f]}$, and "
                f"$g = {_TEX[g]}$ with $g'(z) = {_TEX_PRIME[g]}$. In full:",
                "",
                *(
                    f"- $\\frac{{\\partial L}}{{\\partial {k[1]}_{k[2]}}} = "
                    f"{renamed(twin[k][1], _PROMPT_NAMES)}$"
                    for k in GRADS
                ),
            ]
        )
        return FamilyOutput(
            quantities,
            {"f_tex": _TEX[f], "g_tex": _TEX[g], "loss_tex": loss_tex},
            solution,
        )
