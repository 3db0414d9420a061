"""Courses, their members and their roles, and the checks every instructor service uses.

Who may do what in a course (checked here, not in the views):

* a site ``admin`` may do everything in every course;
* a course ``instructor`` manages the roster, authors exercises, builds quizzes, sees the
  gradebook, overrides grades and starts regrades;
* a course ``ta`` sees the roster, the gradebook and the item analysis and may override a
  grade with a reason, but changes nothing else;
* a ``student`` (or a stranger) gets Forbidden from every instructor service.

A roster upload is checked whole before anything is written: a file with a bad row
imports nothing and the report lists every bad row with its line number.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import secrets

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.errors import Unauthorized
from grader.models import COURSE_ROLES
from grader.models import Course
from grader.models import Enrolment
from grader.models import User
from grader.services.accounts import create_user
from grader.services.accounts import find_user_by_email
from grader.services.accounts import normalize_email

logger = logging.getLogger(__name__)

#: course roles that see the instructor pages
STAFF_ROLES = ("instructor", "ta")
#: a roster file larger than this is refused before it is parsed
MAX_ROSTER_BYTES = 512 * 1024
MAX_ROSTER_ROWS = 5000
MAX_NAME_LENGTH = 200


# --------------------------------------------------------------------------- access checks


def course_role(session: Session, user: User, course_id: int) -> str | None:
    """The user's role in the course, or None when not enrolled."""
    return session.scalar(
        select(Enrolment.role).where(Enrolment.course_id == course_id, Enrolment.user_id == user.id)
    )


def get_course(session: Session, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"no course {course_id}")
    return course


def require_staff(
    session: Session, actor: User | None, course_id: int, *, manage: bool = False
) -> Course:
    """The course when ``actor`` may see its instructor pages (or change it, with ``manage``).

    Raises:
        Unauthorized: nobody is signed in.
        NotFound: no such course.
        Forbidden: the actor is not staff of the course (or only a TA when ``manage``).
    """
    if actor is None:
        raise Unauthorized("sign in first")
    if not actor.is_active:
        raise Forbidden("this account is disabled")
    course = get_course(session, course_id)
    if actor.role == "admin":
        return course
    role = course_role(session, actor, course_id)
    allowed = ("instructor",) if manage else STAFF_ROLES
    if role not in allowed:
        what = "instructors" if manage else "instructors and TAs"
        raise Forbidden(f"only the course's {what} may do this")
    return course


def can_manage(session: Session, actor: User, course_id: int) -> bool:
    """Whether the actor may change the course (instructor or admin), without raising."""
    try:
        require_staff(session, actor, course_id, manage=True)
    except (Forbidden, Unauthorized):
        return False
    return True


def staff_courses(session: Session, actor: User) -> list[tuple[Course, str]]:
    """Courses the actor teaches (every course for an admin), with the actor's role."""
    if actor.role == "admin":
        rows = session.scalars(select(Course).order_by(Course.code)).all()
        return [(c, "admin") for c in rows]
    result = session.execute(
        select(Course, Enrolment.role)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .where(Enrolment.user_id == actor.id, Enrolment.role.in_(STAFF_ROLES))
        .order_by(Course.code)
    ).all()
    return [(course, role) for course, role in result]


# --------------------------------------------------------------------------- courses


@writes
def create_course(session: Session, actor: User | None, *, code: str, title: str) -> Course:
    """A new course with the actor as its instructor (site instructors and admins only)."""
    if actor is None:
        raise Unauthorized("sign in first")
    if actor.role not in ("admin", "instructor"):
        raise Forbidden("only instructors may create courses")
    code = code.strip()
    title = title.strip()
    if not code or len(code) > 64 or not title or len(title) > 200:
        raise BadRequest("a course needs a code (up to 64 characters) and a title")
    if session.scalar(select(Course.id).where(func.lower(Course.code) == code.lower())):
        raise Conflict(f"a course with code {code} already exists")
    course = Course(code=code, title=title, join_code=_new_join_code(session))
    session.add(course)
    session.flush()
    session.add(Enrolment(course_id=course.id, user_id=actor.id, role="instructor"))
    session.commit()
    logger.info("created course course_id=%s by user_id=%s", course.id, actor.id)
    return course


def _new_join_code(session: Session) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(8))
        if session.scalar(select(Course.id).where(Course.join_code == code)) is None:
            return code


# --------------------------------------------------------------------------- members


@dataclasses.dataclass(frozen=True)
class Member:
    """One row of the roster page."""

    enrolment_id: int
    user_id: int
    email: str
    name: str
    role: str
    has_password: bool


def roster(session: Session, actor: User | None, course_id: int) -> list[Member]:
    """Every member of the course, staff first, then by name (one query)."""
    require_staff(session, actor, course_id)
    rows = session.execute(
        select(Enrolment, User)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course_id)
    ).all()
    order = {"instructor": 0, "ta": 1, "student": 2}
    members = [Member(e.id, u.id, u.email, u.name, e.role, bool(u.password_hash)) for e, u in rows]
    members.sort(key=lambda m: (order.get(m.role, 3), m.name.lower(), m.email))
    return members


def _check_role(role: str) -> str:
    role = role.strip().lower()
    if role not in COURSE_ROLES:
        raise BadRequest(f"role must be one of {', '.join(COURSE_ROLES)}, not {role!r}")
    return role


def _check_name(name: str, email: str) -> str:
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"names have at most {MAX_NAME_LENGTH} characters")
    return name or email.split("@", 1)[0]


def _enrol(
    session: Session, course_id: int, email: str, name: str, role: str
) -> tuple[Enrolment, str]:
    """Enrol (creating the account when new); no commit. Returns the enrolment and
    what happened: ``created`` (new account), ``added``, ``updated`` (role) or ``unchanged``."""
    user = find_user_by_email(session, email)
    outcome = "added"
    if user is None:
        site_role = "instructor" if role == "instructor" else "student"
        user = create_user(session, email=email, name=name, role=site_role, commit=False)
        outcome = "created"
    enrolment = session.scalar(
        select(Enrolment).where(Enrolment.course_id == course_id, Enrolment.user_id == user.id)
    )
    if enrolment is None:
        enrolment = Enrolment(course_id=course_id, user_id=user.id, role=role)
        session.add(enrolment)
    elif enrolment.role != role:
        _guard_last_instructor(session, enrolment, new_role=role)
        enrolment.role = role
        outcome = "updated"
    else:
        outcome = "unchanged"
    session.flush()
    return enrolment, outcome


@writes
def add_member(
    session: Session,
    actor: User | None,
    course_id: int,
    *,
    email: str,
    name: str = "",
    role: str = "student",
) -> tuple[Enrolment, str]:
    """Add a person to the course by email, creating the account if it is new.

    New accounts have no password: they sign in through the LMS or set one later.
    Returns the enrolment and ``created`` / ``added`` / ``updated`` / ``unchanged``.
    """
    require_staff(session, actor, course_id, manage=True)
    email = normalize_email(email)
    enrolment, outcome = _enrol(
        session, course_id, email, _check_name(name, email), _check_role(role)
    )
    session.commit()
    logger.info(
        "enrolment %s course_id=%s user_id=%s role=%s", outcome, course_id, enrolment.user_id, role
    )
    return enrolment, outcome


def _member(session: Session, course_id: int, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.course_id != course_id:
        raise NotFound(f"no enrolment {enrolment_id} in course {course_id}")
    return enrolment


def _guard_last_instructor(session: Session, enrolment: Enrolment, *, new_role: str | None) -> None:
    """A course always keeps one instructor: refuse to demote or remove the last one."""
    if enrolment.role != "instructor" or new_role == "instructor":
        return
    count = session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.course_id == enrolment.course_id, Enrolment.role == "instructor")
    )
    if (count or 0) <= 1:
        raise Conflict("a course needs at least one instructor; add another one first")


@writes
def change_role(
    session: Session, actor: User | None, course_id: int, enrolment_id: int, role: str
) -> Enrolment:
    """Give a member another course role."""
    require_staff(session, actor, course_id, manage=True)
    role = _check_role(role)
    enrolment = _member(session, course_id, enrolment_id)
    _guard_last_instructor(session, enrolment, new_role=role)
    enrolment.role = role
    session.commit()
    logger.info("role changed enrolment_id=%s role=%s", enrolment_id, role)
    return enrolment


@writes
def remove_member(session: Session, actor: User | None, course_id: int, enrolment_id: int) -> None:
    """Take a member out of the course. Their attempts and submissions stay stored."""
    require_staff(session, actor, course_id, manage=True)
    enrolment = _member(session, course_id, enrolment_id)
    _guard_last_instructor(session, enrolment, new_role=None)
    session.delete(enrolment)
    session.commit()
    logger.info("enrolment removed enrolment_id=%s course_id=%s", enrolment_id, course_id)


# --------------------------------------------------------------------------- CSV roster


@dataclasses.dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclasses.dataclass
class RosterReport:
    """The outcome of a roster upload. ``imported`` is False when nothing was written."""

    imported: bool = False
    created: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.added + self.updated + self.unchanged


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_ROSTER_BYTES:
        raise BadRequest(f"the roster file is larger than {MAX_ROSTER_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"the roster is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8"
        ) from None


def parse_roster(data: bytes | str) -> tuple[list[tuple[int, str, str, str]], list[RowError]]:
    """Rows ``(line, email, name, role)`` and the errors, both with 1-based line numbers.

    The format is ``email,name[,role]``; a first line starting with ``email`` is a header;
    blank lines are skipped; the role defaults to ``student``.
    """
    text = _decode(data)
    if len(text.encode("utf-8")) > MAX_ROSTER_BYTES:
        raise BadRequest(f"the roster file is larger than {MAX_ROSTER_BYTES // 1024} KiB")
    rows: list[tuple[int, str, str, str]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            line = reader.line_num
            cells = [c.strip() for c in record]
            if not any(cells):
                continue
            if not rows and not errors and not seen and cells[0].lower() in {"email", "e-mail"}:
                continue
            if len(rows) + len(errors) >= MAX_ROSTER_ROWS:
                raise BadRequest(f"a roster has at most {MAX_ROSTER_ROWS} rows")
            if len(cells) < 2 or len(cells) > 3:
                errors.append(RowError(line, "expected email,name or email,name,role"))
                continue
            try:
                email = normalize_email(cells[0])
                name = _check_name(cells[1], email)
                role = _check_role(cells[2] if len(cells) == 3 and cells[2] else "student")
            except BadRequest as exc:
                errors.append(RowError(line, exc.message))
                continue
            if email in seen:
                errors.append(RowError(line, f"{email} is already on line {seen[email]}"))
                continue
            seen[email] = line
            rows.append((line, email, name, role))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"not valid CSV: {exc}"))
    return rows, errors


@writes
def import_roster(
    session: Session, actor: User | None, course_id: int, data: bytes | str
) -> RosterReport:
    """Enrol everyone in a CSV roster, all or nothing.

    Every row is checked first; if any row is bad nothing is written and the report lists
    every bad row. Otherwise all rows are enrolled in one transaction.
    """
    require_staff(session, actor, course_id, manage=True)
    rows, errors = parse_roster(data)
    report = RosterReport(errors=errors)
    if not rows and not errors:
        report.errors.append(RowError(1, "the file has no rows"))
    if report.errors:
        return report
    try:
        for line, email, name, role in rows:
            try:
                _, outcome = _enrol(session, course_id, email, name, role)
            except (BadRequest, Conflict) as exc:
                report.errors.append(RowError(line, exc.message))
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
    except Exception:
        session.rollback()
        raise
    if report.errors:
        session.rollback()
        report.created = report.added = report.updated = report.unchanged = 0
        return report
    session.commit()
    report.imported = True
    logger.info(
        "roster imported course_id=%s created=%s added=%s updated=%s unchanged=%s",
        course_id,
        report.created,
        report.added,
        report.updated,
        report.unchanged,
    )
    return report
