"""The exercise library: the authoring format, randomized families, solutions, judging.

Public API (used by the web app and the CLI)::

    from grader.exercises import ExerciseSpec, SpecError, Variant, Judgement
    from grader.exercises import load_spec_text, load_spec_file, load_library
    from grader.exercises import generate, judge, self_test, SPEC_JSON_SCHEMA

No Flask and no SQLAlchemy here; instructor text is parsed only by grader.checking's
parser and no instructor Python ever runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

# Light modules (judging a stored variant) load eagerly; the library, the families and
# the spec loader (NumPy, SymPy) load on first use, so ``grader check-expr``, which
# judges through the answer kinds, starts without them.
from grader.exercises.errors import SpecError
from grader.exercises.errors import SpecProblem
from grader.exercises.judge import judge
from grader.exercises.judgement import Judgement
from grader.exercises.judgement import Status
from grader.exercises.kinds import ANSWER_KINDS
from grader.exercises.kinds import AnswerKind
from grader.exercises.kinds import kind_of
from grader.exercises.variant import Mistake
from grader.exercises.variant import Part
from grader.exercises.variant import Variant

if TYPE_CHECKING:
    from grader.exercises.families import FAMILIES
    from grader.exercises.generator import generate
    from grader.exercises.library import default_library_path
    from grader.exercises.library import load_library
    from grader.exercises.schema import SPEC_JSON_SCHEMA
    from grader.exercises.selftest import self_test
    from grader.exercises.spec import ExerciseSpec
    from grader.exercises.spec import load_spec_file
    from grader.exercises.spec import load_spec_text
    from grader.exercises.spec import spec_from_data

#: the names loaded on first use, and the module that defines each
_LAZY = {
    "FAMILIES": "grader.exercises.families",
    "generate": "grader.exercises.generator",
    "default_library_path": "grader.exercises.library",
    "load_library": "grader.exercises.library",
    "SPEC_JSON_SCHEMA": "grader.exercises.schema",
    "self_test": "grader.exercises.selftest",
    "ExerciseSpec": "grader.exercises.spec",
    "load_spec_file": "grader.exercises.spec",
    "load_spec_text": "grader.exercises.spec",
    "spec_from_data": "grader.exercises.spec",
}


def __getattr__(name: str) -> Any:
    """Load one of the heavier public names from its module (the table above)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grader.exercises' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ANSWER_KINDS",
    "FAMILIES",
    "SPEC_JSON_SCHEMA",
    "AnswerKind",
    "ExerciseSpec",
    "Judgement",
    "Mistake",
    "Part",
    "SpecError",
    "SpecProblem",
    "Status",
    "Variant",
    "default_library_path",
    "generate",
    "judge",
    "kind_of",
    "load_library",
    "load_spec_file",
    "load_spec_text",
    "self_test",
    "spec_from_data",
]
