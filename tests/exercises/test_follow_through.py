"""Follow-through in the exercise layer, over many seeds of every family with recipes.

- each stored rule gives back the key from the upstream keys (checked at generation);
- an answer right given a wrong earlier value is ``consistent``, naming that value;
- every declared mistake of a dependent part, made from right earlier values, is judged
  exactly as without follow-through (never ``consistent``);
- a variant without rules (an old stored one) judges as before.
"""

from __future__ import annotations

import pytest

from grader.exercises.follow import ancestors
from grader.exercises.follow import dependents
from grader.exercises.follow import first_wrong
from grader.exercises.follow import judge_following
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.judgement import Status
from grader.exercises.library import load_library
from grader.exercises.recipe import evaluate
from grader.exercises.variant import Variant
from tests.support.follow_values import chaining_exercises
from tests.support.follow_values import roots
from tests.support.follow_values import text
from tests.support.follow_values import wrong_chain

#: exercises whose parts chain today; a change that loses their rules must fail here
KNOWN_CHAINS = {
    "chain-rule-numeric",
    "delta-rule-classic",
    "computational-graph",
    "mlp-training-step",
    "sigmoid-bce",
    "matrix-deltas-232",
    "softmax-cross-entropy",
    "softmax-hidden-layer",
    "lstm-step-backward",
    "shared-weight",
    "learning-rate-behaviour",
    "bptt-scalar-rnn",
    "declarative-sigmoid-neuron",
    "batchnorm-backward",
    "dropout-backward",
    "minibatch-average",
    "weight-decay",
    "softplus-ssr-b3",
    "optimizer-steps",
}


CHAINING = chaining_exercises()


SEEDS = range(40)


@pytest.fixture(scope="module")
def library():
    return load_library()


def test_the_known_chains_have_rules() -> None:
    assert set(CHAINING) >= KNOWN_CHAINS


@pytest.mark.parametrize("exercise", CHAINING)
def test_right_given_a_wrong_earlier_value_is_consistent(library, exercise: str) -> None:
    for seed in SEEDS:
        v = generate(library[exercise], seed)
        assert Variant.from_json(v.to_json()) == v
        for root in roots(v):
            check_follows_from(v, root, seed)


def check_follows_from(v: Variant, root: str, seed: int) -> None:
    """A wrong ``root`` and every later part right given it: all judged consistent."""
    values = wrong_chain(v, root)
    answers = {pid: text(value) for pid, value in values.items()}
    for pid in dependents(v, root):
        assert judge(v, pid, answers[pid]).status is Status.INCORRECT, (seed, root, pid)
        j = judge_following(v, pid, answers[pid], answers, credit=0.4)
        assert j.status is Status.CONSISTENT, (seed, root, pid, j.feedback)
        assert j.score == 0.4
        assert j.first_wrong == root
        assert j.follows
        assert j.follows[0].value == answers[j.follows[0].part]
        assert j.feedback.startswith("Right, given your ")
        assert first_wrong(v, pid, answers) == root


@pytest.mark.parametrize("exercise", CHAINING)
def test_mistakes_from_right_earlier_values_get_no_follow_through(library, exercise: str) -> None:
    tried = 0
    for seed in SEEDS:
        v = generate(library[exercise], seed)
        for p in v.parts:
            if p.follow is None:
                continue
            right = {s: v.part(s).key_text for s in p.follow.sources}
            for m in p.mistakes:
                raw = text(m.value)
                j = judge_following(v, p.id, raw, right)
                assert j == judge(v, p.id, raw), (seed, p.id, m.code)
                assert j.status is Status.INCORRECT
                assert j.mistake == m.code
                tried += 1
            # ...and with no earlier answers at all
            for m in p.mistakes:
                assert judge_following(v, p.id, text(m.value), {}).status is Status.INCORRECT
    assert tried > 0


def test_a_stored_variant_without_rules_judges_as_before(library) -> None:
    v = generate(library["chain-rule-numeric"], 5)
    data = v.to_json()
    for p in data["parts"]:
        p.pop("follow", None)
        p.pop("label", None)
    old = Variant.from_json(data)
    wrong_dy = {"dLdy": text(-float(v.part("dLdy").key))}
    raw = text(
        evaluate(
            v.part("dw2").follow.recipe, {"dLdy": -float(v.part("dLdy").key), "h": v.part("h").key}
        )
    )
    assert judge_following(v, "dw2", raw, wrong_dy).status is Status.CONSISTENT
    assert judge_following(old, "dw2", raw, wrong_dy).status is not Status.CONSISTENT


def test_an_unreadable_or_misshapen_earlier_answer_is_ignored(library) -> None:
    v = generate(library["chain-rule-numeric"], 7)
    raw = text(-float(v.part("dw2").key))
    for junk in ("", "2 +", "[1, 2]", "x"):
        assert judge_following(v, "dw2", raw, {"dLdy": junk}).status is not Status.CONSISTENT


@pytest.mark.parametrize("exercise", CHAINING)
def test_a_chain_carries_through_the_parts_a_student_skips(library, exercise: str) -> None:
    """Only the wrong first step and one later answer: the parts in between are implied
    from the student's own work (∂L/∂y straight to ∂L/∂w1, ∂L/∂h never written down)."""
    skipped = 0
    for seed in range(12):
        v = generate(library[exercise], seed)
        for root in roots(v):
            values = wrong_chain(v, root)
            for pid in dependents(v, root):
                answers = {root: text(values[root])}
                j = judge_following(v, pid, text(values[pid]), answers, credit=0.5)
                assert j.status is Status.CONSISTENT, (seed, root, pid, j.feedback)
                assert [f.part for f in j.follows] == [root]
                assert j.first_wrong == root
                skipped += len(set(ancestors(v, pid)) & set(dependents(v, root)))
    assert skipped or exercise not in LONG_CHAINS


#: exercises where some later part is computed through an intermediate one
LONG_CHAINS = {"chain-rule-numeric", "computational-graph", "mlp-training-step"}
