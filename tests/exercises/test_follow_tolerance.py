"""Follow-through re-sizes the tolerance for the key recomputed from a student's values;
that must not widen it past the part's own mistakes made from those same values.

Under the precision rule the tolerance follows the key's decade: a recomputed key one
decade up (a wrong earlier value 20 % too big) got ten times the tolerance, and the
mistake the key's own tolerance was sized to tell apart (0.3 % away) became "right,
given your earlier value", full credit.
"""

from __future__ import annotations

import pytest

from grader.exercises.follow import judge_following
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.judgement import Status
from grader.exercises.library import load_library
from grader.exercises.recipe import evaluate
from tests.support.follow_values import mapped
from tests.support.follow_values import text

#: how a wrong earlier value is made from its key: small slips and plain errors
FACTORS = (1.005, 0.995, 1.05, 1.2, 0.7)


def scaled_mistakes(variant, part_id, source, factor):
    """(earlier answer, recomputed key, each scalar mistake made from it: scaled like the key)."""
    part = variant.part(part_id)
    wrong = mapped(variant.part(source).key, lambda x: x * factor)
    values = {s: wrong if s == source else variant.part(s).key for s in part.follow.sources}
    key = float(evaluate(part.follow.recipe, values))
    ratio = key / float(part.key)
    return wrong, key, [(m.code, float(m.value) * ratio) for m in part.mistakes]


def test_a_recomputed_key_a_decade_up_keeps_the_mistake_apart():
    variant = generate(load_library()["bptt-scalar-rnn"], 2077)
    wrong, key, mistakes = scaled_mistakes(variant, "dwh", "hs", 1.2)
    assert judge(variant, "hs", text(wrong)).status is Status.INCORRECT
    slip = dict(mistakes)["forgot_tanh_derivative"]
    assert abs(slip - key) > 5 * float(variant.part("dwh").check["atol"])  # plainly apart
    answers = {"hs": text(wrong)}
    assert judge_following(variant, "dwh", text(slip), answers).status is Status.INCORRECT
    # the right answer given those hidden states is still followed through
    assert judge_following(variant, "dwh", text(key), answers).status is Status.CONSISTENT


@pytest.mark.parametrize("name", ["bptt-scalar-rnn", "chain-rule-numeric", "lstm-step-backward"])
def test_no_mistake_made_from_the_students_values_is_consistent(name):
    spec = load_library()[name]
    for seed in range(2070, 2082):
        variant = generate(spec, seed)
        for part in variant.parts:
            if part.follow is None or isinstance(part.key, list) or part.key == 0:
                continue
            atol = float(part.check.get("atol", 0.0))
            for source in part.follow.sources:
                for factor in FACTORS:
                    wrong, key, mistakes = scaled_mistakes(variant, part.id, source, factor)
                    if judge(variant, source, text(wrong)).status is not Status.INCORRECT:
                        continue
                    for code, value in mistakes:
                        if abs(value - key) <= 2 * atol:
                            continue  # the student's values make the slip the right answer
                        got = judge_following(variant, part.id, text(value), {source: text(wrong)})
                        assert got.status is not Status.CONSISTENT, (seed, part.id, code, factor)
