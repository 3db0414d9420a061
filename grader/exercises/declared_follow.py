"""Follow-through for declarative exercises: a part's answer over earlier parts, as a recipe.

A declarative part lists the earlier parts its answer is computed from
(``follows: [y]``); in its ``answer`` those ids then name the earlier parts' values. At load
time :func:`problems` checks that the parsed answer can become a recipe; at generation
:func:`to_recipe` translates the tree (the checker's own nodes, from
:mod:`grader.exercises.expressions`) into a :mod:`~grader.exercises.recipe`, so the variant
stores a :class:`~grader.exercises.recipe.FollowRule` like a family's. Every subtree that
reads no earlier part becomes a constant computed by the checker's evaluator (the same
numbers as the key), the earlier parts become references, and only the operations on the
way from them to the answer need a recipe operation. Nothing here evaluates text.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Mapping
from typing import Any

from grader.checking.nodes import Node
from grader.exercises import expressions
from grader.exercises import recipe as recipe_mod
from grader.exercises.recipe import Recipe

#: the answer language's functions that follow-through can recompute (recipe operations)
FUNCTIONS = ("exp", "log", "sqrt", "abs", "tanh", "sigmoid")


def _reads(expr: Any, follows: Collection[str]) -> bool:
    """Whether the expression (or nested list) reads any followed part."""
    return bool(expressions.free_names(expr) & set(follows))


def problems(expr: expressions.Parsed, follows: Collection[str]) -> list[str]:
    """Why the answer cannot be recomputed from the followed parts (empty when it can)."""
    if isinstance(expr, list):
        return [m for item in expr for m in problems(item, follows)]
    out: list[str] = []
    for node in expr.walk():
        if not _reads(node, follows):
            continue
        if node.op == "call" and node.value not in FUNCTIONS:
            used = sorted(set(follows) & node.names())
            out.append(
                f"{node.text or node.value}(...) of {', '.join(used)} cannot be recomputed "
                f"from a student's earlier answer; follow-through knows {', '.join(FUNCTIONS)} "
                "(apply other functions to parameters only)"
            )
        elif node.op not in ("name", "group", "neg", "add", "mul", "pow", "call"):
            out.append(f"a {node.op} cannot be recomputed from a student's earlier answer")
    return out


def to_recipe(
    expr: expressions.Parsed, follows: Collection[str], values: Mapping[str, Any]
) -> Recipe:
    """The answer as a recipe over the followed part ids (everything else a constant).

    Raises:
        ValueError: a constant subtree has no value here, or the tree has an operation
            :func:`problems` reports (the loader refuses such a spec first).
    """
    if not _reads(expr, follows):
        return recipe_mod.const(expressions.evaluate(expr, values))
    if isinstance(expr, list):
        return recipe_mod.op("stack", *(to_recipe(x, follows, values) for x in expr))
    return _node(expr, follows, values)


def _node(node: Node, follows: Collection[str], values: Mapping[str, Any]) -> Recipe:
    def sub(arg: Node) -> Recipe:
        return to_recipe(arg, follows, values)

    op = node.op
    if op == "name":
        return recipe_mod.ref(str(node.value))
    if op == "group":
        return sub(node.args[0])
    if op == "neg":
        return recipe_mod.op("neg", sub(node.args[0]))
    if op == "add":
        terms = [
            sub(arg) if sign > 0 else recipe_mod.op("neg", sub(arg))
            for sign, arg in zip(node.value, node.args, strict=True)
        ]
        return recipe_mod.add(*terms)
    if op == "mul":
        out = sub(node.args[0])
        for how, arg in zip(node.value[1:], node.args[1:], strict=True):
            out = recipe_mod.op("div" if how == "/" else "mul", out, sub(arg))
        return out
    if op == "pow":
        base, exponent = node.args
        if base.unwrap().op == "const" and base.unwrap().value == "e":
            return recipe_mod.op("exp", sub(exponent))
        return recipe_mod.op("pow", sub(base), sub(exponent))
    if op == "call" and node.value in FUNCTIONS:
        return recipe_mod.op(str(node.value), *(sub(a) for a in node.args))
    raise ValueError(f"{node.text or op} cannot be recomputed from earlier answers")
