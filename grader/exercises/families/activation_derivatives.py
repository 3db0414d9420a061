"""Family 5: derivatives of sigmoid, tanh, softplus and ReLU, symbolically and at a point.

Values come from the engine's activation table (``forward`` and ``derivative``), the
worked solution from its textbook rule and the rule with the numbers substituted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.families._engine import ACTIVATIONS
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.common import fmt
from grader.exercises.families.registry import register_family

NAMES = ["sigmoid", "tanh", "softplus", "relu"]
SMOOTH = {"sigmoid", "tanh", "softplus"}
CODES = (
    "gave_function",
    "sign_flipped",
    "plus_instead_of_minus",
    "forgot_square",
    "wrong_argument_sign",
    "swapped_cases",
)

#: key and mistakes of f'(z), in the answer language
SYMBOLIC: dict[str, tuple[str, dict[str, str]]] = {
    "sigmoid": (
        "sigmoid(z)*(1 - sigmoid(z))",
        {
            "gave_function": "sigmoid(z)",
            "sign_flipped": "-sigmoid(z)*(1 - sigmoid(z))",
            "plus_instead_of_minus": "sigmoid(z)*(1 + sigmoid(z))",
        },
    ),
    "tanh": (
        "1 - tanh(z)^2",
        {
            "gave_function": "tanh(z)",
            "forgot_square": "1 - tanh(z)",
            "plus_instead_of_minus": "1 + tanh(z)^2",
        },
    ),
    "softplus": (
        "sigmoid(z)",
        {
            "gave_function": "log(1 + exp(z))",
            "sign_flipped": "-sigmoid(z)",
            "wrong_argument_sign": "sigmoid(-z)",
        },
    ),
}
FEEDBACK = {
    "gave_function": "That is the function itself; the question asks for its derivative.",
    "sign_flipped": "The derivative of this activation is never negative.",
    "plus_instead_of_minus": "Check the sign inside: σ'(z) = σ(z)(1 − σ(z)) and "
    "tanh'(z) = 1 − tanh²(z).",
    "forgot_square": "tanh'(z) = 1 − tanh²(z): the tanh is squared.",
    "wrong_argument_sign": "d/dz log(1 + e^z) = e^z / (1 + e^z) = σ(z), with +z.",
    "swapped_cases": "ReLU'(z) is 1 for z > 0 and 0 for z < 0.",
}


def _numeric_mistakes(name: str, z: float, value: float, fz: float) -> list[MistakeValue]:
    s = 1.0 / (1.0 + np.exp(-z))
    out = {
        "gave_function": fz,
        "sign_flipped": -value,
        "plus_instead_of_minus": {"sigmoid": s * (1 + s), "tanh": 1 + np.tanh(z) ** 2}.get(name),
        "forgot_square": 1 - np.tanh(z) if name == "tanh" else None,
        "wrong_argument_sign": 1 - s if name == "softplus" else None,
        "swapped_cases": 1.0 - value if name == "relu" else None,
    }
    if name == "relu":
        out["sign_flipped"] = None
    return [MistakeValue(c, float(v), FEEDBACK[c]) for c, v in out.items() if v is not None]


@register_family
class ActivationDerivatives(Family):
    """f'(z) as an expression and at a point, for a drawn activation."""

    name = "activation_derivatives"
    description = "sigmoid, tanh, softplus and ReLU derivatives (symbolic and at a point)"
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "activations": {
                "type": "array",
                "items": {"type": "string", "enum": NAMES},
                "minItems": 1,
            },
        },
    }

    def parameter_defaults(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The activation and the point z0."""
        return {
            "act": {"choices": list(options.get("activations", sorted(SMOOTH)))},
            "z0": {"range": [-3.0, 3.0], "step": 0.1, "exclude": [0.0]},
        }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """f'(z) (only when every drawable activation is smooth), f'(z0) and f(z0)."""
        acts = set(options.get("activations", SMOOTH))
        at_point = tuple(c for c in CODES if c != "swapped_cases" or "relu" in acts)
        symbolic = tuple(c for c in CODES if c != "swapped_cases")
        out = {
            "value_at": QuantityInfo("numeric", at_point, "f'(z0)"),
            "function_at": QuantityInfo("numeric", (), "f(z0)"),
        }
        if set(options.get("activations", SMOOTH)) <= SMOOTH:
            out["derivative"] = QuantityInfo("expression", symbolic, "f'(z) in z")
        return out

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The activation's LaTeX name and definition."""
        return ("act_tex", "act_definition")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Values from the engine's activation; keys and mistakes for each form."""
        name, z = str(params["act"]), float(params["z0"])
        act = ACTIVATIONS[name]
        zs = np.array([z])
        fz = float(act.forward(zs)[0])
        value = float(act.derivative(zs, act.forward(zs))[0])  # type: ignore[misc]
        if name == "relu":
            require(abs(z) >= 0.1, "too close to ReLU's kink")
        quantities = {
            "value_at": Quantity("numeric", value, tuple(_numeric_mistakes(name, z, value, fz))),
            "function_at": Quantity("numeric", fz),
        }
        if name in SYMBOLIC:
            key, wrong = SYMBOLIC[name]
            quantities["derivative"] = Quantity(
                "expression",
                key,
                tuple(MistakeValue(c, t, FEEDBACK[c]) for c, t in wrong.items()),
                {"variables": ["z"]},
            )
        rule = act.rule(str(fmt(z)), fmt(fz)) if act.rule else ""
        latex_name = act.latex or name
        solution = "\n".join(
            [
                f"${act.definition}$, and its derivative is ${act.derivative_formula}$.",
                "",
                f"At $z = {fmt(z)}$: $f(z) = {fmt(fz)}$, so $f'(z) = {rule} = {fmt(value)}$."
                if name != "relu"
                else f"At $z = {fmt(z)}$ the ReLU is {'active' if z > 0 else 'off'}, "
                f"so $f'(z) = {fmt(value)}$.",
            ]
        )
        return FamilyOutput(
            quantities,
            {"act_tex": latex_name, "act_definition": act.definition},
            solution,
        )
