"""The worked-solution `Trace` of one example through an `MLP` (format: `.trace`).

Layers are numbered from 1 as in the literature: x_i = a^{(0)}_i, z^{(l)}_j = sum_i
w^{(l)}_{ji} a^{(l-1)}_i + b^{(l)}_j, a^{(l)}_j = f_l(z^{(l)}_j). Every value comes from
`MLP.backprop` on the one example, so the trace and the engine can never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from grader.engine._validate import as_array
from grader.engine.activations import Activation
from grader.engine.activations import sigmoid
from grader.engine.activations import softmax
from grader.engine.step_names import layer_name
from grader.engine.step_names import leaf_name
from grader.exercises.solutions.trace import Step
from grader.exercises.solutions.trace import Trace
from grader.exercises.solutions.trace import fmt
from grader.exercises.solutions.trace import fmt_array
from grader.exercises.solutions.trace import partial
from grader.exercises.solutions.trace import pfmt

if TYPE_CHECKING:
    from grader.engine.mlp import MLP

CDOT = r" \cdot "


def _with_value(expr: str, value: float, digits: int) -> str:
    """'expr = value', or just the value when expr already is that number."""
    shown = fmt(value, digits)
    return shown if expr == shown else f"{expr} = {shown}"


class _Builder:
    """Walks one example through the network and appends steps in order."""

    def __init__(self, net: MLP, x: Any, t: Any, digits: int) -> None:
        x = as_array("x", x, 1)
        t = as_array("t", t, 1)
        if x.shape != (net.sizes[0],):
            raise ValueError(f"x: expected shape ({net.sizes[0]},), got {x.shape}")
        if t.shape != (net.sizes[-1],):
            raise ValueError(f"t: expected shape ({net.sizes[-1]},), got {t.shape}")
        if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 17:
            raise ValueError(f"digits: expected an integer from 1 to 17, got {digits!r}")
        self.net, self.x, self.t, self.d = net, x, t, digits
        self.bp = net.backprop(x[None, :], t[None, :])
        self.acts: tuple[Activation, ...] = net._acts  # resolved objects, same as the engine's
        self.n_layers = len(net.sizes) - 1
        self.given: list[Step] = []
        self.forward: list[Step] = []
        self.backward: list[Step] = []

    # names of nodes -------------------------------------------------------------------------
    def a(self, layer: int, j: int) -> tuple[str, str]:
        """Activation a^{(layer)}_j, with a^{(0)} written as the input x."""
        return leaf_name("x", j) if layer == 0 else layer_name("a", layer, j)

    def a_val(self, layer: int, j: int) -> float:
        return float(self.bp.activations[layer][0, j - 1])

    def prob(self, j: int) -> tuple[str, str, float]:
        """The probability a cross-entropy reads: a^{(L)}_j, or p_j for a linear output."""
        if self.uses_p:
            name, sym = leaf_name("p", j)
            return name, sym, float(self.p[j - 1])
        name, sym = self.a(self.n_layers, j)
        return name, sym, self.a_val(self.n_layers, j)

    # the pass --------------------------------------------------------------------------------
    def build(self) -> Trace:
        net, d = self.net, self.d
        loss = net.loss
        out_act = self.acts[-1]
        self.uses_p = loss in {"cross_entropy", "binary_cross_entropy"} and out_act.name == "linear"
        z_out = self.bp.zs[-1][0]
        self.p = softmax(z_out) if loss == "cross_entropy" else sigmoid(z_out)

        for i, xi in enumerate(self.x, 1):
            self.given.append(Step(*leaf_name("x", i), "", fmt(xi, d), float(xi), "input", 0, (i,)))
        for j, tj in enumerate(self.t, 1):
            self.given.append(
                Step(*leaf_name("t", j), "", fmt(tj, d), float(tj), "target", None, (j,))
            )
        for layer in range(1, self.n_layers + 1):
            W, b = net.weights[layer - 1], net.biases[layer - 1]
            for j in range(1, W.shape[0] + 1):
                for i in range(1, W.shape[1] + 1):
                    name, sym = layer_name("w", layer, j, i)
                    w = float(W[j - 1, i - 1])
                    self.given.append(Step(name, sym, "", fmt(w, d), w, "weight", layer, (j, i)))
            if net.bias:
                for j in range(1, W.shape[0] + 1):
                    name, sym = layer_name("b", layer, j)
                    bj = float(b[j - 1])
                    self.given.append(Step(name, sym, "", fmt(bj, d), bj, "bias", layer, (j,)))

        for layer in range(1, self.n_layers + 1):
            self._forward_layer(layer)
        if self.uses_p:
            self._probabilities()
        self._loss()
        for layer in range(self.n_layers, 0, -1):
            self._backward_layer(layer)
        return Trace(self.given, self.forward, self.backward)

    def _forward_layer(self, layer: int) -> None:
        d, act = self.d, self.acts[layer - 1]
        W, b = self.net.weights[layer - 1], self.net.biases[layer - 1]
        n_out, n_in = W.shape
        z_row, a_row = self.bp.zs[layer - 1][0], self.bp.activations[layer][0]
        for j in range(1, n_out + 1):
            z_name, z_sym = layer_name("z", layer, j)
            terms_sym, terms_num, deps = [], [], []
            for i in range(1, n_in + 1):
                w_name, w_sym = layer_name("w", layer, j, i)
                a_name, a_sym = self.a(layer - 1, i)
                terms_sym.append(f"{w_sym} {a_sym}")
                terms_num.append(
                    pfmt(W[j - 1, i - 1], d) + CDOT + pfmt(self.a_val(layer - 1, i), d)
                )
                deps += [w_name, a_name]
            if self.net.bias:
                b_name, b_sym = layer_name("b", layer, j)
                terms_sym.append(b_sym)
                terms_num.append(pfmt(b[j - 1], d))
                deps.append(b_name)
            zj = float(z_row[j - 1])
            self.forward.append(
                Step(
                    z_name,
                    z_sym,
                    f"{z_sym} = " + " + ".join(terms_sym),
                    _with_value(" + ".join(terms_num), zj, d),
                    zj,
                    "pre_activation",
                    layer,
                    (j,),
                    tuple(deps),
                )
            )
            if act.elementwise:
                a_name, a_sym = self.a(layer, j)
                aj = float(a_row[j - 1])
                self.forward.append(
                    Step(
                        a_name,
                        a_sym,
                        f"{a_sym} = {act.call_latex(z_sym)}",
                        _with_value(act.call_latex(fmt(zj, d)), aj, d),
                        aj,
                        "activation",
                        layer,
                        (j,),
                        (z_name,),
                    )
                )
        if not act.elementwise:  # softmax needs every z of the layer first
            self._softmax_steps(layer, [float(v) for v in z_row], [float(v) for v in a_row])

    def _softmax_steps(self, layer: int, zs: list[float], values: list[float]) -> None:
        d = self.d
        z_syms = [layer_name("z", layer, k)[1] for k in range(1, len(zs) + 1)]
        z_names = tuple(layer_name("z", layer, k)[0] for k in range(1, len(zs) + 1))
        denom_sym = " + ".join(f"e^{{{s}}}" for s in z_syms)
        denom_num = " + ".join(f"e^{{{fmt(z, d)}}}" for z in zs)
        for j, (zj, aj) in enumerate(zip(zs, values, strict=True), 1):
            a_name, a_sym = self.a(layer, j)
            self.forward.append(
                Step(
                    a_name,
                    a_sym,
                    f"{a_sym} = \\frac{{e^{{{z_syms[j - 1]}}}}}{{{denom_sym}}}",
                    _with_value(f"\\frac{{e^{{{fmt(zj, d)}}}}}{{{denom_num}}}", aj, d),
                    aj,
                    "activation",
                    layer,
                    (j,),
                    z_names,
                )
            )

    def _probabilities(self) -> None:
        """p_j for a cross-entropy on a linear (logit) output layer."""
        L, d = self.n_layers, self.d
        zs = [float(v) for v in self.bp.zs[-1][0]]
        z_syms = [layer_name("z", L, k)[1] for k in range(1, len(zs) + 1)]
        for j, zj in enumerate(zs, 1):
            name, sym = leaf_name("p", j)
            pj = float(self.p[j - 1])
            if self.net.loss == "cross_entropy":
                denom_sym = " + ".join(f"e^{{{s}}}" for s in z_syms)
                denom_num = " + ".join(f"e^{{{fmt(z, d)}}}" for z in zs)
                formula = f"{sym} = \\frac{{e^{{{z_syms[j - 1]}}}}}{{{denom_sym}}}"
                numbers = f"\\frac{{e^{{{fmt(zj, d)}}}}}{{{denom_num}}}"
                deps = tuple(layer_name("z", L, k)[0] for k in range(1, len(zs) + 1))
            else:
                formula = f"{sym} = \\sigma\\left({z_syms[j - 1]}\\right)"
                numbers = f"\\sigma\\left({fmt(zj, d)}\\right)"
                deps = (layer_name("z", L, j)[0],)
            self.forward.append(
                Step(
                    name,
                    sym,
                    formula,
                    _with_value(numbers, pj, d),
                    pj,
                    "probability",
                    L,
                    (j,),
                    deps,
                )
            )

    def _loss(self) -> None:
        loss, d, n = self.net.loss, self.d, self.net.sizes[-1]
        L = self.n_layers
        sym_terms, num_terms, deps = [], [], []
        for j in range(1, n + 1):
            t_name, t_sym = leaf_name("t", j)
            tj = float(self.t[j - 1])
            if loss in {"sse", "half_sse", "mse"}:
                a_name, a_sym = self.a(L, j)
                sym_terms.append(f"\\left({a_sym} - {t_sym}\\right)^{{2}}")
                num_terms.append(f"\\left({fmt(self.a_val(L, j), d)} - {pfmt(tj, d)}\\right)^{{2}}")
            else:
                a_name, a_sym, pj = self.prob(j)
                sym_terms.append(f"{t_sym} \\log {a_sym}")
                num_terms.append(f"{pfmt(tj, d)} \\log {pfmt(pj, d)}")
                if loss == "binary_cross_entropy":
                    sym_terms[-1] += (
                        f" + \\left(1 - {t_sym}\\right) \\log\\left(1 - {a_sym}\\right)"
                    )
                    num_terms[-1] += (
                        f" + \\left(1 - {pfmt(tj, d)}\\right) \\log\\left(1 - {pfmt(pj, d)}\\right)"
                    )
            deps += [a_name, t_name]
        prefix = {
            "sse": "",
            "half_sse": r"\frac{1}{2}",
            "mse": "" if n == 1 else f"\\frac{{1}}{{{n}}}",
            "cross_entropy": "-",
            "binary_cross_entropy": "-" if n == 1 else f"-\\frac{{1}}{{{n}}}",
        }[loss]

        def total(terms: list[str]) -> str:
            body = " + ".join(terms)
            if not prefix or (len(terms) == 1 and loss in {"sse", "half_sse", "mse"}):
                return prefix + body
            return f"{prefix}\\left[{body}\\right]"

        value = self.bp.loss
        self.forward.append(
            Step(
                "L",
                "L",
                "L = " + total(sym_terms),
                _with_value(total(num_terms), value, d),
                value,
                "loss",
                None,
                (),
                tuple(deps),
            )
        )

    # backward --------------------------------------------------------------------------------
    def _backward_layer(self, layer: int) -> None:
        d, act, net = self.d, self.acts[layer - 1], self.net
        L = self.n_layers
        n_out, n_in = net.weights[layer - 1].shape
        a_row = self.bp.activations[layer][0]
        z_row = self.bp.zs[layer - 1][0]
        delta_row = self.bp.deltas[layer - 1][0]
        combined = layer == L and net.loss in {"cross_entropy", "binary_cross_entropy"}

        # dL/da for every unit: from the loss at the top, back-propagated below.
        da_row = np.zeros(n_out)
        if not combined:
            for j in range(1, n_out + 1):
                da_row[j - 1] = self._dl_da(layer, j)

        if not combined and act.elementwise:
            assert act.rule is not None
            assert act.derivative is not None
            local = act.derivative(z_row, a_row)
            for j in range(1, n_out + 1):
                z_name, z_sym = layer_name("z", layer, j)
                a_name, a_sym = self.a(layer, j)
                rule_sym = act.rule(z_sym, a_sym)
                rule_num = act.rule(fmt(z_row[j - 1], d), pfmt(a_row[j - 1], d))
                prime = "f" if act.name == "linear" else act.latex
                value = float(local[j - 1])
                self.backward.append(
                    Step(
                        f"d{a_name}/d{z_name}",
                        partial(a_sym, z_sym),
                        f"{partial(a_sym, z_sym)} = {prime}'\\left({z_sym}\\right) = {rule_sym}",
                        _with_value(rule_num, value, d),
                        value,
                        "local_derivative",
                        layer,
                        (j,),
                        (a_name,) if act.name in {"sigmoid", "tanh"} else (z_name,),
                    )
                )
        elif not combined:  # softmax: the Jacobian, then deltas by its transpose
            jac = np.diag(a_row) - np.outer(a_row, a_row)
            a_sym = f"a^{{({layer})}}"
            z_sym = f"z^{{({layer})}}"
            self.backward.append(
                Step(
                    f"da^{{({layer})}}/dz^{{({layer})}}",
                    partial(a_sym, z_sym),
                    f"\\left[{partial(a_sym, z_sym)}\\right]_{{jk}} = a^{{({layer})}}_{{j}}"
                    f"\\left(\\delta_{{jk}} - a^{{({layer})}}_{{k}}\\right)",
                    fmt_array(jac, d),
                    jac,
                    "local_derivative",
                    layer,
                    (),
                    tuple(self.a(layer, k)[0] for k in range(1, n_out + 1)),
                )
            )

        for j in range(1, n_out + 1):
            self._delta(layer, j, combined, act, float(delta_row[j - 1]), da_row, a_row)
        self._gradients(layer, n_out, n_in, combined, act)

    def _dl_da(self, layer: int, j: int) -> float:
        d, net, L = self.d, self.net, self.n_layers
        a_name, a_sym = self.a(layer, j)
        symbol = partial("L", a_sym)
        if layer == L:
            t_name, t_sym = leaf_name("t", j)
            aj, tj = self.a_val(L, j), float(self.t[j - 1])
            n = net.sizes[-1]
            factor = {"sse": 2.0, "half_sse": 1.0, "mse": 2.0 / n}[net.loss]
            coef = {"sse": "2", "half_sse": "", "mse": "2" if n == 1 else f"\\frac{{2}}{{{n}}}"}
            c = coef[net.loss]
            diff_sym = f"{a_sym} - {t_sym}"
            diff_num = f"{fmt(aj, d)} - {pfmt(tj, d)}"
            if c:
                diff_sym, diff_num = (
                    f"{c}\\left({diff_sym}\\right)",
                    f"{c}\\left({diff_num}\\right)",
                )
            value = factor * (aj - tj)
            self.backward.append(
                Step(
                    f"dL/d{a_name}",
                    symbol,
                    f"{symbol} = {diff_sym}",
                    _with_value(diff_num, value, d),
                    value,
                    "loss_derivative",
                    layer,
                    (j,),
                    ("L", a_name, t_name),
                )
            )
            return value
        W_next = net.weights[layer]  # weights into layer + 1
        deltas_next = self.bp.deltas[layer][0]
        terms_sym, terms_num, deps = [], [], []
        for k in range(1, W_next.shape[0] + 1):
            w_name, w_sym = layer_name("w", layer + 1, k, j)
            dk_name, dk_sym = layer_name("delta", layer + 1, k)
            terms_sym.append(f"{w_sym} {dk_sym}")
            terms_num.append(pfmt(W_next[k - 1, j - 1], d) + CDOT + pfmt(deltas_next[k - 1], d))
            deps += [w_name, dk_name]
        value = float(deltas_next @ W_next[:, j - 1])
        chain = (
            f"\\sum_{{k}} {partial('L', f'z^{{({layer + 1})}}_{{k}}')}"
            f" {partial(f'z^{{({layer + 1})}}_{{k}}', a_sym)}"
        )
        self.backward.append(
            Step(
                f"dL/d{a_name}",
                symbol,
                f"{symbol} = {chain} = " + " + ".join(terms_sym),
                _with_value(" + ".join(terms_num), value, d),
                value,
                "backprop",
                layer,
                (j,),
                tuple(deps),
            )
        )
        return value

    def _delta(
        self,
        layer: int,
        j: int,
        combined: bool,
        act: Activation,
        value: float,
        da_row: np.ndarray,
        a_row: np.ndarray,
    ) -> None:
        d, net = self.d, self.net
        name, sym = layer_name("delta", layer, j)
        z_name, z_sym = layer_name("z", layer, j)
        a_name, a_sym = self.a(layer, j)
        head = f"{sym} = {partial('L', z_sym)}"
        if combined:
            p_name, p_sym, pj = self.prob(j)
            t_name, t_sym = leaf_name("t", j)
            tj = float(self.t[j - 1])
            n = net.sizes[-1]
            if net.loss == "cross_entropy":
                t_sum = float(self.t.sum())
                if abs(t_sum - 1.0) <= 1e-12:
                    rule, num = f"{p_sym} - {t_sym}", f"{fmt(pj, d)} - {pfmt(tj, d)}"
                else:  # soft or unnormalised targets: p_j sum_k t_k - t_j
                    rule = f"{p_sym} \\sum_{{k}} t_{{k}} - {t_sym}"
                    num = f"{pfmt(pj, d)}{CDOT}{pfmt(t_sum, d)} - {pfmt(tj, d)}"
                deps: tuple[str, ...] = (p_name, *(leaf_name("t", k)[0] for k in range(1, n + 1)))
            else:
                rule, num = f"{p_sym} - {t_sym}", f"{fmt(pj, d)} - {pfmt(tj, d)}"
                if n > 1:
                    rule = f"\\frac{{1}}{{{n}}}\\left({rule}\\right)"
                    num = f"\\frac{{1}}{{{n}}}\\left({num}\\right)"
                deps = (p_name, t_name)
            formula, numbers = f"{head} = {rule}", num
        elif act.elementwise:
            local = partial(a_sym, z_sym)
            formula = f"{head} = {partial('L', a_sym)}{CDOT}{local}"
            assert act.derivative is not None
            local_value = act.derivative(self.bp.zs[layer - 1][0], a_row)[j - 1]
            numbers = pfmt(da_row[j - 1], d) + CDOT + pfmt(local_value, d)
            deps = (f"dL/d{a_name}", f"d{a_name}/d{z_name}")
        else:  # softmax: delta_j = a_j (dL/da_j - sum_k a_k dL/da_k)
            s = float(np.dot(a_row, da_row))
            formula = (
                f"{head} = {a_sym}\\left({partial('L', a_sym)} - \\sum_{{k}} "
                f"a^{{({layer})}}_{{k}} {partial('L', f'a^{{({layer})}}_{{k}}')}\\right)"
            )
            numbers = (
                f"{pfmt(a_row[j - 1], d)}\\left({pfmt(da_row[j - 1], d)} - {pfmt(s, d)}\\right)"
            )
            deps = (
                *(f"dL/d{self.a(layer, k)[0]}" for k in range(1, len(a_row) + 1)),
                f"da^{{({layer})}}/dz^{{({layer})}}",
            )
        self.backward.append(
            Step(
                name,
                sym,
                formula,
                _with_value(numbers, value, d),
                value,
                "delta",
                layer,
                (j,),
                deps,
            )
        )

    def _gradients(
        self, layer: int, n_out: int, n_in: int, combined: bool, act: Activation
    ) -> None:
        d, net = self.d, self.net
        gw = self.bp.grads.weights[layer - 1]
        gb = self.bp.grads.biases[layer - 1]
        deltas = self.bp.deltas[layer - 1][0]
        split = not combined and act.elementwise  # write dL/da * da/dz instead of delta
        local = None
        if split:
            assert act.derivative is not None
            local = act.derivative(self.bp.zs[layer - 1][0], self.bp.activations[layer][0])

        def chain(param_sym: str, j: int) -> tuple[str, str]:
            z_sym = layer_name("z", layer, j)[1]
            a_sym = self.a(layer, j)[1]
            d_sym = layer_name("delta", layer, j)[1]
            if split:
                return (
                    f"{partial('L', a_sym)}{CDOT}{partial(a_sym, z_sym)}{CDOT}"
                    f"{partial(z_sym, param_sym)}",
                    d_sym,
                )
            return f"{partial('L', z_sym)}{CDOT}{partial(z_sym, param_sym)}", d_sym

        def factors(j: int, last: float) -> str:
            if split:
                assert local is not None
                da = self._dl_da_value(layer, j)
                return CDOT.join((pfmt(da, d), pfmt(local[j - 1], d), pfmt(last, d)))
            return pfmt(deltas[j - 1], d) + CDOT + pfmt(last, d)

        for j in range(1, n_out + 1):
            d_name = layer_name("delta", layer, j)[0]
            for i in range(1, n_in + 1):
                w_name, w_sym = layer_name("w", layer, j, i)
                prev_name, prev_sym = self.a(layer - 1, i)
                product, d_sym = chain(w_sym, j)
                symbol = partial("L", w_sym)
                value = float(gw[j - 1, i - 1])
                self.backward.append(
                    Step(
                        f"dL/d{w_name}",
                        symbol,
                        f"{symbol} = {product} = {d_sym} {prev_sym}",
                        _with_value(factors(j, self.a_val(layer - 1, i)), value, d),
                        value,
                        "weight_gradient",
                        layer,
                        (j, i),
                        (d_name, prev_name),
                    )
                )
        if not net.bias:
            return
        for j in range(1, n_out + 1):
            b_name, b_sym = layer_name("b", layer, j)
            product, d_sym = chain(b_sym, j)
            symbol = partial("L", b_sym)
            value = float(gb[j - 1])
            self.backward.append(
                Step(
                    f"dL/d{b_name}",
                    symbol,
                    f"{symbol} = {product} = {d_sym}",
                    _with_value(factors(j, 1.0), value, d),
                    value,
                    "bias_gradient",
                    layer,
                    (j,),
                    (layer_name("delta", layer, j)[0],),
                )
            )

    def _dl_da_value(self, layer: int, j: int) -> float:
        value = self._by_name(f"dL/d{self.a(layer, j)[0]}").value
        assert isinstance(value, float)
        return value

    def _by_name(self, name: str) -> Step:
        for step in reversed(self.backward):
            if step.name == name:
                return step
        raise KeyError(name)


def trace_mlp(net: MLP, x: Any, t: Any, *, digits: int = 4) -> Trace:
    """The trace of one example (see `MLP.trace`)."""
    return _Builder(net, x, t, digits).build()
