"""Exercise storage: load the built-in library, save instructor edits as new versions.

Every save is a new ``ExerciseVersion``; attempts keep the version (and the answer
key) they were issued with, so editing never changes a grade already given.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import NotFound
from grader.exercises.library import default_library_path
from grader.models import Exercise
from grader.models import ExerciseVersion
from grader.models import utcnow

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def default_library_dir() -> Path:
    """``GRADER_EXERCISES_DIR`` or the built-in library (in a checkout or a wheel)."""
    return default_library_path()


def latest_version(session: Session, exercise: Exercise) -> ExerciseVersion | None:
    return session.scalar(
        select(ExerciseVersion)
        .where(ExerciseVersion.exercise_id == exercise.id)
        .order_by(ExerciseVersion.version.desc())
        .limit(1)
    )


def save_exercise_source(
    session: Session,
    source_yaml: str,
    *,
    source_name: str = "<editor>",
    course_id: int | None = None,
    author_id: int | None = None,
    builtin: bool = False,
) -> tuple[Exercise, bool]:
    """Validate YAML and store it as the exercise's next version.

    Returns the exercise and whether a new version was written (an unchanged text
    writes nothing). Raises BadRequest with the spec error (file, line, field) when the
    text does not validate; nothing is stored then.
    """
    from grader.exercises import SpecError
    from grader.exercises import load_spec_text

    try:
        spec = load_spec_text(source_yaml, source=source_name)
    except SpecError as exc:
        raise BadRequest(str(exc), detail={"line": getattr(exc, "line", None)}) from None
    exercise = session.scalar(select(Exercise).where(Exercise.slug == spec.id))
    if exercise is None:
        exercise = Exercise(
            slug=spec.id,
            title=spec.title,
            course_id=course_id,
            is_builtin=builtin,
            current_version=0,
        )
        session.add(exercise)
        session.flush()
    elif exercise.course_id != course_id and not builtin:
        raise BadRequest(f"exercise id {spec.id!r} is taken by another course or the library")
    latest = latest_version(session, exercise)
    if latest is not None and latest.source_yaml == source_yaml:
        return exercise, False
    version = (latest.version if latest else 0) + 1
    session.add(
        ExerciseVersion(
            exercise_id=exercise.id,
            version=version,
            source_yaml=source_yaml,
            created_by_id=author_id,
        )
    )
    exercise.current_version = version
    exercise.title = spec.title
    exercise.updated_at = utcnow()
    session.flush()
    logger.info("saved exercise slug=%s version=%s", spec.id, version)
    return exercise, True


def sync_builtin_exercises(session: Session, directory: str | os.PathLike[str]) -> SyncReport:
    """Store every ``*.yaml`` of the library; refuses the whole load on any bad file."""
    report = SyncReport()
    paths = sorted(Path(directory).glob("*.yaml")) + sorted(Path(directory).glob("*.yml"))
    if not paths:
        # An install without its library must not "succeed" with nothing loaded.
        raise NotFound(
            f"no exercise files (*.yaml) in {directory}: give a library folder, "
            "set GRADER_EXERCISES_DIR, or reinstall grader (the wheel bundles its library)"
        )
    for path in paths:
        text = path.read_text(encoding="utf-8")
        existed = session.scalar(select(Exercise.id).where(Exercise.slug == _peek_id(text)))
        _, written = save_exercise_source(session, text, source_name=str(path), builtin=True)
        if not written:
            report.unchanged += 1
        elif existed:
            report.updated += 1
        else:
            report.added += 1
    session.commit()
    return report


def _peek_id(text: str) -> str | None:
    """The ``id:`` line of a spec, for counting added vs updated (validation comes later)."""
    for line in text.splitlines():
        if line.startswith("id:"):
            return line.split(":", 1)[1].strip().strip("'\"")
    return None
