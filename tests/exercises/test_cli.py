"""The public CLI contract: generate, validate-exercises, list-exercises (no app, no DB)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.exercise_cmds import COMMANDS
from grader.cli.exercise_cmds import generate_command
from grader.cli.exercise_cmds import list_command
from grader.cli.exercise_cmds import validate_command

from .test_spec import GOOD

CLASSIC = ["--param", "x1=1.2", "--param", "x2=0.8", "--param", "w1=0.5", "--param", "w2=-0.2"]
CLASSIC += ["--param", "t=0.6", "--param", "eta=0.1"]


def test_commands_are_registered() -> None:
    assert {c.name for c in COMMANDS} == {
        "generate",
        "validate-exercises",
        "list-exercises",
        "replay",
        "format-reference",
    }


def test_format_reference_check_and_write(tmp_path, monkeypatch) -> None:
    from grader.cli.exercise_cmds import format_reference_command
    from grader.exercises import reference

    stale = tmp_path / "FORMAT.md"
    stale.write_text(f"# head\n\n{reference.BEGIN}\nold\n{reference.END}\ntail\n")
    monkeypatch.setattr(reference, "FORMAT_MD", stale)
    assert CliRunner().invoke(format_reference_command, ["--check"]).exit_code == 1
    assert CliRunner().invoke(format_reference_command, ["--write"]).exit_code == 0
    text = stale.read_text()
    assert "### `delta_rule`" in text
    assert text.startswith("# head")
    assert text.endswith("tail\n")
    assert CliRunner().invoke(format_reference_command, ["--check"]).exit_code == 0


def test_generate_reproduces_the_classic_example() -> None:
    result = CliRunner().invoke(generate_command, ["delta-rule-classic", "--seed", "0", *CLASSIC])
    assert result.exit_code == 0, result.output
    assert "Answer key: 0.440" in result.output
    assert "Answer key: 0.519" in result.output
    assert "Answer key: -0.187" in result.output
    assert "## Worked solution" in result.output


def test_generate_json() -> None:
    result = CliRunner().invoke(
        generate_command, ["delta-rule-classic", "--seed", "0", "--json", *CLASSIC]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["exercise_id"] == "delta-rule-classic"
    assert data["params"]["w1"] == 0.5
    assert [p["key_text"] for p in data["parts"]] == ["0.440", "0.519", "-0.187"]
    assert data["solution_md"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nope", "--seed", "1"], "unknown exercise 'nope'"),
        (["delta-rule-classic", "--seed", "1", "--param", "w9=1"], "no parameter 'w9'"),
        (["delta-rule-classic", "--seed", "1", "--param", "w1"], "expected name=value"),
        (["delta-rule-classic", "--seed", "-1"], "-1"),
    ],
)
def test_generate_errors(args: list[str], words: str) -> None:
    result = CliRunner().invoke(generate_command, args)
    assert result.exit_code == 2
    assert words in result.output


def test_generate_from_another_library(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    result = CliRunner().invoke(
        generate_command, ["delta-test", "--seed", "3", "--library", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "delta-test" in result.output


def test_generate_finds_the_library_through_the_environment(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    monkeypatch.setenv("GRADER_EXERCISES_DIR", str(tmp_path))
    result = CliRunner().invoke(list_command, ["--json"])
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.output)] == ["delta-test"]


def test_list_exercises(library) -> None:
    result = CliRunner().invoke(list_command, ["--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["id"] for r in rows} == set(library)
    classic = next(r for r in rows if r["id"] == "delta-rule-classic")
    assert classic["parts"][1] == {"id": "w1", "type": "numeric", "points": 2}
    assert "delta rule" in classic["topics"]
    text = CliRunner().invoke(list_command, [])
    assert "delta-rule-classic" in text.output


def test_validate_good_and_bad(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    result = CliRunner().invoke(validate_command, [str(tmp_path), "--seeds", "5"])
    assert result.exit_code == 0, result.output
    assert "1 exercises x 5 seeds, 0 problems, passed" in result.output
    (tmp_path / "bad.yaml").write_text(
        GOOD.replace("id: delta-test", "id: other").replace("key: w1_new", "key: w9")
    )
    result = CliRunner().invoke(validate_command, [str(tmp_path), "--seeds", "5"])
    assert result.exit_code == 1
    assert "bad.yaml:9: parts[0].key: unknown key 'w9'" in result.output
    assert "FAILED" in result.output.splitlines()[-1]


def test_validate_reports_self_test_failures(tmp_path: Path) -> None:
    text = GOOD.replace("version: 2", "version: 2\nsolution: ok")
    (tmp_path / "a.yaml").write_text(text)
    result = CliRunner().invoke(validate_command, [str(tmp_path / "a.yaml"), "--seeds", "2"])
    assert result.exit_code == 0, result.output
