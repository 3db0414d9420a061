"""The exercise library: the authoring format, randomized families, solutions, judging.

Public API (used by the web app and the CLI)::

    from grader.exercises import ExerciseSpec, SpecError, Variant, PartResult
    from grader.exercises import load_spec_text, load_spec_file, load_library
    from grader.exercises import generate, judge, self_test, SPEC_JSON_SCHEMA

No Flask and no SQLAlchemy here; instructor text is parsed only by grader.checking's
parser and no instructor Python ever runs.
"""

from __future__ import annotations

from grader.exercises.errors import SpecError
from grader.exercises.errors import SpecProblem
from grader.exercises.families import FAMILIES
from grader.exercises.generator import generate
from grader.exercises.judge import judge
from grader.exercises.library import default_library_path
from grader.exercises.library import load_library
from grader.exercises.schema import SPEC_JSON_SCHEMA
from grader.exercises.selftest import self_test
from grader.exercises.spec import ExerciseSpec
from grader.exercises.spec import load_spec_file
from grader.exercises.spec import load_spec_text
from grader.exercises.spec import spec_from_data
from grader.exercises.variant import Mistake
from grader.exercises.variant import Part
from grader.exercises.variant import PartResult
from grader.exercises.variant import Variant

__all__ = [
    "FAMILIES",
    "SPEC_JSON_SCHEMA",
    "ExerciseSpec",
    "Mistake",
    "Part",
    "PartResult",
    "SpecError",
    "SpecProblem",
    "Variant",
    "default_library_path",
    "generate",
    "judge",
    "load_library",
    "load_spec_file",
    "load_spec_text",
    "self_test",
    "spec_from_data",
]
