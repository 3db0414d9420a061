"""The exercise YAML loader under hypothesis: any text, mutated real exercises, odd YAML.

Whatever the text, ``load_spec_text`` returns a spec or raises ``SpecError`` (which the
web layer shows as a 422 with lines): never another exception, never a hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from grader.exercises import SpecError
from grader.exercises import load_spec_text
from tests.fuzz.conftest import tally

LIBRARY = sorted((Path(__file__).resolve().parents[2] / "exercises").glob("*.yaml"))
TEXTS = [p.read_text(encoding="utf-8") for p in LIBRARY]
DATA = [yaml.safe_load(t) for t in TEXTS]
SECONDS_PER_INPUT = 5.0  # generous on a loaded CI machine; a hang would take far longer
FUZZ = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # the counter only accumulates
    ],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "{{x}}", "$$", "1e309", "-0", "nan", "__import__('os')", "*", "&a"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


class Counter:
    def __init__(self) -> None:
        self.tried = 0
        self.failures: list[str] = []


def _load(counter: Counter, text: str) -> None:
    counter.tried += 1
    start = time.perf_counter()
    try:
        load_spec_text(text, source="fuzz.yaml")
    except SpecError:
        pass
    except Exception as exc:  # anything else would be a 500 in the editor
        counter.failures.append(f"{type(exc).__name__}: {exc} for {text[:200]!r}")
    elapsed = time.perf_counter() - start
    if elapsed > SECONDS_PER_INPUT:
        counter.failures.append(f"took {elapsed:.1f} s for {text[:200]!r}")


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in data.items()}
    return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(data)]


def _delete(data: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k != path[0]}
        return [v for i, v in enumerate(data) if i != path[0]]
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: (_delete(v, rest) if k == head else v) for k, v in data.items()}
    return [(_delete(v, rest) if i == head else v) for i, v in enumerate(data)]


@pytest.fixture
def counter(record_property: Callable[[str, Any], None], request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    found = Counter()
    yield found
    tally(record_property, "exercise YAML loader", found.tried, len(found.failures))
    assert not found.failures, found.failures[:5]


@FUZZ
@given(text=st.text(max_size=600))
def test_any_text(counter: Counter, text: str) -> None:
    _load(counter, text)


@FUZZ
@given(
    which=st.integers(min_value=0, max_value=len(TEXTS) - 1),
    cut=st.integers(min_value=0, max_value=10_000),
    insert=st.text(max_size=30),
    drop=st.integers(min_value=0, max_value=40),
)
def test_real_files_with_text_mutations(
    counter: Counter, which: int, cut: int, insert: str, drop: int
) -> None:
    text = TEXTS[which]
    at = cut % (len(text) + 1)
    _load(counter, text[:at] + insert + text[at + drop :])


@FUZZ
@given(
    which=st.integers(min_value=0, max_value=len(DATA) - 1),
    pick=st.integers(min_value=0, max_value=10_000),
    value=values,
    delete=st.booleans(),
)
def test_real_files_with_structural_mutations(
    counter: Counter, which: int, pick: int, value: Any, delete: bool
) -> None:
    """Replace or delete one node anywhere in a real exercise: the validator's territory."""
    data = DATA[which]
    paths = _paths(data)
    path = paths[pick % len(paths)]
    mutated = _delete(data, path) if delete and path else _replace(data, path, value)
    try:
        text = yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return
    _load(counter, text)


ODD_YAML = [
    "id: x\n" * 3,
    "!!python/object/apply:os.system ['true']",
    "a: !!binary aGVsbG8=",
    "? [a, b]\n: c",
    "- " * 300 + "x",
    "{" * 200,
    "id: " + "9" * 4000,
    "%YAML 1.1\n---\nid: a\n...\n---\nid: b",
    "\ufeffid: bom",
    "id: a\n\ttitle: tab",
    "parts: &p [*p]",
    "id: 'x'\nversion: .inf\nparts: []",
]


def test_odd_yaml_documents(counter: Counter) -> None:
    for text in ODD_YAML:
        _load(counter, text)


@pytest.mark.parametrize(
    "text",
    ["- " * 500 + "x", "[" * 1000 + "]" * 1000, "id: " + "9" * 5000],
    ids=["deep-block", "deep-flow", "huge-int"],
)
def test_yaml_limits_are_spec_errors(text: str) -> None:
    with pytest.raises(SpecError):
        load_spec_text(text, source="hostile.yaml")
