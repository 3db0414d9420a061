"""Follow-through along the graph: a gradient follows the gradient flowing into its unit,
the one the student just filled on the node before (∂L/∂w₁ from ∂L/∂h, ∂f/∂y from ∂f/∂q),
and a step the student leaves empty carries their earlier values through."""

from __future__ import annotations

import pytest

from grader.exercises.follow import judge_following
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.judgement import Status
from grader.exercises.library import load_library
from tests.support.follow_values import text

SEEDS = range(12)


def scaled(variant, part_id, source, wrong):
    """The part's key recomputed from a wrong source, for a part linear in that source."""
    return float(variant.part(part_id).key) / float(variant.part(source).key) * wrong


@pytest.mark.parametrize(
    ("exercise", "into", "up", "parts"),
    [
        ("chain-rule-numeric", "dLdh", "dLdy", ("dw1", "db1")),
        ("computational-graph", "dq", "dm", ("dy",)),
    ],
)
def test_a_gradient_follows_the_gradient_flowing_into_its_unit(exercise, into, up, parts):
    spec = load_library()[exercise]
    for seed in SEEDS:
        variant = generate(spec, seed)
        wrong = -1.6 * float(variant.part(into).key) + 0.3
        assert judge(variant, into, text(wrong)).status is Status.INCORRECT
        for part_id in parts:
            answer = text(scaled(variant, part_id, into, wrong))
            # the upstream value right, the one flowing in wrong: follows that one
            answers = {up: variant.part(up).key_text, into: text(wrong)}
            got = judge_following(variant, part_id, answer, answers)
            assert got.status is Status.CONSISTENT, (seed, part_id, got.feedback)
            assert [f.part for f in got.follows] == [into]
            # the value flowing in right: an answer from a wrong value further up is wrong
            wrong_up = -1.6 * float(variant.part(up).key) + 0.3
            answers = {up: text(wrong_up), into: variant.part(into).key_text}
            from_up = text(scaled(variant, part_id, up, wrong_up))
            got = judge_following(variant, part_id, from_up, answers)
            assert got.status is Status.INCORRECT, (seed, part_id)


def test_a_step_left_empty_carries_the_earlier_wrong_value_through():
    spec = load_library()["chain-rule-numeric"]
    for seed in SEEDS:
        variant = generate(spec, seed)
        wrong = -1.6 * float(variant.part("dLdy").key) + 0.3
        answer = text(scaled(variant, "dw1", "dLdy", wrong))
        for empty in ({}, {"dLdh": ""}, {"dLdh": "  "}):
            got = judge_following(variant, "dw1", answer, {"dLdy": text(wrong), **empty})
            assert got.status is Status.CONSISTENT, (seed, empty)
            assert [f.part for f in got.follows] == ["dLdy"]
            assert got.first_wrong == "dLdy"
