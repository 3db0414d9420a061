"""The whitelist: functions, constants, Greek letters, and how names are resolved.

Everything a student may type by name is listed here; anything else is an unknown
name and gets a "did you mean ...?" message, never an evaluation.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    """One whitelisted function: its arity and how it is displayed."""

    name: str
    min_args: int
    max_args: int
    latex: str


_FUNCTIONS = (
    FunctionSpec("exp", 1, 1, r"\exp"),
    FunctionSpec("log", 1, 1, r"\ln"),
    FunctionSpec("sqrt", 1, 1, r"\sqrt"),
    FunctionSpec("abs", 1, 1, r"\operatorname{abs}"),
    FunctionSpec("sin", 1, 1, r"\sin"),
    FunctionSpec("cos", 1, 1, r"\cos"),
    FunctionSpec("tan", 1, 1, r"\tan"),
    FunctionSpec("sec", 1, 1, r"\sec"),
    FunctionSpec("csc", 1, 1, r"\csc"),
    FunctionSpec("cot", 1, 1, r"\cot"),
    FunctionSpec("log10", 1, 1, r"\log_{10}"),
    FunctionSpec("log2", 1, 1, r"\log_{2}"),
    FunctionSpec("sign", 1, 1, r"\operatorname{sign}"),
    FunctionSpec("asin", 1, 1, r"\arcsin"),
    FunctionSpec("acos", 1, 1, r"\arccos"),
    FunctionSpec("atan", 1, 1, r"\arctan"),
    FunctionSpec("sinh", 1, 1, r"\sinh"),
    FunctionSpec("cosh", 1, 1, r"\cosh"),
    FunctionSpec("tanh", 1, 1, r"\tanh"),
    FunctionSpec("sech", 1, 1, r"\operatorname{sech}"),
    FunctionSpec("csch", 1, 1, r"\operatorname{csch}"),
    FunctionSpec("coth", 1, 1, r"\coth"),
    FunctionSpec("asinh", 1, 1, r"\operatorname{arsinh}"),
    FunctionSpec("acosh", 1, 1, r"\operatorname{arcosh}"),
    FunctionSpec("atanh", 1, 1, r"\operatorname{artanh}"),
    FunctionSpec("sigmoid", 1, 1, r"\sigma"),
    FunctionSpec("softplus", 1, 1, r"\operatorname{softplus}"),
    FunctionSpec("relu", 1, 1, r"\operatorname{ReLU}"),
    FunctionSpec("logit", 1, 1, r"\operatorname{logit}"),
    FunctionSpec("max", 2, 20, r"\max"),
    FunctionSpec("min", 2, 20, r"\min"),
)

FUNCTIONS: dict[str, FunctionSpec] = {spec.name: spec for spec in _FUNCTIONS}

FUNCTION_ALIASES: dict[str, str] = {
    "ln": "log",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arsinh": "asinh",
    "arcosh": "acosh",
    "artanh": "atanh",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "ReLU": "relu",
    "cosec": "csc",
    "cosech": "csch",
    "sgn": "sign",
}
"""Other spellings accepted for a function (``ln`` is the natural log, like ``log``;
``cosec`` is STACK's spelling of ``csc``)."""

CONSTANTS = frozenset({"e", "pi"})
"""``e`` and ``pi``; a declared variable of the same name takes precedence."""

RESERVED_NAMES = frozenset(FUNCTIONS) | frozenset(FUNCTION_ALIASES) | CONSTANTS
"""The one list of names the answer language gives a meaning (functions, their other
spellings, constants): exercise parameters and engine symbols may not take them."""

GREEK_NAMES = frozenset(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "pi",
        "rho",
        "sigma",
        "tau",
        "upsilon",
        "phi",
        "chi",
        "psi",
        "omega",
        "Gamma",
        "Delta",
        "Theta",
        "Lambda",
        "Xi",
        "Pi",
        "Sigma",
        "Upsilon",
        "Phi",
        "Psi",
        "Omega",
    ]
)
"""Spelled-out Greek names; LaTeX shows them as letters (``eta`` as η)."""

GREEK_LETTERS: dict[str, str] = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ϵ": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ϑ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "µ": "mu",  # the micro sign, which keyboards produce for mu
    "ν": "nu",
    "ξ": "xi",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "ς": "sigma",
    "τ": "tau",
    "υ": "upsilon",
    "φ": "phi",
    "ϕ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
    "Γ": "Gamma",
    "Δ": "Delta",
    "Θ": "Theta",
    "Λ": "Lambda",
    "Ξ": "Xi",
    "Π": "Pi",
    "Σ": "Sigma",
    "Φ": "Phi",
    "Ψ": "Psi",
    "Ω": "Omega",
}
"""Greek letters accepted as typed. Capitals that look Latin (Α, Β, Ε, ...) and the
omicron are rejected instead, because a student cannot see the difference."""

LOOKALIKE_GREEK = frozenset("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧο")


def resolve_function(name: str) -> str | None:
    """The canonical function name for ``name`` or an alias of it, else ``None``."""
    if name in FUNCTIONS:
        return name
    return FUNCTION_ALIASES.get(name)


def canonical_name(base: str, subscript: str | None) -> str:
    """Merge a subscript into a name: ``w_1``, ``w_{1}`` and ``w1`` are all ``w1``.

    Letter subscripts keep their underscore (``x_i``) so they cannot collide with a
    longer name (``xi``).
    """
    if not subscript:
        return base
    if subscript.isdigit():
        return base + subscript
    return f"{base}_{subscript}"


def suggest(name: str, candidates: set[str] | frozenset[str]) -> str | None:
    """A close candidate for a mistyped name: same letters in another case first."""
    folded = name.casefold()
    same_case = sorted(c for c in candidates if c.casefold() == folded)
    if same_case:
        return same_case[0]
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
    return close[0] if close else None


def split_name(name: str, known: frozenset[str], limit: int = 2) -> list[list[str]]:
    """All ways (up to ``limit``) to write ``name`` as two or more known names in a row.

    This is the single implicit-multiplication rule for letters: ``w1x1`` means
    ``w1*x1`` when ``w1`` and ``x1`` are declared and no other split exists.
    """
    if not known or "_" in name or len(name) > 64:
        return []
    memo: dict[int, list[list[str]]] = {}
    ordered = sorted(known, key=lambda name: (-len(name), name))  # deterministic messages

    def ways(start: int) -> list[list[str]]:
        if start == len(name):
            return [[]]
        if start in memo:
            return memo[start]
        found: list[list[str]] = []
        for candidate in ordered:
            if name.startswith(candidate, start):
                for rest in ways(start + len(candidate)):
                    found.append([candidate, *rest])
                    if len(found) >= limit:
                        break
            if len(found) >= limit:
                break
        memo[start] = found
        return found

    return [parts for parts in ways(0) if len(parts) >= 2][:limit]
