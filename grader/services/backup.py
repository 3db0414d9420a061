"""Course archives: a whole course to one JSON document and back (``grader export/import``).

An archive holds one course and everything its grades depend on:

* the course (code, title, join code);
* its people: enrolled users, plus users its rows point at (an attempt's owner who left
  the course, the author of a version or an override), without password hashes unless
  asked for (``with_passwords``);
* every exercise its quizzes use or it owns, with **every** version's YAML text;
* its quizzes and their items;
* every attempt with its stored variant (answer key included) and seed, every submission
  with every field, and every grade override.

Rows refer to each other by their ids in the source database; :func:`import_course`
gives every row a new id in the target and remaps the references, so an archive can be
loaded next to other courses, into SQLite or PostgreSQL alike.

Refusals are whole: :func:`import_course` validates the entire document first (format
name and version, every field's type, every reference), checks for conflicts with the
target (the course code or join code in use, a course-owned exercise slug taken), and
writes everything in one transaction. Any problem raises :class:`ArchiveError` with a
message saying what and where, and nothing is written.

Shared exercises (built-in, or with no course) are matched by slug: a version whose text
the target already has is reused, one it lacks is added as a new version, so grades and
stored variants stay exactly as they were while the target's own library is untouched.

Users that already exist in the target (same email) are reused as they are: an import
never changes a password, a name or a role. New users get the archive's role, except
that an archive cannot create a site administrator (``admin`` becomes ``instructor``).

The format is versioned (:data:`FORMAT_VERSION`); an archive from a newer grader is
refused rather than half-understood. Within a version, new optional keys may appear and
are read with defaults.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import BadRequest
from grader.errors import NotFound
from grader.models import COURSE_ROLES
from grader.models import ROLES
from grader.models import SUBMISSION_STATES
from grader.models import Attempt
from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import ExerciseVersion
from grader.models import GradeOverride
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import Submission
from grader.models import User
from grader.version import __version__

logger = logging.getLogger(__name__)

ARCHIVE_FORMAT = "grader-course-archive"
FORMAT_VERSION = 1
#: at most this many problems are listed when an archive is refused
MAX_LISTED_PROBLEMS = 10


class ArchiveError(BadRequest):
    """The archive cannot be imported (bad, newer, or in conflict); nothing was written."""

    code = "bad_archive"


@dataclasses.dataclass(frozen=True)
class ArchiveSummary:
    """How much an archive holds (printed by the CLI after export and import)."""

    course_code: str
    users: int
    exercises: int
    versions: int
    quizzes: int
    items: int
    attempts: int
    submissions: int
    overrides: int

    def describe(self) -> str:
        return (
            f"{self.users} users, {self.exercises} exercises ({self.versions} versions), "
            f"{self.quizzes} quizzes ({self.items} items), {self.attempts} attempts, "
            f"{self.submissions} submissions, {self.overrides} overrides"
        )


@dataclasses.dataclass(frozen=True)
class ImportReport:
    """What :func:`import_course` created."""

    course_id: int
    summary: ArchiveSummary
    users_created: int
    users_reused: int
    versions_added: int
    versions_reused: int


# --------------------------------------------------------------------------- encoding


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _parse_time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def summarize(archive: Mapping[str, Any]) -> ArchiveSummary:
    """Counts of what an archive holds."""
    attempts = archive.get("attempts", [])
    return ArchiveSummary(
        course_code=str(archive.get("course", {}).get("code", "?")),
        users=len(archive.get("users", [])),
        exercises=len(archive.get("exercises", [])),
        versions=sum(len(e.get("versions", [])) for e in archive.get("exercises", [])),
        quizzes=len(archive.get("quizzes", [])),
        items=sum(len(q.get("items", [])) for q in archive.get("quizzes", [])),
        attempts=len(attempts),
        submissions=sum(len(a.get("submissions", [])) for a in attempts),
        overrides=sum(len(a.get("overrides", [])) for a in attempts),
    )


# --------------------------------------------------------------------------- export


def export_course(session: Session, code: str, *, with_passwords: bool = False) -> dict[str, Any]:
    """The course with this code as an archive (a JSON-ready dict).

    On PostgreSQL the reads run in one REPEATABLE READ transaction, so an export taken
    while students submit is a consistent snapshot.

    Raises:
        NotFound: no course has this code.
    """
    bind = session.get_bind()
    postgres = isinstance(bind, Engine) and bind.dialect.name == "postgresql"
    if postgres and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    course = session.scalar(select(Course).where(Course.code == code))
    if course is None:
        raise NotFound(f"no course with code {code!r}")

    enrolments = list(
        session.scalars(
            select(Enrolment).where(Enrolment.course_id == course.id).order_by(Enrolment.id)
        )
    )
    quizzes = list(
        session.scalars(select(Quiz).where(Quiz.course_id == course.id).order_by(Quiz.id))
    )
    quiz_ids = [q.id for q in quizzes]
    items = (
        list(
            session.scalars(
                select(QuizItem).where(QuizItem.quiz_id.in_(quiz_ids)).order_by(QuizItem.id)
            )
        )
        if quiz_ids
        else []
    )
    item_ids = [i.id for i in items]
    attempts = (
        list(
            session.scalars(
                select(Attempt).where(Attempt.quiz_item_id.in_(item_ids)).order_by(Attempt.id)
            )
        )
        if item_ids
        else []
    )
    attempt_ids = [a.id for a in attempts]
    submissions: dict[int, list[Submission]] = {a: [] for a in attempt_ids}
    overrides: dict[int, list[GradeOverride]] = {a: [] for a in attempt_ids}
    for chunk in _chunks(attempt_ids, 500):
        for sub in session.scalars(
            select(Submission).where(Submission.attempt_id.in_(chunk)).order_by(Submission.id)
        ):
            submissions[sub.attempt_id].append(sub)
        for override in session.scalars(
            select(GradeOverride)
            .where(GradeOverride.attempt_id.in_(chunk))
            .order_by(GradeOverride.id)
        ):
            overrides[override.attempt_id].append(override)

    exercise_ids = {i.exercise_id for i in items}
    exercise_ids.update(
        session.scalars(select(Exercise.id).where(Exercise.course_id == course.id)).all()
    )
    exercises = (
        list(
            session.scalars(
                select(Exercise).where(Exercise.id.in_(exercise_ids)).order_by(Exercise.slug)
            )
        )
        if exercise_ids
        else []
    )
    versions: dict[int, list[ExerciseVersion]] = {e.id: [] for e in exercises}
    if exercises:
        for version in session.scalars(
            select(ExerciseVersion)
            .where(ExerciseVersion.exercise_id.in_(list(versions)))
            .order_by(ExerciseVersion.exercise_id, ExerciseVersion.version)
        ):
            versions[version.exercise_id].append(version)

    user_ids = {e.user_id for e in enrolments} | {a.user_id for a in attempts}
    user_ids |= {v.created_by_id for vs in versions.values() for v in vs if v.created_by_id}
    user_ids |= {o.created_by_id for os_ in overrides.values() for o in os_ if o.created_by_id}
    users = (
        list(session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.email)))
        if user_ids
        else []
    )

    archive: dict[str, Any] = {
        "format": ARCHIVE_FORMAT,
        "format_version": FORMAT_VERSION,
        "grader_version": __version__,
        "exported_at": _time(dt.datetime.now(dt.UTC)),
        "with_passwords": with_passwords,
        "course": {
            "id": course.id,
            "code": course.code,
            "title": course.title,
            "join_code": course.join_code,
            "created_at": _time(course.created_at),
        },
        "users": [_user_json(u, with_passwords) for u in users],
        "enrolments": [
            {"user": e.user_id, "role": e.role, "created_at": _time(e.created_at)}
            for e in enrolments
        ],
        "exercises": [_exercise_json(e, versions[e.id], course.id) for e in exercises],
        "quizzes": [_quiz_json(q, [i for i in items if i.quiz_id == q.id]) for q in quizzes],
        "attempts": [_attempt_json(a, submissions[a.id], overrides[a.id]) for a in attempts],
    }
    logger.info("exported course_id=%s code=%s: %s", course.id, code, summarize(archive))
    return archive


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _user_json(user: User, with_passwords: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_active": user.is_active,
        "created_at": _time(user.created_at),
    }
    if with_passwords:
        data["password_hash"] = user.password_hash
    return data


def _exercise_json(
    exercise: Exercise, versions: list[ExerciseVersion], course_id: int
) -> dict[str, Any]:
    return {
        "id": exercise.id,
        "slug": exercise.slug,
        "title": exercise.title,
        "owner": "course" if exercise.course_id == course_id else "shared",
        "is_builtin": exercise.is_builtin,
        "current_version": exercise.current_version,
        "created_at": _time(exercise.created_at),
        "updated_at": _time(exercise.updated_at),
        "versions": [
            {
                "version": v.version,
                "source_yaml": v.source_yaml,
                "created_by": v.created_by_id,
                "created_at": _time(v.created_at),
            }
            for v in versions
        ],
    }


def _quiz_json(quiz: Quiz, items: list[QuizItem]) -> dict[str, Any]:
    return {
        "id": quiz.id,
        "title": quiz.title,
        "description": quiz.description,
        "opens_at": _time(quiz.opens_at),
        "due_at": _time(quiz.due_at),
        "attempts_allowed": quiz.attempts_allowed,
        "penalty_per_retry": quiz.penalty_per_retry,
        "follow_through_credit": quiz.follow_through_credit,
        "late_policy": quiz.late_policy,
        "show_solutions": quiz.show_solutions,
        "is_published": quiz.is_published,
        "created_at": _time(quiz.created_at),
        "items": [
            {
                "id": i.id,
                "position": i.position,
                "exercise": i.exercise_id,
                "points": i.points,
                "part_points": i.part_points,
            }
            for i in sorted(items, key=lambda i: i.position)
        ],
    }


def _attempt_json(
    attempt: Attempt, submissions: list[Submission], overrides: list[GradeOverride]
) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "quiz_item": attempt.quiz_item_id,
        "user": attempt.user_id,
        "exercise_version": attempt.exercise_version,
        "seed": attempt.seed,
        "variant": attempt.variant,
        "created_at": _time(attempt.created_at),
        "submissions": [
            {
                "id": s.id,
                "part_id": s.part_id,
                "raw_answer": s.raw_answer,
                "idempotency_key": s.idempotency_key,
                "status": s.status,
                "verdict": s.verdict,
                "raw_score": s.raw_score,
                "score": s.score,
                "note": s.note,
                "feedback": s.feedback,
                "counts_as_try": s.counts_as_try,
                "is_late": s.is_late,
                "created_at": _time(s.created_at),
                "graded_at": _time(s.graded_at),
            }
            for s in submissions
        ],
        "overrides": [
            {
                "id": o.id,
                "part_id": o.part_id,
                "score": o.score,
                "reason": o.reason,
                "created_by": o.created_by_id,
                "created_at": _time(o.created_at),
            }
            for o in overrides
        ],
    }


# --------------------------------------------------------------------------- files


def write_archive(archive: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the archive as UTF-8 JSON, atomically (a crash leaves the old file or none)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(archive, out, ensure_ascii=False, indent=1, allow_nan=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_archive(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an archive file (not validated yet: :func:`import_course` does that).

    Raises:
        ArchiveError: the file is missing, unreadable, or not a JSON object.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArchiveError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{path}: cannot read it ({exc})") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise ArchiveError(f"{path}: not a JSON document ({exc})") from None
    if not isinstance(data, dict):
        raise ArchiveError(f"{path}: not a grader course archive (expected a JSON object)")
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


# --------------------------------------------------------------------------- validation


class _Checker:
    """Collects problems as ``path: message`` lines."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "expected an object")
            return {}
        return value

    def array(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, "expected a list")
            return []
        return value

    def field(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        kind: str,
        *,
        optional: bool = False,
        choices: Iterable[str] | None = None,
        max_length: int | None = None,
    ) -> Any:
        """Check ``data[key]`` is of ``kind`` (str, int, number, bool, time, json, dict)."""
        where = f"{path}.{key}"
        if key not in data:
            if not optional:
                self.fail(where, "missing")
            return None
        value = data[key]
        if value is None:
            if not optional:
                self.fail(where, "must not be null")
            return None
        ok = {
            "str": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value),
            "bool": isinstance(value, bool),
            "time": isinstance(value, str) and _is_time(value),
            "dict": isinstance(value, dict),
            "json": True,
        }[kind]
        if not ok:
            self.fail(where, f"expected {'an ISO time' if kind == 'time' else kind}")
            return None
        if choices is not None and value not in set(choices):
            self.fail(where, f"{value!r} is not one of {', '.join(sorted(choices))}")
        if max_length is not None and isinstance(value, str) and len(value) > max_length:
            self.fail(where, f"longer than {max_length} characters")
        return value


def _is_time(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def validate_archive(archive: Any) -> list[str]:
    """Every problem that stops an import, as ``path: message`` lines (empty when fine).

    The format name and version are checked first: an archive from a newer grader is
    refused with one message, not a list of fields this version does not know.
    """
    c = _Checker()
    if not isinstance(archive, dict):
        return ["archive: expected a JSON object"]
    if archive.get("format") != ARCHIVE_FORMAT:
        return [f"format: not a grader course archive (expected format {ARCHIVE_FORMAT!r})"]
    version = archive.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return ["format_version: missing or not a positive integer"]
    if version > FORMAT_VERSION:
        return [
            f"format_version: the archive has format {version}, written by a newer grader "
            f"(this one reads up to {FORMAT_VERSION}); upgrade grader to import it"
        ]

    course = c.obj(archive.get("course"), "course")
    c.field(course, "code", "course", "str", max_length=64)
    c.field(course, "title", "course", "str", max_length=200)
    c.field(course, "join_code", "course", "str", optional=True, max_length=32)
    c.field(course, "created_at", "course", "time", optional=True)

    user_ids: set[Any] = set()
    emails: set[str] = set()
    for n, raw in enumerate(c.array(archive.get("users"), "users")):
        path = f"users[{n}]"
        user = c.obj(raw, path)
        uid = c.field(user, "id", path, "int")
        if uid in user_ids:
            c.fail(f"{path}.id", f"duplicate id {uid}")
        user_ids.add(uid)
        email = c.field(user, "email", path, "str", max_length=320)
        if isinstance(email, str):
            if "@" not in email:
                c.fail(f"{path}.email", f"not an email address: {email!r}")
            if email.strip().lower() in emails:
                c.fail(f"{path}.email", f"duplicate email {email}")
            emails.add(email.strip().lower())
        c.field(user, "name", path, "str", max_length=200)
        c.field(user, "role", path, "str", choices=ROLES)
        c.field(user, "is_active", path, "bool", optional=True)
        c.field(user, "created_at", path, "time", optional=True)
        c.field(user, "password_hash", path, "str", optional=True, max_length=255)

    def user_ref(value: Any, where: str, *, optional: bool = False) -> None:
        if value is None and optional:
            return
        if value not in user_ids:
            c.fail(where, f"refers to user {value!r}, which the archive does not hold")

    enrolled: set[Any] = set()
    for n, raw in enumerate(c.array(archive.get("enrolments"), "enrolments")):
        path = f"enrolments[{n}]"
        enrolment = c.obj(raw, path)
        user_ref(enrolment.get("user"), f"{path}.user")
        if enrolment.get("user") in enrolled:
            c.fail(f"{path}.user", "enrolled twice")
        enrolled.add(enrolment.get("user"))
        c.field(enrolment, "role", path, "str", choices=COURSE_ROLES)
        c.field(enrolment, "created_at", path, "time", optional=True)

    exercise_versions: dict[Any, set[int]] = {}
    slugs: set[str] = set()
    for n, raw in enumerate(c.array(archive.get("exercises"), "exercises")):
        path = f"exercises[{n}]"
        exercise = c.obj(raw, path)
        eid = c.field(exercise, "id", path, "int")
        if eid in exercise_versions:
            c.fail(f"{path}.id", f"duplicate id {eid}")
        slug = c.field(exercise, "slug", path, "str", max_length=120)
        if slug in slugs:
            c.fail(f"{path}.slug", f"duplicate slug {slug}")
        if isinstance(slug, str):
            slugs.add(slug)
        c.field(exercise, "title", path, "str", max_length=200)
        c.field(exercise, "owner", path, "str", choices=("course", "shared"))
        c.field(exercise, "is_builtin", path, "bool", optional=True)
        c.field(exercise, "current_version", path, "int")
        c.field(exercise, "created_at", path, "time", optional=True)
        c.field(exercise, "updated_at", path, "time", optional=True)
        numbers: set[int] = set()
        for m, vraw in enumerate(c.array(exercise.get("versions"), f"{path}.versions")):
            vpath = f"{path}.versions[{m}]"
            version = c.obj(vraw, vpath)
            number = c.field(version, "version", vpath, "int")
            if number in numbers:
                c.fail(f"{vpath}.version", f"duplicate version {number}")
            if isinstance(number, int):
                numbers.add(number)
            c.field(version, "source_yaml", vpath, "str")
            user_ref(version.get("created_by"), f"{vpath}.created_by", optional=True)
            c.field(version, "created_at", vpath, "time", optional=True)
        if not numbers:
            c.fail(f"{path}.versions", "an exercise needs at least one version")
        exercise_versions[eid] = numbers

    items: dict[Any, Any] = {}  # item id -> exercise id
    for n, raw in enumerate(c.array(archive.get("quizzes"), "quizzes")):
        path = f"quizzes[{n}]"
        quiz = c.obj(raw, path)
        c.field(quiz, "id", path, "int")
        c.field(quiz, "title", path, "str", max_length=200)
        c.field(quiz, "description", path, "str", optional=True)
        c.field(quiz, "opens_at", path, "time", optional=True)
        c.field(quiz, "due_at", path, "time", optional=True)
        c.field(quiz, "attempts_allowed", path, "int", optional=True)
        c.field(quiz, "penalty_per_retry", path, "number", optional=True)
        credit = c.field(quiz, "follow_through_credit", path, "number", optional=True)
        if credit is not None and not 0.0 <= float(credit) <= 1.0:
            c.fail(f"{path}.follow_through_credit", "must be between 0 and 1")
        c.field(quiz, "late_policy", path, "dict", optional=True)
        c.field(quiz, "show_solutions", path, "str", optional=True, max_length=20)
        c.field(quiz, "is_published", path, "bool", optional=True)
        c.field(quiz, "created_at", path, "time", optional=True)
        positions: set[int] = set()
        for m, iraw in enumerate(c.array(quiz.get("items"), f"{path}.items")):
            ipath = f"{path}.items[{m}]"
            item = c.obj(iraw, ipath)
            iid = c.field(item, "id", ipath, "int")
            if iid in items:
                c.fail(f"{ipath}.id", f"duplicate id {iid}")
            position = c.field(item, "position", ipath, "int")
            if position in positions:
                c.fail(f"{ipath}.position", f"duplicate position {position}")
            if isinstance(position, int):
                positions.add(position)
            if item.get("exercise") not in exercise_versions:
                c.fail(f"{ipath}.exercise", "refers to an exercise the archive does not hold")
            c.field(item, "points", ipath, "number")
            part_points = c.field(item, "part_points", ipath, "dict", optional=True)
            if isinstance(part_points, dict) and not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in part_points.values()
            ):
                c.fail(f"{ipath}.part_points", "expected numbers")
            items[iid] = item.get("exercise")

    seen_attempts: set[tuple[Any, Any]] = set()
    for n, raw in enumerate(c.array(archive.get("attempts"), "attempts")):
        path = f"attempts[{n}]"
        attempt = c.obj(raw, path)
        c.field(attempt, "id", path, "int")
        item_id = attempt.get("quiz_item")
        if item_id not in items:
            c.fail(f"{path}.quiz_item", "refers to a quiz item the archive does not hold")
        user_ref(attempt.get("user"), f"{path}.user")
        if (item_id, attempt.get("user")) in seen_attempts:
            c.fail(path, "a second attempt of the same user at the same item")
        seen_attempts.add((item_id, attempt.get("user")))
        number = c.field(attempt, "exercise_version", path, "int")
        if item_id in items and number not in exercise_versions.get(items[item_id], set()):
            c.fail(f"{path}.exercise_version", f"version {number} is not in the archive")
        c.field(attempt, "seed", path, "int")
        c.field(attempt, "created_at", path, "time", optional=True)
        part_ids = _check_variant(c, attempt.get("variant"), f"{path}.variant")
        keys: set[str] = set()
        for m, sraw in enumerate(c.array(attempt.get("submissions"), f"{path}.submissions")):
            spath = f"{path}.submissions[{m}]"
            sub = c.obj(sraw, spath)
            c.field(sub, "id", spath, "int")
            part = c.field(sub, "part_id", spath, "str", max_length=64)
            if part_ids is not None and part is not None and part not in part_ids:
                c.fail(f"{spath}.part_id", f"the variant has no part {part!r}")
            c.field(sub, "raw_answer", spath, "str")
            key = c.field(sub, "idempotency_key", spath, "str", optional=True, max_length=64)
            if key is not None and key in keys:
                c.fail(f"{spath}.idempotency_key", "used twice in one attempt")
            if isinstance(key, str):
                keys.add(key)
            c.field(sub, "status", spath, "str", choices=SUBMISSION_STATES)
            c.field(sub, "verdict", spath, "str", optional=True, max_length=20)
            c.field(sub, "raw_score", spath, "number", optional=True)
            c.field(sub, "score", spath, "number", optional=True)
            c.field(sub, "note", spath, "str", optional=True, max_length=120)
            c.field(sub, "feedback", spath, "dict", optional=True)
            c.field(sub, "counts_as_try", spath, "bool", optional=True)
            c.field(sub, "is_late", spath, "bool", optional=True)
            c.field(sub, "created_at", spath, "time", optional=True)
            c.field(sub, "graded_at", spath, "time", optional=True)
        for m, oraw in enumerate(c.array(attempt.get("overrides"), f"{path}.overrides")):
            opath = f"{path}.overrides[{m}]"
            override = c.obj(oraw, opath)
            c.field(override, "id", opath, "int")
            part = c.field(override, "part_id", opath, "str", max_length=64)
            if part_ids is not None and part is not None and part not in part_ids:
                c.fail(f"{opath}.part_id", f"the variant has no part {part!r}")
            c.field(override, "score", opath, "number")
            c.field(override, "reason", opath, "str")
            user_ref(override.get("created_by"), f"{opath}.created_by", optional=True)
            c.field(override, "created_at", opath, "time", optional=True)
    return c.problems


def _check_variant(c: _Checker, variant: Any, path: str) -> set[str] | None:
    """The variant must be one grading can read; returns its part ids."""
    from grader.exercises import Variant

    if not isinstance(variant, dict):
        c.fail(path, "expected an object")
        return None
    try:
        parsed = Variant.from_json(variant)
    except Exception as exc:  # any failure means grading could not read it either
        c.fail(path, f"not a variant grading can read ({type(exc).__name__}: {exc})")
        return None
    return {part.id for part in parsed.parts}


# --------------------------------------------------------------------------- import


@writes
def import_course(
    session: Session, archive: Mapping[str, Any], *, with_passwords: bool = False
) -> ImportReport:
    """Create the archived course in this database, with new ids; all or nothing.

    Args:
        with_passwords: store the archive's password hashes for the users it creates
            (otherwise they sign in through the LMS or have a password set for them).

    Raises:
        ArchiveError: the archive is malformed, from a newer grader, or conflicts with
            this database (course code or join code in use, a course exercise's slug
            taken). Nothing is written.
    """
    problems = validate_archive(archive)
    if problems:
        raise ArchiveError(_problem_message("the archive is not valid", problems))
    _check_conflicts(session, archive)
    try:
        report = _write(session, archive, with_passwords=with_passwords)
        session.commit()
    except ArchiveError:
        session.rollback()
        raise
    except SQLAlchemyError as exc:
        session.rollback()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ArchiveError(
            f"the database refused the import, nothing was written: {reason}"
        ) from None
    logger.info(
        "imported course code=%s as course_id=%s: %s",
        report.summary.course_code,
        report.course_id,
        report.summary.describe(),
    )
    return report


def _problem_message(headline: str, problems: list[str]) -> str:
    shown = problems[:MAX_LISTED_PROBLEMS]
    more = len(problems) - len(shown)
    lines = [f"{headline}; nothing was imported:", *(f"  {p}" for p in shown)]
    if more:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)


def _check_conflicts(session: Session, archive: Mapping[str, Any]) -> None:
    course = archive["course"]
    problems: list[str] = []
    if session.scalar(select(Course.id).where(Course.code == course["code"])) is not None:
        problems.append(f"course.code: a course with code {course['code']!r} exists already")
    join_code = course.get("join_code")
    if join_code and session.scalar(select(Course.id).where(Course.join_code == join_code)):
        problems.append(f"course.join_code: join code {join_code!r} is used by another course")
    owned = [e["slug"] for e in archive["exercises"] if e["owner"] == "course"]
    if owned:
        taken = session.scalars(select(Exercise.slug).where(Exercise.slug.in_(owned))).all()
        problems += [f"exercises: slug {slug!r} is taken in this database" for slug in taken]
    if problems:
        raise ArchiveError(_problem_message("the archive conflicts with this database", problems))


def _write(session: Session, archive: Mapping[str, Any], *, with_passwords: bool) -> ImportReport:
    data = archive["course"]
    course = Course(code=data["code"], title=data["title"], join_code=data.get("join_code"))
    _stamp(course, data, "created_at")
    session.add(course)
    session.flush()

    # People: reuse by email, create the others.
    user_map: dict[int, int] = {}
    created = reused = 0
    emails = [u["email"].strip().lower() for u in archive["users"]]
    existing = {
        u.email.lower(): u
        for chunk in _chunks_str(emails, 500)
        for u in session.scalars(select(User).where(func.lower(User.email).in_(chunk)))
    }
    for entry in archive["users"]:
        email = entry["email"].strip().lower()
        user = existing.get(email)
        if user is None:
            user = User(
                email=email,
                name=entry["name"],
                role="instructor" if entry["role"] == "admin" else entry["role"],
                is_active=entry.get("is_active", True),
                password_hash=entry.get("password_hash") if with_passwords else None,
            )
            _stamp(user, entry, "created_at")
            session.add(user)
            session.flush()
            existing[email] = user
            created += 1
        else:
            reused += 1
        user_map[entry["id"]] = user.id

    def user_id(ref: Any) -> int | None:
        return None if ref is None else user_map[ref]

    for entry in archive["enrolments"]:
        enrolment = Enrolment(
            course_id=course.id, user_id=user_map[entry["user"]], role=entry["role"]
        )
        _stamp(enrolment, entry, "created_at")
        session.add(enrolment)

    # Exercises and their versions; version numbers may change for shared exercises.
    exercise_map: dict[int, int] = {}
    version_map: dict[tuple[int, int], int] = {}
    added = reused_versions = 0
    for entry in archive["exercises"]:
        exercise = session.scalar(select(Exercise).where(Exercise.slug == entry["slug"]))
        if exercise is None:
            exercise = Exercise(
                slug=entry["slug"],
                title=entry["title"],
                course_id=course.id if entry["owner"] == "course" else None,
                current_version=entry["current_version"],
                is_builtin=bool(entry.get("is_builtin", False)),
            )
            _stamp(exercise, entry, "created_at", "updated_at")
            session.add(exercise)
            session.flush()
            for v in entry["versions"]:
                version = ExerciseVersion(
                    exercise_id=exercise.id,
                    version=v["version"],
                    source_yaml=v["source_yaml"],
                    created_by_id=user_id(v.get("created_by")),
                )
                _stamp(version, v, "created_at")
                session.add(version)
                version_map[(entry["id"], v["version"])] = v["version"]
                added += 1
        else:
            if exercise.course_id is not None:
                # Only shared exercises are matched; a course's own would need a new slug.
                raise ArchiveError(
                    f"exercise {entry['slug']!r} belongs to another course in this database; "
                    "nothing was imported"
                )
            have = {
                v.source_yaml: v.version
                for v in session.scalars(
                    select(ExerciseVersion).where(ExerciseVersion.exercise_id == exercise.id)
                )
            }
            top = max(have.values(), default=0)
            for v in entry["versions"]:
                number = have.get(v["source_yaml"])
                if number is None:
                    top += 1
                    number = top
                    version = ExerciseVersion(
                        exercise_id=exercise.id,
                        version=number,
                        source_yaml=v["source_yaml"],
                        created_by_id=user_id(v.get("created_by")),
                    )
                    _stamp(version, v, "created_at")
                    session.add(version)
                    have[v["source_yaml"]] = number
                    added += 1
                else:
                    reused_versions += 1
                version_map[(entry["id"], v["version"])] = number
        exercise_map[entry["id"]] = exercise.id
    session.flush()

    item_map: dict[int, int] = {}
    item_exercise: dict[int, int] = {}
    for entry in archive["quizzes"]:
        quiz = Quiz(
            course_id=course.id,
            title=entry["title"],
            description=entry.get("description") or "",
            opens_at=_parse_time(entry.get("opens_at")),
            due_at=_parse_time(entry.get("due_at")),
            attempts_allowed=entry.get("attempts_allowed"),
            penalty_per_retry=float(entry.get("penalty_per_retry") or 0.0),
            # older backups have none: full credit, the column's default
            follow_through_credit=_credit(entry.get("follow_through_credit")),
            late_policy=entry.get("late_policy") or {},
            show_solutions=entry.get("show_solutions") or "after_due",
            is_published=bool(entry.get("is_published", False)),
        )
        _stamp(quiz, entry, "created_at")
        session.add(quiz)
        session.flush()
        for i in entry["items"]:
            item = QuizItem(
                quiz_id=quiz.id,
                position=i["position"],
                exercise_id=exercise_map[i["exercise"]],
                points=float(i["points"]),
                part_points=i.get("part_points"),
            )
            session.add(item)
            session.flush()
            item_map[i["id"]] = item.id
            item_exercise[i["id"]] = i["exercise"]

    n_subs = n_overrides = 0
    for entry in archive["attempts"]:
        attempt = Attempt(
            quiz_item_id=item_map[entry["quiz_item"]],
            user_id=user_map[entry["user"]],
            exercise_version=version_map[
                (item_exercise[entry["quiz_item"]], entry["exercise_version"])
            ],
            seed=entry["seed"],
            variant=entry["variant"],
        )
        _stamp(attempt, entry, "created_at")
        session.add(attempt)
        session.flush()
        for s in entry["submissions"]:
            sub = Submission(
                attempt_id=attempt.id,
                part_id=s["part_id"],
                raw_answer=s["raw_answer"],
                idempotency_key=s.get("idempotency_key"),
                status=s["status"],
                verdict=s.get("verdict"),
                raw_score=s.get("raw_score"),
                score=s.get("score"),
                note=s.get("note"),
                feedback=s.get("feedback"),
                counts_as_try=bool(s.get("counts_as_try", True)),
                is_late=bool(s.get("is_late", False)),
                graded_at=_parse_time(s.get("graded_at")),
            )
            _stamp(sub, s, "created_at")
            session.add(sub)
            n_subs += 1
        for o in entry["overrides"]:
            override = GradeOverride(
                attempt_id=attempt.id,
                part_id=o["part_id"],
                score=float(o["score"]),
                reason=o["reason"],
                created_by_id=user_id(o.get("created_by")),
            )
            _stamp(override, o, "created_at")
            session.add(override)
            n_overrides += 1
        # Flush per attempt: memory stays flat and ids follow the archive's order.
        session.flush()

    return ImportReport(
        course_id=course.id,
        summary=summarize(archive),
        users_created=created,
        users_reused=reused,
        versions_added=added,
        versions_reused=reused_versions,
    )


def _credit(value: Any) -> float:
    """A quiz's follow-through credit; none given (null, or an older archive) is full."""
    return 1.0 if value is None else float(value)


def _chunks_str(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _stamp(obj: Any, data: Mapping[str, Any], *keys: str) -> None:
    """Copy stored timestamps; a missing one keeps the model's default (now)."""
    for key in keys:
        value = _parse_time(data.get(key))
        if value is not None:
            setattr(obj, key, value)


# --------------------------------------------------------------------------- comparing


def canonical(archive: Mapping[str, Any]) -> dict[str, Any]:
    """The archive with ids replaced by positions and export metadata dropped.

    Two archives of the same course taken from different databases are equal under
    this form exactly when they hold the same data ("equal modulo ids").
    """
    users = {u["id"]: n for n, u in enumerate(archive["users"])}
    exercises = {e["id"]: n for n, e in enumerate(archive["exercises"])}
    items: dict[Any, tuple[int, int]] = {}
    for qn, quiz in enumerate(archive["quizzes"]):
        for item in quiz["items"]:
            items[item["id"]] = (qn, item["position"])

    def user(ref: Any) -> Any:
        return None if ref is None else users[ref]

    def strip(entry: Mapping[str, Any], **replace: Callable[[Any], Any]) -> dict[str, Any]:
        out = {k: v for k, v in entry.items() if k != "id"}
        for key, fn in replace.items():
            out[key] = fn(out.get(key))
        return out

    return {
        "format_version": archive["format_version"],
        "course": strip(archive["course"]),
        "users": [strip(u) for u in archive["users"]],
        "enrolments": [strip(e, user=user) for e in archive["enrolments"]],
        "exercises": [
            strip(
                e,
                versions=lambda vs: [strip(v, created_by=user) for v in vs],
            )
            for e in archive["exercises"]
        ],
        "quizzes": [
            strip(
                q,
                items=lambda its: [strip(i, exercise=lambda ref: exercises[ref]) for i in its],
            )
            for q in archive["quizzes"]
        ],
        "attempts": [
            strip(
                a,
                quiz_item=lambda ref: items[ref],
                user=user,
                submissions=lambda subs: [strip(s) for s in subs],
                overrides=lambda ovs: [strip(o, created_by=user) for o in ovs],
            )
            for a in archive["attempts"]
        ],
    }


__all__ = [
    "ARCHIVE_FORMAT",
    "FORMAT_VERSION",
    "ArchiveError",
    "ArchiveSummary",
    "ImportReport",
    "canonical",
    "export_course",
    "import_course",
    "read_archive",
    "summarize",
    "validate_archive",
    "write_archive",
]
