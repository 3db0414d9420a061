"""Wrong earlier values for follow-through tests, chosen so the error really propagates.

A fixed "wrong" map (say ``1.37x + 0.11``) sometimes leaves a value almost unchanged (its
fixed point, ``x = -0.297``) or changes it where a later key does not care (``1 - tanh²``
is even), and then a later answer computed from it is simply right, not ``consistent``.
The tests want the case where every later part is plainly wrong against its key, so
they take the first of several maps that gives it, and fail loudly if none does.
"""

from __future__ import annotations

from collections.abc import Callable

from grader.exercises.follow import dependents
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.judgement import Status
from grader.exercises.library import load_library
from grader.exercises.recipe import evaluate
from grader.exercises.variant import Variant

#: the maps tried in turn, each far from the identity over the values exercises use
WRONG_MAPS: tuple[Callable[[float], float], ...] = (
    lambda x: -1.6 * x + 0.3,
    lambda x: 1.37 * x + 0.11,
    lambda x: 2.0 * x + 1.0,
    lambda x: -0.5 * x - 0.7,
    lambda x: 3.0 * x - 0.4,
)


def text(value: object) -> str:
    """A value as a student would type it (7 significant figures)."""
    if isinstance(value, list):
        return "[" + ", ".join(text(v) for v in value) + "]"
    return f"{float(value):.7g}"


def mapped(value: object, f: Callable[[float], float]) -> object:
    """``f`` applied to every entry."""
    if isinstance(value, list):
        return [mapped(v, f) for v in value]
    return f(float(value))


def wrong_chain(variant: Variant, root: str) -> dict[str, object]:
    """A wrong value of ``root`` and, for every part depending on it, the value its rule
    gives from the wrong values before it, such that each of them is plainly incorrect.

    Raises:
        AssertionError: no map gives such a chain (the test cannot make its point).
    """
    for f in WRONG_MAPS:
        values: dict[str, object] = {root: mapped(variant.part(root).key, f)}
        if judge(variant, root, text(values[root])).status is not Status.INCORRECT:
            continue
        for pid in dependents(variant, root):
            rule = variant.part(pid).follow
            assert rule is not None
            try:
                values[pid] = evaluate(
                    rule.recipe, {s: values.get(s, variant.part(s).key) for s in rule.sources}
                )
            except ValueError:
                break
            if judge(variant, pid, text(values[pid])).status is not Status.INCORRECT:
                break
        else:
            return values
    raise AssertionError(f"no wrong value of {root} makes every later part wrong")


def chaining_exercises() -> list[str]:
    """Every library exercise with a follow-through rule (found, not listed by hand)."""
    lib = load_library()
    return sorted(n for n, spec in lib.items() if any(p.follow for p in generate(spec, 0).parts))


def roots(variant: Variant) -> list[str]:
    """The parts other parts' keys are computed from that are not computed from any."""
    sources = {s for p in variant.parts if p.follow for s in p.follow.sources}
    return [p.id for p in variant.parts if p.id in sources and p.follow is None]
