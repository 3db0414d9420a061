"""The symbolic twin: SymPy expressions for small networks, with activations as named functions.

Function classes (tanh, exp and log are SymPy's own):

- `sigmoid(z)`: derivative sigmoid(z)*(1 - sigmoid(z)); `.rewrite(sympy.exp)` gives
  1/(1 + exp(-z)) (also `.rewrite(sympy.tanh)`).
- `softplus(z)`: derivative sigmoid(z); `.rewrite(sympy.exp)` / `.rewrite(sympy.log)` gives
  log(1 + exp(z)).
- `relu(z)`: derivative Heaviside(z, 0) (0 at z = 0, as the numeric engine and PyTorch);
  `.rewrite(sympy.Max)` gives Max(0, z).
- `leaky_relu(z)`: slope 1/100 for z <= 0; derivative 1/100 + 99/100*Heaviside(z, 0).

All evaluate exactly at 0 and at Float arguments, `evalf` to any precision, and print in LaTeX
as \\sigma, \\operatorname{softplus}, ...

`symbolic_mlp(sizes, activations, loss, names=..., bias=True) -> SymbolicNet` builds the twin
of `MLP(sizes, activations, loss)` on ONE example. Default names (override any of them with
`names={"x": "x_1", ...}`):

- inputs `x` (one input) or `x1, x2, ...`; targets `t` or `t1, t2, ...`;
- weights `w1, w2, ...` numbered layer by layer, and within a layer by destination unit, then
  source unit (row-major in `MLP.weights[l]`); biases `b1, b2, ...` likewise. A 1-2-1 net thus
  has w1, w2 (input to hidden), b1, b2, w3, w4 (hidden to output), b3, as in the usual
  StatQuest/3Blue1Brown drawings; a 1-1-1 net has w1, b1, w2, b2;
- intermediates: pre-activations `z1, z2, ...` (numbered across all layers), hidden activations
  `h1, h2, ...`, outputs `y` or `y1, y2, ...`.

`SymbolicNet` offers `.symbols` (name -> Symbol), `.output(s)` and `.loss` in the leaves
(inputs, parameters, targets), `.gradient(name)` (`sympy.diff` of the loss, keeping sigmoid
etc. as named functions) or `.gradient(name, form="chain")` (the chain-rule product in the
intermediate symbols, e.g. 2*h1*(y - t)*sigmoid(z2)*(1 - sigmoid(z2)) for w2), `.expand()`
(intermediates -> leaves), `.evaluate(values)` (floats equal to the numeric engine's),
`.to_mlp(values)`, and `.trace_names` (symbolic name -> the worked-solution trace's step name).

`str()` of every expression here uses only names, numbers, + - * / ** and parentheses, and the
functions sigmoid, softplus, relu, tanh, exp and log, i.e. the answer checker's language,
except that relu/leaky_relu derivatives contain Heaviside and leaky_relu itself is not in
that language. `checker_string(expr)` returns str(expr) after verifying exactly this.
Symbols carry no assumptions (plain `Symbol(name)`), so they equal the checker's after
parsing the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy
from sympy import Expr
from sympy import Float
from sympy import Function
from sympy import Heaviside
from sympy import Rational
from sympy import S
from sympy import Symbol
from sympy.core.function import ArgumentIndexError

from grader.engine._validate import FloatArray
from grader.engine.mlp import MLP
from grader.engine.step_names import layer_name
from grader.engine.step_names import leaf_name

CHECKER_FUNCTIONS = frozenset({"sigmoid", "softplus", "relu", "tanh", "exp", "log"})
RESERVED_NAMES = CHECKER_FUNCTIONS | {
    "ln",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "tan",
    "sinh",
    "cosh",
    "max",
    "min",
    "e",
    "pi",
    "sigma",
    "leaky_relu",
    "Heaviside",
}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(_([A-Za-z0-9]+|\{[A-Za-z0-9]+\}))?\Z")
_DPS = 30  # evaluate() works at 30 digits, then rounds once to float


class _PositiveSmooth(Function):
    """Shared by sigmoid and softplus: positive on the reals, evaluated via exp."""

    _latex_name = ""

    def _eval_evalf(self, prec: int) -> Expr | None:
        if not self.args[0].is_number:
            return None
        return self.rewrite(sympy.exp)._eval_evalf(prec)

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real

    def _eval_is_positive(self) -> bool | None:
        return True if self.args[0].is_extended_real else None

    def _latex(self, printer: Any, exp: Any = None) -> str:
        arg = printer._print(self.args[0])
        power = f"^{{{exp}}}" if exp is not None else ""
        return f"{self._latex_name}{power}\\left({arg}\\right)"


class sigmoid(_PositiveSmooth):  # noqa: N801 - printed name must be the checker's "sigmoid"
    """The logistic function 1/(1 + exp(-z)), kept as a named function."""

    nargs = 1

    @classmethod
    def eval(cls, z: Expr) -> Expr | None:  # safe: SymPy's Function.eval hook, no text
        if z.is_zero:
            return S.Half
        if z is S.Infinity:
            return S.One
        if z is S.NegativeInfinity:
            return S.Zero
        if z.is_Float:
            return 1 / (1 + sympy.exp(-z))
        return None

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, z: Expr, **kwargs: Any) -> Expr:
        return 1 / (1 + sympy.exp(-z))

    def _eval_rewrite_as_tanh(self, z: Expr, **kwargs: Any) -> Expr:
        return (1 + sympy.tanh(z / 2)) / 2

    _latex_name = "\\sigma"


class softplus(_PositiveSmooth):  # noqa: N801
    """log(1 + exp(z)), whose derivative is sigmoid(z)."""

    nargs = 1

    @classmethod
    def eval(cls, z: Expr) -> Expr | None:  # safe: SymPy's Function.eval hook, no text
        if z.is_zero:
            return sympy.log(2)
        if z is S.Infinity:
            return S.Infinity
        if z is S.NegativeInfinity:
            return S.Zero
        if z.is_Float:
            return sympy.log(1 + sympy.exp(z))
        return None

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, z: Expr, **kwargs: Any) -> Expr:
        return sympy.log(1 + sympy.exp(z))

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    _latex_name = "\\operatorname{softplus}"


class relu(Function):  # noqa: N801
    """max(0, z); derivative Heaviside(z, 0)."""

    nargs = 1

    @classmethod
    def eval(cls, z: Expr) -> Expr | None:  # safe: SymPy's Function.eval hook, no text
        if z.is_extended_nonnegative:
            return z
        if z.is_extended_nonpositive:
            return S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, z: Expr, **kwargs: Any) -> Expr:
        return sympy.Max(0, z)

    def _eval_rewrite_as_Heaviside(self, z: Expr, **kwargs: Any) -> Expr:
        return z * Heaviside(z, 0)

    def _eval_rewrite_as_Piecewise(self, z: Expr, **kwargs: Any) -> Expr:
        return sympy.Piecewise((z, z > 0), (0, True))

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real

    def _eval_is_nonnegative(self) -> bool | None:
        return True if self.args[0].is_extended_real else None

    def _latex(self, printer: Any, exp: Any = None) -> str:
        arg = printer._print(self.args[0])
        power = f"^{{{exp}}}" if exp is not None else ""
        return f"\\operatorname{{ReLU}}{power}\\left({arg}\\right)"


class leaky_relu(Function):  # noqa: N801
    """z for z > 0, z/100 otherwise; derivative 1/100 + 99/100*Heaviside(z, 0)."""

    nargs = 1

    @classmethod
    def eval(cls, z: Expr) -> Expr | None:  # safe: SymPy's Function.eval hook, no text
        if z.is_extended_nonnegative:
            return z
        if z.is_extended_nonpositive:
            return z / 100
        return None

    def fdiff(self, argindex: int = 1) -> Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return Rational(1, 100) + Rational(99, 100) * Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, z: Expr, **kwargs: Any) -> Expr:
        return sympy.Max(z / 100, z)

    def _eval_rewrite_as_Piecewise(self, z: Expr, **kwargs: Any) -> Expr:
        return sympy.Piecewise((z, z > 0), (z / 100, True))

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real

    def _latex(self, printer: Any, exp: Any = None) -> str:
        arg = printer._print(self.args[0])
        power = f"^{{{exp}}}" if exp is not None else ""
        return f"\\operatorname{{LReLU}}{power}\\left({arg}\\right)"


def apply_activation(name: str, z: Expr) -> Expr:
    """The named elementwise activation applied to z (softmax is per layer, see SymbolicNet)."""
    if name == "linear":
        return z
    functions = {
        "sigmoid": sigmoid,
        "tanh": sympy.tanh,
        "relu": relu,
        "softplus": softplus,
        "leaky_relu": leaky_relu,
    }
    if name not in functions:
        raise ValueError(f"activation: no elementwise symbolic form for {name!r}")
    return functions[name](z)


def checker_string(expr: Expr) -> str:
    """`str(expr)` after checking it is in the answer checker's language.

    Raises:
        ValueError: the expression uses a function other than sigmoid, softplus, relu, tanh,
            exp and log (e.g. Heaviside from a relu derivative) or a constant such as E or oo.
    """
    names = sorted({f.func.__name__ for f in expr.atoms(Function)} - CHECKER_FUNCTIONS)
    if names:
        raise ValueError(f"expr: uses {', '.join(names)}, which the answer checker does not know")
    specials = expr.atoms(sympy.NumberSymbol, sympy.core.numbers.ImaginaryUnit)
    if specials or expr.has(S.Infinity, S.NegativeInfinity, S.ComplexInfinity, S.NaN):
        raise ValueError(f"expr: contains a constant the checker cannot read: {expr}")
    return str(expr)


class SymbolicNet:
    """The symbolic twin of an `MLP` on one example (see the module docstring)."""

    def __init__(
        self,
        sizes: Sequence[int],
        activations: Sequence[str],
        loss: str = "sse",
        *,
        names: Mapping[str, str] | None = None,
        bias: bool = True,
    ) -> None:
        self._template = MLP(sizes, activations, loss, bias=bias)  # validates the architecture
        self.sizes = self._template.sizes
        self.activations = self._template.activations
        self.loss_name = loss
        self.bias = bias
        n_layers = len(self.sizes) - 1

        def numbered(prefix: str, count: int) -> list[str]:
            return [prefix] if count == 1 else [f"{prefix}{k}" for k in range(1, count + 1)]

        inputs = numbered("x", self.sizes[0])
        targets = numbered("t", self.sizes[-1])
        outputs = numbered("y", self.sizes[-1])
        # parameter_map: name -> ("weights" | "biases", layer (0-based), index into the array)
        pmap: dict[str, tuple[str, int, tuple[int, ...]]] = {}
        n_w = n_b = n_z = n_h = 0
        zs: list[list[str]] = []
        hs: list[list[str]] = []
        trace_names: dict[str, str] = {}
        for j, name in enumerate(inputs, 1):
            trace_names[name] = leaf_name("x", j)[0]
        for j, name in enumerate(targets, 1):
            trace_names[name] = leaf_name("t", j)[0]
        for layer in range(n_layers):
            n_out, n_in = self.sizes[layer + 1], self.sizes[layer]
            for j in range(n_out):
                for i in range(n_in):
                    n_w += 1
                    pmap[f"w{n_w}"] = ("weights", layer, (j, i))
                    trace_names[f"w{n_w}"] = layer_name("w", layer + 1, j + 1, i + 1)[0]
            if bias:
                for j in range(n_out):
                    n_b += 1
                    pmap[f"b{n_b}"] = ("biases", layer, (j,))
                    trace_names[f"b{n_b}"] = layer_name("b", layer + 1, j + 1)[0]
            zs.append([f"z{n_z + j + 1}" for j in range(n_out)])
            n_z += n_out
            for j, zname in enumerate(zs[-1], 1):
                trace_names[zname] = layer_name("z", layer + 1, j)[0]
            if layer < n_layers - 1:
                hs.append([f"h{n_h + j + 1}" for j in range(n_out)])
                n_h += n_out
                for j, hname in enumerate(hs[-1], 1):
                    trace_names[hname] = layer_name("a", layer + 1, j)[0]
        for j, yname in enumerate(outputs, 1):
            trace_names[yname] = layer_name("a", n_layers, j)[0]
        hs.append(outputs)

        defaults = [*inputs, *pmap, *targets, *(n for layer in zs for n in layer)]
        defaults += [n for layer in hs for n in layer]
        rename = self._check_names(names, defaults)

        def rn(name: str) -> str:
            return rename.get(name, name)

        self.inputs = [rn(n) for n in inputs]
        self.targets = [rn(n) for n in targets]
        self.params = [rn(n) for n in pmap]
        self.parameter_map = {rn(n): v for n, v in pmap.items()}
        self.trace_names = {rn(n): v for n, v in trace_names.items()}
        self.symbols: dict[str, Symbol] = {rn(n): Symbol(rn(n)) for n in defaults}
        sym = self.symbols

        # Forward, twice: "local" in the previous layer's symbols, "expanded" in the leaves.
        self.definitions: dict[str, Expr] = {}
        self.intermediates: list[str] = []
        prev_syms: list[Expr] = [sym[n] for n in self.inputs]
        prev_full: list[Expr] = list(prev_syms)
        z_syms_by_layer: list[list[Symbol]] = []
        a_syms_by_layer: list[list[Symbol]] = [list(prev_syms)]
        for layer in range(n_layers):
            n_out, n_in = self.sizes[layer + 1], self.sizes[layer]
            act = self.activations[layer]
            z_local, z_full = [], []
            for j in range(n_out):
                w = [sym[self._param_name("weights", layer, (j, i))] for i in range(n_in)]
                b = sym[self._param_name("biases", layer, (j,))] if bias else S.Zero
                z_local.append(sum((w[i] * prev_syms[i] for i in range(n_in)), S.Zero) + b)
                z_full.append(sum((w[i] * prev_full[i] for i in range(n_in)), S.Zero) + b)
            z_names = [rn(n) for n in zs[layer]]
            z_syms = [sym[n] for n in z_names]
            for name, expr in zip(z_names, z_local, strict=True):
                self.definitions[name] = expr
                self.intermediates.append(name)
            a_names = [rn(n) for n in hs[layer]]
            if act == "softmax":
                a_local = _softmax(z_syms)
                a_full = _softmax(z_full)
            else:
                a_local = [apply_activation(act, z) for z in z_syms]
                a_full = [apply_activation(act, z) for z in z_full]
            for name, expr in zip(a_names, a_local, strict=True):
                self.definitions[name] = expr
                self.intermediates.append(name)
            z_syms_by_layer.append(z_syms)
            a_syms_by_layer.append([sym[n] for n in a_names])
            prev_syms, prev_full = [sym[n] for n in a_names], a_full

        self.outputs: list[Expr] = prev_full
        y_syms = a_syms_by_layer[-1]
        t_syms = [sym[n] for n in self.targets]
        self.loss_local: Expr = _loss_expr(loss, self.activations[-1], y_syms, t_syms)
        self.loss: Expr = self.loss_local.xreplace(dict(zip(y_syms, prev_full, strict=True)))
        self._chain = self._chain_rule(z_syms_by_layer, a_syms_by_layer, y_syms, t_syms)
        self._expanded: dict[str, Expr] = {}

    # -- naming -------------------------------------------------------------------------------

    @staticmethod
    def _check_names(names: Mapping[str, str] | None, defaults: list[str]) -> dict[str, str]:
        if names is None:
            return {}
        if not isinstance(names, Mapping):
            raise ValueError("names: expected a mapping from default names to new names")
        unknown = sorted(set(names) - set(defaults))
        if unknown:
            raise ValueError(f"names: unknown default names {unknown}; known: {defaults}")
        for old, new in names.items():
            if not isinstance(new, str) or not _NAME.match(new) or new in RESERVED_NAMES:
                raise ValueError(
                    f"names: {new!r} (for {old!r}) is not a usable name; expected letters and "
                    f"digits with an optional subscript like w_1 or w_{{12}}, not a function name"
                )
        final = [names.get(n, n) for n in defaults]
        clashes = sorted({n for n in final if final.count(n) > 1})
        if clashes:
            raise ValueError(f"names: the renaming makes {clashes} name two different things")
        return dict(names)

    def _param_name(self, kind: str, layer: int, index: tuple[int, ...]) -> str:
        for name, where in self.parameter_map.items():
            if where == (kind, layer, index):
                return name
        raise KeyError((kind, layer, index))

    def __getitem__(self, name: str) -> Symbol:
        """The symbol called `name` (after renaming)."""
        try:
            return self.symbols[name]
        except KeyError:
            raise ValueError(
                f"name: unknown symbol {name!r}; known: {list(self.symbols)}"
            ) from None

    # -- expressions --------------------------------------------------------------------------

    @property
    def output(self) -> Expr:
        """The single output as an expression in the leaves (use `outputs` for several)."""
        if len(self.outputs) != 1:
            raise ValueError(f"output: this net has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    def _chain_rule(
        self,
        z_syms: list[list[Symbol]],
        a_syms: list[list[Symbol]],
        y_syms: list[Symbol],
        t_syms: list[Symbol],
    ) -> dict[str, Expr]:
        n_layers = len(z_syms)
        loss, out_act = self.loss_name, self.activations[-1]
        n = len(y_syms)
        if loss == "cross_entropy":
            p = y_syms if out_act == "softmax" else _softmax(y_syms)
            # The one-hot identity dL/dz = p - t (sum_k t_k = 1), as in every textbook.
            deltas: list[Expr] = [p[j] - t_syms[j] for j in range(n)]
        elif loss == "binary_cross_entropy":
            p = y_syms if out_act == "sigmoid" else [sigmoid(y) for y in y_syms]
            deltas = [(p[j] - t_syms[j]) / n for j in range(n)]
        else:
            # Written out rather than differentiated so SymPy keeps 2*(y - t) factored.
            coef = {"sse": S(2), "half_sse": S.One, "mse": Rational(2, n)}[loss]
            dl_dy = [_times(coef, y - t) for y, t in zip(y_syms, t_syms, strict=True)]
            deltas = _through_activation(out_act, z_syms[-1], y_syms, dl_dy)
        grads: dict[str, Expr] = {}
        for layer in range(n_layers - 1, -1, -1):
            prev = a_syms[layer]
            for j, delta in enumerate(deltas):
                for i, a in enumerate(prev):
                    grads[self._param_name("weights", layer, (j, i))] = delta * a
                if self.bias:
                    grads[self._param_name("biases", layer, (j,))] = delta
            if layer:
                W = [
                    [
                        self.symbols[self._param_name("weights", layer, (k, j))]
                        for j in range(len(prev))
                    ]
                    for k in range(len(deltas))
                ]
                dl_da = [
                    sum((W[k][j] * deltas[k] for k in range(len(deltas))), S.Zero)
                    for j in range(len(prev))
                ]
                deltas = _through_activation(
                    self.activations[layer - 1], z_syms[layer - 1], a_syms[layer], dl_da
                )
        return grads

    def gradient(self, param: str, form: str = "expanded") -> Expr:
        """dL/d(param) for one parameter name.

        Args:
            param: a parameter name ("w1", "b2", or its renamed form).
            form: "expanded" (default): `sympy.diff` of `loss`, in inputs, parameters and
                targets; "chain": the chain-rule product in the intermediate symbols (z, h, y),
                which `expand()` turns into an expression equal to the expanded one (for the
                cross-entropy on one-hot targets, where it uses dL/dz = p - t).
        """
        if param not in self.parameter_map:
            raise ValueError(f"param: unknown parameter {param!r}; expected one of {self.params}")
        if form == "chain":
            return self._chain[param]
        if form != "expanded":
            raise ValueError(f"form: expected 'expanded' or 'chain', got {form!r}")
        if param not in self._expanded:
            self._expanded[param] = sympy.diff(self.loss, self.symbols[param])
        return self._expanded[param]

    def expand(self, expr: Expr) -> Expr:
        """Replace every intermediate symbol (z, h, y) by its definition, down to the leaves."""
        for name in reversed(self.intermediates):
            expr = expr.xreplace({self.symbols[name]: self.definitions[name]})
        return expr

    # -- numbers ------------------------------------------------------------------------------

    def _leaf_values(self, values: Mapping[str, Any]) -> dict[Symbol, Float]:
        if not isinstance(values, Mapping):
            raise ValueError("values: expected a mapping from names to numbers")
        leaves = [*self.inputs, *self.params, *self.targets]
        missing = [n for n in leaves if n not in values]
        unknown = sorted(set(values) - set(leaves))
        if missing or unknown:
            raise ValueError(f"values: missing {missing}, unknown {unknown}; expected {leaves}")
        out = {}
        for name in leaves:
            v = values[name]
            if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
                raise ValueError(f"values: {name} must be a number, got {v!r}")
            if not math.isfinite(float(v)):
                raise ValueError(f"values: {name} must be finite, got {v!r}")
            out[self.symbols[name]] = Float(float(v), _DPS)
        return out

    def evaluate_expr(self, expr: Expr, values: Mapping[str, Any]) -> float:
        """An expression in the leaves and/or intermediates, at the given leaf values."""
        leaf = self._leaf_values(values)
        full = {**leaf, **self._intermediate_values(leaf)}
        result = expr.xreplace(full).evalf(_DPS)
        if not result.is_number:
            raise ValueError(f"expr: free symbols {sorted(map(str, result.free_symbols))} remain")
        return float(result)

    def _intermediate_values(self, leaf: dict[Symbol, Float]) -> dict[Symbol, Expr]:
        known: dict[Symbol, Expr] = dict(leaf)
        for name in self.intermediates:
            known[self.symbols[name]] = self.definitions[name].xreplace(known).evalf(_DPS)
        return {k: v for k, v in known.items() if k not in leaf}

    def evaluate(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Every intermediate, "L", and "dL/d<param>" (from the expanded gradients) as floats.

        Args:
            values: a number for every input, parameter and target name.
        """
        leaf = self._leaf_values(values)
        inter = self._intermediate_values(leaf)
        out = {str(k): float(v) for k, v in inter.items()}
        full = {**leaf, **inter}
        out["L"] = float(self.loss_local.xreplace(full).evalf(_DPS))
        for p in self.params:
            out[f"dL/d{p}"] = float(self.gradient(p).xreplace(leaf).evalf(_DPS))
        return out

    def to_mlp(self, values: Mapping[str, Any]) -> tuple[MLP, FloatArray, FloatArray]:
        """The numeric twin: (MLP with these parameter values, x, t) for `values`."""
        leaf = self._leaf_values(values)
        net = self._template.copy()
        weights = [w.copy() for w in net.weights]
        biases = [b.copy() for b in net.biases]
        for name, (kind, layer, index) in self.parameter_map.items():
            target = weights if kind == "weights" else biases
            target[layer][index] = float(leaf[self.symbols[name]])
        net.weights = weights
        net.biases = biases
        x = np.array([float(leaf[self.symbols[n]]) for n in self.inputs])
        t = np.array([float(leaf[self.symbols[n]]) for n in self.targets])
        return net, x, t

    def __repr__(self) -> str:
        return (
            f"SymbolicNet(sizes={list(self.sizes)}, activations={list(self.activations)}, "
            f"loss={self.loss_name!r})"
        )


def _softmax(zs: Sequence[Expr]) -> list[Expr]:
    denominator = sum((sympy.exp(z) for z in zs), S.Zero)
    return [sympy.exp(z) / denominator for z in zs]


def _times(coef: Expr, expr: Expr) -> Expr:
    """coef*expr without SymPy distributing a number over a sum (2*(y - t), not 2*y - 2*t)."""
    return expr if coef == 1 else sympy.Mul(coef, expr, evaluate=False)


def _through_activation(
    act: str, z_syms: list[Symbol], a_syms: list[Symbol], dl_da: list[Expr]
) -> list[Expr]:
    """dL/dz from dL/da, with f'(z) written in the z symbols (softmax: in the a symbols)."""
    if act == "linear":  # multiplying by 1 would let SymPy re-distribute 2*(y - t)
        return list(dl_da)
    if act == "softmax":
        return [
            sum(
                (
                    dl_da[k] * a_syms[k] * ((1 if k == j else 0) - a_syms[j])
                    for k in range(len(a_syms))
                ),
                S.Zero,
            )
            for j in range(len(a_syms))
        ]
    return [dl_da[j] * sympy.diff(apply_activation(act, z), z) for j, z in enumerate(z_syms)]


def _loss_expr(loss: str, out_act: str, ys: list[Symbol], ts: list[Symbol]) -> Expr:
    n = len(ys)
    if loss in {"sse", "half_sse", "mse"}:
        total = sum(((y - t) ** 2 for y, t in zip(ys, ts, strict=True)), S.Zero)
        return {"sse": total, "half_sse": total / 2, "mse": total / n}[loss]
    if loss == "cross_entropy":
        p = ys if out_act == "softmax" else _softmax(ys)
        return -sum((t * sympy.log(pj) for t, pj in zip(ts, p, strict=True)), S.Zero)
    p = ys if out_act == "sigmoid" else [sigmoid(y) for y in ys]
    terms = (t * sympy.log(pj) + (1 - t) * sympy.log(1 - pj) for t, pj in zip(ts, p, strict=True))
    return -sum(terms, S.Zero) / n


def symbolic_mlp(
    sizes: Sequence[int],
    activations: Sequence[str],
    loss: str = "sse",
    *,
    names: Mapping[str, str] | None = None,
    bias: bool = True,
) -> SymbolicNet:
    """The symbolic twin of `MLP(sizes, activations, loss, bias=bias)` (module docstring)."""
    return SymbolicNet(sizes, activations, loss, names=names, bias=bias)
