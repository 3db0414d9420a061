"""Deciding equivalence: the suite, our syntax on top of it, domains, definitions, budget."""

from __future__ import annotations

import pytest

from grader.checking import check_expression
from grader.checking.keys import build_key
from grader.checking.keys import compiled
from grader.checking.keys import parse_cached
from tests.checking.suite import EQUIVALENT
from tests.checking.suite import NOT_EQUIVALENT

BACKPROP = ("w1", "w2", "x1", "x2", "z", "z1", "z2", "h1", "y", "t", "eta", "x", "s")


def _ids(pairs):
    return [f"{e[:30]} | {a[:30]}" for e, a, *_ in pairs]


@pytest.mark.parametrize(
    ("expected", "answer", "variables", "domains", "truth"), EQUIVALENT, ids=_ids(EQUIVALENT)
)
def test_equivalent_pairs_are_correct(expected, answer, variables, domains, truth):
    verdict = check_expression(expected, answer, variables=variables, domains=domains)
    assert verdict.status == "correct", verdict.message


@pytest.mark.parametrize(
    ("expected", "answer", "variables", "domains", "truth"),
    NOT_EQUIVALENT,
    ids=_ids(NOT_EQUIVALENT),
)
def test_not_equivalent_pairs_are_incorrect(expected, answer, variables, domains, truth):
    verdict = check_expression(expected, answer, variables=variables, domains=domains)
    assert verdict.status == "incorrect", verdict.message


# Student syntax on top of the suite: implicit products, unicode, bars, Greek, subscripts.
SYNTAX_EQUIVALENT = [
    ("2*(y - t)*sigmoid(z2)*(1 - sigmoid(z2))*h1", "2(y − t)σ(z2)(1 − σ(z2))h1"),
    ("2*(y - t)*sigmoid(z2)*(1 - sigmoid(z2))*h1", "2 (y-t) h_1 σ(z_2) σ(-z_2)"),
    ("w1*x1 + w2*x2", "w1x1 + w2x2"),
    ("w1*x1 + w2*x2", "w_{1}·x_{1} + w_2×x_2"),
    ("x^2", "x²"),
    ("1/x", "x⁻¹"),
    ("abs(z)", "|z|"),
    ("max(0, z)", "(z + |z|)/2"),
    ("log(x)", "ln(x)"),
    ("exp(-z)", "e^-z"),
    ("eta*x", "η x"),
    ("relu(z)", "ReLU(z)"),
    ("sigmoid(z)", "1/(1+e^(-z))"),
    ("s*(1 - s)", "s - s²"),
]


@pytest.mark.parametrize(("expected", "answer"), SYNTAX_EQUIVALENT)
def test_student_syntax_is_understood(expected, answer):
    verdict = check_expression(expected, answer, variables=BACKPROP)
    assert verdict.status == "correct", verdict.message
    assert verdict.latex


def test_definitions_are_substituted_before_comparing():
    definitions = {"s": "sigmoid(z)", "h": "sigmoid(w1*x)"}
    variables = ("z", "w1", "x")
    assert check_expression(
        "sigmoid(z)*(1 - sigmoid(z))", "s*(1 - s)", variables=variables, definitions=definitions
    ).correct
    assert check_expression(
        "s*(1 - s)", "exp(-z)/(1 + exp(-z))^2", variables=variables, definitions=definitions
    ).correct
    assert check_expression(
        "h*(1 - h)*x",
        "x*sigmoid(w1 x)*sigmoid(-w1 x)",
        variables=variables,
        definitions=definitions,
    ).correct
    wrong = check_expression("s*(1 - s)", "s*(1 + s)", variables=variables, definitions=definitions)
    assert wrong.status == "incorrect"


def test_definitions_can_build_on_each_other_but_not_in_a_cycle():
    definitions = {"a": "2*x", "b": "a + 1"}
    assert check_expression("b^2", "(2x + 1)^2", variables=("x",), definitions=definitions).correct
    with pytest.raises(ValueError, match="cycle"):
        check_expression("a", "a", variables=("x",), definitions={"a": "b", "b": "a"})


def test_domains_decide_what_equivalent_means():
    assert check_expression("sqrt(x^2)", "x", variables=("x",), domains={"x": "positive"}).correct
    assert check_expression("sqrt(x^2)", "x", variables=("x",)).status == "incorrect"
    assert check_expression("sqrt(x^2)", "-x", variables=("x",), domains={"x": "(-5, -1)"}).correct
    assert check_expression("abs(x)", "x", variables=("x",), domains={"x": "nonnegative"}).correct


def test_bad_domains_and_variables_are_authoring_errors():
    with pytest.raises(ValueError, match="domain"):
        check_expression("x", "x", variables=("x",), domains={"x": "complex"})
    with pytest.raises(ValueError, match="empty domain"):
        check_expression("x", "x", variables=("x",), domains={"x": "(2, 1)"})
    with pytest.raises(ValueError, match="function name"):
        check_expression("x", "x", variables=("x", "exp"))
    with pytest.raises(ValueError, match="not a valid variable"):
        check_expression("x", "x", variables=("x y",))


def test_answer_undefined_where_the_key_is_defined_is_incorrect():
    # The rule changed (issue 19): the answer must be defined wherever the key is on the
    # declared domain. 2*log(x) is log(x^2) only when x > 0 is given.
    verdict = check_expression("log(x^2)", "2*log(x)", variables=("x",))
    assert verdict.status == "incorrect"
    assert verdict.diagnosis is not None
    assert verdict.diagnosis.code == "domain_differs"
    assert "x = -" in verdict.message
    assert check_expression(
        "log(x^2)", "2*log(x)", variables=("x",), domains={"x": "positive"}
    ).correct


def test_answer_undefined_everywhere_is_incorrect():
    verdict = check_expression("x", "sqrt(-x^2 - 1)", variables=("x",))
    assert verdict.status == "incorrect"
    assert verdict.diagnosis.code == "domain_differs"


def test_without_declared_variables_the_keys_names_are_the_vocabulary():
    assert check_expression("2*w1*x1", "2w1x1").correct
    typo = check_expression("2*w1*x1", "2*W1*x1")
    assert typo.status == "invalid"
    assert "w1" in typo.message


def test_verdict_reports_interpretation_and_variables():
    verdict = check_expression("w1*x1", "w1x1", variables=("w1", "x1"))
    assert verdict.latex == r"w_{1} \cdot x_{1}"
    assert verdict.variables == ("w1", "x1")
    data = verdict.to_json()
    assert data["status"] == "correct"
    assert data["diagnosis"] is None


def test_invalid_answer_costs_nothing_and_points_at_the_problem():
    verdict = check_expression("x + 1", "x + (1", variables=("x",))
    assert verdict.status == "invalid"
    assert verdict.offset == 4
    assert verdict.latex is None


def test_equation_against_expression_is_invalid_both_ways():
    verdict = check_expression("2*x", "y = 2*x", variables=("x", "y"))
    assert verdict.status == "invalid"
    assert verdict.offset == 2
    assert check_expression("y = 2*x", "2*x", variables=("x", "y")).status == "invalid"


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("2y = 4x + 2", "correct"),
        ("y - 1 = 2x", "correct"),
        ("2x + 1 = y", "correct"),
        ("y = 2x - 1", "incorrect"),
        ("y = x^2 + 1", "incorrect"),
    ],
)
def test_equations_compare_up_to_a_nonzero_factor(answer, status):
    assert check_expression("y = 2*x + 1", answer, variables=("x", "y")).status == status


def test_vectors_and_matrices_entry_by_entry():
    variables = ("a", "b", "c", "d")
    right = check_expression("[a + b, 2a]", "[b + a, a + a]", variables=variables)
    assert right.correct
    assert right.entries == ("correct", "correct")
    wrong = check_expression("[[a, b], [c, d]]", "[[a, b], [c, -d]]", variables=variables)
    assert wrong.status == "incorrect"
    assert wrong.entries == ("correct", "correct", "correct", "incorrect")
    assert "(2, 2)" in wrong.message
    transposed = check_expression("[[a, b], [c, d]]", "[[a, c], [b, d]]", variables=variables)
    assert transposed.diagnosis.code == "transposed"
    shape = check_expression("[a, b, c]", "[a, b]", variables=variables)
    assert shape.status == "invalid"
    assert "3 entries" in shape.message
    assert check_expression("[a, b]", "a", variables=variables).status == "invalid"
    assert check_expression("a", "[a, b]", variables=variables).status == "invalid"


def test_non_square_transpose_is_incorrect_not_invalid():
    variables = ("a", "b", "c", "d", "f", "g")
    verdict = check_expression(
        "[[a, b, c], [d, f, g]]", "[[a, d], [b, f], [c, g]]", variables=variables
    )
    assert verdict.status == "incorrect"
    assert verdict.diagnosis.code == "transposed"


def test_verdicts_are_deterministic_across_caches():
    pairs = [("tanh(z)", "2*sigmoid(2z) - 1"), ("sigmoid(z)", "1 - sigmoid(z)"), ("x^2", "x*|x|")]
    first = [check_expression(e, a, variables=("z", "x")) for e, a in pairs]
    parse_cached.cache_clear()
    compiled.cache_clear()
    build_key.cache_clear()
    second = [check_expression(e, a, variables=("z", "x")) for e, a in pairs]
    assert first == second
    assert [v.status for v in first] == ["correct", "incorrect", "incorrect"]


def test_expected_answers_are_parsed_once():
    build_key.cache_clear()
    for answer in ("x", "2x", "x^2"):
        check_expression("x^2 + 1", answer, variables=("x",))
    info = build_key.cache_info()
    assert info.misses == 1
    assert info.hits == 2


def test_unreadable_key_is_undetermined_never_the_students_fault(caplog):
    verdict = check_expression("x +", "x", variables=("x",))
    assert verdict.status == "undetermined"
    assert "answer key" in verdict.message
    assert "unreadable answer key" in caplog.text


def test_a_tiny_time_budget_gives_undetermined_not_a_guess():
    verdict = check_expression("(x + 1)^30", "(1 + x)^30 + 0*x", variables=("x",), time_budget=0.0)
    assert verdict.status == "undetermined"
    assert "not been marked wrong" in verdict.message


def test_inexact_decimal_is_called_out():
    verdict = check_expression("x/3", "0.333*x", variables=("x",))
    assert verdict.status == "incorrect"
    assert verdict.diagnosis.code == "inexact_decimal"
    assert check_expression("x/2", "0.5*x", variables=("x",)).correct


def test_function_whitelist_applies_to_answers():
    verdict = check_expression(
        "exp(-z)/(1 + exp(-z))^2",
        "sigmoid(z)*(1 - sigmoid(z))",
        variables=("z",),
        functions=("exp",),
    )
    assert verdict.status == "invalid"
    assert "not allowed" in verdict.message


@pytest.mark.parametrize(
    ("expected", "answer"),
    [("relu(z)", "z"), ("abs(x*y)", "x*y"), ("max(x, y)", "x"), ("sqrt(x^2)", "x")],
)
def test_one_sided_differences_are_never_missed(expected, answer):
    # Different answer texts give different seeds; the balanced sign design must catch
    # the difference for every one of them, not just on average.
    for k in range(1, 26):
        variant = f"{answer} + {k} - {k}"
        verdict = check_expression(expected, variant, variables=("x", "y", "z"))
        assert verdict.status == "incorrect", variant


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    # dL/da for L = -(y1 log p1 + y2 log p2), p = softmax(a, b), y2 = 1 - y1.
    definitions = {
        "p1": "exp(a)/(exp(a) + exp(b))",
        "p2": "exp(b)/(exp(a) + exp(b))",
        "y2": "1 - y1",
    }
    variables = ("a", "b", "y1")
    for answer in ("p1 - y1", "-y1*(1 - p1) + y2*p1", "y2 - p2", "exp(a)/(exp(a)+exp(b)) - y1"):
        verdict = check_expression("p1 - y1", answer, variables=variables, definitions=definitions)
        assert verdict.correct, answer
    assert not check_expression(
        "p1 - y1", "y1 - p1", variables=variables, definitions=definitions
    ).correct


def test_same_answer_same_verdict_every_time():
    # PrairieLearn #15841: (x-0)/6 against x/6 was rejected intermittently.
    verdicts = {check_expression("x/6", "(x-0)/6", variables=("x",)).status for _ in range(20)}
    assert verdicts == {"correct"}


def test_key_using_an_undeclared_name_is_undetermined():
    verdict = check_expression("w3*x", "x", variables=("x",))
    assert verdict.status == "undetermined"
    assert "w3" in verdict.message


def test_keys_defined_only_far_out_are_still_decided():
    assert check_expression("sqrt(x - 100)", "(x - 100)^(1/2)", variables=("x",)).correct
    assert check_expression("log(-x - 50)", "log(-(x + 50))", variables=("x",)).correct
    assert check_expression("sqrt(x - 100)", "sqrt(x - 99)", variables=("x",)).status == "incorrect"


def test_differences_below_thirty_digits_are_still_seen():
    # The first agreeing point is confirmed at 60 digits: 10^-40 is invisible at 30.
    assert check_expression("x", "x + 10^(-40)", variables=("x",)).status == "incorrect"
    assert check_expression("exp(x)", "exp(x)*(1 + 1e-45)", variables=("x",)).status == (
        "incorrect"
    )
    # The documented limit: below about 10^-55 relative, two answers count as equal.
    assert check_expression("x", "x + 10^(-70)", variables=("x",)).correct


def test_answers_defined_on_a_small_part_of_the_keys_domain_are_decided():
    # The answer is undefined for x < 3, where the key is defined: wrong without a
    # domain (issue 19), right on the declared domain x > 5.
    verdict = check_expression("sqrt((x-3)*(x-5))", "sqrt(x-3)*sqrt(x-5)", variables=("x",))
    assert verdict.status == "incorrect"
    assert verdict.diagnosis is not None
    assert verdict.diagnosis.code == "domain_differs"
    assert check_expression(
        "sqrt((x-3)*(x-5))", "sqrt(x-3)*sqrt(x-5)", variables=("x",), domains={"x": "(5, 50)"}
    ).correct
    # The other way round the answer is defined on more than the key: that is fine.
    assert check_expression("sqrt(x-3)*sqrt(x-5)", "sqrt((x-3)*(x-5))", variables=("x",)).correct


@pytest.mark.parametrize(
    ("expected", "answer", "status"),
    [
        ("x = x", "y = y", "correct"),  # identities match identities
        ("x = x", "y = 1", "incorrect"),
        ("2 = 3", "1 = 4", "correct"),  # and contradictions contradictions
        ("y = x/(2*x - 1)", "1/x + 1/y = 2", "correct"),  # numerators up to a factor
        ("y = 1/x", "x*y = 1", "correct"),
        ("x = 2", "(x - 2)^2 = 0", "incorrect"),  # multiplicity counts, as in STACK
        ("x = y", "x^2 = y^2", "incorrect"),
        ("sin(x)^2 + cos(x)^2 = 1", "x = x", "correct"),
    ],
)
def test_equations_beyond_a_constant_factor(expected, answer, status):
    verdict = check_expression(expected, answer, variables=("x", "y"))
    assert verdict.status == status, verdict.message


@pytest.mark.parametrize(
    ("expected", "answer", "status", "code"),
    [
        ("x > 1", "1 < x", "correct", None),
        ("x > 1", "2*x - 2 > 0", "correct", None),
        ("x > 1", "x < 1", "incorrect", "inequality_backwards"),
        ("x > 1", "x >= 1", "incorrect", "inequality_strictness"),
        ("x > 1", "x > 1.000001", "incorrect", None),  # the boundary is bisected
        ("z > 0", "sigmoid(z) > 1/2", "correct", None),
        ("z > 0", "relu(z) > 0", "correct", None),
        ("x^2 < 4", "abs(x) < 2", "correct", None),
        ("x^2 < 4", "x < 2", "incorrect", None),
        ("1/x > 1", "x < 1", "incorrect", None),
        ("x > 0", "sqrt(x) > 0", "correct", None),  # undefined is outside the set
    ],
)
def test_single_inequalities_compare_solution_sets(expected, answer, status, code):
    verdict = check_expression(expected, answer, variables=("x", "z"))
    assert verdict.status == status, verdict.message
    assert (verdict.diagnosis.code if verdict.diagnosis else None) == code


def test_relations_and_expressions_do_not_mix():
    assert check_expression("x > 1", "x = 1", variables=("x",)).status == "invalid"
    assert check_expression("x = 1", "x > 1", variables=("x",)).status == "invalid"
    assert check_expression("x", "x > 1", variables=("x",)).status == "invalid"
    assert check_expression("x > 1", "x", variables=("x",)).status == "invalid"
    assert "list" in check_expression("[1, 2]", "x > 1", variables=("x",)).message
