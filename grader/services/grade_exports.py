"""Course grades for the API: as JSON, and as CSV in the import formats of four LMSs.

The numbers come from the gradebook service (``grader.services.gradebook`` for staff,
``grader.services.attempts.quiz_scores`` for a student's own row); this module only
shapes them. One column per quiz, in points; an empty cell means "no graded answer yet"
(every LMS below treats an empty cell as "leave this grade alone", not as zero).

What each dialect follows (researched from each LMS's own documentation and exports;
see also the API's OpenAPI document):

``canvas``
    Canvas's gradebook export/import: ``Student, ID, SIS User ID, SIS Login ID, Section``
    then one column per assignment, and a second row starting ``Points Possible``.
    Canvas matches a row to a student by ``ID`` / ``SIS User ID`` / ``SIS Login ID``; we
    know none of Canvas's ids, so the student key goes in ``SIS Login ID`` (institutions
    usually make that the email or the campus login) and Canvas's import preview lets the
    instructor resolve any row it cannot match. A header ``Title (123)`` would be read as
    "assignment id 123", so a trailing parenthesised number in a quiz title becomes
    ``[123]``; new columns create new assignments.
``moodle``
    Moodle's "Import grades: CSV file": any header, the instructor maps the identifying
    column ("Email address" -> email address) and each grade column to a grade item or a
    new one on the import page. We write ``First name, Last name, Email address`` (as
    Moodle's own plain-text export does) then one column per quiz.
``brightspace``
    Brightspace (D2L) "Import grades": ``OrgDefinedId, Username`` first, one
    ``<item> Points Grade`` column per item (``<Numeric MaxPoints:N>`` appended so an
    unknown item is created with the right maximum) and a last ``End-of-Line Indicator``
    column holding ``#``. Identifiers are written with a leading ``#`` as Brightspace's
    own export does (it strips it), so spreadsheets keep leading zeros.
``blackboard``
    Blackboard Learn Grade Center "Work offline -> Upload": every field quoted; the
    ``Username`` column is the only key Blackboard matches students on; columns are
    ``Title [Total Pts: N Score]`` as in its downloads. Without a ``|<column id>`` suffix
    Blackboard creates a new column (Original: a text column with 0 points until edited);
    ``|``, ``[`` and ``]`` are taken out of titles so a title cannot pose as a column id.

Students are keyed by ``email`` (default) or ``login`` (the part of the email before the
``@``, which is the LMS username at many institutions). Every text cell passes the
gradebook's formula-injection guard (text starting ``= + - @``, tab or CR gets a leading
``'``). Files are UTF-8 without a byte-order mark (a BOM would become part of the first
header name in some importers) and use CRLF line ends.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import NotFound
from grader.models import Course
from grader.models import User
from grader.services import attempts as attempts_service
from grader.services import courses as courses_service
from grader.services import gradebook
from grader.services import permissions
from grader.services.enrolments import require_staff
from grader.services.spreadsheet_cells import safe_cell

DIALECTS = ("canvas", "moodle", "brightspace", "blackboard")
STUDENT_KEYS = ("email", "login")


@dataclasses.dataclass(frozen=True)
class GradeColumn:
    quiz_id: int
    title: str
    max_points: float
    is_published: bool


@dataclasses.dataclass(frozen=True)
class GradeRow:
    user_id: int
    name: str
    email: str
    scores: list[float | None]
    total: float
    #: per quiz: of its score, the points earned by follow-through (None: not started)
    follow_points: list[float | None] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class GradeTable:
    """Students x quizzes of one course, in points."""

    course: Course
    columns: list[GradeColumn]
    rows: list[GradeRow]
    max_total: float


def course_grades(
    session: Session, user: User, course_id: int, *, quiz_ids: Sequence[int] | None = None
) -> GradeTable:
    """The course's grades as ``user`` may see them: every student for course staff, the
    user's own row (visible quizzes only) for a student.

    Raises:
        NotFound: no such course.
        Forbidden: the user is not a member of the course.
    """
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"no course {course_id}")
    permissions.require_member(session, user, course_id)
    if permissions.is_course_staff(session, user, course_id):
        book = gradebook.course_gradebook(session, user, course_id)
        columns = [
            GradeColumn(c.quiz_id, c.title, c.max_points, c.is_published) for c in book.columns
        ]
        rows = [
            GradeRow(user_id, name, email, list(values), total, list(follow))
            for (user_id, name, email, values, total), follow in zip(
                book.rows, book.follow, strict=True
            )
        ]
    else:
        # The gradebook's column order (oldest quiz first), not the dashboard's (by due date).
        quizzes = sorted(
            courses_service.visible_quizzes(session, user, course),
            key=lambda q: (q.created_at, q.id),
        )
        scores = attempts_service.quiz_scores(session, user, quizzes)
        columns = [
            GradeColumn(q.id, q.title, scores[q.id].possible, q.is_published) for q in quizzes
        ]
        values = [scores[q.id].earned if scores[q.id].started else None for q in quizzes]
        follow = [scores[q.id].follow if scores[q.id].started else None for q in quizzes]
        rows = [
            GradeRow(
                user.id,
                user.name,
                user.email,
                values,
                sum(v for v in values if v is not None),
                follow,
            )
        ]
    if quiz_ids:
        wanted = set(quiz_ids)
        keep = [i for i, c in enumerate(columns) if c.quiz_id in wanted]
        missing = wanted - {columns[i].quiz_id for i in keep}
        if missing:
            raise NotFound(f"no quiz {min(missing)} in course {course_id}")
        columns = [columns[i] for i in keep]
        rows = [
            GradeRow(
                r.user_id,
                r.name,
                r.email,
                [r.scores[i] for i in keep],
                sum(r.scores[i] or 0.0 for i in keep),
                [r.follow_points[i] for i in keep],
            )
            for r in rows
        ]
    return GradeTable(course, columns, rows, sum(c.max_points for c in columns))


# --------------------------------------------------------------------------- CSV dialects


def number(value: float | None) -> str:
    """Points as plain decimal text (no exponent), at most 4 decimals; empty for None."""
    if value is None:
        return ""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def split_name(name: str) -> tuple[str, str]:
    """(first, last): the last word is the family name; a single word is a first name."""
    parts = name.strip().rsplit(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")


def student_key(email: str, key: str) -> str:
    """The identifier the LMS matches on: the email, or its part before the ``@``."""
    return email.split("@", 1)[0] if key == "login" else email


def _plain_title(title: str) -> str:
    # Control characters (newlines included) would break a header row in some importers.
    return re.sub(r"[\x00-\x1f\x7f]+", " ", title).strip() or "Quiz"


def _canvas_title(title: str) -> str:
    return re.sub(r"\((\d+)\)\s*$", r"[\1]", _plain_title(title))


def _brightspace_title(title: str, max_points: float) -> str:
    name = re.sub(r"[<>]", "", _plain_title(title)).strip() or "Quiz"
    spec = f" <Numeric MaxPoints:{number(max_points)}>" if max_points > 0 else ""
    return f"{name} Points Grade{spec}"


def _blackboard_title(title: str, max_points: float) -> str:
    name = re.sub(r"[|\[\]]", " ", _plain_title(title))
    name = re.sub(r"\s+", " ", name).strip() or "Quiz"
    return f"{name} [Total Pts: {number(max_points)} Score]"


def render_csv(table: GradeTable, lms: str, *, key: str = "email") -> str:
    """The table as CSV text in ``lms``'s import dialect.

    Raises:
        BadRequest: unknown dialect or student key.
    """
    if lms not in DIALECTS:
        raise BadRequest(f"lms must be one of {', '.join(DIALECTS)}, not {lms!r}")
    if key not in STUDENT_KEYS:
        raise BadRequest(f"student_key must be one of {', '.join(STUDENT_KEYS)}, not {key!r}")
    out = io.StringIO()
    writer = csv.writer(
        out,
        lineterminator="\r\n",
        # Blackboard's documentation asks for every field in quotes.
        quoting=csv.QUOTE_ALL if lms == "blackboard" else csv.QUOTE_MINIMAL,
    )
    cols = table.columns

    def text(value: str) -> str:
        return safe_cell(value)

    if lms == "canvas":
        writer.writerow(
            ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
            + [text(_canvas_title(c.title)) for c in cols]
        )
        writer.writerow(["Points Possible", "", "", "", ""] + [number(c.max_points) for c in cols])
        for r in table.rows:
            first, last = split_name(r.name)
            sortable = f"{last}, {first}" if last else first
            writer.writerow(
                [text(sortable), "", "", text(student_key(r.email, key)), ""]
                + [number(s) for s in r.scores]
            )
    elif lms == "moodle":
        writer.writerow(
            ["First name", "Last name", "Email address"]
            + [text(_plain_title(c.title)) for c in cols]
        )
        for r in table.rows:
            first, last = split_name(r.name)
            writer.writerow(
                [text(first), text(last), text(r.email)] + [number(s) for s in r.scores]
            )
    elif lms == "brightspace":
        writer.writerow(
            ["OrgDefinedId", "Username"]
            + [text(_brightspace_title(c.title, c.max_points)) for c in cols]
            + ["End-of-Line Indicator"]
        )
        for r in table.rows:
            writer.writerow(
                ["", "#" + student_key(r.email, key)] + [number(s) for s in r.scores] + ["#"]
            )
    else:  # blackboard
        writer.writerow(
            ["Last Name", "First Name", "Username", "Student ID"]
            + [text(_blackboard_title(c.title, c.max_points)) for c in cols]
        )
        for r in table.rows:
            first, last = split_name(r.name)
            writer.writerow(
                [text(last), text(first), text(student_key(r.email, key)), ""]
                + [number(s) for s in r.scores]
            )
    return out.getvalue()


def csv_filename(course: Course, lms: str) -> str:
    """A safe download name: ``grades-<course code>-<lms>.csv``."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", course.code).strip("-")[:40] or f"course-{course.id}"
    return f"grades-{stem}-{lms}.csv"


def export_csv(
    session: Session,
    user: User,
    course_id: int,
    *,
    lms: str,
    key: str = "email",
    quiz_ids: Sequence[int] | None = None,
) -> tuple[str, str]:
    """``(filename, csv text)`` of the course's grades for an LMS import (staff only).

    Raises:
        Forbidden: not course staff (a student's own grades are JSON only).
        BadRequest: unknown dialect or key.
    """
    if lms not in DIALECTS:
        raise BadRequest(f"lms must be one of {', '.join(DIALECTS)}, not {lms!r}")
    require_staff(session, user, course_id)
    table = course_grades(session, user, course_id, quiz_ids=quiz_ids)
    return csv_filename(table.course, lms), render_csv(table, lms, key=key)
