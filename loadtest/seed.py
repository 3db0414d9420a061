"""Seed the load-test course: one instructor, N students, a two-item quiz, their attempts.

The students' attempts are created here, with the server's secret, so the quiz page finds
them, and the answer keys go to ``accounts.json`` for the simulated students (a real
student works them out; ours are told). Every student shares one password hash: Argon2id
is slow on purpose and 300 distinct hashes would only slow the seeding.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.services import attempts
from grader.services.accounts import hash_password
from grader.services.library import default_library_dir
from grader.services.library import sync_builtin_exercises

PASSWORD = "load-test-password"  # noqa: S105 - throwaway accounts on a throwaway server
INSTRUCTOR = "prof@load.test"
EXERCISES = ("delta-rule-classic", "chain-rule-symbolic")


def _wrong(part: dict[str, Any]) -> str:
    if part["type"] == "expression":
        return f"2*({part['key_text']}) + 1"
    try:
        value = float(part["key_text"])
    except ValueError:
        return "12345"
    wrong = value * 1.37 + 0.5
    return f"{wrong:.4g}" if math.isfinite(wrong) else "12345"


def seed(session: Session, *, students: int, secret: str, out: Path) -> dict[str, Any]:
    """Create everything and write ``out/accounts.json``; returns what it wrote."""
    sync_builtin_exercises(session, default_library_dir())
    course = Course(code="LOAD101", title="Deadline night", join_code="LOADTEST")
    session.add(course)
    session.flush()
    password_hash = hash_password(PASSWORD)
    prof = User(email=INSTRUCTOR, name="Prof Load", role="instructor", password_hash=password_hash)
    session.add(prof)
    # One more than asked: the spare warms the server up before the clock starts.
    people = [
        User(email=f"s{n:03d}@load.test", name=f"Student {n}", password_hash=password_hash)
        for n in range(students + 1)
    ]
    session.add_all(people)
    session.flush()
    session.add(Enrolment(course_id=course.id, user_id=prof.id, role="instructor"))
    session.add_all(Enrolment(course_id=course.id, user_id=p.id, role="student") for p in people)
    quiz = Quiz(
        course_id=course.id,
        title="Backprop by hand",
        is_published=True,
        attempts_allowed=None,  # deadline night: unlimited tries, so every answer is stored
        penalty_per_retry=0.05,
        late_policy={},
        show_solutions="after_due",
    )
    session.add(quiz)
    session.flush()
    items = []
    for position, slug in enumerate(EXERCISES, start=1):
        exercise = session.scalar(select(Exercise).where(Exercise.slug == slug))
        assert exercise is not None, slug
        item = QuizItem(quiz_id=quiz.id, position=position, exercise_id=exercise.id, points=5)
        session.add(item)
        items.append(item)
    session.commit()

    accounts = []
    for person in people:
        parts = []
        for item in items:
            attempt = attempts.start_or_resume(session, person, item, secret=secret)
            for part in attempt.variant["parts"]:
                parts.append(
                    {
                        "attempt_id": attempt.id,
                        "part_id": part["id"],
                        "kind": "symbolic" if part["type"] == "expression" else "numeric",
                        "right": part["key_text"],
                        "wrong": _wrong(part),
                    }
                )
        accounts.append({"email": person.email, "user_id": person.id, "parts": parts})
    data = {
        "password": PASSWORD,
        "quiz_id": quiz.id,
        "course_id": course.id,
        "instructor": INSTRUCTOR,
        "students": accounts[:-1],
        "spare": accounts[-1],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "accounts.json").write_text(json.dumps(data), encoding="utf-8")
    return data
