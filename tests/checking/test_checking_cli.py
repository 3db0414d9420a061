"""``grader check-expr``: the public command-line contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.checking_cmds import COMMANDS
from grader.cli.checking_cmds import check_expr

GRADER = str(Path(sys.executable).parent / "grader")
VERDICT_KEYS = {"status", "message", "latex", "diagnosis", "offset", "variables", "entries"}
BATCH_KEYS = {"id", "status", "message", "latex", "diagnosis"}


def invoke(*args, stdin=None):
    result = CliRunner().invoke(check_expr, list(args), input=stdin, catch_exceptions=False)
    return result


def test_command_is_registered():
    assert [check_expr] == COMMANDS
    assert check_expr.name == "check-expr"


def test_single_check_prints_one_json_verdict():
    result = invoke("--expected", "2*x", "--answer", "x+x", "--vars", "x")
    assert result.exit_code == 0
    verdict = json.loads(result.output)
    assert set(verdict) == VERDICT_KEYS
    assert verdict["status"] == "correct"
    assert verdict["latex"] == "x + x"


def test_single_check_reports_diagnosis_and_invalid():
    wrong = json.loads(invoke("-e", "eta*g", "-a", "g", "--vars", "eta,g").output)
    assert wrong["status"] == "incorrect"
    assert wrong["diagnosis"]["code"] == "constant_factor"
    bad = json.loads(invoke("-e", "x", "-a", "sin^-1(x)", "--vars", "x").output)
    assert bad["status"] == "invalid"
    assert bad["offset"] == 3
    read = json.loads(invoke("-e", "sin(x)^2", "-a", "sin^2(x)", "--vars", "x").output)
    assert read["status"] == "correct"
    assert "sin^2(x) was read as sin(x)^2" in read["message"]


@pytest.mark.parametrize(
    ("expected", "answer"),
    [("1", "1e400"), ("1", "2^2^2^2^2"), ("1", "x*1e400"), ("x", "x*1e-400"), ("1", "1e-400")],
)
def test_huge_and_tiny_answers_get_a_verdict_not_a_traceback(expected, answer):
    result = invoke("-e", expected, "-a", answer, "--vars", "x")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert json.loads(result.output)["status"] == "incorrect"


def test_batch_never_says_internal_error():
    lines = [
        json.dumps({"id": n, "expected": e, "answer": a, "variables": ["x"]})
        for n, (e, a) in enumerate(
            [("1", "1e400"), ("1", "2^2^2^2^2"), ("log(x^2)", "2*log(x)"), ("x", "x*1e400")]
        )
    ]
    result = invoke("--batch", "-", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [line["status"] for line in out] == ["incorrect"] * 4
    assert all("internal error" not in line["message"] for line in out)


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["-e", "0.526", "-a", "0.53", "--mode", "relative", "--tolerance", "0.01"], "correct"),
        (["-e", "0.526", "-a", "0.53", "--mode", "relative", "--tolerance", "0.001"], "incorrect"),
        (["-e", "1", "-a", "1.05", "--mode", "absolute", "--tolerance", "0.05"], "correct"),
        (["-e", "0.138", "-a", "1.38*10^-1", "--mode", "sigfigs", "--sigfigs", "3"], "correct"),
        (["-e", "[0.5, 0.25]", "-a", "[0.5, 0.26]", "--mode", "combined"], "incorrect"),
        (["-e", "B", "-a", "b", "--mode", "choice"], "correct"),
    ],
)
def test_modes(args, status):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == status


def test_usage_errors():
    assert invoke("--expected", "x").exit_code == 2
    assert invoke("-e", "1", "-a", "1", "--mode", "sigfigs").exit_code == 2
    assert invoke("-e", "x", "-a", "x", "--mode", "nonsense").exit_code == 2
    assert invoke("-e", "x", "--batch", "-", stdin="").exit_code == 2


def test_batch_writes_one_verdict_per_line_in_order(tmp_path):
    lines = [
        {"id": "a", "expected": "2*x", "answer": "x+x", "variables": ["x"]},
        {"id": "b", "expected": "sigmoid(z)*(1-sigmoid(z))", "answer": "exp(-z)/(1+exp(-z))^2"},
        {"id": 3, "expected": 0.526, "answer": "0.53", "mode": "relative", "tolerance": 0.01},
        {"id": 4, "expected": "0.138", "answer": "1.38e-1", "mode": "sigfigs", "sigfigs": 3},
        {"id": 5, "expected": "x", "answer": "x +", "variables": "x"},
        {"id": 6, "expected": "[[1, 2], [3, 4]]", "answer": "[[1, 3], [2, 4]]", "mode": "absolute"},
    ]
    path = tmp_path / "checks.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = invoke("--batch", str(path))
    assert result.exit_code == 0
    verdicts = [json.loads(line) for line in result.output.splitlines()]
    assert [v["id"] for v in verdicts] == ["a", "b", 3, 4, 5, 6]
    assert all(set(v) == BATCH_KEYS for v in verdicts)
    assert [v["status"] for v in verdicts] == [
        "correct",
        "correct",
        "correct",
        "correct",
        "invalid",
        "incorrect",
    ]
    assert verdicts[5]["diagnosis"]["code"] == "transposed"


def test_batch_bad_lines_become_invalid_verdicts():
    stdin = "\n".join(
        [
            "{not json",
            "[1, 2]",
            json.dumps({"id": 1, "answer": "x"}),
            json.dumps({"id": 2, "expected": "x", "answer": "x", "mode": "weird"}),
            json.dumps({"id": 3, "expected": "x", "answer": "x", "variables": 7}),
            json.dumps({"id": 4, "expected": "x", "answer": "x", "extra": 1}),
            "[" * 100_000,
            "",
            json.dumps({"id": 5, "expected": "x", "answer": "x"}),
        ]
    )
    result = invoke("--batch", "-", stdin=stdin)
    assert result.exit_code == 0
    verdicts = [json.loads(line) for line in result.output.splitlines()]
    assert [v["status"] for v in verdicts] == ["invalid"] * 7 + ["correct"]
    assert [v["id"] for v in verdicts] == [None, None, 1, 2, 3, 4, None, 5]
    assert "line 1" in verdicts[0]["message"]
    assert "missing expected" in verdicts[2]["message"]
    assert "unknown mode" in verdicts[3]["message"]


def _subprocess_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "FLASK_"))}


def test_real_subprocess(tmp_path):
    # One process for both modes: starting the interpreter is the slow part.
    batch = subprocess.run(
        [GRADER, "check-expr", "--batch", "-"],
        input=(
            '{"id": 1, "expected": "tanh(z)", "answer": "2σ(2z) − 1", "variables": ["z"]}\n'
            '{"id": 2, "expected": "x", "answer": "()"}\n'
        ),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        cwd=tmp_path,
        env=_subprocess_env(),
        check=False,
    )
    assert batch.returncode == 0, batch.stderr
    verdicts = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [(v["id"], v["status"]) for v in verdicts] == [(1, "correct"), (2, "invalid")]
