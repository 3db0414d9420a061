"""A course with everything an archive must carry, built through the real services.

Two quizzes; a built-in numeric exercise, a built-in symbolic one, and a course-owned
exercise with two versions (attempts on each); answers right, wrong and unreadable; a
submission left ``pending``; an override; a student who left the course after answering;
password hashes; late and timed quizzes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from grader.models import Course
from grader.models import Enrolment
from grader.models import Quiz
from grader.models import Submission
from grader.services import attempts
from grader.services import gradebook
from grader.services import submissions
from grader.services.library import save_exercise_source
from tests.support.student_world import DELTA_RULE
from tests.support.student_world import REPO
from tests.support.student_world import enrol
from tests.support.student_world import load_exercise
from tests.support.student_world import make_quiz
from tests.support.student_world import make_user

SYMBOLIC = REPO / "exercises" / "chain-rule-symbolic.yaml"
T0 = dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)


@dataclasses.dataclass
class Rich:
    course: Course
    code: str
    quizzes: list[Quiz]
    n_students: int


def own_exercise_text(slug: str, title: str) -> str:
    text = DELTA_RULE.read_text(encoding="utf-8")
    text = text.replace("id: delta-rule-classic", f"id: {slug}", 1)
    return text.replace("title: One delta-rule update on a linear neuron", f"title: {title}", 1)


def build(session: Session, *, prefix: str = "rich", students: int = 3) -> Rich:
    """Build and commit the course; returns what the tests look up."""
    code = f"{prefix.upper()}-101"
    course = Course(code=code, title="Backprop, the whole story", join_code=f"{prefix}-join")
    session.add(course)
    session.flush()
    prof = make_user(
        session, f"{prefix}-prof@example.com", role="instructor", password="prof-password-1"
    )
    enrol(session, course, prof, "instructor")
    ta = make_user(session, f"{prefix}-ta@example.com")
    enrol(session, course, ta, "ta")
    people = [
        make_user(session, f"{prefix}-s{n}@example.com", password="student-pass-1" if n else None)
        for n in range(students)
    ]
    for person in people:
        enrol(session, course, person)

    numeric = load_exercise(session)
    symbolic = load_exercise(session, SYMBOLIC)
    own, _ = save_exercise_source(
        session,
        own_exercise_text(f"{prefix}-own", "Our own delta rule"),
        course_id=course.id,
        author_id=prof.id,
    )
    q1 = make_quiz(
        session,
        course,
        [numeric, own],
        title="Week 1",
        attempts_allowed=None,
        penalty_per_retry=0.1,
        late_policy={"mode": "penalty", "penalty": 0.25},
        due_at=T0,
        description="Numbers *and* words",
        show_solutions="always",
    )
    q2 = make_quiz(session, course, [symbolic], title="Week 2", opens_at=T0)
    q1.items[0].part_points = {"y": 1.0, "w1": 2.0, "w2": 3.0}
    session.commit()

    secret = "rich-course-secret"
    for person in people:
        for item in [*q1.items, *q2.items]:
            attempt = attempts.start_or_resume(session, person, item, secret=secret)
            parts = attempt.variant["parts"]
            first = parts[0]
            for n, answer in enumerate(["1/0 +", "12345", first["key_text"]]):
                submissions.submit(
                    session,
                    user=person,
                    attempt=attempt,
                    part_id=first["id"],
                    raw_answer=answer,
                    idempotency_key=f"k-{person.id}-{item.id}-{n}",
                )
            if len(parts) > 1:
                submissions.submit(
                    session,
                    user=person,
                    attempt=attempt,
                    part_id=parts[1]["id"],
                    raw_answer=parts[1]["key_text"] + "+0",
                    idempotency_key=None,
                )
    # The course-owned exercise gets a second version; a late student gets it.
    save_exercise_source(
        session,
        own_exercise_text(f"{prefix}-own", "Our own delta rule, reworded"),
        course_id=course.id,
        author_id=prof.id,
    )
    late = make_user(session, f"{prefix}-late@example.com")
    enrol(session, course, late)
    session.commit()
    attempt = attempts.start_or_resume(session, late, q1.items[1], secret=secret)
    # A crash between storing and grading: a pending row.
    session.add(
        Submission(
            attempt_id=attempt.id,
            part_id=attempt.variant["parts"][0]["id"],
            raw_answer="0.5 ünïcode ∂",
            idempotency_key="pending-one",
            status="pending",
            created_at=T0,
        )
    )
    session.commit()
    gradebook.override_grade(
        session, prof, attempt.id, attempt.variant["parts"][0]["id"], points=1, reason="seen it"
    )
    # The first student leaves the course after answering: their work stays in the archive.
    session.execute(
        delete(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id == people[0].id)
    )
    session.commit()
    return Rich(course, code, [q1, q2], students)
