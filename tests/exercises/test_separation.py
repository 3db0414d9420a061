"""The in-family discrimination check: a draw whose mistake the checker could accept is refused."""

from __future__ import annotations

import pytest

from grader.exercises.families.base import IllPosed
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.separation import apart
from grader.exercises.families.separation import require_separated


def _q(key: object, *mistakes: object, check: dict[str, object] | None = None) -> Quantity:
    ms = tuple(MistakeValue(f"m{i}", v, "") for i, v in enumerate(mistakes))  # type: ignore[arg-type]
    return Quantity("vector" if isinstance(key, list) else "numeric", key, ms, check=check or {})  # type: ignore[arg-type]


def test_a_mistake_inside_three_tolerances_of_the_key_is_refused() -> None:
    # default combined check: rtol 1 %, so 1.025 is within 3 tolerances of 1.0
    with pytest.raises(IllPosed, match="m0 is near the key"):
        require_separated({"w": _q(1.0, 1.025)})
    require_separated({"w": _q(1.0, 1.05)})


def test_two_mistakes_that_coincide_are_refused() -> None:
    with pytest.raises(IllPosed, match="m1 is near m0"):
        require_separated({"w": _q(1.0, 2.0, 2.01)})


def test_vectors_are_apart_when_one_entry_is() -> None:
    assert apart([1.0, 2.0], [1.0, 2.5])
    assert not apart([1.0, 2.0], [1.0, 2.001])
    with pytest.raises(IllPosed):
        require_separated({"v": _q([0.5, -0.5], [0.5, -0.501])})


def test_the_part_check_sets_the_scale() -> None:
    assert apart(0.10, 0.11, {"mode": "relative", "rtol": 0.02})
    assert not apart(0.10, 0.104, {"mode": "relative", "rtol": 0.02})
    assert not apart(1.0, 1.04, {"sigfigs": 2})
    assert apart(6.0, 7.0, {"mode": "absolute", "atol": 0.1})


def test_choices_compare_exactly() -> None:
    assert apart("A", "B")
    assert not apart("A", "A")
