"""The points each answer is compared at: derived from the key, never from the answer.

A key's plan (computed once per key and entry, then cached on the :class:`Key`) holds
blocks of central and wide points (:func:`grader.checking.sampling.base_points`), more
blocks while the key is defined at fewer than :data:`TARGET_DEFINED` of them (keys defined
only far out, like ``sqrt(x - 100)``), and points beside the key's own kinks; with the
key's value at each. An answer adds points beside its own kinks where the key has none
(found from the answer's meaning, so trivial rewrites of it add the same points).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

from grader.checking.equivalence import PRECISIONS
from grader.checking.evaluate import Compiled
from grader.checking.evaluate import Env
from grader.checking.evaluate import EvaluationError
from grader.checking.evaluate import Overflow
from grader.checking.evaluate import Undefined
from grader.checking.evaluate import Value
from grader.checking.evaluate import context
from grader.checking.intervals import IntervalEnv
from grader.checking.intervals import IntervalFn
from grader.checking.intervals import compile_interval
from grader.checking.keys import Key
from grader.checking.keys import compiled
from grader.checking.kinks import kink_points
from grader.checking.kinks import switches
from grader.checking.nodes import Node
from grader.checking.sampling import CENTRAL_POINTS
from grader.checking.sampling import REAL
from grader.checking.sampling import base_points
from grader.checking.sampling import seeded_rng

TARGET_DEFINED = 6
"""Points where the key is defined that a plan looks for, block by block."""

MAX_BLOCKS = 4
"""Blocks of points drawn at most while looking for them."""

SEARCH_STARTS = 2
"""Points (where the key is defined) each kink search starts from."""


@dataclass(frozen=True)
class KeyPlan:
    """A key entry's points, its values there (``None``: undefined), and what the
    searches for kinks started from and found."""

    points: tuple[dict[str, float], ...]
    values: tuple[Value | None, ...]
    converted: tuple[dict[str, Value], ...]
    zero_widths: tuple[Value | None, ...]
    starts: tuple[dict[str, float], ...]
    labels: frozenset[str]
    covered: frozenset[tuple[str, float]]


def key_value(
    function: Compiled, point: Mapping[str, float], definitions: Mapping[str, Compiled]
) -> Value | None:
    """The key's value at ``point`` at 30 digits; ``None`` where it is undefined."""
    return _evaluated(function, point, definitions)[0]


def _evaluated(
    function: Compiled, point: Mapping[str, float], definitions: Mapping[str, Compiled]
) -> tuple[Value | None, dict[str, Value]]:
    """The key's value at 30 digits (``None``: undefined) and the point at 30 digits."""
    ctx = context(PRECISIONS[0])
    values = {name: ctx.mpf(value) for name, value in point.items()}
    try:
        return function(Env(ctx, values, definitions)), values
    except (Undefined, Overflow):
        return None, values


def _inside(key: Key) -> Callable[[str, float], bool]:
    def inside(name: str, value: float) -> bool:
        domain = key.domains.get(name, REAL)
        return math.isfinite(value) and domain.low < value < domain.high

    return inside


def key_plan(key: Key, entry: Node, index: int) -> KeyPlan:
    """The plan for one entry of the key (``index`` 0 for a scalar key), cached."""
    cache_key = ("plan", index)
    cached = key.cache.get(cache_key)
    if cached is not None:
        assert isinstance(cached, KeyPlan)
        return cached
    expected = compiled(entry)
    rng = seeded_rng("plan", *key.seed, index)
    variables = key.sampled
    points: list[dict[str, float]] = []
    values: list[Value | None] = []
    converted: list[dict[str, Value]] = []
    central: list[dict[str, float]] = []
    wide: list[dict[str, float]] = []
    for _ in range(MAX_BLOCKS):
        block = base_points(variables, key.domains, rng)
        for position, point in enumerate(block):
            value, at_30 = _evaluated(expected, point, key.compiled_definitions)
            points.append(point)
            values.append(value)
            converted.append(at_30)
            if value is not None:
                (central if position < CENTRAL_POINTS else wide).append(point)
        if sum(value is not None for value in values) >= TARGET_DEFINED or not variables:
            break
    # Searches start from a central point and a wide one, or whatever is defined.
    starts = central[:1] + wide[:1]
    starts += [p for p in central[2:] + wide[1:]][: SEARCH_STARTS - len(starts)]
    found = switches(entry, key.definitions)
    covered: frozenset[tuple[str, float]] = frozenset()
    if found and starts:
        extra, covered_set = kink_points(
            found, starts, key.definitions, key.compiled_definitions, _inside(key)
        )
        covered = frozenset(covered_set)
        for point in extra:
            value, at_30 = _evaluated(expected, point, key.compiled_definitions)
            points.append(point)
            values.append(value)
            converted.append(at_30)
    plan = KeyPlan(
        tuple(points),
        tuple(values),
        tuple(converted),
        tuple(
            _zero_width(key, entry, at_30) if value is not None and not value else None
            for value, at_30 in zip(values, converted, strict=True)
        ),
        tuple(starts),
        frozenset(switch.label for switch in found),
        covered,
    )
    key.cache[cache_key] = plan
    return plan


def _zero_width(key: Key, entry: Node, at_30: Mapping[str, Value]) -> Value | None:
    """Where the key is 0 at 30 digits only by rounding (``1 - tanh(900)^2``), the width
    of its interval there: any answer smaller than that agrees as far as can be told."""
    ctx = context(PRECISIONS[0])
    try:
        low, high = compile_interval(entry)(IntervalEnv(ctx, at_30, interval_definitions(key)))
    except EvaluationError:
        return None
    if not low and not high:
        return None  # an exact zero
    return high - low


def answer_points(key: Key, plan: KeyPlan, answer: Node) -> list[dict[str, float]]:
    """Points beside the answer's kinks that the key's plan does not already have."""
    found = [s for s in switches(answer, key.definitions) if s.label not in plan.labels]
    if not found or not plan.starts:
        return []
    points, _ = kink_points(
        found,
        plan.starts,
        key.definitions,
        key.compiled_definitions,
        _inside(key),
        skip=set(plan.covered),
    )
    return points


def interval_definitions(key: Key) -> Mapping[str, IntervalFn]:
    """The key's definitions compiled for interval evaluation, cached."""
    cached = key.cache.get("interval_definitions")
    if cached is None:
        cached = {name: compile_interval(node) for name, node in key.definitions.items()}
        key.cache["interval_definitions"] = cached
    return cached
