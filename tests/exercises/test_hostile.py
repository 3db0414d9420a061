"""Hostile or broken instructor expressions are refused with a place, fast, never run."""

from __future__ import annotations

import textwrap
import time

import pytest

from grader.exercises import SpecError
from grader.exercises import load_spec_text

BASE = textwrap.dedent(
    """\
    id: hostile
    title: Hostile
    version: 1
    parameters:
      a: {range: [1, 2], step: 0.5}
    derived:
      d: DERIVED
    prompt: hi
    parts:
      - id: p
        type: numeric
        answer: 'ANSWER'
        hints: ['HINT']
    """
)


def _load(derived: str = "a", answer: str = "d", hint: str = "think") -> SpecError:
    text = BASE.replace("DERIVED", derived).replace("ANSWER", answer).replace("HINT", hint)
    start = time.thread_time()
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "hostile.yaml")
    assert time.thread_time() - start < 2.0
    assert info.value.source == "hostile.yaml"
    return info.value


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ("9^9^9^9", "too large"),
        ("10^10^10", "too large"),
        ('__import__("os").system("id")', "cannot parse"),
        ("lambda: 0", "cannot parse"),
        ("().__class__", "cannot parse"),
        ("a +", "cannot parse"),
        ("b * 2", "unknown name(s) b"),
    ],
)
def test_bad_answers_are_refused_at_their_line(answer: str, words: str) -> None:
    err = _load(answer=answer)
    assert err.field == "parts[0].answer"
    assert err.line == 12
    assert words in err.message


@pytest.mark.parametrize("derived", ["exp(1000*a)", "log(-a)", "(-a)^0.5", "1/(a - a)"])
def test_undefined_values_are_refused_not_crashing(derived: str) -> None:
    err = _load(derived=derived)
    assert err.field == "derived.d"
    assert "undefined" in err.message


def test_placeholders_in_hints_are_checked() -> None:
    err = _load(hint="use {{nothing}}")
    assert err.field == "parts[0].hints[0]"
    assert "names nothing" in err.message
