"""Property tests: whatever the text, every entry point returns a Verdict (or Preview)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from grader.checking import Preview
from grader.checking import Verdict
from grader.checking import check_array
from grader.checking import check_expression
from grader.checking import check_numeric
from grader.checking import preview

# Characters of the language, plus a few that must be rejected, so that random strings
# reach deep into the parser instead of failing on the first character.
LANGUAGE = [
    *"xyzw12 0.5e+-*/^()[],|=²⁻ση×·−",
    "sin",
    "exp",
    "log",
    "sigmoid",
    "max",
    "sqrt",
    "w1",
    "x1",
    "10",
    "e",
    "pi",
    "^-",
    "**",
    "(x-1)",
    "|x|",
    "9^9",
    "_",
    "х",
    "\u202e",
    "\x00",
]
language_text = st.lists(st.sampled_from(LANGUAGE), max_size=40).map("".join)
any_text = st.text(max_size=80)
VARIABLES = ("x", "y", "z", "w1", "x1")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_verdict(verdict: Verdict) -> None:
    assert isinstance(verdict, Verdict)
    assert verdict.status in ("correct", "incorrect", "invalid", "undetermined")
    assert "internal error" not in verdict.message
    if verdict.status == "invalid":
        assert verdict.offset is not None
        assert verdict.latex is None
    else:
        assert verdict.latex is not None


@pytest.mark.slow  # hypothesis, many examples
@FAST
@given(st.one_of(language_text, any_text))
def test_random_answers_only_ever_yield_a_verdict(text):
    _assert_verdict(check_expression("x^2 + sigmoid(y)", text, variables=VARIABLES))


@FAST
@given(st.one_of(language_text, any_text))
def test_random_numeric_answers_only_ever_yield_a_verdict(text):
    _assert_verdict(check_numeric(0.526, text))
    _assert_verdict(check_array([[1, 2], [3, 4]], text))


@FAST
@given(st.one_of(language_text, any_text))
def test_random_text_previews_consistently(text):
    result = preview(text, variables=VARIABLES)
    assert isinstance(result, Preview)
    if result.ok:
        assert result.latex
        # The echo is itself an answer that means the same thing.
        echoed = check_expression(text, result.text, variables=VARIABLES)
        assert echoed.status in ("correct", "undetermined"), (text, result.text, echoed)
    else:
        assert 0 <= result.offset <= len(text)
