"""``follows:``: declarative parts computed from earlier parts get follow-through rules.

The answer expression, with the followed part ids as names, becomes a stored recipe; the
loader refuses (file, line, field, what is allowed) an unknown or later part, a cycle, a
non-numeric part, a function follow-through cannot recompute, and a rule that does not
give back the key.
"""

from __future__ import annotations

import math
import textwrap

import pytest

from grader.exercises import SpecError
from grader.exercises import expressions
from grader.exercises import generate
from grader.exercises import load_spec_text
from grader.exercises.follow import judge_following
from grader.exercises.judgement import Status
from grader.exercises.recipe import evaluate

CHAIN = textwrap.dedent(
    """\
    id: follows-test
    title: Follows
    version: 1
    parameters:
      w: {range: [-1.5, 1.5], step: 0.1, exclude: [0]}
      x: {range: [-2, 2], step: 0.5, exclude: [0]}
      t: {choices: [0, 1]}
      eta: {choices: [0.1, 0.5]}
    derived:
      y: sigmoid(w*x)
    constraints:
      - abs(y - t) >= 0.1
    prompt: "w = {{w}}, x = {{x}}, t = {{t}}"
    parts:
      - id: y
        type: numeric
        answer: sigmoid(w*x)
      - id: f
        type: expression
        answer: sigmoid(w*x)
        check: {variables: [w]}
      - id: dw
        type: numeric
        label: ∂L/∂w
        answer: (y - t)*y*(1 - y)*x
        follows: [y]
        mistakes:
          - {code: forgot_derivative, answer: (y - t)*x}
      - id: w_new
        type: numeric
        answer: w - eta*dw
        follows: [dw]
        check: {reference: w}
    """
)


def _error(text: str, source: str = "ex.yaml") -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, source)
    return info.value


def test_follows_become_stored_rules_that_give_back_the_key() -> None:
    spec = load_spec_text(CHAIN, "chain.yaml")
    assert spec.part("dw").follows == ("y",)
    for seed in range(10):
        v = generate(spec, seed)
        dw, w_new = v.part("dw"), v.part("w_new")
        assert v.part("y").follow is None
        assert dw.follow is not None
        assert dw.follow.sources == ("y",)
        assert dw.follow.labels == {"y": "y"}
        assert w_new.follow is not None
        assert w_new.follow.labels == {"dw": "∂L/∂w"}
        assert math.isclose(evaluate(dw.follow.recipe, {"y": v.part("y").key}), dw.key)
        assert math.isclose(evaluate(w_new.follow.recipe, {"dw": dw.key}), w_new.key)
        # ...and judging uses them: right given a wrong y
        y = float(v.part("y").key) * 0.5
        dw_y = evaluate(dw.follow.recipe, {"y": y})
        j = judge_following(v, "dw", f"{dw_y:.6g}", {"y": f"{y:.6g}"})
        assert j.status is Status.CONSISTENT, (seed, j.feedback)
        assert j.feedback.startswith(f"Right, given your y = {y:.6g}")
        j = judge_following(
            v,
            "w_new",
            f"{evaluate(w_new.follow.recipe, {'dw': dw_y}):.6g}",
            {"y": f"{y:.6g}", "dw": f"{dw_y:.6g}"},
        )
        assert j.status is Status.CONSISTENT
        assert "∂L/∂w" in j.feedback
        assert j.first_wrong == "y"


def test_an_answer_may_name_a_followed_part_that_no_parameter_names() -> None:
    spec = load_spec_text(CHAIN)
    v = generate(spec, 3)
    p = v.params
    assert math.isclose(v.part("w_new").key, p["w"] - p["eta"] * v.part("dw").key)


def test_the_recipe_recomputes_every_operation_like_the_checker() -> None:
    # Every recipe operation an answer can reach, against the checker's own evaluator
    # at another value of the followed part.
    answer = (
        "-(y - t)/(2*y) + e^(y) - exp(-y)*log(y) + sqrt(y)*abs(x - y) + tanh(y)^2"
        " + 3 y sigmoid(x*y) + y^x/cos(w) - |y|/y/2"
    )
    text = CHAIN.replace(
        "answer: w - eta*dw\n    follows: [dw]", f"answer: {answer}\n    follows: [y]"
    )
    spec = load_spec_text(text)
    expr = expressions.parse(answer)
    for seed in range(5):
        v = generate(spec, seed)
        rule = v.part("w_new").follow
        assert rule is not None
        assert rule.sources == ("y",)
        for other in (0.2, 0.55, 0.9):
            values = {**v.params, "y": other}
            want = expressions.evaluate(expr, values)
            assert math.isclose(evaluate(rule.recipe, {"y": other}), want, rel_tol=1e-12), seed


def test_a_vector_part_may_follow_a_number() -> None:
    text = CHAIN.replace(
        "answer: w - eta*dw\n    follows: [dw]\n    check: {reference: w}",
        "type: vector\n    answer: '[dw*x, -dw, 2]'\n    follows: [dw]",
    ).replace("  - id: w_new\n    type: numeric\n", "  - id: w_new\n")
    v = generate(load_spec_text(text), 1)
    rule = v.part("w_new").follow
    dw = v.part("dw").key
    assert evaluate(rule.recipe, {"dw": 0.5}) == pytest.approx([0.5 * v.params["x"], -0.5, 2])
    assert evaluate(rule.recipe, {"dw": dw}) == pytest.approx(v.part("w_new").key)


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        (
            "follows: [dw]",
            "follows: [dz]",
            "parts[3].follows[0]",
            "unknown part 'dz'; earlier parts: y, f, dw",
        ),
        ("follows: [dw]", "follows: [w_new]", "parts[3].follows[0]", "cannot follow itself"),
        (
            "follows: [dw]",
            "follows: [dw, f]",
            "parts[3].follows[1]",
            "part f has type expression; only numeric",
        ),
        ("follows: [dw]", "follows: [dw, dw]", "parts[3].follows[1]", "dw is listed twice"),
        ("follows: [dw]", "follows: [dw, y]", "parts[3].follows[1]", "the answer does not use y"),
        (
            "answer: w - eta*dw",
            "answer: w - eta*sin(dw)",
            "parts[3].answer",
            "sin(...) of dw cannot be recomputed",
        ),
        (
            "answer: w - eta*dw",
            "answer: w - eta*max(dw, 0.1)",
            "parts[3].answer",
            "follow-through knows exp, log",
        ),
        (
            "check: {variables: [w]}",
            "check: {variables: [w]}\n    follows: [y]",
            "parts[1].follows",
            "needs a numeric, vector or matrix part, not expression",
        ),
    ],
)
def test_follows_errors_name_line_field_and_what_is_allowed(
    old: str, new: str, field: str, words: str
) -> None:
    assert old in CHAIN
    text = CHAIN.replace(old, new, 1)
    err = _error(text, "bad.yaml")
    assert err.source == "bad.yaml"
    assert err.field == field, err
    assert words in err.message, err
    line = next(i for i, row in enumerate(text.splitlines(), 1) if new.splitlines()[-1] in row)
    assert err.line == line, err


def test_a_later_part_is_refused() -> None:
    text = CHAIN.replace("answer: w - eta*dw\n    follows: [dw]", "answer: w - eta\n").replace(
        "answer: (y - t)*y*(1 - y)*x\n    follows: [y]",
        "answer: (y - t)*y*(1 - y)*x + 0*w_new\n    follows: [y, w_new]",
    )
    err = _error(text)
    assert err.field == "parts[2].follows[1]"
    assert "part w_new comes later; a part follows earlier parts only" in err.message


def test_a_cycle_is_named() -> None:
    text = CHAIN.replace(
        "answer: (y - t)*y*(1 - y)*x\n    follows: [y]",
        "answer: (y - t)*y*(1 - y)*x + 0*w_new\n    follows: [y, w_new]",
    )
    err = _error(text)
    assert err.field == "parts[2].follows[1]"
    assert "a cycle: dw follows w_new follows dw" in err.message


def test_a_function_of_parameters_only_is_a_constant() -> None:
    text = CHAIN.replace("answer: w - eta*dw", "answer: w - eta*dw*cos(w)/cos(w)")
    v = generate(load_spec_text(text), 2)
    assert v.part("w_new").follow is not None


def test_a_rule_that_does_not_give_back_the_key_is_refused() -> None:
    # The part y is not the derived y: in dw, `y` names the part, whose value differs.
    text = CHAIN.replace(
        "  - id: y\n    type: numeric\n    answer: sigmoid(w*x)",
        "  - id: y\n    type: numeric\n    answer: sigmoid(w*x + 0.5)",
    )
    err = _error(text, "shadow.yaml")
    assert err.field == "parts[2].answer"
    assert "its answer with the earlier answers (y = " in err.message
    assert "not its key" in err.message
    assert "y here means the earlier part" in err.message


def test_follows_belong_to_declarative_exercises() -> None:
    from .test_spec import GOOD

    err = _error(GOOD.replace("key: w1_new", "key: w1_new\n    follows: [y]"))
    assert err.field == "parts[0].follows"
    assert "follows: is declarative" in err.message
    err = _error(GOOD.replace("key: w1_new", "key: w1_new\n    label: w"))
    assert err.field == "parts[0].label"
