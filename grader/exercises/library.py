"""The built-in library: every exercise file of a directory, all or nothing."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from grader.exercises.errors import SpecError
from grader.exercises.errors import SpecProblem
from grader.exercises.spec import ExerciseSpec
from grader.exercises.spec import load_spec_file
from grader.resources import exercises_dir

logger = logging.getLogger(__name__)

ENV_VAR = "GRADER_EXERCISES_DIR"
MAX_FILES = 2000


def default_library_path() -> Path:
    """``$GRADER_EXERCISES_DIR``, else the built-in library (``grader.resources``)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return exercises_dir()


def library_files(path: str | Path) -> list[Path]:
    """The exercise files (``*.yaml``/``*.yml``) of a directory, sorted; a file is itself."""
    root = Path(path)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise SpecError.single(str(root), "no such exercise directory or file")
    files = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if len(files) > MAX_FILES:
        raise SpecError.single(str(root), f"more than {MAX_FILES} exercise files")
    return files


def load_library(path: str | Path | None = None) -> dict[str, ExerciseSpec]:
    """Load every exercise of ``path`` (default: the built-in library), keyed by id.

    Raises:
        SpecError: listing every problem of every bad file, and duplicate ids; nothing is
            returned unless every file is good.
    """
    root = default_library_path() if path is None else Path(path)
    specs: dict[str, ExerciseSpec] = {}
    problems: list[SpecProblem] = []
    for file in library_files(root):
        try:
            spec = load_spec_file(file)
        except SpecError as exc:
            problems += exc.errors
            continue
        if spec.id in specs:
            problems.append(
                SpecProblem(
                    str(file),
                    spec.line_of(("id",)),
                    "id",
                    f"the id {spec.id!r} is already used by {specs[spec.id].source}",
                )
            )
            continue
        specs[spec.id] = spec
    if problems:
        raise SpecError(problems)
    logger.info("loaded %d exercises from %s", len(specs), root)
    return specs
