"""``grader export`` / ``grader import``: a course survives the trip between databases.

The round trip exports from SQLite, imports into the real PostgreSQL server and exports
again: the two archives are equal once ids are set aside. Refusals are whole: nothing of
a bad, newer or conflicting archive is written.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Attempt
from grader.models import Course
from grader.models import Exercise
from grader.models import ExerciseVersion
from grader.models import Quiz
from grader.models import Submission
from grader.models import User
from grader.services import backup
from grader.services.backup import ArchiveError
from tests.ops import richcourse

pytestmark = pytest.mark.postgres


def _counts(session: Session) -> dict[str, int]:
    from grader.db import Base

    return {
        name: int(session.scalar(select(func.count()).select_from(table)) or 0)
        for name, table in Base.metadata.tables.items()
    }


@dataclasses.dataclass(frozen=True)
class Source:
    code: str
    archive: dict[str, Any]
    with_passwords: dict[str, Any]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    """The rich course built once in its own SQLite file, exported both ways."""
    from grader.db import make_engine
    from grader.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('backup')}/source.sqlite3")
    try:
        with engine.begin() as conn:
            upgrade(conn)
        with Session(engine, expire_on_commit=False) as session:
            rich = richcourse.build(session)
            plain = backup.export_course(session, rich.code)
        with Session(engine) as session:
            hashed = backup.export_course(session, rich.code, with_passwords=True)
        yield Source(rich.code, plain, hashed)
    finally:
        engine.dispose()


@pytest.fixture
def archive(source: Source) -> dict[str, Any]:
    return copy.deepcopy(source.archive)


def test_archive_holds_the_whole_course(archive: dict[str, Any]) -> None:
    summary = backup.summarize(archive)
    # prof, ta, 3 students, the late student; the one who left is kept for their work
    assert summary.users == 6
    assert len(archive["enrolments"]) == 5
    assert summary.exercises == 3
    own = next(e for e in archive["exercises"] if e["owner"] == "course")
    assert [v["version"] for v in own["versions"]] == [1, 2]
    assert summary.quizzes == 2
    assert summary.items == 3
    assert summary.attempts == 3 * 3 + 1
    statuses = {s["status"] for a in archive["attempts"] for s in a["submissions"]}
    assert statuses == {"graded", "invalid", "pending"}
    assert summary.overrides == 1
    assert any(s["is_late"] for a in archive["attempts"] for s in a["submissions"])
    assert all("password_hash" not in u for u in archive["users"])
    # Every attempt carries its variant (with the key) and seed.
    assert all(a["variant"]["parts"][0]["key_text"] for a in archive["attempts"])
    assert all(isinstance(a["seed"], int) for a in archive["attempts"])
    json.dumps(archive, allow_nan=False)  # plain JSON


def test_round_trip_sqlite_to_postgresql_is_lossless(
    archive: dict[str, Any], pg_session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "course.json"
    backup.write_archive(archive, path)
    report = backup.import_course(pg_session, backup.read_archive(path))
    assert report.users_created == 6
    again = backup.export_course(pg_session, archive["course"]["code"])
    assert backup.canonical(again) == backup.canonical(archive)
    # ids were remapped, not copied: the course got the target's next id
    course = pg_session.get(Course, report.course_id)
    assert course is not None
    assert course.code == archive["course"]["code"]
    # and grading still works on the imported rows: the pending one can be finished
    pending = pg_session.scalar(select(Submission).where(Submission.status == "pending"))
    assert pending is not None
    from grader.services import submissions

    result = submissions.regrade_pending(pg_session)
    assert result.graded == 1
    assert result.failed == 0


def test_passwords_travel_only_when_asked(source: Source, pg_session: Session) -> None:
    archive = copy.deepcopy(source.with_passwords)
    hashes = {u["email"]: u["password_hash"] for u in archive["users"]}
    assert hashes["rich-prof@example.com"].startswith("$argon2id$")
    backup.import_course(pg_session, archive)  # without the flag: no hash stored
    prof = pg_session.scalar(select(User).where(User.email == "rich-prof@example.com"))
    assert prof is not None
    assert prof.password_hash is None


def test_passwords_imported_with_the_flag(source: Source, pg_session: Session) -> None:
    archive = copy.deepcopy(source.with_passwords)
    backup.import_course(pg_session, archive, with_passwords=True)
    prof = pg_session.scalar(select(User).where(User.email == "rich-prof@example.com"))
    assert prof is not None
    from grader.services.accounts import verify_password

    assert verify_password(prof, "prof-password-1")


def test_existing_library_versions_are_reused_and_new_ones_added(
    archive: dict[str, Any], pg_session: Session
) -> None:
    from tests.support.student_world import load_exercise

    # The target has the symbolic built-in as archived, and the numeric one with a
    # different first version.
    load_exercise(pg_session, richcourse.SYMBOLIC)
    exercise = load_exercise(pg_session)
    first = pg_session.scalar(
        select(ExerciseVersion).where(ExerciseVersion.exercise_id == exercise.id)
    )
    assert first is not None
    first.source_yaml += "\n# edited on this server\n"
    pg_session.commit()
    report = backup.import_course(pg_session, archive)
    assert report.versions_reused == 1  # the symbolic one
    assert report.versions_added == 3  # the numeric one's archived text, the course's 1 and 2
    versions = pg_session.scalars(
        select(ExerciseVersion)
        .where(ExerciseVersion.exercise_id == exercise.id)
        .order_by(ExerciseVersion.version)
    ).all()
    assert [v.version for v in versions] == [1, 2]
    assert exercise.current_version == 1  # the target's library is left as it was
    # The imported attempts point at the version with the archived text.
    original = next(e for e in archive["exercises"] if e["slug"] == exercise.slug)
    text = original["versions"][0]["source_yaml"]
    imported = pg_session.scalars(
        select(Attempt.exercise_version)
        .join(Attempt.quiz_item)
        .where(Attempt.quiz_item.has(exercise_id=exercise.id))
    ).all()
    assert imported
    assert set(imported) == {2}
    assert versions[1].source_yaml == text


def _refused(session: Session, archive: Any, *needles: str) -> None:
    before = _counts(session)
    with pytest.raises(ArchiveError) as info:
        backup.import_course(session, archive)
    message = info.value.message
    assert "nothing was imported" in message or "nothing was written" in message
    for needle in needles:
        assert needle in message, message
    assert _counts(session) == before


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda a: a.update(format="something-else"), "not a grader course archive"),
        (lambda a: a.update(format_version=99), "newer grader"),
        (lambda a: a.pop("format_version"), "format_version"),
        (lambda a: a["course"].pop("code"), "course.code: missing"),
        (lambda a: a["users"][0].update(email="nobody"), "not an email"),
        (lambda a: a["users"][1].update(role="emperor"), "is not one of"),
        (lambda a: a["enrolments"][0].update(user=424242), "does not hold"),
        (lambda a: a["exercises"][0].update(versions=[]), "at least one version"),
        (lambda a: a["quizzes"][0]["items"][0].update(exercise=-1), "exercise the archive"),
        (lambda a: a["attempts"][0].update(variant={"parts": "no"}), "variant"),
        (lambda a: a["attempts"][0].update(exercise_version=77), "version 77"),
        (lambda a: a["attempts"][0]["submissions"][0].update(score="1.0"), "expected number"),
        (lambda a: a["attempts"][0]["submissions"][0].update(status="lost"), "is not one of"),
        (lambda a: a["attempts"][0]["submissions"][0].update(part_id="zz"), "no part 'zz'"),
        (lambda a: a["attempts"][-1]["overrides"][0].update(created_by=9999), "does not hold"),
        (lambda a: a["attempts"][1].update(created_at="yesterday"), "ISO time"),
        (lambda a: a.update(attempts={}), "expected a list"),
        (lambda a: a["quizzes"][0].update(follow_through_credit=1.5), "between 0 and 1"),
        (lambda a: a["quizzes"][0].update(follow_through_credit=-0.5), "between 0 and 1"),
    ],
)
def test_bad_archives_are_refused_whole(
    archive: dict[str, Any], pg_session: Session, damage: Any, needle: str
) -> None:
    broken = copy.deepcopy(archive)
    damage(broken)
    _refused(pg_session, broken, needle)


def test_a_quiz_without_a_follow_through_credit_gets_full_credit(
    archive: dict[str, Any], pg_session: Session
) -> None:
    # "optional" lets the field be null; the import read it with float() and crashed
    older = copy.deepcopy(archive)
    older["quizzes"][0]["follow_through_credit"] = None
    older["quizzes"][1].pop("follow_through_credit", None)
    backup.import_course(pg_session, older)
    titles = {q["title"] for q in older["quizzes"][:2]}
    credits = pg_session.scalars(
        select(Quiz.follow_through_credit).where(Quiz.title.in_(titles))
    ).all()
    assert len(credits) == 2
    assert all(c == 1.0 for c in credits)


def test_a_course_already_there_is_a_conflict(archive: dict[str, Any], pg_session: Session) -> None:
    backup.import_course(pg_session, archive)
    _refused(pg_session, archive, "exists already", "join code", "slug 'rich-own' is taken")


def test_a_late_failure_rolls_everything_back(archive: dict[str, Any], pg_session: Session) -> None:
    """A row the database itself refuses, past validation, undoes every row before it.

    SQLite stores a NUL character in an answer; PostgreSQL text cannot hold one.
    """
    archive["attempts"][-1]["submissions"][-1]["raw_answer"] = "0.5\x00"
    _refused(pg_session, archive, "the database refused the import", "NUL")


def test_emails_differing_only_in_case_are_one_person(
    archive: dict[str, Any], pg_session: Session
) -> None:
    clash = copy.deepcopy(archive["users"][-1])
    clash.update(id=31337, email=clash["email"].upper())
    archive["users"].append(clash)
    _refused(pg_session, archive, "duplicate email")


def test_files_that_are_not_archives(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ArchiveError, match="no such file"):
        backup.read_archive(missing)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ArchiveError, match="not a JSON document"):
        backup.read_archive(bad)
    nan = tmp_path / "nan.json"
    nan.write_text('{"x": NaN}', encoding="utf-8")
    with pytest.raises(ArchiveError, match="NaN"):
        backup.read_archive(nan)
    listed = tmp_path / "list.json"
    listed.write_text("[]", encoding="utf-8")
    with pytest.raises(ArchiveError, match="expected a JSON object"):
        backup.read_archive(listed)


def test_admins_are_not_created_from_an_archive(
    archive: dict[str, Any], pg_session: Session
) -> None:
    archive["users"][0]["role"] = "admin"
    backup.import_course(pg_session, archive)
    user = pg_session.scalar(select(User).where(User.email == archive["users"][0]["email"]))
    assert user is not None
    assert user.role == "instructor"


def test_exercises_of_another_course_are_not_taken_over(
    archive: dict[str, Any], pg_session: Session
) -> None:
    from tests.support.student_world import make_world

    world = make_world(pg_session, prefix="zz")
    # rename our shared exercise to the slug of an exercise owned by another course
    owned = Exercise(slug="zz-owned", title="t", course_id=world.course.id, current_version=1)
    pg_session.add(owned)
    pg_session.commit()
    shared = next(e for e in archive["exercises"] if e["owner"] == "shared")
    shared["slug"] = "zz-owned"
    _refused(pg_session, archive, "belongs to another course")
