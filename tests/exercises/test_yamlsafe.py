"""Safe YAML: plain data only, line numbers kept, hostile documents refused fast."""

from __future__ import annotations

import time

import pytest

from grader.exercises import SpecError
from grader.exercises.yamlsafe import MAX_BYTES
from grader.exercises.yamlsafe import load_yaml


def test_plain_data_and_lines() -> None:
    data, lines = load_yaml("a: 1\nb:\n  - 2.5\n  - x\nc: {d: null}\n", "f.yaml")
    assert data == {"a": 1, "b": [2.5, "x"], "c": {"d": None}}
    assert lines[("b", 1)] == 4
    assert lines[("c", "d")] == 5


def _bomb(levels: int = 9) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghij"[:levels]:
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


def test_alias_bomb_is_refused_quickly() -> None:
    start = time.thread_time()
    with pytest.raises(SpecError, match="alias bomb") as info:
        load_yaml(_bomb(), "bomb.yaml")
    assert time.thread_time() - start < 1.0
    assert info.value.source == "bomb.yaml"
    assert info.value.line is not None


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(SpecError, match="nested deeper"):
        load_yaml("a: &a [*a]\n", "rec.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['id']\n",
        "a: !!python/name:os.system\n",
        "a: !custom 3\n",
        "a: 2001-12-14\n",
        "a: !!binary aGVsbG8=\n",
    ],
)
def test_tags_that_build_objects_are_refused(text: str) -> None:
    with pytest.raises(SpecError, match="tag") as info:
        load_yaml(text, "t.yaml")
    assert info.value.line == 1
    assert info.value.field == "a"


def test_duplicate_and_merge_keys_are_refused() -> None:
    with pytest.raises(SpecError, match="twice") as info:
        load_yaml("a: 1\nb: 2\na: 3\n", "d.yaml")
    assert info.value.line == 3
    with pytest.raises(SpecError, match="merge keys"):
        load_yaml("base: &b {x: 1}\nc:\n  <<: *b\n", "m.yaml")


def test_size_nul_and_syntax_errors() -> None:
    with pytest.raises(SpecError, match="larger than"):
        load_yaml("a: " + "x" * (MAX_BYTES + 1), "big.yaml")
    with pytest.raises(SpecError, match="NUL"):
        load_yaml("a: 1\x00", "nul.yaml")
    with pytest.raises(SpecError, match="not valid YAML") as info:
        load_yaml("a: [1,\nb: 2\n", "syn.yaml")
    assert info.value.line == 3 or info.value.line == 2
    with pytest.raises(SpecError, match="empty"):
        load_yaml("", "empty.yaml")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_yaml("a: 1\n---\nb: 2\n", "two.yaml")


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(SpecError, match="nested deeper"):
        load_yaml("a: " + "[" * 40 + "]" * 40, "deep.yaml")


@pytest.mark.parametrize("char", ["\x8c", "\x07", "\ufffe"])
def test_characters_yaml_refuses_are_a_spec_error(char: str) -> None:
    with pytest.raises(SpecError, match="not valid YAML"):
        load_yaml(f"id: x{char}\n", "f.yaml")
