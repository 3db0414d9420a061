"""Build the `Trace` of backpropagation through time for one sequence through an `RNN`.

Time steps are 1-based: x_1..x_T, h_0 given. Step names: "z_t", "h_t", "y_t", "L", "dL/dy_t",
"dL/dh_t", "dh_t/dz_t", "delta_t", "dh_t/dh_{t-1}" (written "dh_2/dh_1"), and the parameter
gradients "dL/dW_xh", "dL/dW_hh", "dL/db_h", "dL/dW_hy", "dL/db_y". Leaves: "x_t", "t_t"
(targets), "h_0" and the parameters "W_xh", ... For a scalar RNN (n_in = n_hidden = n_out = 1)
every value is a float and the formulas are products; otherwise values are ndarrays and the
formulas use matrix notation (transposes, the Hadamard product \\odot, diag).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from grader.engine._validate import FloatArray
from grader.exercises.solutions.trace import Step
from grader.exercises.solutions.trace import Trace
from grader.exercises.solutions.trace import fmt
from grader.exercises.solutions.trace import fmt_array
from grader.exercises.solutions.trace import partial
from grader.exercises.solutions.trace import pfmt

if TYPE_CHECKING:
    from grader.engine.rnn import RNN

_PARAM_TEX = {"W_xh": "W_{xh}", "W_hh": "W_{hh}", "b_h": "b_{h}", "W_hy": "W_{hy}", "b_y": "b_{y}"}


def trace_rnn(rnn: RNN, xs: Any, ts: Any, *, digits: int = 4) -> Trace:
    """The BPTT trace of one sequence through ``rnn``, typeset for a worked solution."""
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 17:
        raise ValueError(f"digits: expected an integer from 1 to 17, got {digits!r}")
    bp = rnn.bptt(xs, ts)
    xs = np.asarray(xs, dtype=np.float64)
    ts = np.asarray(ts, dtype=np.float64)
    d = digits
    scalar = rnn.n_in == rnn.n_hidden == rnn.n_out == 1
    T = xs.shape[0]

    def bare(v: FloatArray) -> str:
        """A value as a leaf or function argument: never parenthesised."""
        return fmt(float(np.asarray(v).item()), d) if scalar else fmt_array(v, d)

    def num(v: FloatArray) -> str:
        return pfmt(float(np.asarray(v).item()), d) if scalar else fmt_array(v, d)

    def val(v: FloatArray) -> float | FloatArray:
        return float(np.asarray(v).item()) if scalar else np.array(v, dtype=np.float64)

    def with_value(expr: str, v: FloatArray) -> str:
        shown = fmt(float(np.asarray(v).item()), d) if scalar else fmt_array(v, d)
        return shown if expr in {shown, num(v)} else f"{expr} = {shown}"

    tr = "" if scalar else "^{\\top}"
    had = r" \cdot " if scalar else r" \odot "
    mul = r" \cdot "  # between numbers; juxtaposition between symbols
    params = {n: getattr(rnn, n) for n in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")}

    given = [Step("h_0", "h_{0}", "", bare(bp.hs[0]), val(bp.hs[0]), "input", 0)]
    for t in range(1, T + 1):
        given.append(Step(f"x_{t}", f"x_{{{t}}}", "", bare(xs[t - 1]), val(xs[t - 1]), "input", t))
    for t in range(1, T + 1):
        given.append(Step(f"t_{t}", f"t_{{{t}}}", "", bare(ts[t - 1]), val(ts[t - 1]), "target", t))
    for name, p in params.items():
        kind = "weight" if name.startswith("W") else "bias"
        given.append(Step(name, _PARAM_TEX[name], "", bare(p), val(p), kind))

    forward: list[Step] = []
    for t in range(1, T + 1):
        z, h, y = bp.zs[t - 1], bp.hs[t], bp.ys[t - 1]
        forward.append(
            Step(
                f"z_{t}",
                f"z_{{{t}}}",
                f"z_{{{t}}} = W_{{xh}} x_{{{t}}} + W_{{hh}} h_{{{t - 1}}} + b_{{h}}",
                with_value(
                    f"{num(params['W_xh'])}{mul}{num(xs[t - 1])} + {num(params['W_hh'])}{mul}"
                    f"{num(bp.hs[t - 1])} + {num(params['b_h'])}",
                    z,
                ),
                val(z),
                "pre_activation",
                t,
                (),
                ("W_xh", f"x_{t}", "W_hh", f"h_{t - 1}", "b_h"),
            )
        )
        forward.append(
            Step(
                f"h_{t}",
                f"h_{{{t}}}",
                f"h_{{{t}}} = \\tanh\\left(z_{{{t}}}\\right)",
                with_value(f"\\tanh\\left({bare(z)}\\right)", h),
                val(h),
                "activation",
                t,
                (),
                (f"z_{t}",),
            )
        )
        forward.append(
            Step(
                f"y_{t}",
                f"y_{{{t}}}",
                f"y_{{{t}}} = W_{{hy}} h_{{{t}}} + b_{{y}}",
                with_value(f"{num(params['W_hy'])}{mul}{num(h)} + {num(params['b_y'])}", y),
                val(y),
                "activation",
                t,
                (),
                ("W_hy", f"h_{t}", "b_y"),
            )
        )
    norm = "" if scalar else r"\lVert"
    norm_end = "" if scalar else r"\rVert"
    term = (
        "\\left({norm}y_{{{t}}} - t_{{{t}}}{end}\\right)^{{2}}"
        if scalar
        else "{norm}y_{{{t}}} - t_{{{t}}}{end}^{{2}}"
    )
    sym_terms = [term.format(norm=norm, end=norm_end, t=t) for t in range(1, T + 1)]
    num_terms = [
        f"\\left({bare(bp.ys[t - 1])} - {num(ts[t - 1])}\\right)^{{2}}"
        if scalar
        else f"\\lVert {fmt_array(bp.ys[t - 1] - ts[t - 1], d)} \\rVert^{{2}}"
        for t in range(1, T + 1)
    ]
    prefix = {"sse": "", "half_sse": r"\frac{1}{2}", "mse": f"\\frac{{1}}{{{bp.ys.size}}}"}[
        rnn.loss
    ]
    if rnn.loss == "mse" and bp.ys.size == 1:
        prefix = ""

    def total(terms: list[str]) -> str:
        body = " + ".join(terms)
        return f"{prefix}\\left[{body}\\right]" if prefix and len(terms) > 1 else prefix + body

    forward.append(
        Step(
            "L",
            "L",
            "L = " + total(sym_terms),
            f"{total(num_terms)} = {fmt(bp.loss, d)}",
            bp.loss,
            "loss",
            None,
            (),
            tuple(n for t in range(1, T + 1) for n in (f"y_{t}", f"t_{t}")),
        )
    )

    coef = {"sse": "2", "half_sse": "", "mse": f"\\frac{{2}}{{{bp.ys.size}}}"}[rnn.loss]
    if rnn.loss == "mse" and bp.ys.size == 1:
        coef = "2"
    backward: list[Step] = []
    for t in range(T, 0, -1):
        dy, dh, delta = bp.dys[t - 1], bp.dhs[t - 1], bp.deltas[t - 1]
        h = bp.hs[t]
        local = 1.0 - h**2
        diff_sym = f"y_{{{t}}} - t_{{{t}}}"
        diff_num = (
            f"{bare(bp.ys[t - 1])} - {num(ts[t - 1])}"
            if scalar
            else f"{fmt_array(bp.ys[t - 1], d)} - {fmt_array(ts[t - 1], d)}"
        )
        if coef:
            diff_sym, diff_num = (
                f"{coef}\\left({diff_sym}\\right)",
                f"{coef}\\left({diff_num}\\right)",
            )
        backward.append(
            Step(
                f"dL/dy_{t}",
                partial("L", f"y_{{{t}}}"),
                f"{partial('L', f'y_{{{t}}}')} = {diff_sym}",
                with_value(diff_num, dy),
                val(dy),
                "loss_derivative",
                t,
                (),
                ("L", f"y_{t}", f"t_{t}"),
            )
        )
        sym = f"W_{{hy}}{tr} {partial('L', f'y_{{{t}}}')}"
        numbers = f"{num(params['W_hy'].T)}{mul}{num(dy)}"
        deps: tuple[str, ...] = ("W_hy", f"dL/dy_{t}")
        if t < T:
            sym += f" + W_{{hh}}{tr} \\delta_{{{t + 1}}}"
            numbers += f" + {num(params['W_hh'].T)}{mul}{num(bp.deltas[t])}"
            deps += ("W_hh", f"delta_{t + 1}")
        backward.append(
            Step(
                f"dL/dh_{t}",
                partial("L", f"h_{{{t}}}"),
                f"{partial('L', f'h_{{{t}}}')} = {sym}",
                with_value(numbers, dh),
                val(dh),
                "backprop",
                t,
                (),
                deps,
            )
        )
        backward.append(
            Step(
                f"dh_{t}/dz_{t}",
                partial(f"h_{{{t}}}", f"z_{{{t}}}"),
                f"{partial(f'h_{{{t}}}', f'z_{{{t}}}')} = \\tanh'\\left(z_{{{t}}}\\right) = "
                f"1 - h_{{{t}}}^{{2}}",
                with_value(f"1 - {{{num(h)}}}^{{2}}", local),
                val(local),
                "local_derivative",
                t,
                (),
                (f"h_{t}",),
            )
        )
        backward.append(
            Step(
                f"delta_{t}",
                f"\\delta_{{{t}}}",
                f"\\delta_{{{t}}} = {partial('L', f'z_{{{t}}}')} = {partial('L', f'h_{{{t}}}')}"
                f"{had}{partial(f'h_{{{t}}}', f'z_{{{t}}}')}",
                with_value(f"{num(dh)}{had}{num(local)}", delta),
                val(delta),
                "delta",
                t,
                (),
                (f"dL/dh_{t}", f"dh_{t}/dz_{t}"),
            )
        )
        jac = local[:, None] * params["W_hh"]
        diag = (
            f"\\left(1 - h_{{{t}}}^{{2}}\\right)"
            if scalar
            else f"\\operatorname{{diag}}\\left(1 - h_{{{t}}}^{{2}}\\right)"
        )
        diag_num = num(local) if scalar else f"\\operatorname{{diag}}\\left({num(local)}\\right)"
        backward.append(
            Step(
                f"dh_{t}/dh_{t - 1}",
                partial(f"h_{{{t}}}", f"h_{{{t - 1}}}"),
                f"{partial(f'h_{{{t}}}', f'h_{{{t - 1}}}')} = {diag} W_{{hh}}",
                with_value(f"{diag_num}{mul}{num(params['W_hh'])}", jac),
                val(jac),
                "local_derivative",
                t,
                (),
                (f"dh_{t}/dz_{t}", "W_hh"),
            )
        )

    def grad_step(name: str, rule: str, parts: list[str], deps: tuple[str, ...]) -> None:
        g = bp.grads[name]
        symbol = partial("L", _PARAM_TEX[name])
        backward.append(
            Step(
                f"dL/d{name}",
                symbol,
                f"{symbol} = {rule}",
                with_value(" + ".join(parts), g),
                val(g),
                "weight_gradient" if name.startswith("W") else "bias_gradient",
                None,
                (),
                deps,
            )
        )

    steps = range(1, T + 1)
    dy_sym = r"\frac{\partial L}{\partial y_{t}}"
    grad_step(
        "W_hy",
        f"\\sum_{{t}} {dy_sym} h_{{t}}{tr}",
        [f"{num(bp.dys[t - 1])}{mul}{num(bp.hs[t][None, :])}" for t in steps],
        tuple(n for t in steps for n in (f"dL/dy_{t}", f"h_{t}")),
    )
    grad_step(
        "b_y",
        f"\\sum_{{t}} {dy_sym}",
        [num(bp.dys[t - 1]) for t in steps],
        tuple(f"dL/dy_{t}" for t in steps),
    )
    grad_step(
        "W_xh",
        f"\\sum_{{t}} \\delta_{{t}} x_{{t}}{tr}",
        [f"{num(bp.deltas[t - 1])}{mul}{num(xs[t - 1][None, :])}" for t in steps],
        tuple(n for t in steps for n in (f"delta_{t}", f"x_{t}")),
    )
    grad_step(
        "W_hh",
        f"\\sum_{{t}} \\delta_{{t}} h_{{t-1}}{tr}",
        [f"{num(bp.deltas[t - 1])}{mul}{num(bp.hs[t - 1][None, :])}" for t in steps],
        tuple(n for t in steps for n in (f"delta_{t}", f"h_{t - 1}")),
    )
    grad_step(
        "b_h",
        r"\sum_{t} \delta_{t}",
        [num(bp.deltas[t - 1]) for t in steps],
        tuple(f"delta_{t}" for t in steps),
    )
    return Trace(given, forward, backward, title="Backpropagation through time, step by step")
