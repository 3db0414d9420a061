"""The gradebook: students x items, a submission's detail, manual overrides, CSV export.

How a cell is scored:

* a part's *credit* (0..1) is the newest ``GradeOverride`` for (attempt, part) when there
  is one, otherwise the best ``score`` among the part's graded submissions (the score
  already carries the retry and late penalties the grading service applied);
* a part's *weight* in points is ``QuizItem.part_points[part]`` when the quiz sets part
  points, otherwise ``QuizItem.points`` shared in proportion to the exercise's own part
  points (read from the attempt's stored variant);
* a cell is the sum of credit x weight over the item's parts.

The matrix is built in a constant number of queries whatever the number of students and
items (a test counts them): items, students, attempts, submission aggregates, overrides
and one representative stored variant per (item, exercise version) for the part weights.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import begin_write
from grader.errors import BadRequest
from grader.errors import NotFound
from grader.exercises import Variant
from grader.models import Attempt
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import GradeOverride
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import Submission
from grader.models import User
from grader.services.enrolments import require_staff
from grader.services.spreadsheet_cells import safe_cell

logger = logging.getLogger(__name__)

MAX_REASON = 2000
RIGHT, FOLLOW = "right", "follow"


# --------------------------------------------------------------------------- weights & credit


def part_weights(item: QuizItem, parts: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Points per part of an item, from ``(part id, exercise points)`` of its variant."""
    if item.part_points:
        return {pid: float(item.part_points.get(pid, 0.0)) for pid, _ in parts}
    total = sum(p for _, p in parts)
    if total <= 0:
        share = item.points / len(parts) if parts else 0.0
        return {pid: share for pid, _ in parts}
    return {pid: item.points * p / total for pid, p in parts}


def variant_parts(variant_json: dict[str, Any]) -> list[tuple[str, float]]:
    """``(part id, points)`` of a stored variant, without rebuilding the whole Variant."""
    return [(p["id"], float(p.get("points", 1.0))) for p in variant_json.get("parts", ())]


def item_max(item: QuizItem) -> float:
    """The most an item can give."""
    if item.part_points:
        return float(sum(item.part_points.values()))
    return float(item.points)


# --------------------------------------------------------------------------- matrix


@dataclasses.dataclass(frozen=True)
class Column:
    item_id: int
    position: int
    title: str
    exercise_id: int
    slug: str
    max_points: float
    quiz_id: int


@dataclasses.dataclass(frozen=True)
class Cell:
    """One student's standing on one item (``points`` is None before any graded answer)."""

    attempt_id: int
    points: float | None
    max_points: float
    overridden: bool
    submissions: int
    pending: int
    errors: int = 0  # answers whose grading failed for good (status "error")
    #: of ``points``, those earned by follow-through (a part whose best answer was right
    #: only given the student's own wrong earlier answer)
    follow_points: float = 0.0
    #: of ``points``, those earned by right answers (a part with a ``correct`` answer);
    #: the rest is partial credit for a known mistake and manual overrides
    right_points: float = 0.0


@dataclasses.dataclass(frozen=True)
class Row:
    user_id: int
    name: str
    email: str
    cells: list[Cell | None]
    total: float


@dataclasses.dataclass(frozen=True)
class PointsSummary:
    """Points earned, split by how: right answers, follow-through, and the rest (partial
    credit for a known mistake, manual overrides)."""

    points: float
    right_points: float
    follow_points: float

    @property
    def other_points(self) -> float:
        return max(0.0, self.points - self.right_points - self.follow_points)

    @classmethod
    def of(cls, cells: Iterable[Cell | None]) -> PointsSummary:
        scored = [c for c in cells if c is not None and c.points is not None]
        return cls(
            sum(c.points or 0.0 for c in scored),
            sum(c.right_points for c in scored),
            sum(c.follow_points for c in scored),
        )


@dataclasses.dataclass(frozen=True)
class Gradebook:
    quiz: Quiz | None
    columns: list[Column]
    rows: list[Row]
    max_total: float

    @property
    def graded_cells(self) -> int:
        return sum(1 for r in self.rows for c in r.cells if c is not None and c.points is not None)

    @property
    def summary(self) -> PointsSummary:
        """Every student's points on the quiz, by right answers and by follow-through."""
        return PointsSummary.of(c for r in self.rows for c in r.cells)

    @property
    def column_summaries(self) -> list[PointsSummary]:
        """The same per item (one per column)."""
        return [PointsSummary.of(r.cells[i] for r in self.rows) for i in range(len(self.columns))]


def _credits(
    session: Session, attempts: Select[Any]
) -> tuple[
    dict[tuple[int, str], tuple[float | None, int, int, int, str]], dict[tuple[int, str], float]
]:
    """Per (attempt, part): (best graded score, submissions, pending, errors, outcome: RIGHT
    when an answer was correct, FOLLOW when one was only consistent, else ""), and the newest
    override."""
    ids = attempts.with_only_columns(Attempt.id).scalar_subquery()
    submissions: dict[tuple[int, str], tuple[float | None, int, int, int, str]] = {}
    graded_score = case((Submission.status == "graded", Submission.score), else_=None)
    pending = func.sum(case((Submission.status == "pending", 1), else_=0))
    failed = func.sum(case((Submission.status == "error", 1), else_=0))
    graded = Submission.status == "graded"
    right = func.sum(case((graded & (Submission.verdict == "correct"), 1), else_=0))
    follow = func.sum(case((graded & (Submission.verdict == "consistent"), 1), else_=0))
    for attempt_id, part_id, best, count, waiting, errors, rights, follows in session.execute(
        select(
            Submission.attempt_id,
            Submission.part_id,
            func.max(graded_score),
            func.count(),
            pending,
            failed,
            right,
            follow,
        )
        .where(Submission.attempt_id.in_(ids))
        .group_by(Submission.attempt_id, Submission.part_id)
    ):
        submissions[(attempt_id, part_id)] = (
            best,
            int(count),
            int(waiting or 0),
            int(errors or 0),
            RIGHT if rights else FOLLOW if follows else "",
        )
    overrides: dict[tuple[int, str], float] = {}
    for attempt_id, part_id, score in session.execute(
        select(GradeOverride.attempt_id, GradeOverride.part_id, GradeOverride.score)
        .where(GradeOverride.attempt_id.in_(ids))
        .order_by(GradeOverride.created_at, GradeOverride.id)
    ):
        overrides[(attempt_id, part_id)] = score  # ordered oldest first: the newest wins
    return submissions, overrides


def _weights_by_version(
    session: Session, attempts: Select[Any]
) -> dict[tuple[int, int], list[tuple[str, float]]]:
    """The parts of one stored variant per (item, exercise version): the parts and their
    points do not depend on the seed, so one variant per version is enough."""
    firsts = (
        attempts.with_only_columns(func.min(Attempt.id))
        .group_by(Attempt.quiz_item_id, Attempt.exercise_version)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Attempt.quiz_item_id, Attempt.exercise_version, Attempt.variant).where(
            Attempt.id.in_(firsts)
        )
    )
    return {(item_id, version): variant_parts(variant) for item_id, version, variant in rows}


def _score_items(
    session: Session, course_id: int, items: list[QuizItem], item_filter: Select[Any]
) -> tuple[list[tuple[int, str, str]], dict[tuple[int, int], Cell]]:
    """Students of the course and their cell per (user, item)."""
    students = list(
        session.execute(
            select(User.id, User.name, User.email)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.course_id == course_id, Enrolment.role == "student")
            .order_by(func.lower(User.name), User.email)
        )
    )
    attempts = select(Attempt).where(Attempt.quiz_item_id.in_(item_filter.scalar_subquery()))
    attempt_rows = session.execute(
        attempts.with_only_columns(
            Attempt.id, Attempt.user_id, Attempt.quiz_item_id, Attempt.exercise_version
        )
    ).all()
    submissions, overrides = _credits(session, attempts)
    parts_of = _weights_by_version(session, attempts)
    by_item = {item.id: item for item in items}
    maxima = {item.id: item_max(item) for item in items}
    # One pass over the attempts and one over the part aggregates: a big class means
    # tens of thousands of rows, so nothing here may be per-part-per-attempt work twice.
    weights_of: dict[tuple[int, int], dict[str, float]] = {}
    info: dict[int, tuple[int, int, dict[str, float]]] = {}
    for attempt_id, user_id, item_id, version in attempt_rows:
        item = by_item.get(item_id)
        if item is None:
            continue
        key = (item_id, version)
        if key not in weights_of:
            weights_of[key] = part_weights(item, parts_of.get(key, []))
        info[attempt_id] = (user_id, item_id, weights_of[key])
    points: dict[int, float] = {}
    counts: dict[int, int] = defaultdict(int)
    waiting: dict[int, int] = defaultdict(int)
    failing: dict[int, int] = defaultdict(int)
    following: dict[int, float] = defaultdict(float)
    righting: dict[int, float] = defaultdict(float)
    for (attempt_id, part_id), (best, n, pending, errors, outcome) in submissions.items():
        if attempt_id not in info:
            continue
        counts[attempt_id] += n
        waiting[attempt_id] += pending
        failing[attempt_id] += errors
        if best is not None and (attempt_id, part_id) not in overrides:
            weight = info[attempt_id][2].get(part_id, 0.0)
            points[attempt_id] = points.get(attempt_id, 0.0) + best * weight
            if outcome == FOLLOW:
                following[attempt_id] += best * weight
            elif outcome == RIGHT:
                righting[attempt_id] += best * weight
    overridden = set()
    for (attempt_id, part_id), credit in overrides.items():
        if attempt_id not in info:
            continue
        overridden.add(attempt_id)
        weight = info[attempt_id][2].get(part_id, 0.0)
        points[attempt_id] = points.get(attempt_id, 0.0) + credit * weight
    cells: dict[tuple[int, int], Cell] = {}
    for attempt_id, (user_id, item_id, _) in info.items():
        cells[(user_id, item_id)] = Cell(
            attempt_id,
            points.get(attempt_id),
            maxima[item_id],
            attempt_id in overridden,
            counts[attempt_id],
            waiting[attempt_id],
            failing[attempt_id],
            following[attempt_id],
            righting[attempt_id],
        )
    return [(s.id, s.name, s.email) for s in students], cells


def _columns(session: Session, items_query: Select[Any]) -> tuple[list[QuizItem], list[Column]]:
    rows = session.execute(
        items_query.with_only_columns(QuizItem, Exercise.title, Exercise.slug).join(
            Exercise, Exercise.id == QuizItem.exercise_id
        )
    ).all()
    items = [item for item, _, _ in rows]
    columns = [
        Column(item.id, item.position, title, item.exercise_id, slug, item_max(item), item.quiz_id)
        for item, title, slug in rows
    ]
    return items, columns


def quiz_gradebook(session: Session, actor: User | None, quiz_id: int) -> Gradebook:
    """Students x items of one quiz, in a constant number of queries."""
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(f"no quiz {quiz_id}")
    require_staff(session, actor, quiz.course_id)
    items_query = select(QuizItem).where(QuizItem.quiz_id == quiz_id).order_by(QuizItem.position)
    items, columns = _columns(session, items_query)
    students, cells = _score_items(
        session, quiz.course_id, items, select(QuizItem.id).where(QuizItem.quiz_id == quiz_id)
    )
    rows = []
    for user_id, name, email in students:
        row_cells = [cells.get((user_id, c.item_id)) for c in columns]
        total = sum(c.points for c in row_cells if c is not None and c.points is not None)
        rows.append(Row(user_id, name, email, row_cells, total))
    return Gradebook(quiz, columns, rows, sum(c.max_points for c in columns))


@dataclasses.dataclass(frozen=True)
class QuizColumn:
    quiz_id: int
    title: str
    max_points: float
    is_published: bool


@dataclasses.dataclass(frozen=True)
class CourseGradebook:
    columns: list[QuizColumn]
    rows: list[tuple[int, str, str, list[float | None], float]]
    max_total: float
    #: per row, per quiz: of its points, those earned by follow-through (None: not started)
    follow: list[list[float | None]] = dataclasses.field(default_factory=list)


def course_gradebook(session: Session, actor: User | None, course_id: int) -> CourseGradebook:
    """Students x quizzes of a course (each cell a quiz total), in a constant number of queries."""
    require_staff(session, actor, course_id)
    quizzes = list(
        session.scalars(
            select(Quiz).where(Quiz.course_id == course_id).order_by(Quiz.created_at, Quiz.id)
        )
    )
    in_course = select(QuizItem.id).join(Quiz, Quiz.id == QuizItem.quiz_id)
    in_course = in_course.where(Quiz.course_id == course_id)
    items, _ = _columns(
        session,
        select(QuizItem)
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        .where(Quiz.course_id == course_id)
        .order_by(QuizItem.quiz_id, QuizItem.position),
    )
    students, cells = _score_items(session, course_id, items, in_course)
    max_by_quiz: dict[int, float] = defaultdict(float)
    for item in items:
        max_by_quiz[item.quiz_id] += item_max(item)
    columns = [QuizColumn(q.id, q.title, max_by_quiz[q.id], q.is_published) for q in quizzes]
    rows = []
    follow = []
    for user_id, name, email in students:
        per_quiz: dict[int, float | None] = {}
        per_follow: dict[int, float] = {}
        for item in items:
            cell = cells.get((user_id, item.id))
            if cell is not None and cell.points is not None:
                per_quiz[item.quiz_id] = (per_quiz.get(item.quiz_id) or 0.0) + cell.points
                per_follow[item.quiz_id] = per_follow.get(item.quiz_id, 0.0) + cell.follow_points
        values = [per_quiz.get(q.quiz_id) for q in columns]
        rows.append((user_id, name, email, values, sum(v for v in values if v is not None)))
        follow.append([per_follow.get(q.quiz_id) for q in columns])
    return CourseGradebook(columns, rows, sum(c.max_points for c in columns), follow)


# --------------------------------------------------------------------------- detail & overrides


@dataclasses.dataclass(frozen=True)
class PartDetail:
    part_id: str
    prompt_md: str
    key_text: str
    weight: float
    submissions: list[Submission]
    overrides: list[tuple[GradeOverride, str | None]]  # newest first, with the author's name
    auto_credit: float | None
    credit: float | None

    @property
    def points(self) -> float | None:
        return None if self.credit is None else self.credit * self.weight


@dataclasses.dataclass(frozen=True)
class AttemptDetail:
    attempt: Attempt
    student: User
    quiz: Quiz
    item: QuizItem
    exercise: Exercise
    variant: Variant
    parts: list[PartDetail]

    @property
    def points(self) -> float:
        return sum(p.points or 0.0 for p in self.parts)


def _attempt_for_staff(
    session: Session, actor: User | None, attempt_id: int
) -> tuple[Attempt, QuizItem, Quiz]:
    row = session.execute(
        select(Attempt, QuizItem, Quiz)
        .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        .where(Attempt.id == attempt_id)
    ).first()
    if row is None:
        raise NotFound(f"no attempt {attempt_id}")
    attempt, item, quiz = row
    require_staff(session, actor, quiz.course_id)
    return attempt, item, quiz


def attempt_detail(session: Session, actor: User | None, attempt_id: int) -> AttemptDetail:
    """Everything about one student's attempt at one item: the variant with its key, every
    submission, every override (the audit trail) and the credit that counts."""
    attempt, item, quiz = _attempt_for_staff(session, actor, attempt_id)
    variant = Variant.from_json(attempt.variant)
    submissions = list(
        session.scalars(
            select(Submission).where(Submission.attempt_id == attempt_id).order_by(Submission.id)
        )
    )
    overrides = session.execute(
        select(GradeOverride, User.name)
        .outerjoin(User, User.id == GradeOverride.created_by_id)
        .where(GradeOverride.attempt_id == attempt_id)
        .order_by(GradeOverride.created_at.desc(), GradeOverride.id.desc())
    ).all()
    weights = part_weights(item, [(p.id, p.points) for p in variant.parts])
    parts = []
    for part in variant.parts:
        subs = [s for s in submissions if s.part_id == part.id]
        graded = [s.score for s in subs if s.status == "graded" and s.score is not None]
        auto = max(graded) if graded else None
        history: list[tuple[GradeOverride, str | None]] = [
            (o, name) for o, name in overrides if o.part_id == part.id
        ]
        credit = history[0][0].score if history else auto
        parts.append(
            PartDetail(
                part.id,
                part.prompt_md,
                part.key_text,
                weights.get(part.id, 0.0),
                subs,
                history,
                auto,
                credit,
            )
        )
    student = session.get(User, attempt.user_id)
    exercise = session.get(Exercise, item.exercise_id)
    assert student is not None
    assert exercise is not None
    return AttemptDetail(attempt, student, quiz, item, exercise, variant, parts)


def override_grade(
    session: Session,
    actor: User | None,
    attempt_id: int,
    part_id: str,
    *,
    points: float,
    reason: str,
) -> GradeOverride:
    """Set a part's score by hand, in points out of the part's weight, with a reason.

    The newest override wins over the computed score (and over regrades); older ones stay
    as the history. Instructors and TAs may override.
    """
    begin_write(session)
    attempt, item, _ = _attempt_for_staff(session, actor, attempt_id)
    assert actor is not None
    reason = reason.strip()
    if not reason:
        raise BadRequest("say why you change the grade (the reason is kept with it)")
    if len(reason) > MAX_REASON:
        raise BadRequest(f"the reason has at most {MAX_REASON} characters")
    parts = variant_parts(attempt.variant)
    if part_id not in {pid for pid, _ in parts}:
        raise NotFound(f"attempt {attempt_id} has no part {part_id!r}")
    weight = part_weights(item, parts)[part_id]
    if not math.isfinite(points) or points < 0 or points > weight + 1e-9:
        raise BadRequest(f"the score must be between 0 and {weight:g} points")
    credit = points / weight if weight > 0 else 0.0
    override = GradeOverride(
        attempt_id=attempt.id,
        part_id=part_id,
        score=min(1.0, credit),
        reason=reason,
        created_by_id=actor.id,
    )
    session.add(override)
    session.commit()
    logger.info(
        "grade override attempt_id=%s part=%s credit=%.4f by user_id=%s",
        attempt_id,
        part_id,
        override.score,
        actor.id,
    )
    return override


# --------------------------------------------------------------------------- CSV export


FOLLOW_COLUMN = "of which follow-through (points)"


def _number(value: float | None) -> str:
    return "" if value is None else f"{round(value, 4):g}"


def export_csv(session: Session, actor: User | None, quiz_id: int) -> str:
    """The quiz gradebook as CSV text: one row per student, one column per item, the total,
    then how much of the total was earned by follow-through (right given the student's own
    wrong earlier answer). Encode it as UTF-8 (the text starts with a BOM so spreadsheets
    detect UTF-8)."""
    book = quiz_gradebook(session, actor, quiz_id)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["email", "name"]
    header += [f"{c.position}. {c.title} ({c.max_points:g})" for c in book.columns]
    header.append(f"total ({book.max_total:g})")
    header.append(FOLLOW_COLUMN)
    writer.writerow([safe_cell(h) for h in header])
    for row in book.rows:
        cells = [_number(c.points if c else None) for c in row.cells]
        follow = sum(c.follow_points for c in row.cells if c is not None)
        writer.writerow(
            [
                safe_cell(row.email),
                safe_cell(row.name),
                *cells,
                _number(row.total),
                _number(follow),
            ]
        )
    return out.getvalue()


def csv_filename(quiz: Quiz) -> str:
    """A safe download name for a quiz's export."""
    stem = "".join(ch if ch.isalnum() else "-" for ch in quiz.title.lower()).strip("-")
    return f"gradebook-{quiz.id}-{stem[:40] or 'quiz'}.csv"


def iter_students(rows: Iterable[Row]) -> list[int]:
    """User ids of a gradebook's rows (a helper for views and tests)."""
    return [r.user_id for r in rows]
