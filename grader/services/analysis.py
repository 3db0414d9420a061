"""Item analysis: per exercise and part, how students did and which mistakes they made.

For each part: how many students answered, the mean credit (0..1, overrides included, as in
the gradebook), the distribution of credit in five bands, and the most common diagnosed
notes of graded submissions (``mistake:<code>`` is shown with the exercise's own feedback
for that mistake). A constant number of queries, whatever the class size.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from grader.services import follow_stats
from grader.services.enrolments import require_staff

logger = logging.getLogger(__name__)

BANDS = ("0–20%", "20–40%", "40–60%", "60–80%", "80–100%")
TOP_NOTES = 6
NOTE_LABELS = {
    "incorrect": "Wrong, no known mistake matched",
    "invalid": "Answer could not be read",
    "undetermined": "Could not be decided in time",
    "consistent": "Right given the student's own wrong earlier answer (follow-through)",
}


@dataclasses.dataclass(frozen=True)
class NoteCount:
    note: str
    label: str
    count: int


@dataclasses.dataclass(frozen=True)
class PartStats:
    part_id: str
    prompt_md: str
    students: int
    mean: float | None  # credit 0..1
    bands: list[int]
    notes: list[NoteCount]
    submissions: int
    #: students right, right only by follow-through, and wrong (follow_stats)
    right: int = 0
    follow: int = 0
    wrong: int = 0
    name: str = ""  # the part's short name (∂L/∂y), its id when it has none


@dataclasses.dataclass(frozen=True)
class FirstWrongPart:
    """How many attempts broke first at one part, split by the diagnosis of that answer.

    ``causes`` holds one count per named mistake or checker diagnosis (``note`` is its code,
    ``label`` the exercise's feedback for it) and one ``other`` for wrong answers no known
    mistake matched; most common first.
    """

    part_id: str
    name: str
    count: int
    causes: list[NoteCount]


@dataclasses.dataclass(frozen=True)
class ItemStats:
    key: int  # the quiz item id (quiz view) or the exercise id (exercise view)
    title: str
    slug: str
    parts: list[PartStats]
    students: int
    #: the most common first wrong steps: note = part id, label = part and diagnosis
    first_wrong: list[NoteCount] = dataclasses.field(default_factory=list)
    #: every part some attempt broke first at, most common first, split by diagnosis
    first_wrong_parts: list[FirstWrongPart] = dataclasses.field(default_factory=list)


def band_of(credit: float) -> int:
    """Which of the five bands a credit falls in (1.0 goes in the top band)."""
    return min(len(BANDS) - 1, max(0, int(credit * len(BANDS))))


def note_label(note: str, feedback: dict[str, str]) -> str:
    """A readable name for a diagnosis code."""
    if note.startswith("mistake:"):
        code = note.split(":", 1)[1]
        return feedback.get(code) or code.replace("_", " ").capitalize()
    if note.startswith("diagnosis:"):
        return note.split(":", 1)[1].replace("_", " ").capitalize()
    return NOTE_LABELS.get(note, note.replace("_", " ").capitalize())


OTHER = "other"
OTHER_LABEL = "Other: wrong, no known mistake matched"


def first_wrong_parts(
    variant: Variant, counted: Mapping[tuple[str, str], int]
) -> list[FirstWrongPart]:
    """Group ``(part id, note) -> attempts`` by part: named mistakes and diagnoses apart,
    every other wrong answer as ``other``. Parts and causes most common first; ties keep
    the part order, and ``other`` after named causes."""
    order = {p.id: i for i, p in enumerate(variant.parts)}
    by_part: dict[str, Counter[str]] = defaultdict(Counter)
    for (pid, note), n in counted.items():
        named = note.startswith(("mistake:", "diagnosis:"))
        by_part[pid][note if named else OTHER] += n
    result = []
    for pid, causes in by_part.items():
        part = next((p for p in variant.parts if p.id == pid), None)
        feedback = {m.code: m.feedback for m in part.mistakes} if part else {}
        ranked = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0] == OTHER, kv[0]))
        result.append(
            FirstWrongPart(
                pid,
                (part.name if part else "") or pid,
                sum(causes.values()),
                [
                    NoteCount(note, OTHER_LABEL if note == OTHER else note_label(note, feedback), n)
                    for note, n in ranked
                ],
            )
        )
    result.sort(key=lambda fw: (-fw.count, order.get(fw.part_id, len(order))))
    return result


def _analyse(
    session: Session, course_id: int, item_query: Select[Any], group: str
) -> list[ItemStats]:
    """Stats of the items ``item_query`` selects, grouped by item or by exercise."""
    items = session.execute(
        item_query.with_only_columns(QuizItem, Exercise).join(
            Exercise, Exercise.id == QuizItem.exercise_id
        )
    ).all()
    item_ids = item_query.with_only_columns(QuizItem.id).scalar_subquery()
    key_of = {item.id: (item.id if group == "item" else exercise.id) for item, exercise in items}
    students = select(Enrolment.user_id).where(
        Enrolment.course_id == course_id, Enrolment.role == "student"
    )
    attempts = select(Attempt.id).where(
        Attempt.quiz_item_id.in_(item_ids), Attempt.user_id.in_(students.scalar_subquery())
    )
    attempt_item = dict(
        session.execute(attempts.with_only_columns(Attempt.id, Attempt.quiz_item_id)).all()
    )
    attempt_ids = attempts.scalar_subquery()
    best: dict[tuple[int, str], float] = {}
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for attempt_id, part_id, score, n in session.execute(
        select(
            Submission.attempt_id,
            Submission.part_id,
            func.max(Submission.score),
            func.count(),
        )
        .where(Submission.attempt_id.in_(attempt_ids), Submission.status == "graded")
        .group_by(Submission.attempt_id, Submission.part_id)
    ):
        if score is not None:
            best[(attempt_id, part_id)] = float(score)
        counts[(attempt_id, part_id)] += int(n)
    for attempt_id, part_id, score in session.execute(
        select(GradeOverride.attempt_id, GradeOverride.part_id, GradeOverride.score)
        .where(GradeOverride.attempt_id.in_(attempt_ids))
        .order_by(GradeOverride.created_at, GradeOverride.id)
    ):
        best[(attempt_id, part_id)] = float(score)
    notes: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for item_id, part_id, note, n in session.execute(
        select(Attempt.quiz_item_id, Submission.part_id, Submission.note, func.count())
        .join(Attempt, Attempt.id == Submission.attempt_id)
        .where(
            Submission.attempt_id.in_(attempt_ids),
            Submission.status.in_(("graded", "invalid")),
            Submission.note.is_not(None),
            Submission.note != "correct",
        )
        .group_by(Attempt.quiz_item_id, Submission.part_id, Submission.note)
    ):
        if note is not None:
            notes[(key_of[item_id], part_id)][note] += int(n)
    outcome, newest = follow_stats.outcomes(session, attempt_ids)
    tally: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for (attempt_id, part_id), what in outcome.items():
        tally[(key_of[attempt_item[attempt_id]], part_id)][what] += 1
    # One stored variant per item gives the parts' prompts and the mistakes' feedback.
    firsts = attempts.with_only_columns(func.min(Attempt.id)).group_by(Attempt.quiz_item_id)
    variants = {
        item_id: variant
        for item_id, variant in session.execute(
            select(Attempt.quiz_item_id, Attempt.variant).where(
                Attempt.id.in_(firsts.scalar_subquery())
            )
        )
    }

    credits: dict[tuple[int, str], list[float]] = defaultdict(list)
    subs_total: dict[tuple[int, str], int] = defaultdict(int)
    for (attempt_id, part_id), credit in best.items():
        credits[(key_of[attempt_item[attempt_id]], part_id)].append(credit)
    for (attempt_id, part_id), n in counts.items():
        subs_total[(key_of[attempt_item[attempt_id]], part_id)] += n

    result: dict[int, ItemStats] = {}
    for item, exercise in items:
        key = key_of[item.id]
        if key in result:
            continue
        variant = variants.get(item.id) or next(
            (variants[i.id] for i, _ in items if key_of[i.id] == key and i.id in variants), None
        )
        parts_json = variant.get("parts", []) if variant else []
        part_stats = []
        for part in parts_json:
            pk = (key, part["id"])
            values = credits.get(pk, [])
            bands = [0] * len(BANDS)
            for v in values:
                bands[band_of(v)] += 1
            feedback = {m["code"]: m.get("feedback", "") for m in part.get("mistakes", ())}
            top = [
                NoteCount(note, note_label(note, feedback), n)
                for note, n in notes.get(pk, Counter()).most_common(TOP_NOTES)
            ]
            part_stats.append(
                PartStats(
                    part["id"],
                    part.get("prompt_md", ""),
                    len(values),
                    (sum(values) / len(values)) if values else None,
                    bands,
                    top,
                    subs_total.get(pk, 0),
                    tally[pk][follow_stats.RIGHT],
                    tally[pk][follow_stats.FOLLOW],
                    tally[pk][follow_stats.WRONG],
                    part.get("label") or part["id"],
                )
            )
        who = {a for a, it in attempt_item.items() if key_of[it] == key}  # attempts of this group
        firsts_top: list[NoteCount] = []
        by_part: list[FirstWrongPart] = []
        if variant:
            shape = Variant.from_json(variant)
            counted = follow_stats.count_first_wrong(shape, [newest[a] for a in who if a in newest])
            for (pid, note), n in counted.most_common(TOP_NOTES):
                part = next((p for p in shape.parts if p.id == pid), None)
                feedback = {m.code: m.feedback for m in part.mistakes} if part else {}
                name = part.name if part else pid
                firsts_top.append(NoteCount(pid, f"{name}: {note_label(note, feedback)}", n))
            by_part = first_wrong_parts(shape, counted)
        result[key] = ItemStats(
            key, exercise.title, exercise.slug, part_stats, len(who), firsts_top, by_part
        )
    return list(result.values())


def quiz_analysis(
    session: Session, actor: User | None, quiz_id: int
) -> tuple[Quiz, list[ItemStats]]:
    """Per item of the quiz, per part: mean, distribution and the common mistakes."""
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(f"no quiz {quiz_id}")
    require_staff(session, actor, quiz.course_id)
    query = select(QuizItem).where(QuizItem.quiz_id == quiz_id).order_by(QuizItem.position)
    return quiz, _analyse(session, quiz.course_id, query, "item")


def exercise_analysis(
    session: Session, actor: User | None, course_id: int, exercise_id: int
) -> ItemStats | None:
    """One exercise across every quiz of the course that uses it (None when unused)."""
    require_staff(session, actor, course_id)
    query = (
        select(QuizItem)
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        .where(Quiz.course_id == course_id, QuizItem.exercise_id == exercise_id)
        .order_by(QuizItem.id)
    )
    stats = _analyse(session, course_id, query, "exercise")
    return stats[0] if stats else None
