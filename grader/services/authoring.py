"""The exercise editor: validate YAML as it is typed, preview any seed, save new versions.

Validation and preview are pure (they read only the text the editor sends). Saving goes
through ``grader.services.library.save_exercise_source``: each save is a new
``ExerciseVersion``, and attempts already issued keep the variant they were given.

Instructors edit their course's own exercises; the built-in library is read-only for them
(they copy an exercise into the course to change it) and editable by admins only.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from typing import Any

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.exercises import ExerciseSpec
from grader.exercises import SpecError
from grader.exercises import Variant
from grader.exercises import generate
from grader.exercises import load_spec_text
from grader.exercises.generator import TRIAL_CPU_BUDGET
from grader.models import Exercise
from grader.models import ExerciseVersion
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.services.enrolments import can_manage
from grader.services.enrolments import require_staff
from grader.services.library import latest_version
from grader.services.library import save_exercise_source

logger = logging.getLogger(__name__)

MAX_SOURCE_CHARS = 100_000
MAX_SEED = 2**31 - 1
SOURCE_NAME = "<editor>"

STARTER_YAML = """\
id: {slug}
title: A new exercise
version: 1
topics: [delta rule]
family: delta_rule
prompt: |
  A linear neuron computes $y = w_1 x_1 + w_2 x_2$ with inputs $x_1 = {{{{x1}}}}$,
  $x_2 = {{{{x2}}}}$, weights $w_1 = {{{{w1}}}}$, $w_2 = {{{{w2}}}}$, target $t = {{{{t}}}}$
  and learning rate $\\eta = {{{{eta}}}}$.
parts:
  - id: y
    key: y
    prompt: What is the output $y$?
    points: 1
  - id: w1
    key: w1_new
    prompt: What is $w_1$ after one delta-rule update?
    points: 2
"""


def problems_of(exc: SpecError) -> list[dict[str, Any]]:
    """The editor's view of a SpecError: ``[{line, field, message}]``, first one first."""
    return [{"line": p.line, "field": p.field, "message": p.message} for p in exc.errors]


def _check_size(text: str) -> None:
    if len(text) > MAX_SOURCE_CHARS:
        raise BadRequest(f"an exercise has at most {MAX_SOURCE_CHARS} characters")


def validate_source(text: str) -> list[dict[str, Any]]:
    """Every problem of the YAML text, each ``{line, field, message}``; empty when it is good."""
    _check_size(text)
    try:
        load_spec_text(text, source=SOURCE_NAME, trial_budget=TRIAL_CPU_BUDGET)
    except SpecError as exc:
        return problems_of(exc)
    return []


@functools.lru_cache(maxsize=256)
def spec_of_source(text: str) -> ExerciseSpec:
    """The validated spec of a stored version's text (cached: stored texts never change).

    Raises:
        SpecError: the text no longer validates (e.g. the library changed under it).
    """
    return load_spec_text(text, source=SOURCE_NAME)


@dataclasses.dataclass(frozen=True)
class Preview:
    """What the editor's preview pane shows: a variant, or the problems in the way."""

    seed: int
    variant: Variant | None
    errors: list[dict[str, Any]]


def parse_seed(raw: object) -> int:
    """A seed from a form field or JSON value (a non-negative integer)."""
    try:
        seed = int(str(raw).strip()) if not isinstance(raw, int) else raw
    except ValueError:
        raise BadRequest(f"the seed must be a whole number, not {str(raw)[:20]!r}") from None
    if isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise BadRequest(f"the seed must be between 0 and {MAX_SEED}")
    return seed


def preview(text: str, seed: int) -> Preview:
    """Generate the variant of the editor's text for ``seed``: prompt, key, solution, mistakes.

    The answer key is in the result: callers show it to course staff only.
    """
    _check_size(text)
    seed = parse_seed(seed)
    try:
        spec = load_spec_text(text, source=SOURCE_NAME)
        variant = generate(spec, seed)
    except SpecError as exc:
        return Preview(seed, None, problems_of(exc))
    return Preview(seed, variant, [])


def editor_validate(
    session: Session, actor: User | None, course_id: int, text: str
) -> list[dict[str, Any]]:
    """:func:`validate_source` for the course's editor (staff only)."""
    require_staff(session, actor, course_id)
    return validate_source(text)


def editor_preview(
    session: Session, actor: User | None, course_id: int, text: str, seed: object
) -> Preview:
    """:func:`preview` for the course's editor (staff only: it shows the answer key)."""
    require_staff(session, actor, course_id)
    return preview(text, parse_seed(seed))


# --------------------------------------------------------------------------- stored exercises


@dataclasses.dataclass(frozen=True)
class ExerciseRow:
    """One line of the exercise list."""

    exercise: Exercise
    used_in: int  # quiz items of this course's quizzes that use it
    editable: bool


def _can_edit(actor: User, exercise: Exercise, course_role_manage: bool) -> bool:
    if exercise.is_builtin or exercise.course_id is None:
        return actor.role == "admin"
    return course_role_manage


def list_exercises(session: Session, actor: User | None, course_id: int) -> list[ExerciseRow]:
    """The built-in library and the course's own exercises, with how often each is used."""
    require_staff(session, actor, course_id)
    assert actor is not None
    manager = can_manage(session, actor, course_id)
    usage = (
        select(QuizItem.exercise_id, func.count().label("n"))
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        .where(Quiz.course_id == course_id)
        .group_by(QuizItem.exercise_id)
        .subquery()
    )
    rows = session.execute(
        select(Exercise, func.coalesce(usage.c.n, 0))
        .outerjoin(usage, usage.c.exercise_id == Exercise.id)
        .where(or_(Exercise.course_id == course_id, Exercise.course_id.is_(None)))
        .order_by(Exercise.is_builtin, Exercise.title)
    ).all()
    return [ExerciseRow(e, int(n), _can_edit(actor, e, manager)) for e, n in rows]


def get_exercise(
    session: Session, actor: User | None, course_id: int, exercise_id: int
) -> tuple[Exercise, ExerciseVersion | None, bool]:
    """An exercise the course may use, its newest version and whether the actor may edit it."""
    require_staff(session, actor, course_id)
    assert actor is not None
    exercise = session.get(Exercise, exercise_id)
    if exercise is None or exercise.course_id not in (None, course_id):
        raise NotFound(f"no exercise {exercise_id} in course {course_id}")
    editable = _can_edit(actor, exercise, can_manage(session, actor, course_id))
    return exercise, latest_version(session, exercise), editable


def starter_source(session: Session, actor: User | None, course_id: int) -> str:
    """A small valid exercise to start from, with an id nobody uses yet."""
    course = require_staff(session, actor, course_id, manage=True)
    base = re.sub(r"[^a-z0-9]+", "-", course.code.lower()).strip("-") or "course"
    return STARTER_YAML.format(slug=_free_slug(session, f"{base}-new-exercise"))


def copy_source(session: Session, actor: User | None, course_id: int, exercise_id: int) -> str:
    """The text of an exercise with a fresh id, to save as a new exercise of the course."""
    require_staff(session, actor, course_id, manage=True)
    exercise, version, _ = get_exercise(session, actor, course_id, exercise_id)
    if version is None:
        raise NotFound(f"exercise {exercise_id} has no stored text")
    slug = _free_slug(session, f"{exercise.slug}-copy")
    text, count = re.subn(
        r"^id:[ \t]*.*$", f"id: {slug}", version.source_yaml, count=1, flags=re.MULTILINE
    )
    return text if count else f"id: {slug}\n{text}"


def _free_slug(session: Session, base: str) -> str:
    base = base[:100]
    taken = set(session.scalars(select(Exercise.slug).where(Exercise.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@writes
def save(
    session: Session,
    actor: User | None,
    course_id: int,
    text: str,
    *,
    exercise_id: int | None = None,
) -> tuple[Exercise, bool]:
    """Save the editor's text as the next version (or as a new exercise of the course).

    Returns the exercise and whether a new version was written (unchanged text writes
    nothing). Attempts already issued keep their stored variant.

    Raises:
        BadRequest: the text does not validate (``detail["errors"]`` lists the problems),
            or its ``id:`` is not the edited exercise's.
        Forbidden: the actor may not edit this exercise.
        Conflict: a new exercise whose id is already taken.
    """
    require_staff(session, actor, course_id, manage=True)
    assert actor is not None
    _check_size(text)
    try:
        spec = load_spec_text(text, source=SOURCE_NAME)
    except SpecError as exc:
        raise BadRequest(str(exc), detail={"errors": problems_of(exc)}) from None
    target_course: int | None = course_id
    builtin = False
    if exercise_id is not None:
        exercise, _, editable = get_exercise(session, actor, course_id, exercise_id)
        if not editable:
            raise Forbidden("the built-in library is read-only; copy the exercise to change it")
        if spec.id != exercise.slug:
            raise BadRequest(
                f"the id of this exercise is {exercise.slug!r}; changing it to {spec.id!r} "
                "would make another exercise (copy it instead)",
                detail={"errors": [_id_problem(spec, exercise.slug)]},
            )
        if exercise.course_id is None:
            target_course, builtin = None, True
    else:
        if session.scalar(select(Exercise.id).where(Exercise.slug == spec.id)) is not None:
            raise Conflict(
                f"the id {spec.id!r} is taken; choose another id for a new exercise",
                detail={"errors": [_id_problem(spec, None)]},
            )
    exercise, written = save_exercise_source(
        session,
        text,
        source_name=SOURCE_NAME,
        course_id=target_course,
        author_id=actor.id,
        builtin=builtin,
    )
    session.commit()
    logger.info(
        "exercise saved exercise_id=%s version=%s written=%s by user_id=%s",
        exercise.id,
        exercise.current_version,
        written,
        actor.id,
    )
    return exercise, written


def _id_problem(spec: ExerciseSpec, expected: str | None) -> dict[str, Any]:
    message = f"must stay {expected!r}" if expected else f"{spec.id!r} is taken by another exercise"
    return {"line": spec.line_of(("id",)), "field": "id", "message": message}


def versions(session: Session, actor: User | None, course_id: int, exercise_id: int) -> list[Any]:
    """The exercise's saved versions, newest first (number, author id, time)."""
    get_exercise(session, actor, course_id, exercise_id)
    return list(
        session.execute(
            select(ExerciseVersion.version, ExerciseVersion.created_at, User.name)
            .outerjoin(User, User.id == ExerciseVersion.created_by_id)
            .where(ExerciseVersion.exercise_id == exercise_id)
            .order_by(ExerciseVersion.version.desc())
        ).all()
    )
