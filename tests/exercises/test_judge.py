"""Judging: stored key only, mistakes with credit and notes, invalid costs nothing."""

from __future__ import annotations

import json
import textwrap

import pytest

from grader.exercises import Variant
from grader.exercises import generate
from grader.exercises import judge
from grader.exercises import load_spec_text


@pytest.fixture(scope="module")
def classic(gen) -> Variant:
    return gen("delta-rule-classic", 0, x1=1.2, x2=0.8, w1=0.5, w2=-0.2, t=0.6, eta=0.1)


def test_key_is_correct(classic: Variant) -> None:
    r = judge(classic, "w1", "0.519")
    assert (r.status, r.score, r.note) == ("correct", 1.0, "correct")
    assert judge(classic, "w2", "-0.187").status == "correct"


@pytest.mark.parametrize(
    ("answer", "note", "score"),
    [
        ("0.481", "mistake:sign_flipped", 0.25),
        ("0.538", "mistake:extra_factor_two", 0.5),
        ("0.692", "mistake:forgot_learning_rate", 0.0),
        ("0.0192", "mistake:forgot_old_weight", 0.0),
    ],
)
def test_mistakes_get_their_note_feedback_and_credit(
    classic: Variant, answer: str, note: str, score: float
) -> None:
    r = judge(classic, "w1", answer)
    assert r.status == "incorrect"
    assert r.note == note
    assert r.score == score
    assert r.feedback
    assert r.feedback != r.verdict.message


def test_other_wrong_answers(classic: Variant) -> None:
    r = judge(classic, "w1", "0.9")
    assert r.status == "incorrect"
    assert r.score == 0.0
    assert r.note == "incorrect" or r.note.startswith("diagnosis:")
    assert json.dumps(r.to_json())


@pytest.mark.parametrize("junk", ["", "   ", "0.5 +", "((", "import os", "x" * 6000])
def test_junk_is_invalid_and_free(classic: Variant, junk: str) -> None:
    r = judge(classic, "w1", junk)
    assert r.status == "invalid"
    assert r.score == 0.0
    assert r.note == "invalid"
    assert r.feedback


def test_list_for_a_numeric_part_is_invalid(classic: Variant) -> None:
    assert judge(classic, "w1", ["0.526"]).status == "invalid"


def test_unknown_part_is_a_key_error(classic: Variant) -> None:
    with pytest.raises(KeyError):
        judge(classic, "nope", "1")


def test_judging_uses_only_the_stored_variant(classic: Variant) -> None:
    stored = json.loads(json.dumps(classic.to_json()))
    stored["parts"][1]["key"] = 0.9  # a tampered record is judged as stored: nothing regenerates
    v = Variant.from_json(stored)
    assert judge(v, "w1", "0.9").status == "correct"
    assert judge(v, "w1", "0.526").status == "incorrect"


def test_vector_and_matrix_parts(gen) -> None:
    v = gen("matrix-deltas-232", 5)
    part = v.part("gradW2")
    good = json.dumps(part.key)
    assert judge(v, "gradW2", good).status == "correct"
    transposed = json.dumps([list(col) for col in zip(*part.key, strict=True)])
    r = judge(v, "gradW2", transposed)
    assert (r.status, r.note, r.score) == ("incorrect", "mistake:transposed", 0.5)
    assert judge(v, "gradW2", "[[1, 2], [3").status == "invalid"


def test_expression_parts(gen) -> None:
    v = gen("chain-rule-symbolic", 0, f="sigmoid", g="linear")
    assert judge(v, "dw2", "2*(y - t)*h").status == "correct"
    assert judge(v, "dw1", "2*(y - t)*w2*sigmoid(z1)*(1 - sigmoid(z1))*x").status == "correct"
    r = judge(v, "dw1", "2*(y - t)*w2*x")
    assert (r.note, r.score) == ("mistake:forgot_activation_derivative", 0.5)
    r = judge(v, "dw1", "(y - t)*w2*sigmoid(z1)*(1 - sigmoid(z1))*x")
    assert r.note == "mistake:forgot_factor_two"
    assert judge(v, "dw1", "2*(y - t)*w2*sigmoid(z1)*(1 - sigmoid(z1))*x*w9").status == "invalid"


def test_choice_parts(gen) -> None:
    v = gen("concept-chain-rule", 3)
    part = v.part("answer")
    assert judge(v, "answer", part.key).status == "correct"
    assert judge(v, "answer", part.key.lower()).status == "correct"
    wrong = part.mistakes[0]
    r = judge(v, "answer", wrong.value)
    assert (r.status, r.note) == ("incorrect", f"mistake:{wrong.code}")
    assert judge(v, "answer", "Z").status == "invalid"


def test_option_order_is_randomized(gen) -> None:
    keys = {gen("concept-gradient-descent", s).part("answer").key for s in range(30)}
    assert len(keys) >= 3


MULTI = textwrap.dedent(
    """\
    id: multi
    title: Multi
    version: 1
    prompt: Which are true?
    parts:
      - id: a
        type: multiselect
        choices:
          - {text: gradients add over paths, correct: true}
          - {text: factors multiply along a path, correct: true}
          - {text: paths multiply, feedback: Paths add.}
    """
)


def test_multiselect_declarative() -> None:
    v = generate(load_spec_text(MULTI), 2)
    part = v.part("a")
    assert judge(v, "a", list(part.key)).status == "correct"
    assert judge(v, "a", ", ".join(reversed(part.key))).status == "correct"
    wrong = part.mistakes[0]
    r = judge(v, "a", wrong.value)
    assert r.note == "mistake:choice_3"
    assert r.feedback == "Paths add."
    assert judge(v, "a", []).status == "invalid"
    assert judge(v, "a", ["A", "Q"]).status == "invalid"


def test_a_number_box_does_not_accept_the_question_back():
    from grader.exercises import generate
    from grader.exercises import judge
    from grader.exercises import load_library

    spec = load_library()["relu-derivative"]
    for seed in range(6):
        variant = generate(spec, seed)
        z0 = variant.params.get("z0")
        name = variant.params.get("act")
        if name in {"tanh", "sigmoid", "softplus"} and z0 is not None:
            result = judge(variant, "value", f"{name}({z0})")
            assert result.status == "invalid", result.feedback
            return
    pytest.fail("no seed drew a smooth activation")
