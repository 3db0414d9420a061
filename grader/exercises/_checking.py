"""The one place this package imports grader.checking from (its public API, issue 4)."""

from __future__ import annotations

from grader.checking import Diagnosis
from grader.checking import ParseError
from grader.checking import Verdict
from grader.checking import check_array
from grader.checking import check_choice
from grader.checking import check_expression
from grader.checking import check_numeric
from grader.checking import parse

__all__ = [
    "Diagnosis",
    "ParseError",
    "Verdict",
    "check_array",
    "check_choice",
    "check_expression",
    "check_numeric",
    "parse",
]
