"""Answer checking: a safe expression language, equivalence, tolerances, feedback.

Nothing here runs student text as code: our own tokenizer and parser build a small tree
from a whitelist, with limits on length, nesting, size and exponents checked before any
arithmetic. Symbolic answers are decided by evaluating both sides with mpmath at points
that depend only on the key and its domains (:mod:`grader.checking.plans`: moderate and
very large and small magnitudes, and both sides of every kink), at 30 digits, with
interval evaluation (and 60 and 120 digits) to tell a real difference from rounding,
within a time budget that ends in ``undetermined`` rather than a guess. The answer must
be defined wherever the key is.
Equations and single inequalities are compared as relations
(:mod:`grader.checking.relations`).

Public API::

    Verdict, Diagnosis, Preview, ParseError
    parse, preview, check_expression, check_numeric, check_array, check_choice, check

Defaults: symbolic checks get 1 s; numeric checks use ``combined`` mode with
``rtol=0.01`` and ``atol=1e-8`` (see :mod:`grader.checking.numeric` for why), all
tolerance boundaries inclusive.
"""

from grader.checking.choice import check_choice
from grader.checking.dispatch import check
from grader.checking.errors import ParseError
from grader.checking.expression import check_expression
from grader.checking.expression import parse
from grader.checking.expression import preview
from grader.checking.numeric import DEFAULT_ATOL
from grader.checking.numeric import DEFAULT_MODE
from grader.checking.numeric import DEFAULT_RTOL
from grader.checking.numeric import answer_value
from grader.checking.numeric import check_array
from grader.checking.numeric import check_numeric
from grader.checking.verdict import Diagnosis
from grader.checking.verdict import Preview
from grader.checking.verdict import Verdict

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_MODE",
    "DEFAULT_RTOL",
    "Diagnosis",
    "ParseError",
    "Preview",
    "Verdict",
    "answer_value",
    "check",
    "check_array",
    "check_choice",
    "check_expression",
    "check_numeric",
    "parse",
    "preview",
]
