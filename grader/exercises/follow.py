"""Follow-through ("error carried forward"): judging a part given the student's own answers.

A part whose stored variant carries a :class:`~grader.exercises.recipe.FollowRule` may
be judged ``consistent``: wrong against the key, but right against the key recomputed
(from the stored recipe, with NumPy) from the student's own earlier answers, with the
same tolerance rules as the key (re-settled for the recomputed key). Only the earlier
answers that are wrong are replaced by the student's values; when every earlier value
is right, follow-through never applies, so a mistake made from right values is judged
exactly as :func:`grader.exercises.judge.judge` judges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace

import numpy as np

from grader.checking import answer_value
from grader.exercises import recipe as recipe_mod
from grader.exercises.judge import TIME_BUDGET
from grader.exercises.judge import judge
from grader.exercises.judgement import Followed
from grader.exercises.judgement import Judgement
from grader.exercises.judgement import Status
from grader.exercises.kinds import kind_of
from grader.exercises.kinds.base import Raw
from grader.exercises.kinds.numeric import tolerances
from grader.exercises.kinds.precision import Indistinct
from grader.exercises.variant import Part
from grader.exercises.variant import Variant

#: the credit of a consistent answer unless the quiz says otherwise
DEFAULT_CREDIT = 1.0


@dataclass(frozen=True)
class Earlier:
    """One earlier answer: is it right against its key, and what value does it give."""

    right: bool
    value: object | None


def ancestors(variant: Variant, part_id: str) -> list[str]:
    """Every part the key of ``part_id`` depends on, directly or not (nearest first)."""
    out: list[str] = []
    todo = [part_id]
    while todo:
        rule = variant.part(todo.pop(0)).follow
        for s in rule.sources if rule is not None else ():
            if s not in out and s != part_id:
                out.append(s)
                todo.append(s)
    return out


def dependents(variant: Variant, part_id: str) -> list[str]:
    """Every part whose key depends on ``part_id``, directly or not (in part order)."""
    return [p.id for p in variant.parts if part_id in ancestors(variant, p.id)]


def has_dependencies(variant: Variant) -> bool:
    """Whether any part of the variant can be judged with follow-through."""
    return any(p.follow is not None for p in variant.parts)


def earlier_answer(variant: Variant, part_id: str, raw: Raw | None) -> Earlier | None:
    """How an earlier answer stands; None when there is none, or it cannot be read."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    part = variant.part(part_id)
    kind = kind_of(part.type)
    if not kind.numeric:
        return None
    verdict = kind.check(part.check, part.key, raw, TIME_BUDGET, diagnose=False)
    if verdict.status not in ("correct", "incorrect"):
        return None
    value = answer_value(raw, tolerances(part.check)["functions"])
    if value is None:
        return None
    return Earlier(verdict.status == "correct", value)


def implied(
    variant: Variant,
    part_id: str,
    answers: Mapping[str, Raw],
    memo: dict[str, tuple[object, tuple[Followed, ...]]] | None = None,
) -> tuple[object, tuple[Followed, ...]]:
    """The value of ``part_id`` the student's own work gives, and the wrong answers it
    comes from.

    A wrong answer gives its own value; a right one, the key. A part not answered (or
    not readable) whose key has a rule gives its rule over the implied values of its
    sources: a student who goes from ∂L/∂y straight to ∂L/∂w1 without writing ∂L/∂h down
    still carries their ∂L/∂y forward. Anything else gives the key. When no wrong answer
    is involved, the value is the key and the list is empty.
    """
    memo = {} if memo is None else memo
    if part_id in memo:
        return memo[part_id]
    part = variant.part(part_id)
    out: tuple[object, tuple[Followed, ...]] = (part.key, ())
    earlier = earlier_answer(variant, part_id, answers.get(part_id))
    if earlier is not None:
        if not earlier.right:
            text = str(answers[part_id]).strip()
            out = (earlier.value, (Followed(part_id, part.name, text),))
    elif part.follow is not None:
        values: dict[str, object] = {}
        via: list[Followed] = []
        for source in part.follow.sources:
            values[source], more = implied(variant, source, answers, memo)
            via += [f for f in more if f not in via]
        if via:
            try:
                out = (recipe_mod.evaluate(part.follow.recipe, values), tuple(via))
            except (ValueError, KeyError):
                out = (part.key, ())  # no value follows (a wrong shape): nothing to carry
    memo[part_id] = out
    return out


def first_wrong(
    variant: Variant, part_id: str, answers: Mapping[str, Raw], include_self: bool = False
) -> str | None:
    """The first wrong step at or upstream of ``part_id``: a wrong earlier answer whose
    own earlier answers are all right (in part order when there are several)."""
    memo: dict[str, Earlier | None] = {}

    def stand(pid: str) -> Earlier | None:
        if pid not in memo:
            memo[pid] = earlier_answer(variant, pid, answers.get(pid))
        return memo[pid]

    candidates = ancestors(variant, part_id) + ([part_id] if include_self else [])
    wrong = {p for p in candidates if (e := stand(p)) is not None and not e.right}
    roots = [p for p in wrong if not wrong & set(ancestors(variant, p))]
    order = [p.id for p in variant.parts]
    return min(roots, key=order.index) if roots else None


def moved_mistakes(part: Part, key: object) -> list[tuple[str, object]]:
    """The part's numeric mistakes as made from the values that give ``key``: each
    scaled entry by entry as the key was (shifted where the key's entry is 0, and for an
    update, whose mistakes are the start plus a wrong step: a wrong start moves them all
    alike). Mistakes of another shape are left out."""
    new = np.asarray(key, dtype=float)
    old = np.asarray(part.key, dtype=float)
    shift = "reference" in part.check
    out: list[tuple[str, object]] = []
    for m in part.mistakes:
        try:
            value = np.asarray(m.value, dtype=float)
        except (TypeError, ValueError):
            continue
        if value.shape != old.shape or new.shape != old.shape:
            continue
        scale = np.divide(new, old, out=np.ones_like(old), where=old != 0)
        moved = value + (new - old) if shift else np.where(old != 0, value * scale, value + new)
        out.append((m.code, moved.tolist()))
    return out


def judge_following(
    variant: Variant,
    part_id: str,
    raw: Raw,
    answers: Mapping[str, Raw],
    *,
    credit: float = DEFAULT_CREDIT,
    base: Judgement | None = None,
) -> Judgement:
    """Judge one answer, with follow-through from the student's earlier ``answers``.

    Args:
        answers: the student's current answer to other parts, by part id (missing
            parts count as not answered: their keys are used).
        credit: the credit (0..1) of a ``consistent`` answer.
        base: the plain judgement of ``raw`` when the caller has it already.

    Raises:
        KeyError: the variant has no such part.
    """
    if base is None:
        base = judge(variant, part_id, raw)
    part = variant.part(part_id)
    rule = part.follow
    if base.status is not Status.INCORRECT or rule is None:
        return base
    values: dict[str, object] = {}
    followed: list[Followed] = []
    memo: dict[str, tuple[object, tuple[Followed, ...]]] = {}
    for source in rule.sources:
        values[source], via = implied(variant, source, answers, memo)
        followed += [f for f in via if f not in followed]
    if not followed:  # every earlier value was right: a wrong answer is just wrong
        return base
    try:
        key = recipe_mod.evaluate(rule.recipe, values)
    except (ValueError, KeyError):
        return base  # e.g. an earlier answer of the wrong shape
    kind = kind_of(part.type)
    try:
        # Sized to tell the recomputed key from the part's mistakes made from the same
        # values (each moved as the key moved): sized for the key alone, a key a decade up
        # got ten times the tolerance and took in a slip 0.3 % away.
        check = kind.settle(key, moved_mistakes(part, key), part.check)
    except Indistinct:
        # The precision rule cannot size a tolerance for this key (a change that rounds
        # to nothing, a mistake that comes too close): the key's own stored tolerance applies.
        check = dict(part.check)
    if "reference" in part.check and "atol" in check and "atol" in part.check:
        # An update is judged by its step: the key's tolerance was sized to tell the right
        # step from each mistaken one, so a step from the student's own values is judged
        # at least as closely. (Re-settled alone, a start of another magnitude, as in
        # w₂ = w₁ − step from a wrong w₁, would widen it past a slip in the step.)
        check["atol"] = min(float(check["atol"]), float(part.check["atol"]))
    verdict = kind.check(check, key, raw, TIME_BUDGET, diagnose=False)
    if verdict.status != "correct":
        return base
    first = first_wrong(variant, part_id, answers)
    given = ", ".join(f"{f.label} = {f.value}" for f in followed)
    were = "that value was" if len(followed) == 1 else "those values were"
    feedback = f"Right, given your {given}; {were} wrong."
    if first is not None and first not in {f.part for f in followed}:
        feedback += f" The first wrong step is {variant.part(first).name}."
    return replace(
        base,
        status=Status.CONSISTENT,
        score=float(credit),
        verdict=verdict,
        feedback=feedback,
        mistake=None,
        diagnosis=None,
        diagnosis_message=None,
        follows=tuple(followed),
        first_wrong=first,
    )
