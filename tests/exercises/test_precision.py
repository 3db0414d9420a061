"""The precision rule and update references (issue 12), on the numeric answer kind."""

from __future__ import annotations

import pytest

from grader.exercises import ANSWER_KINDS
from grader.exercises.kinds.precision import Indistinct
from grader.exercises.kinds.precision import figure_tolerance

NUMERIC = ANSWER_KINDS["numeric"]
VECTOR = ANSWER_KINDS["vector"]


def _settled(key: float, mistakes=(), **check) -> dict:
    options = NUMERIC.check_options(check, {})
    return NUMERIC.settle(key, list(mistakes), options)


def _verdict(check: dict, key: float, answer: str) -> str:
    return NUMERIC.check(check, key, answer, 1.0).status


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("0.69", "correct"),  # equals 0.690
        ("0.690", "correct"),
        ("0.6900", "correct"),
        ("0.68997", "correct"),
        ("0.689966", "correct"),
        ("0.6895", "correct"),  # within half a unit of the third figure (and 2 %)
        ("0.689", "incorrect"),  # rounds to 0.689, not 0.690
        ("0.691", "incorrect"),
        ("0.7", "incorrect"),  # two figures are not enough
    ],
)
def test_three_figures_accept_what_rounds_to_the_key(answer: str, status: str) -> None:
    check = _settled(0.689966)
    assert check["figures"] == 3
    assert _verdict(check, 0.689966, answer) == status
    assert NUMERIC.key_text(0.689966, check) == "0.690"
    assert "3 significant figures" in NUMERIC.precision_note(check)


def test_the_figures_grow_until_the_mistakes_are_told_apart() -> None:
    check = _settled(0.5005, [("unchanged", 0.5)])
    # 3 figures would make 0.5005 and 0.5 both "0.500" or "0.501": 4 are asked for.
    assert check["figures"] == 4
    assert _verdict(check, 0.5005, "0.5005") == "correct"
    assert _verdict(check, 0.5005, "0.5") == "incorrect"
    assert "4 significant figures" in NUMERIC.precision_note(check)


def test_an_update_is_judged_by_its_change() -> None:
    # w = 0.5, step -0.0005: "unchanged", "sign flipped" and "forgot eta" all refused.
    key, w = 0.4995, 0.5
    check = _settled(key, reference=w)
    for wrong in (w, w + (w - key), w - 2 * (w - key) * 10, w - 2 * (w - key)):
        assert _verdict(check, key, repr(wrong)) == "incorrect", wrong
    assert _verdict(check, key, "0.4995") == "correct"
    assert check["atol"] <= 0.25 * abs(key - w)


def test_a_change_too_small_for_the_figures_is_refused() -> None:
    with pytest.raises(Indistinct, match="change"):
        _settled(0.50004, reference=0.5)


def test_a_mistake_inside_the_key_region_is_refused_not_dropped() -> None:
    with pytest.raises(Indistinct) as info:
        _settled(0.526, [("forgot_input", 0.526), ("sign_flipped", 0.474)])
    assert info.value.mistake == "forgot_input"
    with pytest.raises(Indistinct) as info:
        _settled(0.526, [("a", 0.3), ("b", 0.30001)])
    assert (info.value.mistake, info.value.other) == ("b", "a")


def test_vectors_ask_for_decimal_places() -> None:
    key = [0.5192, -0.1872]
    check = VECTOR.settle(key, [("sign", [0.4808, -0.2128])], VECTOR.check_options({}, {}))
    assert check["decimals"] == 3
    assert VECTOR.key_text(key, check) == "[0.519, -0.187]"
    assert VECTOR.check(check, key, "[0.519, -0.187]", 1.0).status == "correct"
    assert VECTOR.check(check, key, "[0.52, -0.19]", 1.0).status == "incorrect"
    assert "3 decimal places" in VECTOR.precision_note(check)


def test_explicit_tolerances_keep_their_meaning() -> None:
    check = _settled(0.526, mode="relative", rtol=0.01)
    assert "figures" not in check
    assert _verdict(check, 0.526, "0.523") == "correct"
    assert _verdict(check, 0.526, "0.52") == "incorrect"


@pytest.mark.parametrize("value", [0.689966, -0.1872, 12.345, 0.00123, 4.0])
def test_figure_tolerance_is_half_a_unit_in_the_last_figure(value: float) -> None:
    tol = figure_tolerance(value, 3)
    rounded = float(f"{value:.2e}")
    assert abs(rounded - value) <= tol
    assert tol < abs(value) * 0.0052
