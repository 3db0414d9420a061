"""Hostile input never runs code and never takes long: every entry point, every input.

The time assertions are loose hang guards (1 s); the real latencies are in ``make bench``.
"""

from __future__ import annotations

import time

import pytest

from grader.checking import ParseError
from grader.checking import check
from grader.checking import check_array
from grader.checking import check_expression
from grader.checking import check_numeric
from grader.checking import parse
from grader.checking import preview

# A hang guard on this thread's CPU time: wall-clock time also counts whatever else the
# (shared, 2-core) machine runs meanwhile. The real figures are in bench/.
HANG_GUARD = 1.0

HOSTILE = [
    "__import__('os').system('id')",
    '__import__("os").system("touch /tmp/grader-hostile")',
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "eval('1')",
    "exec('import os')",
    "open('/etc/passwd').read()",
    "x.__dict__",
    "9^9^9^9",
    "9**9**9**9",
    "10^10^10",
    "2^(2^(2^(2^(2^2))))",
    "x^(10^10)",
    "exp(exp(exp(exp(x))))",
    "sin(10^400)",
    "1e400^1e400",
    "(x - 1)^10000 - (x - 1)^9999*(x - 1)",
    "(" * 100_000,
    "(" * 50_000 + "x" + ")" * 50_000,
    "sin(" * 10_000 + "x" + ")" * 10_000,
    "|" * 5000,
    "-" * 1999 + "x",
    "x" + "^x" * 999,
    "+".join(["x"] * 999),
    "*".join(["x"] * 999),
    "[" * 1000,
    "1" * 1999,
    "0." + "0" * 1997,
    "x\x00y",
    "\x00" * 100,
    "x\u202e1+\u202c2",
    "\u2066x\u2069",
    "х + у",
    "\ufeffx",
    "\\x00",
    "%s%s%s",
    "{{7*7}}",
    "${7*7}",
    "`id`",
    "nan",
    "inf",
    "infty",
    "oo",
    "1/0",
    "0/0",
    "log(-1)",
    "sqrt(-1)",
    "0^(-1)",
    "",
    "   ",
]


def _timed(function, *args, **kwargs):
    start = time.thread_time()
    result = function(*args, **kwargs)
    return result, time.thread_time() - start


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:24]) for t in HOSTILE])
def test_hostile_expression_answer(text):
    verdict, elapsed = _timed(check_expression, "x^2 + 1", text, variables=("x", "y"))
    assert elapsed < HANG_GUARD
    assert verdict.status in ("invalid", "incorrect", "undetermined")


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:24]) for t in HOSTILE])
def test_hostile_numeric_answer(text):
    verdict, elapsed = _timed(check_numeric, 0.5, text)
    assert elapsed < HANG_GUARD
    assert verdict.status in ("invalid", "incorrect")


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:24]) for t in HOSTILE])
def test_hostile_preview_and_parse(text):
    result, elapsed = _timed(preview, text, variables=("x", "y"))
    assert elapsed < HANG_GUARD
    if not result.ok:
        assert result.offset is not None
        with pytest.raises(ParseError):
            parse(text)


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:24]) for t in HOSTILE])
def test_hostile_array_and_dispatch(text):
    verdict, elapsed = _timed(check_array, [[1, 2], [3, 4]], text)
    assert elapsed < HANG_GUARD
    assert verdict.status in ("invalid", "incorrect")
    verdict, elapsed = _timed(check, "x", text, mode="sigfigs", sigfigs=2)
    assert elapsed < HANG_GUARD
    assert verdict.status in ("invalid", "incorrect", "undetermined")


def test_hostile_input_runs_no_code(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.chdir(tmp_path)
    for text in (
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        "__import__('pathlib').Path('pwned').touch()",
    ):
        assert check_expression("x", text, variables=("x",)).status == "invalid"
        assert not preview(text).ok
    assert not marker.exists()


def test_huge_but_legal_exponents_are_decided_without_expansion():
    verdict, elapsed = _timed(
        check_expression, "(x - a)^6000", "(x - a)^5999", variables=("x", "a")
    )
    assert verdict.status == "incorrect"
    assert elapsed < HANG_GUARD
