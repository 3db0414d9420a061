"""Points on both sides of every kink and threshold, so piecewise answers meet each piece.

Random points rarely land between ``-11`` and ``-10``, where ``abs(x + 11) - 11`` and
``abs(x + 10) - 10`` differ, or beyond the clip of ``max(min(g, 5), -5)``. So we find where
each piecewise part of an expression switches (the zero of the argument of ``abs``,
``sign`` and ``relu``, of the difference of two arguments of ``max``/``min``, and of the
argument of ``sqrt`` and ``log`` at the edge of their domain) along each variable, starting
from a few of the key's points, and put points just before and after it, near and a little
further away.

A switch is found by the secant method on the switching function (exact in one step for
the usual linear ones, ``x + 10`` or ``g - 100``) and kept only where the function changes
sign. Roots are rounded to 12 significant digits, so spellings of one expression that
compute a root with different rounding give the same points. The work is bounded: a few
switching functions per expression and a few evaluations per search.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from grader.checking.evaluate import Compiled
from grader.checking.evaluate import Env
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import Value
from grader.checking.evaluate import compile_node
from grader.checking.evaluate import context
from grader.checking.nodes import Node
from grader.checking.positivity import fact
from grader.checking.render import to_text

MAX_SWITCHES = 8
"""Switching functions looked at per expression."""

MAX_PAIRS = 3
"""Pairs of ``max``/``min`` arguments looked at per call."""

SECANT_STEPS = 12
"""Secant iterations per search, at most."""

SEARCH_DIGITS = 30
"""Precision of the search (the points found are floats)."""

OFFSETS = (1e-6, 0.05)
"""Distances of the added points from a switch, relative to ``max(|root|, 1)``."""

_EDGES = frozenset({"sqrt", "log", "log10", "log2"})
_KINKS = frozenset({"abs", "sign", "relu"})


@dataclass(frozen=True)
class Switch:
    """A function whose sign change marks a kink or a domain edge."""

    label: str
    value: Compiled
    names: frozenset[str]


def switches(root: Node, definitions: Mapping[str, Node]) -> list[Switch]:
    """The switching functions of ``root`` and of the definitions it uses, in tree order,
    without repeats, at most :data:`MAX_SWITCHES`."""
    found: dict[str, Switch] = {}
    seen_definitions: set[str] = set()
    pending = [root]
    while pending and len(found) < MAX_SWITCHES:
        tree = pending.pop(0)
        for node in tree.walk():
            if node.op == "name" and node.value in definitions:
                if node.value not in seen_definitions:
                    seen_definitions.add(str(node.value))
                    pending.append(definitions[str(node.value)])
                continue
            if node.op != "call" or not node.args[0].has_names:
                continue
            name = str(node.value)
            if name in _EDGES and "-" not in fact(node.args[0], {}, definitions).signs:
                continue  # never negative (sqrt(x^2 + 1), log(abs(u))): no edge of its own
            if name in _KINKS or name in _EDGES:
                _add(found, to_text(node.args[0]), _single(node.args[0]), node.args[0])
            elif name in ("max", "min"):
                args = node.args
                pairs = [(a, b) for i, a in enumerate(args) for b in args[i + 1 :]]
                for a, b in pairs[:MAX_PAIRS]:
                    label = f"{to_text(a)} - ({to_text(b)})"
                    _add(found, label, _difference(a, b), a, b)
    return list(found.values())[:MAX_SWITCHES]


def _add(found: dict[str, Switch], label: str, value: Compiled, *nodes: Node) -> None:
    if label in found:
        return
    names: set[str] = set()
    for node in nodes:
        names |= node.names()
    found[label] = Switch(label, value, frozenset(names))


def _single(node: Node) -> Compiled:
    return compile_node(node)


def _difference(a: Node, b: Node) -> Compiled:
    first, second = compile_node(a), compile_node(b)
    return lambda env: first(env) - second(env)


def free_names(names: Iterable[str], definitions: Mapping[str, Node]) -> set[str]:
    """Variables reached from ``names`` through definitions."""
    out: set[str] = set()
    pending = list(names)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in definitions:
            pending.extend(definitions[name].names())
        else:
            out.add(name)
    return out


class _Search:
    """Evaluates one switching function along one variable from one point."""

    def __init__(
        self,
        switch: Switch,
        start: Mapping[str, float],
        variable: str,
        definitions: Mapping[str, Compiled],
    ) -> None:
        self.switch = switch
        self.ctx = context(SEARCH_DIGITS)
        self.values = {name: self.ctx.mpf(value) for name, value in start.items()}
        self.variable = variable
        self.definitions = definitions

    def at(self, t: Value) -> Value | None:
        values = dict(self.values)
        values[self.variable] = t
        try:
            return self.switch.value(Env(self.ctx, values, self.definitions))
        except (Undefined, Overflow):
            return None

    def root(self, budget: list[int]) -> float | None:
        """A root near the start where the function changes sign, if the secant finds one."""
        ctx = self.ctx
        t0 = self.values[self.variable]
        h0 = self.at(t0)
        step = max(ctx.one, abs(t0)) / 2
        t1 = t0 + step
        h1 = self.at(t1)
        budget[0] -= 2
        if h0 is None or h1 is None:
            return None
        for _ in range(SECANT_STEPS):
            if budget[0] <= 0:
                return None
            if h1 == h0:
                return None
            t2 = t1 - h1 * (t1 - t0) / (h1 - h0)
            h2 = self.at(t2)
            budget[0] -= 1
            if h2 is None:
                return None
            if not h2 or abs(t2 - t1) <= abs(t2) * ctx.mpf(10) ** -20:
                return self.confirmed(t2, budget)
            t0, h0, t1, h1 = t1, h1, t2, h2
        return None

    def confirmed(self, t: Value, budget: list[int]) -> float | None:
        value = float(t)
        if not math.isfinite(value) or abs(value) > 1e12:
            return None
        value = float(f"{value:.12g}")
        delta = self.ctx.mpf(max(abs(value), 1.0)) * OFFSETS[0]
        before, after = self.at(t - delta), self.at(t + delta)
        budget[0] -= 2
        if before is None and after is None:
            return None
        if before and after and (before > 0) == (after > 0):
            return None  # no sign change: not a switch
        return value


def kink_points(
    switches_found: Sequence[Switch],
    starts: Sequence[Mapping[str, float]],
    definitions: Mapping[str, Node],
    compiled_definitions: Mapping[str, Compiled],
    inside: Callable[[str, float], bool],
    skip: set[tuple[str, float]] | None = None,
    budget: int = 120,
) -> tuple[list[dict[str, float]], set[tuple[str, float]]]:
    """Points on both sides of each switch found along each variable from each start.

    Args:
        switches_found: from :func:`switches`.
        starts: points to search from (a few of the key's points).
        definitions: defined names' trees (to see which variables a switch uses).
        compiled_definitions: the same, compiled.
        inside: whether a value is in a variable's domain.
        skip: switches already covered, ``(variable, root)``: not added again.
        budget: evaluations allowed in all.

    Returns:
        The points, and the ``(variable, root)`` switches they cover.
    """
    covered: set[tuple[str, float]] = set(skip or ())
    points: list[dict[str, float]] = []
    remaining = [budget]
    for switch in switches_found:
        variables = sorted(free_names(switch.names, definitions))
        for variable in variables:
            for start in starts:
                if remaining[0] <= 0 or variable not in start:
                    break
                search = _Search(switch, start, variable, compiled_definitions)
                root = search.root(remaining)
                if root is None:
                    continue
                only = len(variables) == 1
                key = (variable, root)
                if only and key in covered:
                    continue
                covered.add(key)
                scale = max(abs(root), 1.0)
                for offset in OFFSETS:
                    for side in (-1, 1):
                        value = root + side * offset * scale
                        if inside(variable, value):
                            point = dict(start)
                            point[variable] = value
                            points.append(point)
    return points, covered
