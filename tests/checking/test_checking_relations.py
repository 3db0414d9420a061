"""Single inequalities: solution sets, their boundaries, and the boundary points.

Regression tests for three faults of the first version: boundaries compared by a zero
of the answer's ``g`` (so a set ending at a pole was wrong), strictness compared even
where the set has no boundary, and points where the answer is undefined left out of
the bisection (so a boundary next to them was never checked), with a loose tolerance.
"""

from __future__ import annotations

import time

import pytest

from grader.checking import check_expression


def _status(expected: str, answer: str, variables: str = "x") -> str:
    verdict = check_expression(expected, answer, variables=tuple(variables.split()))
    return verdict.status


@pytest.mark.parametrize(
    ("expected", "answer", "variables"),
    [
        ("x > 2", "1/(x-2) > 0", "x"),
        ("x < 0", "1/x < 0", "x"),
        ("x > 2", "1/(x-2) >= 0", "x"),  # undefined at 2, so 2 is outside both sets
        ("x > sqrt(2)", "1/(x - sqrt(2)) > 0", "x"),  # a pole not at a short fraction
        ("x > y", "1/(x - y) > 0", "x y"),  # and with two variables
        ("x > 1/3", "sign(3*x - 1) > 0", "x"),  # a jump
        ("x > 0", "sign(x) > 0", "x"),
        ("x >= 0", "sign(x) >= 0", "x"),
    ],
)
def test_a_set_that_ends_at_a_pole_or_a_jump_is_the_same_set(expected, answer, variables):
    assert _status(expected, answer, variables) == "correct"


@pytest.mark.parametrize(
    ("expected", "answer", "variables"),
    [
        ("sigmoid(z) > 0", "sigmoid(z) >= 0", "z"),
        ("x^2 >= 0", "x^2 + 1 > 0", "x"),
        ("exp(x) > 0", "exp(x) >= -1", "x"),
    ],
)
def test_strictness_does_not_matter_without_a_boundary(expected, answer, variables):
    assert _status(expected, answer, variables) == "correct"


@pytest.mark.parametrize(
    ("expected", "answer", "variables"),
    [
        ("x > 1", "x >= 1", "x"),
        ("x > y", "x - y >= 0", "x y"),
        ("x^2 > 2", "x^2 >= 2", "x"),
        ("x >= 2", "1/(x-2) >= 0", "x"),  # 2 is in the key's set, not in the answer's
        ("x >= y", "1/(x - y) >= 0", "x y"),
        ("x >= 0", "sign(x) > 0", "x"),
        ("x > 2", "sqrt(x-2) > -1", "x"),  # 2 is in the answer's set
        ("x > 0", "sqrt(x) >= 0", "x"),
    ],
)
def test_a_boundary_point_in_one_set_only_is_a_strictness_error(expected, answer, variables):
    verdict = check_expression(expected, answer, variables=tuple(variables.split()))
    assert verdict.status == "incorrect", verdict.message
    assert verdict.diagnosis is not None
    assert verdict.diagnosis.code == "inequality_strictness"


def test_the_strictness_message_names_the_fix_that_works():
    # Making 1/(x-2) >= 0 non-strict would not help: 2 is where it is undefined.
    verdict = check_expression("x >= 2", "1/(x-2) >= 0", variables=("x",))
    assert "boundary itself should satisfy it" in verdict.message
    verdict = check_expression("x > 1", "x >= 1", variables=("x",))
    assert "should be strict" in verdict.message


@pytest.mark.parametrize(
    ("expected", "answer", "variables"),
    [
        ("x >= 2", "sqrt(x-2) > -1", "x"),
        ("x >= 0", "sqrt(x) >= 0", "x"),
        ("x > 0", "sqrt(x) > 0", "x"),
        ("x >= sqrt(2)", "sqrt(x - sqrt(2)) >= 0", "x"),
        ("x*y > 0", "x^3*y > 0", "x y"),
        ("z > 0", "relu(z) > 0", "z"),
    ],
)
def test_a_boundary_at_the_edge_of_the_domain_is_compared_as_a_point(expected, answer, variables):
    assert _status(expected, answer, variables) == "correct"


@pytest.mark.parametrize(
    ("expected", "answer"),
    [
        ("x > 2", "log(x-2) > -2"),  # really x > 2.135...
        ("x > 2", "sqrt(x-2) > 0.3"),  # really x > 2.09
        ("x > 1", "x > 1.00000001"),
        ("x > 1000", "x > 1000.001"),
        ("sin(x) > 0", "sin(x) > 0.0000001"),
    ],
)
def test_a_boundary_next_to_undefined_points_or_close_by_is_checked(expected, answer):
    verdict = check_expression(expected, answer, variables=("x",))
    assert verdict.status == "incorrect", verdict.message
    assert verdict.diagnosis is None


def test_boundaries_agree_to_a_billionth_of_their_size():
    assert _status("x > 1", "x > 1.000000001") == "correct"  # 1e-9
    assert _status("x > 0", "x > 10^-10") == "correct"  # absolute below 1
    assert _status("x > 0", "x > 10^-5") == "incorrect"
    assert _status("x > 1000", "x > 1000.0000001") == "correct"  # relative above 1
    assert _status("x > 1", "x > 1.00000001") == "incorrect"  # 1e-8
    assert _status("x > 1", "x > 1.01") == "incorrect"


def test_a_set_that_is_all_reals_on_one_side_of_zero_is_told_apart():
    # relu(z) is exactly 0 for z < 0, which is in the set of relu(z) >= 0.
    assert _status("z >= 0", "relu(z) >= 0", "z") == "incorrect"


def test_cancellation_is_resolved_at_more_digits():
    assert _status("x > 0", "(x + 10^40) - 10^40 > 0") == "correct"


@pytest.mark.parametrize(
    ("expected", "answer", "variables"),
    [
        ("sin(x) > 0", "cos(x - pi/2) > 0", "x"),
        ("tan(x) > 0", "sin(x)*cos(x) > 0", "x"),
        ("x^2 < 4", "(x-2)*(x+2) < 0", "x"),
        ("x > 0.1", "10*x - 1 > 0", "x"),
        ("x + y > 1", "sign(x + y - 1) > 0", "x y"),
    ],
)
def test_sets_with_several_or_awkward_boundaries(expected, answer, variables):
    assert _status(expected, answer, variables) == "correct"


@pytest.mark.parametrize(
    ("expected", "answer"),
    [
        ("x > 1", "(x - 1)^9999*(x - 1) > 0"),
        ("sin(x) > 0", "sin(" * 25 + "x" + ")" * 25 + " > 0"),
        ("x > y", "exp(exp(exp(x))) > exp(exp(exp(y)))"),
        # Slow to evaluate and with many boundaries: runs into the budget.
        ("x > 1", "(" + "+".join(f"sinh(sin({k}x))" for k in range(1, 120)) + ") > 0.5"),
    ],
)
def test_inequalities_stay_within_the_time_budget(expected, answer):
    start = time.thread_time()
    verdict = check_expression(expected, answer, variables=("x", "y"), time_budget=0.2)
    assert time.thread_time() - start < 0.5
    assert verdict.status in ("correct", "incorrect", "undetermined")
