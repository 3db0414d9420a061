"""The format: one schema, clear errors (file, line, field, what is allowed), refused whole."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from grader.exercises import SPEC_JSON_SCHEMA
from grader.exercises import SpecError
from grader.exercises import load_library
from grader.exercises import load_spec_file
from grader.exercises import load_spec_text
from grader.exercises.schema import validate

GOOD = textwrap.dedent(
    """\
    id: delta-test
    title: Delta rule
    version: 2
    topics: [delta rule]
    family: delta_rule
    prompt: "x1 = {{x1}}, y = {{y}}"
    parts:
      - id: w1
        key: w1_new
        points: 2
        mistakes:
          - {code: sign_flipped, credit: 0.5}
    """
)


def _error(text: str, source: str = "ex.yaml") -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, source)
    return info.value


def test_good_spec_loads() -> None:
    spec = load_spec_text(GOOD, "good.yaml")
    assert spec.id == "delta-test"
    assert spec.version == 2
    assert spec.family == "delta_rule"
    assert spec.parts[0].mistakes[0].credit == 0.5
    assert spec.source == "good.yaml"


def test_schema_is_json_and_describes_the_top_level() -> None:
    text = json.dumps(SPEC_JSON_SCHEMA)
    assert set(json.loads(text)["required"]) == {"id", "title", "version", "prompt", "parts"}
    assert validate({"id": "x"}, SPEC_JSON_SCHEMA)  # incomplete: problems reported


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ("version: 2", "version: two", 3, "version", "expected an integer"),
        ("version: 2", "version: 2\ncolour: red", 4, "colour", "allowed fields"),
        ("family: delta_rule", "family: nope", 5, "family", "known families: "),
        ("key: w1_new", "key: w9", 9, "parts[0].key", "the family computes: y (numeric)"),
        ("code: sign_flipped", "code: typo_code", 12, "parts[0].mistakes[0].code", "known: "),
        ("credit: 0.5", "credit: 1.5", 12, "parts[0].mistakes[0].credit", "at most 1"),
        ("{{y}}", "{{nope}}", 6, "prompt", "names nothing"),
        ("id: w1", "id: 1w", 8, "parts[0].id", "not allowed"),
        ("id: delta-test", "id: Delta Test", 1, "id", "lower-case"),
    ],
)
def test_errors_name_line_field_and_what_is_allowed(
    old: str, new: str, line: int, field: str, words: str
) -> None:
    assert old in GOOD
    err = _error(GOOD.replace(old, new, 1), "bad.yaml")
    assert err.source == "bad.yaml"
    assert err.line == line, err
    assert err.field == field, err
    assert words in err.message, err
    assert str(err).startswith(f"bad.yaml:{line}: {field}: ")


def test_missing_required_fields_are_all_reported() -> None:
    err = _error("id: x1\nversion: 1\n")
    messages = " ".join(p.message for p in err.errors)
    for name in ("title", "prompt", "parts"):
        assert f"'{name}' is required" in messages
    assert len(err.errors) >= 3


def test_family_options_are_validated() -> None:
    text = GOOD.replace(
        "family: delta_rule", "family: chain_rule_numeric\noptions: {hidden: [swish]}"
    )
    text = (
        text.replace("key: w1_new", "key: dw1").replace("{{y}}", "{{h}}").replace("{{x1}}", "{{x}}")
    )
    err = _error(text)
    assert err.field == "options.hidden[0]"
    assert "use one of: sigmoid" in err.message


def test_parameter_rules() -> None:
    text = GOOD + "parameters:\n  x1: {range: [2, 1]}\n"
    assert "low < high" in _error(text).message
    text = GOOD + "parameters:\n  x1: {range: [0, 1], choices: [1]}\n"
    assert "exactly one of" in _error(text).message
    text = GOOD + "parameters:\n  exp: {value: 1}\n"
    err = _error(text)
    assert err.field == "parameters.exp"
    assert "answer language" in err.message


def test_unsatisfiable_constraints_give_a_spec_error_not_a_hang() -> None:
    # x1 fixed to 0.5 and 1.0 is excluded: the family cannot draw a well-posed variant
    text = GOOD + "parameters:\n  t: {value: 0.0}\n  w1: {value: 0.0}\n  w2: {value: 0.0}\n"
    start = time.thread_time()
    err = _error(text, "stuck.yaml")
    assert time.thread_time() - start < 5
    assert err.source == "stuck.yaml"
    assert "well-posed" in err.message


def test_declarative_parts_need_answers_and_types() -> None:
    text = textwrap.dedent(
        """\
        id: decl
        title: Declarative
        version: 1
        prompt: hi
        parts:
          - id: a
            prompt: what?
        """
    )
    err = _error(text)
    assert err.field == "parts[0]"
    assert "'type' is required" in err.message
    err = _error(text + "    type: numeric\n")
    assert "'answer' is required" in err.message


def test_declarative_choice_parts() -> None:
    text = textwrap.dedent(
        """\
        id: decl-choice
        title: Choice
        version: 1
        prompt: Which is the chain rule?
        parts:
          - id: a
            type: choice
            choices:
              - {text: multiply along a path, correct: true}
              - {text: add along a path, feedback: Adding is for separate paths.}
              - {text: divide, correct: true}
        """
    )
    err = _error(text)
    assert "exactly one correct" in err.message
    spec = load_spec_text(text.replace("- {text: divide, correct: true}", "- {text: divide}"))
    assert spec.parts[0].type == "choice"


def test_a_bad_file_refuses_the_whole_library(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD.replace("family: delta_rule", "family: nope"))
    with pytest.raises(SpecError) as info:
        load_library(tmp_path)
    assert info.value.source.endswith("b.yaml")
    assert info.value.field == "family"
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(SpecError, match="already used"):
        load_library(tmp_path)
    (tmp_path / "b.yaml").unlink()
    assert list(load_library(tmp_path)) == ["delta-test"]


def test_load_spec_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="UTF-8") as info:
        load_spec_file(path)
    assert info.value.source == str(path)
    with pytest.raises(SpecError, match="cannot read"):
        load_spec_file(tmp_path / "missing.yaml")


def test_hostile_file_never_half_loads(tmp_path: Path) -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    prev = "a"
    for name in "bcdefgh":
        bomb += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bomb.yaml").write_text(bomb)
    with pytest.raises(SpecError) as info:
        load_library(tmp_path)
    assert info.value.source.endswith("bomb.yaml")


def test_format_reference_is_up_to_date() -> None:
    from grader.exercises.reference import FORMAT_MD
    from grader.exercises.reference import with_reference

    text = FORMAT_MD.read_text(encoding="utf-8")
    assert with_reference(text) == text, "stale: run `grader format-reference --write`"


def test_format_example_loads() -> None:
    text = (Path(__file__).parents[2] / "grader" / "exercises" / "FORMAT.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = load_spec_text(example, "FORMAT.md")
    assert spec.id == "sigmoid-neuron"
    assert spec.parts[0].mistakes[0].credit == 0.25
