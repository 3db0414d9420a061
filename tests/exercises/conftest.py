"""Fixtures for the exercise tests: the built-in library, loaded once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from grader.exercises import ExerciseSpec
from grader.exercises import Variant
from grader.exercises import generate
from grader.exercises import load_library


@pytest.fixture(scope="session")
def library() -> dict[str, ExerciseSpec]:
    return load_library()


@pytest.fixture(scope="session")
def gen(library: dict[str, ExerciseSpec]) -> Callable[..., Variant]:
    def _gen(exercise_id: str, seed: int = 0, **params: Any) -> Variant:
        return generate(library[exercise_id], seed, params or None)

    return _gen
