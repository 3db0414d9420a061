"""The built-in library: every exercise self-tests (a few seeds here; 50 in the CLI)."""

from __future__ import annotations

import pytest

from grader.exercises import FAMILIES
from grader.exercises import load_library
from grader.exercises import self_test

LIBRARY = load_library()


def test_every_family_has_an_exercise() -> None:
    used = {spec.family for spec in LIBRARY.values()}
    assert FAMILIES
    assert set(FAMILIES) <= used
    assert None in used  # and at least one declarative exercise


@pytest.mark.parametrize("exercise_id", sorted(LIBRARY))
def test_self_test(exercise_id: str) -> None:
    assert self_test(LIBRARY[exercise_id], range(4)) == []


def test_self_test_catches_a_wrong_key(library) -> None:
    from grader.exercises import generate

    spec = library["delta-rule-classic"]
    v = generate(spec, 0)
    assert v.part("w1").key != 0  # sanity: there is a key to corrupt
    from grader.exercises import selftest

    bad = v.to_json()
    bad["parts"][1]["mistakes"][0]["value"] = bad["parts"][1]["key"]
    broken = type(v).from_json(bad)
    problems = selftest._check_variant(broken, "x", set())
    assert any("judges correct" in p for p in problems)
    assert selftest._check_variant(v, "x", set()) == []
