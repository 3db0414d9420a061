"""Significant figures: counted from the raw string, rounded half-up, STACK's outcomes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grader.checking import check_numeric
from grader.checking.sigfigs import count_sigfigs
from grader.checking.sigfigs import round_sigfigs

# CHECKING.md §6.3 and STACK's documentation.
COUNTS = [
    ("100", 1, 3),
    ("0.0010", 2, 2),
    ("10.0", 3, 3),
    ("0.00", 2, 2),
    ("0", 1, 1),
    ("0.0", 1, 1),
    ("0.01", 1, 1),
    ("1", 1, 1),
    ("1000", 1, 4),
    ("100.", 3, 3),
    ("1.00", 3, 3),
    ("120", 2, 3),
    ("0.5260", 4, 4),
    ("6.02214086", 9, 9),
    (".5", 1, 1),
]


@pytest.mark.parametrize(("text", "lower", "upper"), COUNTS)
def test_count_from_the_raw_string(text, lower, upper):
    counted = count_sigfigs(text)
    assert (counted.lower, counted.upper) == (lower, upper)


ROUNDING = [
    (Fraction(61250), 3, Fraction(61300)),  # Python's round() gives 61200
    (Fraction(145, 1000), 2, Fraction(15, 100)),  # binary floats give 0.14
    (Fraction(-145, 1000), 2, Fraction(-15, 100)),
    (Fraction(1666, 10000), 3, Fraction(167, 1000)),
    (Fraction(999), 2, Fraction(1000)),
    (Fraction(1, 3), 4, Fraction(3333, 10000)),
    (Fraction(25), 1, Fraction(30)),
    (Fraction(0), 3, Fraction(0)),
]


@pytest.mark.parametrize(("value", "figures", "rounded"), ROUNDING)
def test_round_half_up_in_decimal(value, figures, rounded):
    assert round_sigfigs(value, figures) == rounded


# (answer, key, n, accuracy m, status, diagnosis code) — rows from STACK's NumSigFigs tests.
STACK_ROWS = [
    ("0", "0", 1, None, "correct", None),
    ("0", "0", 2, None, "incorrect", "wrong_digits"),
    ("0.0", "0", 1, None, "correct", None),
    ("0.0", "0", 2, None, "incorrect", "wrong_digits"),
    ("0.00", "0.00", 2, None, "correct", None),
    ("5.4e21", "5.3e21", 2, None, "incorrect", "inaccurate"),
    ("5.3e21", "5.3e21", 2, None, "correct", None),
    ("5.3e20", "5.3e22", 2, None, "incorrect", "order_of_magnitude"),
    ("9.8", "10", 2, None, "correct", None),
    ("9.6", "10", 2, None, "correct", None),
    ("9.5", "10", 2, None, "incorrect", "inaccurate"),
    ("10.0", "10", 2, None, "incorrect", "wrong_digits"),
    ("6.02214086e23", "6.02214086e23", 9, None, "correct", None),
    ("6.0221409e23", "6.02214086e23", 9, None, "incorrect", "inaccurate"),
    ("6.02214087e23", "6.02214086e23", 9, None, "incorrect", "inaccurate"),
    ("1.2346e82", "1.2345e82", 5, None, "incorrect", "inaccurate"),
    ("3.141", "3.1415927", 3, None, "incorrect", "wrong_digits"),
    ("3.141", "3.1415927", 4, None, "incorrect", "inaccurate"),
    ("3.146", "3.1415927", 4, None, "incorrect", "inaccurate"),
    ("3.147", "3.1415927", 4, None, "incorrect", "very_inaccurate"),
    ("3.142", "3.1415927", 4, None, "correct", None),
    ("3.142", "pi", 4, None, "correct", None),
    ("0.00123", "0.001234567", 3, None, "correct", None),
    ("1.23e-3", "0.001234567", 3, None, "correct", None),
    ("138*10^-3", "138*10^-3", 3, None, "correct", None),
    ("-138*10^-3", "-138*10^-3", 3, None, "correct", None),
    ("138*10^-3", "-138*10^-3", 3, None, "incorrect", "sign_flipped"),
    ("1.38*10^-1", "138*10^-3", 3, None, "correct", None),
    ("1.38×10^(-1)", "0.138", 3, None, "correct", None),
    ("1.24e-3", "0.001234567", 3, None, "incorrect", "inaccurate"),
    ("1.235e-3", "0.001234567", 4, None, "correct", None),
    ("1000", "999", 2, None, "correct", None),
    ("1E3", "999", 2, None, "incorrect", "wrong_digits"),
    ("-100", "-149", 1, None, "correct", None),
    ("-0.05", "-0.0499", 1, None, "correct", None),
    ("-(0.05)", "-0.0499", 1, None, "correct", None),
    ("61300", "61250", 3, None, "correct", None),
    ("61200", "61250", 3, None, "incorrect", "inaccurate"),
    ("0.15", "0.145", 2, None, "correct", None),
    ("3.15", "3.1415927", 3, 2, "correct", None),
    ("3.15", "3.1415927", 3, 3, "incorrect", "inaccurate"),
    ("3.99", "3.1415927", 3, 0, "correct", None),
    ("3.1416", "3.1415927", 3, -1, "correct", None),
    ("3.1", "3.1415927", 3, -1, "incorrect", "inaccurate"),  # and too few figures
]


@pytest.mark.parametrize(("answer", "key", "figures", "accuracy", "status", "code"), STACK_ROWS)
def test_stack_numsigfigs_rows(answer, key, figures, accuracy, status, code):
    verdict = check_numeric(key, answer, mode="sigfigs", sigfigs=figures, sigfigs_accuracy=accuracy)
    assert verdict.status == status, verdict.message
    assert (verdict.diagnosis.code if verdict.diagnosis else None) == code


def test_strict_mode_reads_whole_numbers_literally():
    assert check_numeric(100, "100", mode="sigfigs", sigfigs=3).correct
    strict = check_numeric(100, "100", mode="sigfigs", sigfigs=3, strict_sigfigs=True)
    assert strict.status == "incorrect"
    assert strict.diagnosis.code == "wrong_digits"
    assert check_numeric(100, "1.00e2", mode="sigfigs", sigfigs=3, strict_sigfigs=True).correct


def test_not_a_decimal_is_invalid():
    for answer in ("1/3", "pi", "sqrt(2)", "2^-1"):
        verdict = check_numeric("1/3", answer, mode="sigfigs", sigfigs=3)
        assert verdict.status == "invalid", answer
        assert "decimal number" in verdict.message


def test_sigfigs_needs_a_count():
    with pytest.raises(ValueError, match="sigfigs"):
        check_numeric(1, "1", mode="sigfigs")


def test_inaccurate_with_wrong_digits_mentions_both():
    verdict = check_numeric("3.1415927", "3.1", mode="sigfigs", sigfigs=3, sigfigs_accuracy=-1)
    assert verdict.diagnosis.code == "inaccurate"
    assert "3 significant figures" in verdict.message


@pytest.mark.parametrize(
    ("a", "b", "right", "wrong"),
    [(1.5, 0.83, "1.25", "1.24"), (0.35, 0.35, "0.123", "0.122"), (2.5, 0.29, "0.725", "0.724")],
)
def test_float_keys_round_as_the_decimal_they_stand_for(a, b, right, wrong):
    # a * b is exactly halfway in decimal, but a hair below it in binary floating point.
    key = a * b
    assert check_numeric(key, right, mode="sigfigs", sigfigs=3).status == "correct"
    assert check_numeric(key, wrong, mode="sigfigs", sigfigs=3).status == "incorrect"
