"""Numeric answers, arrays, choices and the dispatcher."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grader.checking import DEFAULT_ATOL
from grader.checking import DEFAULT_RTOL
from grader.checking import check
from grader.checking import check_array
from grader.checking import check_choice
from grader.checking import check_numeric


def test_defaults_are_documented_values():
    assert DEFAULT_RTOL == 0.01
    assert DEFAULT_ATOL == 1e-8


# (key, answer, options, status)
NUMERIC = [
    (0.526, "0.526", {}, "correct"),
    (0.526, "0.53", {}, "correct"),  # 0.76% off: within the default 1%
    (0.526, "0.52", {}, "incorrect"),  # 1.1% off
    (0.526, "0.5", {}, "incorrect"),
    (0.0, "0", {}, "correct"),
    (0.0, "1e-9", {}, "correct"),  # default atol
    (0.0, "1e-7", {}, "incorrect"),
    (1, "1.05", {"mode": "relative", "rtol": 0.05}, "correct"),  # STACK: inclusive
    (1, "1.05", {"mode": "absolute", "atol": 0.05}, "correct"),
    (1, "0.95", {"mode": "absolute", "atol": 0.05}, "correct"),
    (1, "1.0500001", {"mode": "relative", "rtol": 0.05}, "incorrect"),
    (0.1, "0.1", {"mode": "absolute", "atol": 0}, "correct"),
    (0.3, "0.1 + 0.2", {"mode": "absolute", "atol": 0}, "correct"),
    (0, "0", {"mode": "relative", "rtol": 0.5}, "correct"),
    (0, "0.001", {"mode": "relative", "rtol": 0.5}, "incorrect"),
    (0.138, "1.38*10^-1", {"atol": 0, "rtol": 0}, "correct"),
    (0.138, "1.38e-1", {"atol": 0, "rtol": 0}, "correct"),
    (0.138, "138*10^-3", {"atol": 0, "rtol": 0}, "correct"),
    ("1/3", "1/3", {"rtol": 0}, "correct"),
    ("1/3", "0.333", {}, "correct"),
    ("1/3", "0.333", {"rtol": 1e-6}, "incorrect"),
    (0.36787944, "exp(-1)", {}, "correct"),
    ("exp(-1)", "e^-1", {"rtol": 0, "atol": 0}, "correct"),
    ("pi", "3.14159", {"rtol": 1e-5}, "correct"),
    (-0.179, "−0.179", {}, "correct"),
    (2.5, "5/2", {"rtol": 0, "atol": 0}, "correct"),
]


@pytest.mark.parametrize(("key", "answer", "options", "status"), NUMERIC)
def test_numeric_answers(key, answer, options, status):
    verdict = check_numeric(key, answer, **options)
    assert verdict.status == status, verdict.message


def test_float_keys_are_read_as_the_decimal_they_stand_for():
    # 0.1 + 0.2 in binary is 0.30000000000000004: noise past the 15th digit. The key
    # stands for 3/10, so even with zero tolerance 0.3 is right and the noise is not.
    assert check_numeric(0.1 + 0.2, "0.3", rtol=0, atol=0).correct
    assert not check_numeric(0.1 + 0.2, "0.30000000000000004", rtol=0, atol=0).correct
    assert check_numeric(Fraction(3, 10), "0.3", rtol=0, atol=0).correct
    # A key with 15 significant digits keeps all of them.
    assert check_numeric(0.123456789012345, "0.123456789012345", rtol=0, atol=0).correct


def test_number_boxes_can_refuse_functions():
    verdict = check_numeric(0.956, "tanh(1.9)", functions=())
    assert verdict.status == "invalid"
    assert "tanh" in verdict.message
    assert check_numeric(0.956, "9.56*10^-1", functions=()).correct
    assert check_numeric(0.956, "tanh(1.9)").status == "correct"  # all functions by default


@pytest.mark.parametrize(
    ("key", "answer", "code"),
    [
        (0.526, "-0.526", "sign_flipped"),
        (0.526, "1.052", "constant_factor"),
        (0.526, "0.263", "constant_factor"),
        (0.526, "5.26", "order_of_magnitude"),
        (0.526, "0.00526", "order_of_magnitude"),
    ],
)
def test_numeric_diagnosis(key, answer, code):
    verdict = check_numeric(key, answer)
    assert verdict.status == "incorrect"
    assert verdict.diagnosis.code == code


@pytest.mark.parametrize(
    ("answer", "words", "offset"),
    [
        ("x", "is a variable", 0),
        ("2*w1", "is a variable", 2),
        ("1/0", "Division by zero", 2),
        ("[1, 2]", "single number", 0),
        ("0,5", "decimal point", 1),
        ("", "empty", 0),
        ("nan", "not a number", 0),
    ],
)
def test_invalid_numbers(answer, words, offset):
    verdict = check_numeric(0.5, answer)
    assert verdict.status == "invalid"
    assert words in verdict.message
    assert verdict.offset == offset


def test_bad_options_raise_and_bad_keys_are_undetermined(caplog):
    with pytest.raises(ValueError, match="mode"):
        check_numeric(1, "1", mode="fuzzy")
    with pytest.raises(ValueError, match="negative"):
        check_numeric(1, "1", rtol=-1)
    assert check_numeric(float("nan"), "1").status == "undetermined"
    assert check_numeric("x +", "1").status == "undetermined"
    assert check_numeric("y", "1").status == "undetermined"
    assert "unreadable answer key" in caplog.text


def test_array_entry_by_entry():
    verdict = check_array([0.526, -0.179], "[0.526, -0.18]")
    assert verdict.correct
    assert verdict.entries == ("correct", "correct")
    wrong = check_array([0.526, -0.179], "[0.526, 0.179]")
    assert wrong.status == "incorrect"
    assert wrong.entries == ("correct", "incorrect")
    assert wrong.message == "Entry 2 of your answer is wrong."


def test_matrix_feedback_names_the_entries():
    key = [[1, 2], [3, 4]]
    verdict = check_array(key, "[[1, 2], [3, 5]]")
    assert verdict.entries == ("correct", "correct", "correct", "incorrect")
    assert "(2, 2)" in verdict.message
    assert check_array(key, "[[1, 3], [2, 4]]").diagnosis.code == "transposed"
    assert check_array(key, "[[-1, -2], [-3, -4]]").diagnosis.code == "sign_flipped"
    assert check_array(key, "[[2, 4], [6, 8]]").diagnosis.code == "constant_factor"


def test_array_shapes():
    key = [[1, 2, 3], [4, 5, 6]]
    transposed = check_array(key, "[[1, 4], [2, 5], [3, 6]]")
    assert transposed.status == "incorrect"
    assert transposed.diagnosis.code == "transposed"
    wrong_shape = check_array(key, "[[1, 2], [3, 4]]")
    assert wrong_shape.status == "invalid"
    assert "2×2 matrix" in wrong_shape.message
    assert "2×3 matrix" in wrong_shape.message
    assert check_array([1, 2, 3], "[1, 2]").status == "invalid"
    assert check_array([1, 2], "1").status == "invalid"
    assert check_array([1, 2], "[1, x]").status == "invalid"


def test_array_keys_may_be_strings_and_text():
    assert check_array(["1/3", "exp(-1)"], "[0.3333, 0.3679]").correct
    assert check_array("[[1, 0], [0, 1]]", "[[1, 0], [0, 1]]").correct
    assert check_array([[1, 2], [3]], "[1]").status == "undetermined"


def test_array_sigfigs_mode():
    assert check_array([0.5263, -0.1789], "[0.526, -0.179]", mode="sigfigs", sigfigs=3).correct
    verdict = check_array([0.5263, -0.1789], "[0.5263, -0.179]", mode="sigfigs", sigfigs=3)
    assert verdict.entries == ("incorrect", "correct")
    assert check_array([0.5, 0.25], "[1/2, 0.25]", mode="sigfigs", sigfigs=2).status == "invalid"


@pytest.mark.parametrize(
    ("key", "answer", "multiple", "status", "code"),
    [
        ("B", "B", False, "correct", None),
        ("B", " b ", False, "correct", None),
        ("B", "C", False, "incorrect", None),
        ("B", "", False, "invalid", None),
        ("B", "A, B", False, "invalid", None),
        (["A", "C"], "C, A", True, "correct", None),
        (["A", "C"], ["A"], True, "incorrect", "missing_choice"),
        (["A", "C"], "A, B, C", True, "incorrect", "extra_choice"),
        (["A", "C"], "B", True, "incorrect", None),
    ],
)
def test_choices(key, answer, multiple, status, code):
    verdict = check_choice(key, answer, multiple=multiple)
    assert verdict.status == status
    assert (verdict.diagnosis.code if verdict.diagnosis else None) == code


def test_choice_key_errors():
    with pytest.raises(ValueError, match="at least one"):
        check_choice([], "A")
    with pytest.raises(ValueError, match="exactly one"):
        check_choice(["A", "B"], "A")


def test_dispatch_routes_by_mode():
    assert check("2*x", "x + x", variables="x").correct
    assert check("2*x", "x + x", mode="symbolic", variables=["x"]).correct
    assert check(0.5, "0.52", mode="relative", tolerance=0.05).correct
    assert check(0.5, "0.52", mode="relative", tolerance=0.01).status == "incorrect"
    assert check(0.5, "0.52", mode="absolute", tolerance=0.05).correct
    assert check([0.5, 0.25], "[0.5, 0.25]", mode="combined").correct
    assert check("[0.5, 0.25]", "[1/2, 1/4]", mode="relative").correct
    assert check("0.138", "1.38e-1", mode="sigfigs", sigfigs=3).correct
    assert check(["A"], "a", mode="choice").correct
    with pytest.raises(ValueError, match="mode"):
        check("x", "x", mode="telepathy")
    with pytest.raises(ValueError, match="string"):
        check(1, "1", mode="symbolic")


def test_numpy_keys_from_the_engine():
    import numpy as np

    assert check_numeric(np.float32(0.5), "0.5").correct
    assert check_numeric(np.int64(3), "3").correct
    assert check_numeric(np.float64(0.526), "0.53").correct
    matrix = np.array([[0.5, -0.25], [1.0, 2.0]])
    assert check_array(matrix, "[[0.5, -0.25], [1, 2]]").correct
    assert check(matrix, "[[0.5, 1], [-0.25, 2]]", mode="combined").diagnosis.code == "transposed"
    assert check(np.array([0.1, 0.2]), "[0.1, 0.2]", mode="relative").correct


def test_float_key_rounds_half_up_in_decimal():
    assert check_numeric(0.145, "0.15", mode="sigfigs", sigfigs=2).correct
    assert check_numeric(0.145, "0.14", mode="sigfigs", sigfigs=2).status == "incorrect"


def test_a_single_number_where_a_list_is_expected_is_named_so():
    verdict = check_array([1, 2], "1")
    assert verdict.status == "invalid"
    assert "a single value" in verdict.message
    assert "a list of 2 entries" in verdict.message
