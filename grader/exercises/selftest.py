"""``self_test(spec)``: every variant checks itself before a student sees it.

For each seed: the variant builds, survives a JSON round trip, its public view holds no
key, the key judges correct, each diagnosed mistake judges incorrect with its own note,
and junk judges invalid. ``grader validate-exercises`` runs this on every exercise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from grader.exercises.errors import SpecError
from grader.exercises.families import FAMILIES
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.kinds import kind_of
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
    produced: dict[str, set[str]] = {p.id: set() for p in spec.parts}
    count = 0
    for seed in seeds:
        count += 1
        where = f"{spec.id} seed {seed}"
        try:
            variant = generate(spec, seed)
        except SpecError as exc:
            problems.append(f"{where}: does not build: {exc}")
            continue
        for part in variant.parts:
            produced[part.id].update(m.code for m in part.mistakes)
        problems += _check_variant(variant, where, seen)
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
