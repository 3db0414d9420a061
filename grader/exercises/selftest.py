"""``self_test(spec)``: every variant checks itself before a student sees it.

For each seed: the variant builds, survives a JSON round trip, its public view holds no
key, the key judges correct, each diagnosed mistake judges incorrect with its own note,
and junk judges invalid. Where parts follow earlier ones, follow-through never turns a
mistake into credit when the earlier values were right: each rule gives back its key from
the earlier keys, and every declared mistake of a dependent part, and a plainly wrong
answer, judged with right earlier answers (and with none) is never ``consistent``.
``grader validate-exercises`` runs this on every exercise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from grader.exercises.errors import SpecError
from grader.exercises.families import FAMILIES
from grader.exercises.follow import ancestors
from grader.exercises.follow import judge_following
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.judgement import Status
from grader.exercises.kinds import kind_of
from grader.exercises.recipe import gives_back
from grader.exercises.spec import ExerciseSpec
from grader.exercises.variant import Part
from grader.exercises.variant import Variant

logger = logging.getLogger(__name__)

#: below this many seeds a declared mistake that no seed models is not reported
COVERAGE_SEEDS = 50


def answer_text(part: Part, value: Any) -> str | list[str]:
    """How a student would enter ``value`` for this part."""
    answer = kind_of(part.type).answer_for(value, part.check)
    return answer if isinstance(answer, str) else list(answer)


def self_test(spec: ExerciseSpec, seeds: Iterable[int] = range(50)) -> list[str]:
    """Run the checks over ``seeds``; return one line per problem (empty when fine)."""
    problems: list[str] = []
    seen: set[str] = set()  # judging is a pure function of the part: test each once
    followed: set[str] = set()  # ...and follow-through of the part and those it follows
    produced: dict[str, set[str]] = {p.id: set() for p in spec.parts}
    count = 0
    for seed in seeds:
        count += 1
        where = f"{spec.id} seed {seed}"
        try:
            variant = generate(spec, seed)
        except (SpecError, ValueError) as exc:  # ValueError: a family's recipe is wrong
            problems.append(f"{where}: does not build: {exc}")
            continue
        for part in variant.parts:
            produced[part.id].update(m.code for m in part.mistakes)
        problems += _check_variant(variant, where, seen)
        problems += check_follow_through(variant, where, followed)
    # Whether every declared mistake is modelled is a question about many draws.
    for part_id, codes in produced.items() if count >= COVERAGE_SEEDS else ():
        for code in declared_mistakes(spec, part_id):
            if code not in codes:
                problems.append(
                    f"{spec.id} part {part_id}: mistake {code} is declared but none of "
                    f"{count} seeds models it"
                )
    return problems


def declared_mistakes(spec: ExerciseSpec, part_id: str) -> tuple[str, ...]:
    """The mistake codes a part declares: its own list, else all its family models."""
    part = spec.part(part_id)
    if part.mistakes_given or spec.family is None or part.key is None:
        return tuple(m.code for m in part.mistakes)
    return FAMILIES[spec.family].quantities(spec.options)[part.key].mistakes


def _check_variant(variant: Variant, where: str, seen: set[str]) -> list[str]:
    problems: list[str] = []
    data = variant.to_json()
    if Variant.from_json(json.loads(json.dumps(data))).to_json() != data:
        problems.append(f"{where}: the JSON round trip changes the variant")
    public = json.dumps(variant.public_json())
    if (
        '"key"' in public
        or '"mistakes"' in public
        or (variant.solution_md and (variant.solution_md in public))
    ):
        problems.append(f"{where}: the public view leaks the key, mistakes or solution")
    for part in variant.parts:
        fingerprint = json.dumps(part.to_json(), sort_keys=True)
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        p_where = f"{where} part {part.id}"
        result = judge(variant, part.id, answer_text(part, part.key))
        if result.status != "correct":
            problems.append(
                f"{p_where}: the key {part.key_text!r} judges {result.status}: {result.feedback}"
            )
        for mistake in part.mistakes:
            result = judge(variant, part.id, answer_text(part, mistake.value))
            want = f"mistake:{mistake.code}"
            if result.status != "incorrect" or result.note != want:
                problems.append(
                    f"{p_where}: mistake {mistake.code} judges {result.status} ({result.note}), "
                    f"expected incorrect ({want})"
                )
        for junk in kind_of(part.type).junk:
            result = judge(variant, part.id, junk)
            if result.status != "invalid":
                problems.append(f"{p_where}: junk {junk!r} judges {result.status}, not invalid")
    return problems


def plainly_wrong(value: Any) -> Any:
    """A value no rule should accept from right earlier values: 1.5 * key + 1."""
    if isinstance(value, list):
        return [plainly_wrong(v) for v in value]
    return 1.5 * float(value) + 1.0


def check_follow_through(variant: Variant, where: str, seen: set[str]) -> list[str]:
    """Follow-through never turns a mistake into credit where the earlier values were right.

    For each part with a rule: the rule gives back the key from the earlier keys (the
    generator refuses it otherwise; a stored variant is checked again here), and each
    declared mistake and a plainly wrong answer, judged with every earlier part answered
    right (and with none answered), is not ``consistent`` and scores no more than
    without follow-through.
    """
    problems: list[str] = []
    for part in variant.parts:
        rule = part.follow
        if rule is None:
            continue
        upstream = ancestors(variant, part.id)
        fingerprint = json.dumps(
            [variant.part(p).to_json() for p in (part.id, *upstream)], sort_keys=True
        )
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        p_where = f"{where} part {part.id}"
        keys = {s: variant.part(s).key for s in rule.sources}
        gives = gives_back(rule.recipe, keys, part.key)
        if gives is not None:
            problems.append(
                f"{p_where}: its follow-through rule gives {gives} from the earlier keys, "
                f"not its key {part.key_text}"
            )
        right = {s: answer_text(variant.part(s), variant.part(s).key) for s in upstream}
        tries = [(f"mistake {m.code}", m.value) for m in part.mistakes]
        tries.append(("the plainly wrong answer 1.5*key + 1", plainly_wrong(part.key)))
        for what, value in tries:
            raw = answer_text(part, value)
            plain = judge(variant, part.id, raw)
            for answers, given in ((right, "right earlier answers"), ({}, "no earlier answers")):
                # the first call judges from scratch, as the service does
                base = None if answers else plain
                result = judge_following(variant, part.id, raw, answers, base=base)
                if result.status is Status.CONSISTENT or result.score > plain.score:
                    problems.append(
                        f"{p_where}: {what} with {given} judges {result.status} "
                        f"({result.score:g} credit): follow-through let it through"
                    )
    return problems
