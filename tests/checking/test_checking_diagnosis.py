"""Feedback beyond right/wrong: what the checker says is wrong with an answer."""

from __future__ import annotations

import pytest

from grader.checking import check_expression

CHAIN = "2*(y - t)*sigmoid(z2)*(1 - sigmoid(z2))*h1"
VARIABLES = ("y", "t", "z2", "h1", "w", "eta", "g", "x", "w2", "z")

# (expected, answer, diagnosis code, words in the message)
DIAGNOSES = [
    (CHAIN, "-2(y - t)σ(z2)(1 - σ(z2))h1", "sign_flipped", "wrong sign"),
    (CHAIN, "2(t - y)σ(z2)(1 - σ(z2))h1", "sign_flipped", "wrong sign"),
    (CHAIN, "(y - t)σ(z2)(1 - σ(z2))h1", "constant_factor", "factor of 2"),
    (CHAIN, "4(y - t)σ(z2)(1 - σ(z2))h1", "constant_factor", "factor of 2"),
    (CHAIN, "3(y - t)σ(z2)(1 - σ(z2))h1", "constant_factor", "3/2"),
    (CHAIN, "2(y - t)h1", "constant_factor", "sigmoid(z2)*(1 - sigmoid(z2))"),
    (CHAIN, "2(y - t)σ(z2)(1 - σ(z2))", "constant_factor", "missing a factor of h1"),
    (CHAIN, "2(y - t)σ(z2)(1 - σ(z2))h1 w2", "constant_factor", "extra factor of w2"),
    ("eta*g", "g", "constant_factor", "missing a factor of eta"),
    ("-eta*g", "g", "constant_factor", "sign is wrong"),
    ("(1 - tanh(z)^2)*x", "x", "constant_factor", "1 - tanh(z)^2"),
    ("x^2 + 2*x + 1", "x^2 + 1", "missing_term", "missing one of the terms"),
    ("w - eta*g", "w", "missing_term", "missing one of the terms"),
    ("x^2 + 1", "x^2 + 2x + 1", "extra_term", "2x"),
    ("w - eta*g", "w - eta*g + x", "extra_term", "x"),
    ("w - eta*g", "w + eta*g", "sign_flipped", "One term"),
    ("x/3", "0.33*x", "inexact_decimal", "exact value"),
]


@pytest.mark.parametrize(("expected", "answer", "code", "words"), DIAGNOSES)
def test_wrong_answers_get_a_diagnosis(expected, answer, code, words):
    verdict = check_expression(expected, answer, variables=VARIABLES)
    assert verdict.status == "incorrect"
    assert verdict.diagnosis is not None, verdict.message
    assert verdict.diagnosis.code == code, verdict.diagnosis
    assert words in verdict.diagnosis.message
    assert verdict.message == verdict.diagnosis.message


def test_unrelated_wrong_answer_gets_a_plain_message():
    verdict = check_expression(CHAIN, "y*t + sin(z2)", variables=VARIABLES)
    assert verdict.status == "incorrect"
    assert verdict.diagnosis is None
    assert "not equivalent" in verdict.message


def test_diagnosis_serialises():
    verdict = check_expression("eta*g", "g", variables=VARIABLES)
    assert verdict.to_json()["diagnosis"] == {
        "code": "constant_factor",
        "message": "Your answer is missing a factor of eta.",
    }


def test_missing_term_message_does_not_reveal_the_term():
    verdict = check_expression("x^2 + 17*x + 1", "x^2 + 1", variables=VARIABLES)
    assert verdict.diagnosis.code == "missing_term"
    assert "17" not in verdict.message


@pytest.mark.parametrize("name", ["x", "y", "z", "w1", "a", "b", "h1", "t", "q", "s", "u", "v"])
@pytest.mark.parametrize("answer", ["abs({})", "sqrt({}^2)", "|-{}|"])
def test_absolute_value_is_never_called_a_sign_error(name, answer):
    # |x| equals -x wherever x < 0: only points on both sides of zero tell them apart.
    verdict = check_expression(name, answer.format(name), variables=(name,))
    assert verdict.status == "incorrect"
    assert verdict.diagnosis is None or verdict.diagnosis.code != "sign_flipped"


def test_diagnosis_can_be_skipped_when_only_right_or_wrong_matters():
    full = check_expression("2*(y - t)*h", "-2*(y - t)*h")
    quick = check_expression("2*(y - t)*h", "-2*(y - t)*h", diagnose=False)
    assert full.status == quick.status == "incorrect"
    assert full.diagnosis is not None
    assert full.diagnosis.code == "sign_flipped"
    assert quick.diagnosis is None
