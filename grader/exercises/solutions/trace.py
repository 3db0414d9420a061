"""Traces: one forward and backward pass written out node by node, for worked solutions.

Presentation (LaTeX) lives here in the exercise layer; the engine only computes the values
(``MLP.backprop``, ``RNN.bptt``) that :func:`trace_mlp` and :func:`trace_rnn` typeset.

A `Trace` has three ordered lists of `Step`s:

- `given`: the leaves (inputs x, targets t, weights w, biases b), each with its value;
- `forward`: every pre-activation, activation and the loss, in evaluation order;
- `backward`: every loss derivative, local derivative, back-propagated derivative, delta and
  parameter gradient, in the order backpropagation computes them.

Each step carries:

- `name`: a stable, plain key with 1-based, paper-style indices, e.g. "z^{(1)}_1",
  "a^{(2)}_1", "L", "dL/da^{(2)}_1", "da^{(1)}_1/dz^{(1)}_1", "delta^{(1)}_1",
  "dL/dw^{(2)}_{11}", "dL/db^{(1)}_2" (two-index subscripts are written "{ji}", or "{j,i}" once
  an index reaches 10). Look steps up with `trace[name]`.
- `symbol`: the LaTeX of the quantity, e.g. r"\\frac{\\partial L}{\\partial w^{(2)}_{11}}".
- `formula`: LaTeX "symbol = rule in symbols", e.g. for a local derivative
  r"\\frac{\\partial a^{(1)}_{1}}{\\partial z^{(1)}_{1}} = \\sigma'\\left(z^{(1)}_{1}\\right)
  = a^{(1)}_{1}\\left(1 - a^{(1)}_{1}\\right)" (one line in the string), and for a weight
  gradient the chain-rule product of local derivatives.
- `substituted`: LaTeX of the same rule with the numbers put in, ending in "= value", e.g.
  r"0.6225\\left(1 - 0.6225\\right) = 0.235"; negative numbers are parenthesised.
  `formula + " = " + substituted` reads as one equation; `to_markdown()` renders exactly that.
- `value`: the float (or, for a softmax Jacobian or an RNN's vectors, the ndarray) the engine
  computed; it equals the batched engine's result to the last bit of float64 rounding.
- `kind`: one of `KINDS` ("pre_activation", "activation", "loss", "loss_derivative",
  "local_derivative", "backprop", "delta", "weight_gradient", "bias_gradient", or a leaf kind).
- `layer` (1-based layer, or time step for an RNN; 0 for inputs) and `index` (1-based unit
  indices), so a family can pick "all deltas of layer 1" without parsing names.
- `depends`: the names of the steps and leaves this one is computed from (the graph's edges).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

import numpy as np

from grader.engine._validate import FloatArray

LEAF_KINDS = ("input", "target", "weight", "bias")
KINDS = (
    *LEAF_KINDS,
    "pre_activation",
    "activation",
    "probability",
    "loss",
    "loss_derivative",
    "local_derivative",
    "backprop",
    "delta",
    "weight_gradient",
    "bias_gradient",
)


@dataclass(frozen=True)
class Step:
    """One node of a trace: its value, its symbolic rule, and the rule with numbers."""

    name: str
    symbol: str
    formula: str
    substituted: str
    value: float | FloatArray
    kind: str
    layer: int | None = None
    index: tuple[int, ...] = ()
    depends: tuple[str, ...] = ()

    def equation(self) -> str:
        """LaTeX of the whole step: "formula = substituted" (or "symbol = value" for a leaf)."""
        if not self.formula:
            return f"{self.symbol} = {self.substituted}"
        if self.formula.endswith(f" = {self.substituted}"):  # e.g. a constant derivative "= 1"
            return self.formula
        return f"{self.formula} = {self.substituted}"


@dataclass
class Trace:
    """An ordered record of one forward and backward pass (see the module docstring)."""

    given: list[Step]
    forward: list[Step]
    backward: list[Step]
    title: str = "Backpropagation, step by step"
    _by_name: dict[str, Step] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {s.name: s for s in self.steps()}
        if len(self._by_name) != len(self.given) + len(self.forward) + len(self.backward):
            raise AssertionError("trace step names must be unique")

    def steps(self) -> list[Step]:
        """given + forward + backward, in order."""
        return [*self.given, *self.forward, *self.backward]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps())

    def __getitem__(self, name: str) -> Step:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no step named {name!r} in this trace") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def value(self, name: str) -> float | FloatArray:
        """The value of the step called `name`."""
        return self[name].value

    def values(self) -> dict[str, float | FloatArray]:
        """Every step's value by name."""
        return {name: s.value for name, s in self._by_name.items()}

    def select(self, kind: str | None = None, layer: int | None = None) -> list[Step]:
        """Steps of one kind and/or layer, in trace order."""
        return [
            s
            for s in self.steps()
            if (kind is None or s.kind == kind) and (layer is None or s.layer == layer)
        ]

    def to_markdown(self, title: str | None = None) -> str:
        """Markdown with inline LaTeX ($...$): the givens, then one numbered line per step."""
        lines = [f"### {title or self.title}", "", "**Given:** "]
        lines[-1] += ", ".join(f"${s.symbol} = {s.substituted}$" for s in self.given)
        for heading, steps in (("Forward pass", self.forward), ("Backward pass", self.backward)):
            lines += ["", f"**{heading}**", ""]
            lines += [f"{i}. ${s.equation()}$" for i, s in enumerate(steps, 1)]
        return "\n".join(lines) + "\n"


def fmt(value: float, digits: int = 4) -> str:
    """A number as LaTeX with `digits` significant digits: 0.34, -0.1792, 1.2 \\times 10^{-5}."""
    if not math.isfinite(value):
        return r"\infty" if value > 0 else (r"-\infty" if value < 0 else r"\mathrm{NaN}")
    if value == 0.0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return text


def pfmt(value: float, digits: int = 4) -> str:
    """`fmt`, parenthesised when negative so it can stand in a product or after a minus."""
    text = fmt(value, digits)
    return f"\\left({text}\\right)" if text.startswith("-") else text


def fmt_array(value: FloatArray, digits: int = 4) -> str:
    """A vector or matrix as a LaTeX pmatrix (a vector as a column)."""
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    rows = arr[:, None] if arr.ndim == 1 else arr
    body = r" \\ ".join(" & ".join(fmt(float(v), digits) for v in row) for row in rows)
    return r"\begin{pmatrix} " + body + r" \end{pmatrix}"


def partial(num: str, den: str) -> str:
    """LaTeX of d num / d den."""
    return f"\\frac{{\\partial {num}}}{{\\partial {den}}}"
