"""Recipes: how a part's key is computed from earlier quantities, as stored data.

A family declares, once, which quantities a key is computed from and how (``dL/dw2 =
dL/dy * g'(z2) * h``), as a small typed expression tree over quantity names and
constants. The generator resolves it against the parts an exercise asks for and stores
it in the variant, so follow-through judging recomputes a key from a student's own
earlier values by evaluating stored data with NumPy: no family code runs at judging
time, and nothing here ever evaluates text.

JSON shapes: ``{"ref": name}``, ``{"const": number | nested list}``, and
``{"op": name, "args": [...]}`` with the ops of :data:`OPS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Value = float | list[Any]


def _add(*xs: np.ndarray) -> np.ndarray:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _mul(*xs: np.ndarray) -> np.ndarray:
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(a @ b)


#: the operations a recipe may use, with their arities (None: one or more)
OPS: dict[str, tuple[int | None, Callable[..., np.ndarray]]] = {
    "add": (None, _add),  # elementwise, scalars broadcast
    "mul": (None, _mul),  # elementwise, scalars broadcast
    "neg": (1, lambda a: -a),
    "matmul": (2, _matmul),
    "outer": (2, lambda a, b: np.outer(a, b)),
    "transpose": (1, lambda a: np.asarray(a).T),
    "sum_rows": (1, lambda a: np.asarray(a).sum(axis=0)),
    "as_row": (1, lambda a: np.asarray(a).reshape(1, -1)),
    "stack": (None, lambda *xs: np.stack(xs)),
    "sub": (2, lambda a, b: a - b),
    "div": (2, lambda a, b: a / b),
    "pow": (2, lambda a, b: np.power(a, b)),
    "exp": (1, np.exp),
    "log": (1, np.log),
    "sqrt": (1, np.sqrt),
    "abs": (1, np.abs),
    "tanh": (1, np.tanh),
    "sigmoid": (1, lambda a: 1.0 / (1.0 + np.exp(-a))),
    "sum": (1, lambda a: np.asarray(np.sum(a))),  # every element
    "mean": (1, lambda a: np.asarray(np.mean(a))),  # every element
    "dot": (2, lambda a, b: np.asarray(np.dot(np.ravel(a), np.ravel(b)))),
}


@dataclass(frozen=True)
class Ref:
    """An earlier quantity (in a family) or an earlier part (in a stored variant)."""

    name: str


@dataclass(frozen=True)
class Const:
    """A number or array known when the variant is generated."""

    value: Value


@dataclass(frozen=True)
class Op:
    """An operation of :data:`OPS` on sub-recipes."""

    name: str
    args: tuple[Recipe, ...]

    def __post_init__(self) -> None:
        if self.name not in OPS:
            raise ValueError(f"unknown recipe operation {self.name!r}")
        arity = OPS[self.name][0]
        if (arity is not None and len(self.args) != arity) or not self.args:
            raise ValueError(f"{self.name} takes {arity or 'one or more'} arguments")


Recipe = Ref | Const | Op


# Short constructors for family code: ``mul(ref("dLdy"), const(gp * h))``.
def ref(name: str) -> Ref:
    """An earlier quantity."""
    return Ref(name)


def const(value: Any) -> Const:
    """A constant (NumPy values become plain floats and lists)."""
    return Const(np.asarray(value, dtype=float).tolist())


def op(name: str, *args: Recipe) -> Op:
    """An operation on sub-recipes."""
    return Op(name, tuple(args))


def add(*args: Recipe) -> Op:
    """Elementwise sum."""
    return op("add", *args)


def mul(*args: Recipe) -> Op:
    """Elementwise product."""
    return op("mul", *args)


def refs(recipe: Recipe) -> list[str]:
    """The names a recipe reads, in first-use order, each once."""
    if isinstance(recipe, Ref):
        return [recipe.name]
    if isinstance(recipe, Const):
        return []
    out: list[str] = []
    for a in recipe.args:
        out += [n for n in refs(a) if n not in out]
    return out


def substitute(recipe: Recipe, resolve: Callable[[str], Recipe]) -> Recipe:
    """The recipe with every reference replaced by ``resolve(name)``."""
    if isinstance(recipe, Ref):
        return resolve(recipe.name)
    if isinstance(recipe, Const):
        return recipe
    return Op(recipe.name, tuple(substitute(a, resolve) for a in recipe.args))


def evaluate(recipe: Recipe, values: Mapping[str, Any]) -> Value:
    """The recipe's value with each reference read from ``values``.

    Raises:
        KeyError: a reference has no value.
        ValueError: shapes that do not fit (an answer of the wrong shape), or a
            value that is not finite.
    """
    with np.errstate(all="raise"):
        try:
            out = _eval(recipe, values)
        except FloatingPointError as exc:
            raise ValueError(str(exc)) from None
    if not np.all(np.isfinite(out)):
        raise ValueError("the recomputed key is not finite")
    result: Value = np.asarray(out, dtype=float).tolist()
    return result


def _eval(recipe: Recipe, values: Mapping[str, Any]) -> np.ndarray:
    if isinstance(recipe, Ref):
        return np.asarray(values[recipe.name], dtype=float)
    if isinstance(recipe, Const):
        return np.asarray(recipe.value, dtype=float)
    return np.asarray(OPS[recipe.name][1](*(_eval(a, values) for a in recipe.args)))


def to_json(recipe: Recipe) -> dict[str, Any]:
    """JSON-safe form (stored in the variant)."""
    if isinstance(recipe, Ref):
        return {"ref": recipe.name}
    if isinstance(recipe, Const):
        return {"const": recipe.value}
    return {"op": recipe.name, "args": [to_json(a) for a in recipe.args]}


def from_json(d: Mapping[str, Any]) -> Recipe:
    """Inverse of :func:`to_json`.

    Raises:
        ValueError: not a recipe.
    """
    if "ref" in d:
        return Ref(str(d["ref"]))
    if "const" in d:
        return Const(d["const"])
    if "op" in d:
        return Op(str(d["op"]), tuple(from_json(a) for a in d.get("args", ())))
    raise ValueError(f"not a recipe: {sorted(d)}")


def gives_back(recipe: Recipe, keys: Mapping[str, Any], key: Any) -> Any | None:
    """None when the recipe, fed the earlier parts' keys, gives back ``key`` (to 1e-9
    relative); else what it gives (a number, a list, or the reason it gives nothing).
    Every rule is checked this way before a variant is stored."""
    try:
        again = evaluate(recipe, keys)
    except (KeyError, ValueError) as exc:
        return f"nothing ({exc})"
    if _close(again, key):
        return None
    return again


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
            return False
        return all(_close(x, y) for x, y in zip(a, b, strict=True))
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


@dataclass(frozen=True)
class FollowRule:
    """How a stored part's key follows from earlier parts.

    Attributes:
        sources: the parts the key is computed from directly.
        recipe: the key as a recipe over those part ids (everything else a constant).
        labels: how feedback names each source ("∂L/∂y").
    """

    sources: tuple[str, ...]
    recipe: Recipe
    labels: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict (stored in the variant, never shown to students)."""
        return {
            "sources": list(self.sources),
            "recipe": to_json(self.recipe),
            "labels": dict(self.labels),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FollowRule:
        """Inverse of :meth:`to_json`."""
        return cls(tuple(d.get("sources", ())), from_json(d["recipe"]), dict(d.get("labels", {})))
