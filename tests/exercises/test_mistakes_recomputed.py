"""Every variant discriminates, checked from outside (issue 12 "Done when"): for every family
with numeric parts, the classic mistakes are recomputed here from the variant's parameters with
plain NumPy (unchanged weight, sign-flipped update, forgot η, forgot f', used the updated
weight, a factor 2, a transpose, sum instead of mean, ...), independently of the family code,
and none of them is judged correct on 200 seeds; the key itself, rounded to the precision the
part states, always is.

Each recomputation first checks that it reproduces the key, so a mistake here is a mistake of
the quantity the part really asks for. A mistake that happens to equal the key for some
numbers is not a mistake there and is skipped (the family leaves such cases out too).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from grader.exercises import Variant
from grader.exercises import generate
from grader.exercises import judge

SEEDS = range(200)
Values = dict[str, dict[str, Any]]  # part id -> {"key": value, mistake name: value, ...}


def sig(z: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


ACT: dict[str, Callable[[Any], Any]] = {
    "sigmoid": sig,
    "tanh": np.tanh,
    "softplus": lambda z: np.logaddexp(0.0, z),
    "relu": lambda z: np.maximum(z, 0.0),
    "linear": lambda z: np.asarray(z, dtype=float),
}
PRIME: dict[str, Callable[[Any], Any]] = {
    "sigmoid": lambda z: sig(z) * (1 - sig(z)),
    "tanh": lambda z: 1 - np.tanh(z) ** 2,
    "softplus": sig,
    "relu": lambda z: (np.asarray(z) > 0).astype(float),
    "linear": lambda z: np.ones_like(np.asarray(z, dtype=float)),
}


def A(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def update(ref: float, key: float, rate: float) -> dict[str, float]:
    """The update mistakes of w' = w - η g, from w and η only."""
    step = key - ref
    return {
        "unchanged": ref,
        "sign flipped": ref - step,
        "forgot eta": ref + step / rate,
        "factor 2": ref + 2 * step,
        "only the change": step,
    }


# --------------------------------------------------------------------------- the families


def activation(p: dict[str, Any], value_id: str | None, slope_id: str) -> Values:
    f, z = p["act"], p["z0"]
    d = float(PRIME[f](z))
    out = {slope_id: {"key": d, "gave f": float(ACT[f](z)), "sign": -d}}
    if value_id:
        out[value_id] = {"key": float(ACT[f](z)), "gave f'": d, "sign": -float(ACT[f](z))}
    return out


def batchnorm(p: dict[str, Any]) -> Values:
    x, dy, g = A(p["x"]), A(p["dy"]), float(p["gamma"])
    n, mu = len(x), A(p["x"]).mean()
    var = ((x - mu) ** 2).mean()
    inv = 1 / math.sqrt(var + 1e-5)
    xh = (x - mu) * inv
    dx = g * inv / n * (n * dy - dy.sum() - xh * (dy * xh).sum())
    unbiased = (x - mu) / math.sqrt(((x - mu) ** 2).sum() / (n - 1) + 1e-5)
    return {
        "xhat": {"key": xh, "unbiased variance": unbiased, "forgot mean": x * inv},
        "dbeta": {"key": dy.sum(), "mean not sum": dy.mean(), "sign": -dy.sum()},
        "dgamma": {"key": (dy * xh).sum(), "forgot xhat": dy.sum(), "sign": -(dy * xh).sum()},
        "dx": {
            "key": dx,
            "mean and variance held constant": g * inv * dy,
            "forgot gamma": dx / g,
            "sign": -dx,
        },
    }


def bptt(p: dict[str, Any]) -> Values:
    wx, wh, wy, T = p["wx"], p["wh"], p["wy"], int(p["T"])
    xs, ts = A(p["xs"]), A(p["ts"])
    h = [0.0]
    for t in range(T):
        h.append(math.tanh(wx * xs[t] + wh * h[-1]))
    dy = [2 * (wy * h[t + 1] - ts[t]) for t in range(T)]

    def dwh(tanh_prime: bool, recurrent: bool, steps: range) -> float:
        total, carry = 0.0, 0.0
        for t in reversed(range(T)):
            dh = (wy * dy[t] if t in steps else 0.0) + (carry if recurrent else 0.0)
            dz = dh * ((1 - h[t + 1] ** 2) if tanh_prime else 1.0)
            total += dz * h[t]
            carry = wh * dz
        return total

    key = dwh(True, True, range(T))
    factors = [wh * (1 - h[k] ** 2) for k in range(2, T + 1)]
    return {
        "dwh": {
            "key": key,
            "forgot tanh'": dwh(False, True, range(T)),
            "no recurrence (truncated)": dwh(True, False, range(T)),
            "only the last output": dwh(True, True, range(T - 1, T)),
            "forgot factor 2": key / 2,
            "sign": -key,
        },
        "factor": {
            "key": math.prod(factors),
            "forgot tanh'": wh ** (T - 1),
            "one factor only": factors[-1],
        },
    }


def chain(p: dict[str, Any]) -> Values:
    f, g, x, t, eta = p["f"], p["g"], p["x"], p["t"], p["eta"]

    def grads(w1: float, w2: float, fp: bool = True, gp: bool = True) -> dict[str, float]:
        z1 = w1 * x + p["b1"]
        h = float(ACT[f](z1))
        z2 = w2 * h + p["b2"]
        dy = 2 * (float(ACT[g](z2)) - t)
        d2 = dy * (float(PRIME[g](z2)) if gp else 1.0)
        d1 = d2 * w2 * (float(PRIME[f](z1)) if fp else 1.0)
        return {"dw2": d2 * h, "db2": d2, "dw1": d1 * x, "db1": d1}

    right = grads(p["w1"], p["w2"])
    out: Values = {k: {"key": v, "sign": -v, "forgot 2": v / 2} for k, v in right.items()}
    for forgot, kw in (("forgot f'", {"fp": False}), ("forgot g'", {"gp": False})):
        for k, v in grads(p["w1"], p["w2"], **kw).items():
            out[k][forgot] = v
    w1new = p["w1"] - eta * right["dw1"]
    w2new = p["w2"] - eta * right["dw2"]
    out["w1new"] = {"key": w1new, **update(p["w1"], w1new, eta)}
    out["w1new"]["used the updated w2"] = p["w1"] - eta * grads(p["w1"], w2new)["dw1"]
    return out


def comp_graph(p: dict[str, Any]) -> Values:
    x, y, z, w = p["x"], p["y"], p["z"], p["w"]
    q = x * y
    m = max(q, w)
    s = float(sig(m))
    pp = x + z
    dm = pp * s * (1 - s)
    dq, dw = (dm, 0.0) if q > w else (0.0, dm)
    return {
        "f": {"key": s * pp, "forgot sigma": m * pp},
        "dm": {"key": dm, "forgot sigma'": pp, "forgot p": s * (1 - s)},
        "dw": {"key": dw, "gradient to both branches": dm if q > w else 0.0},
        "dy": {"key": x * dq, "forgot x": dq},
        "dz": {"key": s, "sign": -s},
        "dx": {
            "key": y * dq + s,
            "one branch only (add gate)": s,
            "one branch only (multiply gate)": y * dq,
        },
    }


def conv1d(p: dict[str, Any]) -> Values:
    x, w, g = A(p["x"]), A(p["w"]), A(p["g"])
    y = np.correlate(x, w, mode="valid")
    dw = np.correlate(x, g, mode="valid")
    dx = np.convolve(g, w, mode="full")
    return {
        "y": {"key": y, "true convolution (flipped kernel)": np.convolve(x, w, mode="valid")},
        "dw": {"key": dw, "reversed": dw[::-1], "sign": -dw},
        "dx": {"key": dx, "kernel not flipped": np.correlate(np.pad(g, 2), w, mode="valid")},
    }


def _conv2d(x: np.ndarray, w: np.ndarray, s: int) -> np.ndarray:
    k = w.shape[0]
    n = (x.shape[0] - k) // s + 1
    return A(
        [[(x[i * s : i * s + k, j * s : j * s + k] * w).sum() for j in range(n)] for i in range(n)]
    )


def conv2d(p: dict[str, Any]) -> Values:
    x, w, g = A(p["x"]), A(p["w"]), A(p["g"])
    s, pad = int(p["stride"]), int(p["padding"])
    xp = np.pad(x, pad)
    k = w.shape[0]
    y = _conv2d(xp, w, s)
    dw = np.zeros_like(w)
    dxp = np.zeros_like(xp)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            dw += g[i, j] * xp[i * s : i * s + k, j * s : j * s + k]
            dxp[i * s : i * s + k, j * s : j * s + k] += g[i, j] * w
    dx = dxp[pad : pad + x.shape[0], pad : pad + x.shape[1]]
    return {
        "y": {"key": y, "flipped kernel": _conv2d(xp, w[::-1, ::-1], s)},
        "dw": {"key": dw, "transposed": dw.T, "sign": -dw},
        "dx": {"key": dx, "flipped kernel": _dx_flipped(g, w, xp, s, pad)},
    }


def _dx_flipped(g: np.ndarray, w: np.ndarray, xp: np.ndarray, s: int, pad: int) -> np.ndarray:
    k = w.shape[0]
    out = np.zeros_like(xp)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[i * s : i * s + k, j * s : j * s + k] += g[i, j] * w[::-1, ::-1]
    return out[pad : out.shape[0] - pad, pad : out.shape[1] - pad]


def sigmoid_neuron(p: dict[str, Any]) -> Values:
    w, b, x, t, eta = p["w"], p["b"], p["x"], p["t"], p["eta"]
    y = float(sig(w * x + b))
    dz = (y - t) * y * (1 - y)
    b_new = b - eta * dz
    return {
        "y": {"key": y, "forgot sigma": w * x + b},
        "dw": {"key": dz * x, "forgot sigma'": (y - t) * x, "forgot x": dz, "sign": -dz * x},
        "db": {"key": dz, "forgot sigma'": y - t, "times x": dz * x, "sign": -dz},
        "b_new": {"key": b_new, **update(b, b_new, eta), "used dw": b - eta * dz * x},
    }


def delta_rule(p: dict[str, Any]) -> Values:
    y = p["w1"] * p["x1"] + p["w2"] * p["x2"]
    out: Values = {"y": {"key": y, "forgot a term": p["w1"] * p["x1"]}}
    for i in (1, 2):
        w, x = p[f"w{i}"], p[f"x{i}"]
        key = w + p["eta"] * (p["t"] - y) * x
        out[f"w{i}"] = {
            "key": key,
            **update(w, key, p["eta"]),
            "forgot x": w + p["eta"] * (p["t"] - y),
        }
    return out


def dropout(p: dict[str, Any]) -> Values:
    h, m, v, q, dy = A(p["h"]), A(p["m"]), A(p["v"]), float(p["p"]), float(p["dy"])
    hd = h * m / (1 - q)
    dh = dy * v * m / (1 - q)
    return {
        "hdrop": {"key": hd, "forgot the scale": h * m, "scaled by p": h * m / q},
        "dv": {"key": dy * hd, "unscaled": dy * h * m, "forgot the mask": dy * h / (1 - q)},
        "dh": {"key": dh, "forgot the mask": dy * v / (1 - q), "forgot the scale": dy * v * m},
    }


def lr_behaviour(p: dict[str, Any]) -> Values:
    a, c, eta = p["a"], p["c"], p["eta"]

    def run(w: float, n: int, factor: float) -> float:
        for _ in range(n):
            w = w - eta * factor * a * (w - c)
        return w

    w0 = p["w0"]
    w1, w2, w3 = run(w0, 1, 2), run(w0, 2, 2), run(w0, 3, 2)
    return {
        "w1": {"key": w1, **update(w0, w1, eta), "forgot 2": run(w0, 1, 1)},
        "w3": {"key": w3, **update(w2, w3, eta), "forgot 2": run(w0, 3, 1), "w2": w2, "w1": w1},
        "r": {"key": 1 - 2 * a * eta, "forgot 2": 1 - a * eta, "2a eta": 2 * a * eta},
    }


def lstm(p: dict[str, Any]) -> Values:
    W, U, b = A(p["W"]).reshape(-1), A(p["U"]).reshape(-1), A(p["b"])
    x, h, c, dh = p["x"], p["h"], p["c"], p["dh"]
    a = W * x + U * h + b
    i, f, g, o = sig(a[0]), sig(a[1]), np.tanh(a[2]), sig(a[3])
    cn = f * c + i * g
    hn = o * np.tanh(cn)
    dcn = dh * o * (1 - np.tanh(cn) ** 2)
    return {
        "cnew": {"key": cn, "forgot f c": i * g, "forgot i g": f * c},
        "hnew": {"key": hn, "forgot tanh": o * cn},
        "dcnew": {"key": dcn, "forgot tanh'": dh * o, "forgot o": dh * (1 - np.tanh(cn) ** 2)},
        "dc": {"key": dcn * f, "forgot f": dcn},
        "daf": {
            "key": dcn * c * f * (1 - f),
            "forgot sigma'": dcn * c,
            "forgot c": dcn * f * (1 - f),
        },
        "dao": {"key": dh * np.tanh(cn) * o * (1 - o), "forgot sigma'": dh * np.tanh(cn)},
    }


def matrix_deltas(p: dict[str, Any]) -> Values:
    x, y, W1, b1, W2, b2 = (A(p[k]) for k in ("x", "y", "W1", "b1", "W2", "b2"))
    a1 = sig(W1 @ x + b1)
    a2 = sig(W2 @ a1 + b2)
    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    return {
        "delta2": {"key": d2, "forgot sigma'": a2 - y, "sign": -d2},
        "delta1": {
            "key": d1,
            "forgot sigma'": W2.T @ d2,
            "used a2 - y": (W2.T @ (a2 - y)) * a1 * (1 - a1),
        },
        "gradW2": {"key": np.outer(d2, a1), "sign": -np.outer(d2, a1)},
        "gradW1": {"key": np.outer(d1, x), "used a1 - style delta2": np.outer(W2.T @ d2, x)},
    }


def minibatch(p: dict[str, Any]) -> Values:
    w, b, eta = p["w"], p["b"], p["eta"]
    xs, ts = A(p["xs"]), A(p["ts"])
    n = len(xs)
    per = 2 * (w * xs + b - ts) * xs
    single = per[0]
    batch = per.mean()
    upd = w - eta * batch
    return {
        "single": {"key": single, "divided by n": single / n, "forgot 2": single / 2},
        "batch": {
            "key": batch,
            "sum not mean": per.sum(),
            "forgot 2": batch / 2,
            "first only": single,
        },
        "update": {"key": upd, **update(w, upd, eta), "sum not mean": w - eta * per.sum()},
    }


def mlp_step(p: dict[str, Any]) -> Values:
    X, T, W1, b1, W2, b2 = (A(p[k]) for k in ("X", "T", "W1", "b1", "W2", "b2"))
    B, eta = len(X), p["eta"]
    A1 = sig(X @ W1.T + b1)
    Y = (A1 @ W2.T + b2)[:, 0]
    loss = ((Y - T.reshape(-1)) ** 2).mean()
    D2 = 2 / B * (Y - T.reshape(-1))
    D1 = np.outer(D2, W2[0]) * A1 * (1 - A1)
    gW2 = D2[None, :] @ A1
    gW1 = D1.T @ X
    new = W1 - eta * gW1
    return {
        "loss": {"key": loss, "sum not mean": loss * B},
        "delta2": {"key": D2, "sum not mean": D2 * B, "forgot 2": D2 / 2},
        "delta1": {"key": D1, "forgot sigma'": np.outer(D2, W2[0])},
        "gradW2": {"key": gW2, "sum not mean": gW2 * B},
        "gradW1": {"key": gW1, "transposed": gW1.T, "sum not mean": gW1 * B},
        "gradb1": {"key": D1.sum(0), "mean over the batch again": D1.mean(0)},
        "W1new": {
            "key": new,
            "unchanged": W1,
            "sign flipped": W1 + eta * gW1,
            "forgot eta": W1 - gW1,
            "sum not mean": W1 - eta * B * gW1,
            "transposed gradient": W1 - eta * gW1.T,
        },
    }


def optimizer(p: dict[str, Any]) -> Values:
    w, lr, g = p["w0"], p["lr"], (p["g1"], p["g2"])
    kind = p["opt"]

    def run(rule: str, sign: float = 1.0) -> list[float]:
        ws, m, v, out = w, 0.0, 0.0, []
        for t, gt in enumerate(g, start=1):
            if rule == "sgd":
                step = gt
            elif rule == "momentum":
                m = p["momentum"] * m + gt
                step = m
            elif rule == "momentum dampened":
                m = p["momentum"] * m + (1 - p["momentum"]) * gt
                step = m
            elif rule == "rmsprop":
                v = p["alpha"] * v + (1 - p["alpha"]) * gt**2
                step = gt / (math.sqrt(v) + 1e-8)
            elif rule in ("adam", "adam uncorrected"):
                m = p["beta1"] * m + (1 - p["beta1"]) * gt
                v = p["beta2"] * v + (1 - p["beta2"]) * gt**2
                mh, vh = (
                    (m, v)
                    if rule == "adam uncorrected"
                    else (
                        m / (1 - p["beta1"] ** t),
                        v / (1 - p["beta2"] ** t),
                    )
                )
                step = mh / (math.sqrt(vh) + 1e-8)
            ws = ws - sign * lr * step
            out.append(ws)
        return out

    right = run(kind)
    wrong = {"plain SGD": run("sgd"), "sign": run(kind, -1.0)}
    if kind == "momentum":
        wrong["dampened momentum"] = run("momentum dampened")
    if kind == "adam":
        wrong["no bias correction"] = run("adam uncorrected")
    out: Values = {}
    for i, part in enumerate(("w1", "w2")):
        ref = [w, *right][i]
        out[part] = {"key": right[i], **update(ref, right[i], lr)}
        out[part].update({k: v[i] for k, v in wrong.items()})
    return out


def pooling(p: dict[str, Any]) -> Values:
    x, g, s = A(p["x"]), A(p["g"]), int(p["stride"])
    n = g.shape[0]
    ymax = np.zeros_like(g)
    dmax, davg, dfirst = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    for i in range(n):
        for j in range(n):
            win = x[i * s : i * s + 2, j * s : j * s + 2]
            ymax[i, j] = win.max()
            a, b = np.unravel_index(np.argmax(win), (2, 2))
            dmax[i * s + a, j * s + b] += g[i, j]
            dfirst[i * s + a, j * s + b] = g[i, j]  # overwrote instead of adding
            davg[i * s : i * s + 2, j * s : j * s + 2] += g[i, j] / 4
    spread = davg * 4
    return {
        "ymax": {"key": ymax, "average": _avg(x, s, n)},
        "dxmax": {"key": dmax, "spread to the window": spread, "overwrote overlaps": dfirst},
        "dxavg": {"key": davg, "forgot 1/4": spread},
    }


def _avg(x: np.ndarray, s: int, n: int) -> np.ndarray:
    return A([[x[i * s : i * s + 2, j * s : j * s + 2].mean() for j in range(n)] for i in range(n)])


def shared_weight(p: dict[str, Any]) -> Values:
    f, w = p["f"], p["w"]
    z1, z2 = w * p["x1"], w * p["x2"]
    h1, h2 = float(ACT[f](z1)), float(ACT[f](z2))
    dy = p["v1"] * h1 + p["v2"] * h2 - p["t"]
    path1 = dy * p["v1"] * float(PRIME[f](z1)) * p["x1"]
    path2 = dy * p["v2"] * float(PRIME[f](z2)) * p["x2"]
    return {
        "path1": {"key": path1, "forgot f'": dy * p["v1"] * p["x1"], "the other path": path2},
        "dw": {
            "key": path1 + path2,
            "first use only": path1,
            "second use only": path2,
            "averaged": (path1 + path2) / 2,
        },
    }


def sigmoid_bce(p: dict[str, Any]) -> Values:
    z = p["w1"] * p["x1"] + p["w2"] * p["x2"] + p["b"]
    s, t = float(sig(z)), p["t"]
    loss = -(t * math.log(s) + (1 - t) * math.log(1 - s))
    ds = -t / s + (1 - t) / (1 - s)
    return {
        "s": {"key": s, "z": z},
        "loss": {"key": loss, "log10": loss / math.log(10), "sign": -loss},
        "ds": {"key": ds, "sign": -ds},
        "dz": {"key": s - t, "sign": t - s, "kept sigma' twice": (s - t) * s * (1 - s)},
        "dw1": {"key": (s - t) * p["x1"], "forgot x": s - t, "used x2": (s - t) * p["x2"]},
    }


def softmax_xent(p: dict[str, Any]) -> Values:
    x, W, b = A(p["x"]), A(p["W"]), A(p["b"])
    z = W @ x + b
    pr = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    y = np.eye(len(z))[int(p["label"]) - 1]
    return {
        "p": {"key": pr, "scores": z},
        "dz": {"key": pr - y, "forgot y": pr, "sign": y - pr},
        "dW": {
            "key": np.outer(pr - y, x),
            "forgot y": np.outer(pr, x),
            "sign": np.outer(y - pr, x),
        },
    }


def softmax_hidden(p: dict[str, Any]) -> Values:
    x, W1, b1, W2, b2 = (A(p[k]) for k in ("x", "W1", "b1", "W2", "b2"))
    h = np.tanh(W1 @ x + b1)
    z = W2 @ h + b2
    pr = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    y = np.eye(len(z))[int(p["label"]) - 1]
    dh = W2.T @ (pr - y)
    d1 = dh * (1 - h**2)
    return {
        "p": {"key": pr},
        "dz": {"key": pr - y, "forgot y": pr, "sign": y - pr},
        "dh": {"key": dh, "forgot y": W2.T @ pr},
        "delta1": {"key": d1, "forgot tanh'": dh, "sign": -d1},
        "dW1": {
            "key": np.outer(d1, x),
            "forgot tanh'": np.outer(dh, x),
            "transposed": np.outer(d1, x).T,
        },
    }


def softplus_ssr(p: dict[str, Any]) -> Values:
    xs, obs = A([0.0, 0.5, 1.0]), A([0.0, 1.0, 0.0])

    def pred(b3: float) -> np.ndarray:
        return (
            p["w3"] * np.logaddexp(0, p["w1"] * xs + p["b1"])
            + p["w4"] * np.logaddexp(0, p["w2"] * xs + p["b2"])
            + b3
        )

    def slope(b3: float) -> float:
        return float((-2 * (obs - pred(b3))).sum())

    b, eta = p["b3"], p["eta"]
    k = slope(b)
    b1 = b - eta * k
    final = b
    for _ in range(int(p["steps"])):
        final -= eta * slope(final)
    return {
        "slope": {"key": k, "sign": -k, "forgot 2": k / 2, "mean not sum": k / 3},
        "step1": {"key": b1, **update(b, b1, eta)},
        "final": {"key": final, "one step only": b1},
    }


def depth(p: dict[str, Any]) -> Values:
    f, w, x, L = p["f"], p["w"], p["x"], int(p["L"])
    hs, primes = [x], []
    for _ in range(L):
        z = w * hs[-1]
        primes.append(float(PRIME[f](z)))
        hs.append(float(ACT[f](z)))
    prod = math.prod(w * d for d in primes)
    fmax = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}[f]
    return {
        "product": {"key": prod, "forgot f'": w**L, "forgot w": math.prod(primes)},
        "factor": {"key": abs(w) * fmax, "forgot max f'": abs(w)},
    }


def weight_decay(p: dict[str, Any]) -> Values:
    w, g, eta, lam = A(p["w"]), A(p["g"]), p["eta"], p["lam"]
    grad = g + lam * w
    new = w - eta * grad
    return {
        "grad": {
            "key": grad,
            "no decay": g,
            "lambda/2": g + lam * w / 2,
            "2 lambda": g + 2 * lam * w,
        },
        "shrink": {"key": 1 - eta * lam, "forgot eta": 1 - lam, "eta lambda": eta * lam},
        "wnew": {
            "key": new,
            "unchanged": w,
            "no decay": w - eta * g,
            "sign flipped": w + eta * grad,
            "forgot eta": w - grad,
            "2 lambda": w - eta * (g + 2 * lam * w),
        },
    }


RECOMPUTE: dict[str, Callable[[dict[str, Any]], Values]] = {
    "activation-derivatives": lambda p: activation(p, None, "at_point"),
    "relu-derivative": lambda p: activation(p, "value", "slope"),
    "batchnorm-backward": batchnorm,
    "bptt-scalar-rnn": bptt,
    "chain-rule-numeric": chain,
    "computational-graph": comp_graph,
    "conv1d-gradients": conv1d,
    "conv2d-gradients": conv2d,
    "declarative-sigmoid-neuron": sigmoid_neuron,
    "delta-rule-classic": delta_rule,
    "dropout-backward": dropout,
    "learning-rate-behaviour": lr_behaviour,
    "lstm-step-backward": lstm,
    "matrix-deltas-232": matrix_deltas,
    "minibatch-average": minibatch,
    "mlp-training-step": mlp_step,
    "optimizer-steps": optimizer,
    "pooling-backward": pooling,
    "pooling-backward-overlapping": pooling,
    "shared-weight": shared_weight,
    "sigmoid-bce": sigmoid_bce,
    "softmax-cross-entropy": softmax_xent,
    "softmax-hidden-layer": softmax_hidden,
    "softplus-ssr-b3": softplus_ssr,
    "vanishing-exploding-depth": depth,
    "weight-decay": weight_decay,
}
#: numeric parts recomputed elsewhere or not from the parameters alone
NOT_HERE = {
    "find-the-bug": "the printed table is drawn by the family (test_family_course checks it)",
    "gradient-check": "covered by test_family_misc (the reported pair is drawn by the family)",
}


# --------------------------------------------------------------------------- the checks


def _text(value: Any, fmt: Callable[[float], str]) -> str:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return fmt(float(arr))
    return "[" + ", ".join(_text(v, fmt) for v in arr) + "]"


def _key_forms(v: Variant, part_id: str) -> list[str]:
    part = v.part(part_id)
    if "decimals" in part.check:
        d = int(part.check["decimals"])
        return [
            _text(part.key, lambda x: f"{x:.{d}f}"),
            _text(part.key, lambda x: f"{x:.{d + 2}f}"),
        ]
    n = int(part.check.get("figures", 3))
    return [
        _text(part.key, lambda x: f"{x:.{n - 1}e}"),
        _text(part.key, lambda x: f"{x:.{n + 1}e}"),
    ]


def _wrong_forms(v: Variant, part_id: str, wrong: Any) -> list[str]:
    part = v.part(part_id)
    forms = [_text(wrong, repr)]
    if "decimals" in part.check:
        d = int(part.check["decimals"])
        forms.append(_text(wrong, lambda x: f"{x:.{d}f}"))
    else:
        n = int(part.check.get("figures", 3))
        forms += [_text(wrong, lambda x: f"{x:.{n - 1}e}"), _text(wrong, lambda x: f"{x:.{n}e}")]
    return forms


def test_every_family_with_numeric_parts_is_recomputed(library) -> None:
    numeric = {
        eid
        for eid, spec in library.items()
        if any(p.type in ("numeric", "vector", "matrix") for p in generate(spec, 0).parts)
    }
    assert numeric == set(RECOMPUTE) | set(NOT_HERE)


@pytest.mark.slow  # 200 seeds of every numeric exercise: `make test` runs it, test-fast not
@pytest.mark.parametrize("exercise_id", sorted(RECOMPUTE))
def test_recomputed_mistakes_are_never_judged_correct(library, exercise_id: str) -> None:
    recompute = RECOMPUTE[exercise_id]
    checked = 0
    for seed in SEEDS:
        v = generate(library[exercise_id], seed)
        for part_id, values in recompute(dict(v.params)).items():
            part = v.part(part_id)
            key = np.asarray(part.key, dtype=float)
            where = f"{exercise_id} seed {seed} part {part_id}"
            assert np.allclose(np.asarray(values["key"], dtype=float), key, rtol=1e-7, atol=1e-9), (
                f"{where}: recomputed {values['key']} for the key {part.key}"
            )
            for text in _key_forms(v, part_id):
                assert judge(v, part_id, text).status == "correct", f"{where}: key {text}"
            for why, wrong in values.items():
                if why == "key":
                    continue
                wrong = np.asarray(wrong, dtype=float)
                if wrong.shape != key.shape or np.allclose(wrong, key, rtol=0, atol=1e-12):
                    continue  # a transpose of a square matrix of this shape, or the same numbers
                for text in _wrong_forms(v, part_id, wrong):
                    r = judge(v, part_id, text)
                    assert r.status != "correct", f"{where}: {why} {text} judged correct"
                checked += 1
    assert checked >= len(SEEDS)
