"""Small helpers the families share: LaTeX numbers, update lines, activation facts."""

from __future__ import annotations

import math
from typing import Any

from grader.exercises.solutions.trace import fmt
from grader.exercises.solutions.trace import pfmt

__all__ = [
    "ACT_LATEX",
    "ACT_PRIME_TEXT",
    "act",
    "act_prime",
    "fmt",
    "pfmt",
    "renamed",
    "update_line",
]

#: LaTeX name of each activation, as the engine's traces write it
ACT_LATEX = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\operatorname{ReLU}",
    "softplus": r"\operatorname{softplus}",
    "linear": r"\operatorname{id}",
}

#: f'(z) in the answer language, written with f itself where that is the usual form
ACT_PRIME_TEXT = {
    "sigmoid": "sigmoid({z})*(1 - sigmoid({z}))",
    "tanh": "(1 - tanh({z})^2)",
    "softplus": "sigmoid({z})",
    "linear": "1",
}


def act(name: str, z: float) -> float:
    """f(z) for a named activation, in plain floats (for hand-computation cross-checks)."""
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return max(z, 0.0)
    if name == "softplus":
        return max(z, 0.0) + math.log1p(math.exp(-abs(z)))
    if name == "linear":
        return z
    raise ValueError(f"unknown activation {name!r}")


def act_prime(name: str, z: float) -> float:
    """f'(z) for a named activation."""
    if name == "sigmoid":
        s = act("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - math.tanh(z) ** 2
    if name == "relu":
        return 1.0 if z > 0 else 0.0
    if name == "softplus":
        return act("sigmoid", z)
    if name == "linear":
        return 1.0
    raise ValueError(f"unknown activation {name!r}")


def update_line(
    symbol: str, old: float, rate: float, grad: float, new: float, grad_symbol: str
) -> str:
    """LaTeX of one gradient-descent update with its numbers."""
    return (
        f"{symbol}' = {symbol} - \\eta\\,{grad_symbol} = {fmt(old)} - {fmt(rate)} \\cdot "
        f"{pfmt(grad)} = {fmt(new)}"
    )


def as_floats(params: Any, *names: str) -> list[float]:
    """Several parameters as floats, in order."""
    return [float(params[n]) for n in names]


def renamed(markdown: str, names: dict[str, str]) -> str:
    """The engine's trace with the prompt's names (``w^{(1)}_{11}`` -> ``w_{1}``).

    The engine names every quantity by layer and index; an exercise whose prompt uses
    shorter names shows its worked solution in the same notation.
    """
    for engine_name, prompt_name in names.items():
        markdown = markdown.replace(engine_name, prompt_name)
    return markdown
