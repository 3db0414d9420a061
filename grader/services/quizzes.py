"""The quiz builder: settings, items (exercises with their points), publishing.

Times are stored as timezone-aware UTC. The browser sends a local wall-clock time and its
IANA zone name; :func:`parse_local_datetime` turns the pair into UTC (without a zone, the
time is read as UTC, which is what the page says next to the field then).

``QuizItem.points`` is always the item's maximum: with per-part points it is their sum,
otherwise the exercise's own part points are scaled to it (see ``gradebook``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import zoneinfo
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import NotFound
from grader.exercises import SpecError
from grader.models import Attempt
from grader.models import Exercise
from grader.models import ExerciseVersion
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.services.authoring import spec_of_source
from grader.services.enrolments import require_staff

logger = logging.getLogger(__name__)

SHOW_SOLUTIONS = {
    "after_due": "after the due date",
    "after_last_try": "after the student's last try (every part right or out of tries)",
    "always": (
        "right after answering: each part's answer after the student's first graded "
        "answer to that part, the worked solution once every part has one"
    ),
    "never": "never",
}
LATE_MODES = {
    "refuse": "the quiz closes at the due date",
    "penalty": "late answers lose a fraction of their credit",
    "none": "late answers count fully (marked late)",
}
MAX_ITEMS = 100
MAX_POINTS = 1000.0


@dataclasses.dataclass(frozen=True)
class QuizSettings:
    """Everything the builder's settings form edits (validated by :func:`check_settings`)."""

    title: str
    description: str = ""
    opens_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    attempts_allowed: int | None = 3
    penalty_per_retry: float = 0.0
    late_mode: str = "refuse"
    late_penalty: float = 0.0
    late_until: dt.datetime | None = None
    show_solutions: str = "after_due"
    #: credit of an answer right given the student's own wrong earlier answers
    follow_through_credit: float = 1.0

    def late_policy(self) -> dict[str, Any]:
        """The stored ``Quiz.late_policy`` document."""
        policy: dict[str, Any] = {"mode": self.late_mode}
        if self.late_mode == "penalty":
            policy["penalty"] = self.late_penalty
        if self.late_until is not None and self.late_mode != "refuse":
            policy["until"] = self.late_until.astimezone(dt.UTC).isoformat()
        return policy

    @classmethod
    def of(cls, quiz: Quiz) -> QuizSettings:
        """The settings of a stored quiz (to fill the form)."""
        policy = quiz.late_policy or {}
        until = policy.get("until")
        return cls(
            title=quiz.title,
            description=quiz.description,
            opens_at=quiz.opens_at,
            due_at=quiz.due_at,
            attempts_allowed=quiz.attempts_allowed,
            penalty_per_retry=quiz.penalty_per_retry,
            late_mode=policy.get("mode") or "refuse",
            late_penalty=float(policy.get("penalty", 0.0)),
            late_until=dt.datetime.fromisoformat(until) if until else None,
            show_solutions=quiz.show_solutions,
            follow_through_credit=quiz.follow_through_credit,
        )


def parse_local_datetime(value: str | None, zone: str | None) -> dt.datetime | None:
    """``2026-03-01T09:30`` in the browser's zone (IANA name) as an aware UTC datetime.

    An empty value is None; with no zone (no JavaScript) the value is read as UTC.
    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"not a date and time: {value[:40]!r} (use YYYY-MM-DDTHH:MM)") from None
    if naive.tzinfo is not None:
        return naive.astimezone(dt.UTC)
    tz: dt.tzinfo = dt.UTC
    if zone and zone.strip() and zone.strip() != "UTC":
        try:
            tz = zoneinfo.ZoneInfo(zone.strip())
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise BadRequest(f"unknown time zone {zone[:60]!r}") from None
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def _fraction(value: float, name: str) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise BadRequest(f"{name} must be between 0 and 1 (a fraction of the credit)")
    return float(value)


def check_settings(s: QuizSettings) -> QuizSettings:
    """The settings with text trimmed, or BadRequest naming the first bad field."""
    title = " ".join(s.title.split())
    if not title or len(title) > 200:
        raise BadRequest(
            "a quiz needs a title of at most 200 characters", detail={"field": "title"}
        )
    if len(s.description) > 20_000:
        raise BadRequest("the description is too long (20,000 characters at most)")
    for name in ("opens_at", "due_at", "late_until"):
        value = getattr(s, name)
        if value is not None and value.tzinfo is None:
            raise BadRequest(f"{name} must be timezone-aware (UTC)")
    if s.opens_at and s.due_at and s.due_at <= s.opens_at:
        raise BadRequest(
            "the due date must come after the opening date", detail={"field": "due_at"}
        )
    if s.attempts_allowed is not None and not 1 <= s.attempts_allowed <= 100:
        raise BadRequest("attempts allowed must be between 1 and 100, or unlimited")
    _fraction(s.penalty_per_retry, "the penalty per retry")
    _fraction(s.follow_through_credit, "the follow-through credit")
    if s.late_mode not in LATE_MODES:
        raise BadRequest(f"the late policy must be one of {', '.join(LATE_MODES)}")
    _fraction(s.late_penalty, "the late penalty")
    if s.late_until is not None:
        if s.due_at is None:
            raise BadRequest("a late deadline needs a due date")
        if s.late_until <= s.due_at:
            raise BadRequest("late answers must be accepted until after the due date")
    if s.show_solutions not in SHOW_SOLUTIONS:
        raise BadRequest(f"show solutions must be one of {', '.join(SHOW_SOLUTIONS)}")
    return dataclasses.replace(s, title=title, description=s.description.strip())


def _apply(quiz: Quiz, s: QuizSettings) -> None:
    quiz.title = s.title
    quiz.description = s.description
    quiz.opens_at = s.opens_at
    quiz.due_at = s.due_at
    quiz.attempts_allowed = s.attempts_allowed
    quiz.penalty_per_retry = s.penalty_per_retry
    quiz.late_policy = s.late_policy()
    quiz.show_solutions = s.show_solutions
    quiz.follow_through_credit = s.follow_through_credit


# --------------------------------------------------------------------------- quizzes


def list_quizzes(session: Session, actor: User | None, course_id: int) -> list[tuple[Quiz, int]]:
    """The course's quizzes with their number of items, newest first."""
    require_staff(session, actor, course_id)
    counts = select(QuizItem.quiz_id, func.count().label("n")).group_by(QuizItem.quiz_id).subquery()
    rows = session.execute(
        select(Quiz, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.quiz_id == Quiz.id)
        .where(Quiz.course_id == course_id)
        .order_by(Quiz.created_at.desc(), Quiz.id.desc())
    ).all()
    return [(q, int(n)) for q, n in rows]


def get_quiz(session: Session, actor: User | None, quiz_id: int, *, manage: bool = False) -> Quiz:
    """A quiz the actor teaches (NotFound before Forbidden would leak nothing either way)."""
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(f"no quiz {quiz_id}")
    require_staff(session, actor, quiz.course_id, manage=manage)
    return quiz


@writes
def create_quiz(
    session: Session, actor: User | None, course_id: int, settings: QuizSettings
) -> Quiz:
    """A new, unpublished quiz in the course."""
    require_staff(session, actor, course_id, manage=True)
    settings = check_settings(settings)
    quiz = Quiz(course_id=course_id, is_published=False)
    _apply(quiz, settings)
    session.add(quiz)
    session.flush()
    # The column default (3 tries) fires for an explicit None on INSERT; "unlimited" is
    # written afterwards so it sticks.
    quiz.attempts_allowed = settings.attempts_allowed
    session.commit()
    logger.info("quiz created quiz_id=%s course_id=%s", quiz.id, course_id)
    return quiz


@writes
def update_quiz(session: Session, actor: User | None, quiz_id: int, settings: QuizSettings) -> Quiz:
    """Change a quiz's settings (grades already given keep their stored scores)."""
    quiz = get_quiz(session, actor, quiz_id, manage=True)
    _apply(quiz, check_settings(settings))
    session.commit()
    logger.info("quiz updated quiz_id=%s", quiz_id)
    return quiz


@writes
def set_published(session: Session, actor: User | None, quiz_id: int, published: bool) -> Quiz:
    """Publish (students see it) or withdraw a quiz; an empty quiz cannot be published."""
    quiz = get_quiz(session, actor, quiz_id, manage=True)
    if published and not quiz.items:
        raise Conflict("add at least one exercise before publishing")
    quiz.is_published = published
    session.commit()
    logger.info("quiz quiz_id=%s published=%s", quiz_id, published)
    return quiz


# --------------------------------------------------------------------------- items


def available_exercises(session: Session, actor: User | None, course_id: int) -> list[Exercise]:
    """What the builder can pick: the built-in library and the course's own exercises."""
    require_staff(session, actor, course_id)
    return list(
        session.scalars(
            select(Exercise)
            .where(or_(Exercise.course_id == course_id, Exercise.course_id.is_(None)))
            .order_by(Exercise.is_builtin.desc(), Exercise.title)
        )
    )


def exercise_parts(session: Session, exercise: Exercise) -> list[tuple[str, float]]:
    """``(part id, points)`` of the exercise's current version, in order."""
    source = session.scalar(
        select(ExerciseVersion.source_yaml).where(
            ExerciseVersion.exercise_id == exercise.id,
            ExerciseVersion.version == exercise.current_version,
        )
    )
    if source is None:
        raise NotFound(f"exercise {exercise.slug} has no stored text")
    try:
        spec = spec_of_source(source)
    except SpecError as exc:
        raise Conflict(f"exercise {exercise.slug} no longer validates: {exc}") from None
    return [(p.id, float(p.points)) for p in spec.parts]


def _usable_exercise(session: Session, course_id: int, exercise_id: int) -> Exercise:
    exercise = session.get(Exercise, exercise_id)
    if exercise is None or exercise.course_id not in (None, course_id):
        raise NotFound(f"no exercise {exercise_id} available to course {course_id}")
    return exercise


def _check_points(
    session: Session, exercise: Exercise, points: float, part_points: Mapping[str, float] | None
) -> tuple[float, dict[str, float] | None]:
    if part_points:
        known = [pid for pid, _ in exercise_parts(session, exercise)]
        unknown = sorted(set(part_points) - set(known))
        if unknown:
            raise BadRequest(f"{exercise.slug} has no part {', '.join(unknown)}")
        missing = [pid for pid in known if pid not in part_points]
        if missing:
            raise BadRequest(f"give points for every part (missing {', '.join(missing)})")
        cleaned = {pid: float(part_points[pid]) for pid in known}
        for pid, value in cleaned.items():
            if not (math.isfinite(value) and 0 <= value <= MAX_POINTS):
                raise BadRequest(f"points for part {pid} must be between 0 and {MAX_POINTS:g}")
        total = sum(cleaned.values())
        if total <= 0:
            raise BadRequest("an item must be worth some points")
        return total, cleaned
    if not (math.isfinite(points) and 0 < points <= MAX_POINTS):
        raise BadRequest(f"points must be more than 0 and at most {MAX_POINTS:g}")
    return float(points), None


@writes
def add_item(
    session: Session,
    actor: User | None,
    quiz_id: int,
    exercise_id: int,
    *,
    points: float = 1.0,
    part_points: Mapping[str, float] | None = None,
) -> QuizItem:
    """Append an exercise to the quiz."""
    quiz = get_quiz(session, actor, quiz_id, manage=True)
    exercise = _usable_exercise(session, quiz.course_id, exercise_id)
    if len(quiz.items) >= MAX_ITEMS:
        raise Conflict(f"a quiz has at most {MAX_ITEMS} items")
    total, parts = _check_points(session, exercise, points, part_points)
    position = max((i.position for i in quiz.items), default=0) + 1
    item = QuizItem(
        quiz_id=quiz.id, position=position, exercise_id=exercise.id, points=total, part_points=parts
    )
    quiz.items.append(item)
    session.commit()
    logger.info("quiz item added quiz_id=%s exercise_id=%s", quiz_id, exercise_id)
    return item


def _item(quiz: Quiz, item_id: int) -> QuizItem:
    for item in quiz.items:
        if item.id == item_id:
            return item
    raise NotFound(f"no item {item_id} in quiz {quiz.id}")


@writes
def update_item(
    session: Session,
    actor: User | None,
    quiz_id: int,
    item_id: int,
    *,
    points: float = 1.0,
    part_points: Mapping[str, float] | None = None,
) -> QuizItem:
    """Change an item's points; the gradebook recomputes from the stored credit."""
    quiz = get_quiz(session, actor, quiz_id, manage=True)
    item = _item(quiz, item_id)
    item.points, item.part_points = _check_points(session, item.exercise, points, part_points)
    session.commit()
    return item


@writes
def remove_item(session: Session, actor: User | None, quiz_id: int, item_id: int) -> None:
    """Take an item out of the quiz, unless students have already started it."""
    quiz = get_quiz(session, actor, quiz_id, manage=True)
    item = _item(quiz, item_id)
    started = session.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.quiz_item_id == item.id)
    )
    if started:
        raise Conflict(
            f"{started} student(s) have started this item; removing it would delete their work"
        )
    quiz.items.remove(item)
    session.commit()
    logger.info("quiz item removed quiz_id=%s item_id=%s", quiz_id, item_id)


@writes
def move_item(
    session: Session, actor: User | None, quiz_id: int, item_id: int, offset: int
) -> None:
    """Move an item up (-1) or down (+1) by swapping it with its neighbour."""
    quiz = get_quiz(session, actor, quiz_id, manage=True)
    items = list(quiz.items)
    item = _item(quiz, item_id)
    index = items.index(item)
    other_index = index + (1 if offset > 0 else -1)
    if not 0 <= other_index < len(items):
        return
    other = items[other_index]
    a, b = item.position, other.position
    # (quiz_id, position) is unique: park one row out of the way before the swap.
    item.position = -1
    session.flush()
    other.position = a
    session.flush()
    item.position = b
    session.commit()
    session.expire(quiz, ["items"])
