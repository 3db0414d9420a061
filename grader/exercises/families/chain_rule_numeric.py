"""Families 2 and 3: one hidden unit, the chain rule, numerically and symbolically.

z1 = w1 x + b1, h = f(z1), z2 = w2 h + b2, y = g(z2), L = (y − t)² ("sse") or ½(y − t)²
("half_sse"). Then dL/dw2 = dL/dy · g'(z2) · h and dL/dw1 = dL/dy · g'(z2) · w2 · f'(z1) · x.
The numbers come from the engine's MLP([1, 1, 1]) and its trace; the symbolic keys are
written in the answer language over x, t, w1, b1, w2, b2 (students may also use z1, h, z2,
y, which the check defines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.diagram import UNIT_RADIUS
from grader.exercises.diagram import Edge
from grader.exercises.diagram import Node
from grader.exercises.diagram import network_geometry
from grader.exercises.diagram import network_svg
from grader.exercises.diagram import num
from grader.exercises.families._engine import MLP
from grader.exercises.families._engine import SGD
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.base import require
from grader.exercises.families.common import act
from grader.exercises.families.common import act_prime
from grader.exercises.families.common import as_floats
from grader.exercises.families.common import fmt
from grader.exercises.families.common import pfmt
from grader.exercises.families.common import renamed
from grader.exercises.families.common import update_line
from grader.exercises.families.registry import register_family
from grader.exercises.graph import Field
from grader.exercises.graph import GraphLayout
from grader.exercises.graph import GraphNode
from grader.exercises.recipe import Recipe
from grader.exercises.recipe import add
from grader.exercises.recipe import const
from grader.exercises.recipe import mul
from grader.exercises.recipe import op
from grader.exercises.recipe import ref
from grader.exercises.solutions import trace_mlp

ACTIVATIONS = ["sigmoid", "tanh", "softplus", "relu", "linear"]
GRADS = ("dw1", "db1", "dw2", "db2")
_MISTAKES = {
    "dw2": ("forgot_activation_derivative", "sign_flipped", "forgot_factor_two", "forgot_input"),
    "db2": ("forgot_activation_derivative", "sign_flipped", "forgot_factor_two"),
    "dw1": (
        "forgot_activation_derivative",
        "forgot_output_derivative",
        "forgot_weight",
        "sign_flipped",
        "forgot_factor_two",
        "forgot_input",
    ),
    "db1": (
        "forgot_activation_derivative",
        "forgot_output_derivative",
        "forgot_weight",
        "sign_flipped",
        "forgot_factor_two",
    ),
}
FEEDBACK = {
    "forgot_activation_derivative": "The chain rule passes through the activation: multiply "
    "by its derivative at the pre-activation.",
    "forgot_output_derivative": "The path from w1 to L also passes through the output "
    "activation: multiply by g'(z2) too.",
    "forgot_weight": "Going back from z2 to h multiplies by w2 (∂z2/∂h = w2).",
    "sign_flipped": "Check the sign: dL/dy = 2(y − t), not 2(t − y).",
    "forgot_factor_two": "The derivative of (y − t)² is 2(y − t): the factor 2 is missing.",
    "extra_factor_two": "With L = ½(y − t)², dL/dy = y − t: there is no factor 2.",
    "forgot_input": "The last factor is the input of that weight (∂z/∂w): x for w1, h for w2.",
    "used_updated_weight": "All gradients of one step use the weights before the step: "
    "dL/dw1 goes through the old w2, not the one you just updated.",
    "updated_w2_first": "All gradients of one step use the weights before the step: updating "
    "w2 first and then running the forward and backward pass again for w1 is another algorithm.",
    "sign_flipped_update": "Gradient descent subtracts: w ← w − η ∂L/∂w.",
    "forgot_learning_rate": "The step is η times the gradient.",
    "forgot_bias": "The pre-activation includes the bias: z = w·(input) + b.",
    "forgot_activation": "A unit's value is its activation of the pre-activation: apply the "
    "activation to z.",
}

OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "hidden": {
            "type": "array",
            "items": {"type": "string", "enum": ACTIVATIONS},
            "minItems": 1,
        },
        "output": {
            "type": "array",
            "items": {"type": "string", "enum": ACTIVATIONS},
            "minItems": 1,
        },
        "loss": {"type": "string", "enum": ["sse", "half_sse"]},
    },
}


def _factor_two_code(loss: str) -> str:
    return "forgot_factor_two" if loss == "sse" else "extra_factor_two"


def _mistake_codes(key: str, loss: str) -> tuple[str, ...]:
    return tuple(_factor_two_code(loss) if c == "forgot_factor_two" else c for c in _MISTAKES[key])


def _guard(name: str, z: float, where: str) -> None:
    if name in ("sigmoid", "tanh"):
        require(abs(z) <= 3.0, f"the {where} {name} saturates (|z| > 3)")
    if name in ("relu", "softplus"):
        require(z >= 0.1, f"the {where} {name} is flat or at its kink (z < 0.1)")


LABELS = {"dw1": "∂L/∂w1", "db1": "∂L/∂b1", "dw2": "∂L/∂w2", "db2": "∂L/∂b2"}


@register_family
class ChainRuleNumeric(Family):
    """dL/dw1, dL/db1, dL/dw2, dL/db2 as numbers for chosen activations f and g."""

    name = "chain_rule_numeric"
    description = "one hidden unit, chain rule, numeric gradients for w1, w2, b1, b2"
    options_schema: ClassVar[dict[str, Any]] = OPTIONS_SCHEMA
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        # Not ±1: a forgotten input would go unseen.
        "x": {"range": [-2.0, 2.0], "step": 0.1, "exclude": [0.0, -1.0, 1.0]},
        "t": {"range": [-1.0, 1.0], "step": 0.1},
        "w1": {"range": [-1.5, 1.5], "step": 0.1, "exclude": [0.0]},
        "b1": {"range": [-1.0, 1.0], "step": 0.1},
        "w2": {"range": [-1.5, 1.5], "step": 0.1, "exclude": [0.0]},
        "b2": {"range": [-1.0, 1.0], "step": 0.1},
    }

    def parameter_defaults(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The numbers, plus f and g drawn from the allowed activations."""
        return {
            **self.parameters,
            "f": {"choices": list(options.get("hidden", ["sigmoid"]))},
            "g": {"choices": list(options.get("output", ["linear"]))},
            # Not 1: a forgotten learning rate would go unseen.
            "eta": {"choices": [0.1, 0.2, 0.5]},
        }

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The four gradients, y, and all gradients as a vector."""
        loss = options.get("loss", "sse")
        out = {k: QuantityInfo("numeric", _mistake_codes(k, loss), f"dL/{k}") for k in GRADS}
        forward = ("forgot_bias", "forgot_activation")
        out["h"] = QuantityInfo("numeric", forward, "the hidden unit's value")
        out["y"] = QuantityInfo("numeric", forward, "the output")
        out["dLdy"] = QuantityInfo("numeric", ("sign_flipped",), "dL/dy")
        out["dLdh"] = QuantityInfo(
            "numeric",
            (
                "forgot_activation_derivative",
                "forgot_weight",
                "sign_flipped",
                _factor_two_code(loss),
            ),
            "dL/dh",
        )
        out["grads"] = QuantityInfo("vector", ("sign_flipped",), "[dL/dw1, dL/db1, dL/dw2, dL/db2]")
        update = (
            "used_updated_weight",
            "updated_w2_first",
            "sign_flipped",
            "forgot_learning_rate",
        )
        out["w1_new"] = QuantityInfo(
            "numeric", update, "w1 after one SGD step (all from old weights)"
        )
        out["w2_new"] = QuantityInfo("numeric", update[2:], "w2 after one SGD step")
        return out

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """Forward values and local derivatives for prompts and constraints."""
        return ("z1", "h", "z2", "y", "dLdy", "fprime", "gprime", "f_tex", "g_tex")

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Gradients from the engine, mistakes from the same local factors."""
        c = compute(params, options)
        loss = c["loss"]
        dLdy, gp, fp, x, h, w2 = c["dLdy"], c["gprime"], c["fprime"], c["x"], c["h"], c["w2"]
        k2 = 2.0 if loss == "sse" else 0.5  # what a factor-2 slip multiplies by
        # Each gradient is the gradient flowing into its node times the local factors
        # (follow-through from the student's own upstream values): dw2 and db2 from dL/dy
        # (dw2 also reads h), dw1 and db1 from dL/dh. A student who skips dL/dh still
        # carries their dL/dy forward through it (``follow.implied``).
        recipes = {
            "dw2": mul(ref("dLdy"), const(gp), ref("h")),
            "db2": mul(ref("dLdy"), const(gp)),
            "dw1": mul(ref("dLdh"), const(fp * x)),
            "db1": mul(ref("dLdh"), const(fp)),
        }
        m: dict[str, dict[str, float]] = {
            "dw2": {
                "forgot_activation_derivative": dLdy * h,
                "forgot_input": dLdy * gp,
                "forgot_factor_two": c["dw2"] / k2,
            },
            "db2": {"forgot_activation_derivative": dLdy, "forgot_factor_two": c["db2"] / k2},
            "dw1": {
                "forgot_activation_derivative": dLdy * gp * w2 * x,
                "forgot_output_derivative": dLdy * w2 * fp * x,
                "forgot_weight": dLdy * gp * fp * x,
                "forgot_input": dLdy * gp * w2 * fp,
                "forgot_factor_two": c["dw1"] / k2,
            },
            "db1": {
                "forgot_activation_derivative": dLdy * gp * w2,
                "forgot_output_derivative": dLdy * w2 * fp,
                "forgot_weight": dLdy * gp * fp,
                "forgot_factor_two": c["db1"] / k2,
            },
        }
        # A linear activation has derivative 1: forgetting it is no mistake in that case.
        linear = {"dw2": c["g"], "db2": c["g"], "dw1": c["f"], "db1": c["f"]}
        quantities: dict[str, Quantity] = {}
        for key in GRADS:
            values = {**m[key], "sign_flipped": -c[key]}
            if linear[key] == "linear":
                del values["forgot_activation_derivative"]
            if key in ("dw1", "db1") and c["g"] == "linear":
                del values["forgot_output_derivative"]
            ms = tuple(
                MistakeValue(
                    _factor_two_code(loss) if code == "forgot_factor_two" else code,
                    values[code],
                    FEEDBACK[_factor_two_code(loss) if code == "forgot_factor_two" else code],
                )
                for code in _MISTAKES[key]
                if code in values
            )
            quantities[key] = Quantity(
                "numeric",
                c[key],
                ms,
                recipe=recipes[key],
                label=LABELS[key],
            )
        vec = [c[k] for k in GRADS]
        quantities.update(forward_quantities(c))
        dLdh = dLdy * gp * w2
        dh_mistakes = {
            "forgot_activation_derivative": dLdy * w2,
            "forgot_weight": dLdy * gp,
            "sign_flipped": -dLdh,
            _factor_two_code(loss): dLdh / k2,
        }
        if c["g"] == "linear":
            del dh_mistakes["forgot_activation_derivative"]
        quantities["dLdh"] = Quantity(
            "numeric",
            dLdh,
            tuple(MistakeValue(code, v, FEEDBACK[code]) for code, v in dh_mistakes.items()),
            recipe=mul(ref("dLdy"), const(gp * w2)),
            label="∂L/∂h",
        )
        # dL/dy = k (y - t): 2(y - t) for sse, (y - t) for half_sse
        k = 2.0 if loss == "sse" else 1.0
        quantities["dLdy"] = Quantity(
            "numeric",
            dLdy,
            (MistakeValue("sign_flipped", -dLdy, FEEDBACK["sign_flipped"]),),
            recipe=mul(const(k), add(ref("y"), const(-c["t"]))),
            label="∂L/∂y",
        )
        quantities["grads"] = Quantity(
            "vector",
            vec,
            (MistakeValue("sign_flipped", [-v for v in vec], FEEDBACK["sign_flipped"]),),
            recipe=op("stack", *(ref(g) for g in GRADS)),
            label="the gradients",
        )
        eta = float(params["eta"])
        w1, w2_new = c["w1"], c["w2_new"]
        stale = dLdy * gp * w2_new * fp * x  # dL/dw1 computed through the already-updated w2
        # ... or with a new forward pass through it (w2 updated first, then w1)
        z2_new = w2_new * c["h"] + c["b2"]
        dy_new = act(str(params["g"]), z2_new) - c["t"]
        dy_new *= 2 if options.get("loss", "sse") == "sse" else 1
        sequential = dy_new * act_prime(str(params["g"]), z2_new) * w2_new * fp * x
        quantities["w1_new"] = Quantity(
            "numeric",
            c["w1_new"],
            (
                MistakeValue(
                    "used_updated_weight", w1 - eta * stale, FEEDBACK["used_updated_weight"]
                ),
                MistakeValue(
                    "updated_w2_first", w1 - eta * sequential, FEEDBACK["updated_w2_first"]
                ),
                MistakeValue("sign_flipped", w1 + eta * c["dw1"], FEEDBACK["sign_flipped_update"]),
                MistakeValue(
                    "forgot_learning_rate", w1 - c["dw1"], FEEDBACK["forgot_learning_rate"]
                ),
            ),
            {"reference": w1},  # an update: judged by its change
            recipe=add(const(w1), mul(const(-eta), ref("dw1"))),
            label="the new w1",
        )
        quantities["w2_new"] = Quantity(
            "numeric",
            w2_new,
            (
                MistakeValue(
                    "sign_flipped", c["w2"] + eta * c["dw2"], FEEDBACK["sign_flipped_update"]
                ),
                MistakeValue(
                    "forgot_learning_rate", c["w2"] - c["dw2"], FEEDBACK["forgot_learning_rate"]
                ),
            ),
            {"reference": c["w2"]},
            recipe=add(const(c["w2"]), mul(const(-eta), ref("dw2"))),
            label="the new w2",
        )
        return FamilyOutput(
            quantities,
            values_of(c),
            solution(c),
            diagram(c, solution=False),
            diagram(c, solution=True),
            graph=graph_layout(c),
        )


def act_recipe(name: str, inner: Recipe) -> Recipe:
    """An activation applied to a recipe (for follow-through from an earlier value)."""
    if name == "linear":
        return inner
    if name == "softplus":
        return op("log", add(const(1.0), op("exp", inner)))
    if name == "relu":
        return mul(const(0.5), add(inner, op("abs", inner)))
    return op(name, inner)  # sigmoid, tanh


def forward_quantities(c: Mapping[str, Any]) -> dict[str, Quantity]:
    """h and y, each with the forward-pass slips that would give another number; y is
    recomputed from the student's own h (follow-through)."""
    out: dict[str, Quantity] = {}
    for name, act_name, w, b, inp, z in (
        ("h", c["f"], c["w1"], c["b1"], c["x"], c["z1"]),
        ("y", c["g"], c["w2"], c["b2"], c["h"], c["z2"]),
    ):
        slips = {}
        if b != 0:
            slips["forgot_bias"] = act(act_name, w * inp)
        if act_name != "linear":
            slips["forgot_activation"] = z
        ms = tuple(MistakeValue(code, float(v), FEEDBACK[code]) for code, v in slips.items())
        recipe = None
        if name == "y":
            recipe = act_recipe(act_name, add(mul(const(w), ref("h")), const(b)))
        out[name] = Quantity("numeric", c[name], ms, recipe=recipe, label=name)
    return out


def graph_layout(c: Mapping[str, Any]) -> GraphLayout:
    """The plain diagram's nodes, output first: y, w2, b2, h, w1, b1, then the input x."""
    geo = network_geometry(_layers(c), has_targets=True)
    (xx, xy), (hx, hy), (yx, yy) = geo.pos[(0, 0)], geo.pos[(1, 0)], geo.pos[(2, 0)]
    bias_up = UNIT_RADIUS + 10

    def grad(quantity: str, label: str) -> Field:
        return Field("gradient", quantity, label)

    def weight(i: int, src: tuple[int, int], dst: tuple[int, int]) -> GraphNode:
        return GraphNode(
            f"w{i}",
            f"w{i}",
            (geo.edge_label_at(src, dst),),
            radius=18.0,
            gradient=grad(f"dw{i}", f"∂L/∂w{i}"),
            also=(Field("also", f"w{i}_new", f"w{i} after one gradient-descent step"),),
            known=f"w{i} = {num(c[f'w{i}'])}",
        )

    def bias(i: int, at: tuple[float, float]) -> GraphNode:
        return GraphNode(
            f"b{i}",
            f"b{i}",
            ((at[0], at[1] - bias_up),),
            radius=14.0,
            gradient=grad(f"db{i}", f"∂L/∂b{i}"),
            known=f"b{i} = {num(c[f'b{i}'])}",
        )

    return GraphLayout(
        geo.width,
        geo.height,
        (
            GraphNode(
                "y",
                "y",
                ((yx, yy),),
                forward=Field("forward", "y", "y"),
                gradient=grad("dLdy", "∂L/∂y"),
            ),
            weight(2, (1, 0), (2, 0)),
            bias(2, (yx, yy)),
            GraphNode(
                "h",
                "h",
                ((hx, hy),),
                forward=Field("forward", "h", "h"),
                gradient=grad("dLdh", "∂L/∂h"),
            ),
            weight(1, (0, 0), (1, 0)),
            bias(1, (hx, hy)),
            GraphNode("x", "x", ((xx, xy),), known=f"x = {num(c['x'])}"),
        ),
    )


def compute(params: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Forward and backward pass of the 1-1-1 network through the engine."""
    x, t, w1, b1, w2, b2 = as_floats(params, "x", "t", "w1", "b1", "w2", "b2")
    f, g = str(params["f"]), str(params["g"])
    loss = options.get("loss", "sse")
    net = MLP([1, 1, 1], [f, g], loss=loss, weights=[[[w1]], [[w2]]], biases=[[b1], [b2]])
    bp = net.backprop([x], [t])
    z1, z2 = float(bp.zs[0][0, 0]), float(bp.zs[1][0, 0])
    h, y = float(bp.activations[1][0, 0]), float(bp.activations[2][0, 0])
    _guard(f, z1, "hidden")
    _guard(g, z2, "output")
    require(abs(y - t) >= 0.05, "the output already matches the target")
    trace = trace_mlp(net, [x], [t])
    dLdy = float(trace.value("dL/da^{(2)}_1"))
    gprime = float(trace.value("da^{(2)}_1/dz^{(2)}_1"))
    fprime = float(trace.value("da^{(1)}_1/dz^{(1)}_1"))
    grads = bp.grads
    eta = float(params.get("eta", 0.1))
    SGD(lr=eta).step(net, grads)  # one step on every parameter at once, from the old values
    out = {
        "x": x, "t": t, "w1": w1, "b1": b1, "w2": w2, "b2": b2, "f": f, "g": g, "loss": loss,
        "z1": z1, "h": h, "z2": z2, "y": y, "dLdy": dLdy, "gprime": gprime, "fprime": fprime,
        "dw1": float(grads.weights[0][0, 0]), "db1": float(grads.biases[0][0]),
        "dw2": float(grads.weights[1][0, 0]), "db2": float(grads.biases[1][0]),
        "w1_new": float(net.weights[0][0, 0]), "w2_new": float(net.weights[1][0, 0]),
        "eta": eta,
        "trace": trace,
    }  # fmt: skip
    for key in GRADS:
        require(abs(out[key]) >= 0.01, f"{key} is too small to work with by hand")
    return out


_TEX = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "softplus": r"\operatorname{softplus}",
    "relu": r"\operatorname{ReLU}",
    "linear": r"\operatorname{id}",
}


def values_of(c: Mapping[str, Any]) -> dict[str, Any]:
    """Template values: numbers and the LaTeX names of f and g."""
    keys = ("z1", "h", "z2", "y", "dLdy", "fprime", "gprime", "dw1", "db1", "dw2", "db2")
    return {**{k: c[k] for k in keys}, "f_tex": _TEX[c["f"]], "g_tex": _TEX[c["g"]]}


#: the engine's names of the 1-1-1 network, and the prompt's
PROMPT_NAMES = {  # deltas first: "\\delta^{(1)}_{1}" contains "a^{(1)}_{1}"
    "\\delta^{(1)}_{1}": "\\delta_{1}",
    "\\delta^{(2)}_{1}": "\\delta_{2}",
    "w^{(1)}_{11}": "w_{1}",
    "b^{(1)}_{1}": "b_{1}",
    "w^{(2)}_{11}": "w_{2}",
    "b^{(2)}_{1}": "b_{2}",
    "z^{(1)}_{1}": "z_{1}",
    "z^{(2)}_{1}": "z_{2}",
    "\\sum_{k} ": "",  # one output unit: the sum over k has one term
    "z^{(2)}_{k}": "z_{2}",
    "a^{(1)}_{1}": "h",
    "a^{(2)}_{1}": "y",
    "x_{1}": "x",
    "t_{1}": "t",
}


def solution(c: Mapping[str, Any]) -> str:
    """The engine's trace, then the four chain-rule products with numbers."""
    lines = [
        renamed(c["trace"].to_markdown("Forward and backward pass"), PROMPT_NAMES),
        "**The chain rule, factor by factor**",
        "",
    ]
    rows = [
        ("w_2", r"g'(z_2)\,h", ("dLdy", "gprime", "h"), "dw2"),
        ("b_2", r"g'(z_2)", ("dLdy", "gprime"), "db2"),
        ("w_1", r"g'(z_2)\,w_2\,f'(z_1)\,x", ("dLdy", "gprime", "w2", "fprime", "x"), "dw1"),
        ("b_1", r"g'(z_2)\,w_2\,f'(z_1)", ("dLdy", "gprime", "w2", "fprime"), "db1"),
    ]
    dy = r"\frac{\partial L}{\partial y}"
    for param, rule, factors, key in rows:
        numbers = r" \cdot ".join(pfmt(c[f]) for f in factors)
        lines.append(
            f"- $\\frac{{\\partial L}}{{\\partial {param}}} = {dy}\\,{rule} = {numbers} = "
            f"{fmt(c[key])}$"
        )
    lines += [
        "",
        f"**One gradient-descent step** ($\\eta = {fmt(c['eta'])}$, every gradient "
        "taken at the old weights):",
        "",
    ]
    for name, key in (("w_1", "w1"), ("w_2", "w2")):
        grad_symbol = f"\\frac{{\\partial L}}{{\\partial {name}}}"
        new = update_line(name, c[key], c["eta"], c["d" + key], c[key + "_new"], grad_symbol)
        lines.append(f"- ${new}$")
    return "\n".join(lines)


#: each activation as the prompt writes it (f = σ, g = id), in plain text for the diagram
_SYMBOL = {
    "sigmoid": "σ",
    "tanh": "tanh",
    "relu": "ReLU",
    "softplus": "softplus",
    "linear": "id",
}


def _layers(c: Mapping[str, Any]) -> list[list[Node]]:
    return [
        [Node("x", c["x"], kind="input")],
        [Node("h", c["h"], bias=f"b₁ = {num(c['b1'])}, f = {_SYMBOL[c['f']]}")],
        [Node("y", c["y"], bias=f"b₂ = {num(c['b2'])}, g = {_SYMBOL[c['g']]}", kind="output")],
    ]


def diagram(c: Mapping[str, Any], *, solution: bool) -> str:
    """x → h → y with weights, biases and the target."""
    layers = _layers(c)
    edges = [
        Edge((0, 0), (1, 0), f"w₁ = {num(c['w1'])}", c["dw1"]),
        Edge((1, 0), (2, 0), f"w₂ = {num(c['w2'])}", c["dw2"]),
    ]
    return network_svg(
        layers, edges, targets=[f"t = {num(c['t'])}"], title="one hidden unit", solution=solution
    )
