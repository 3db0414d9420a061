"""Gradebook speed (issue 6): the quiz gradebook page for 300 students x 20 items.

Run: .venv/bin/python bench/bench_gradebook.py [--students 300] [--items 20] [--runs 10]

The whole ``GET /teach/quizzes/<id>/gradebook`` (session cookie, role check, the score
matrix, rendering the HTML table) through Flask's test client, as the course's
instructor, on a throwaway SQLite file (WAL) migrated with Alembic. Every student has
an attempt at every item with two graded answers per part, and one in ten cells has a
manual override. Reported: database queries per page (target: the same number for 30
and for 300 students) and milliseconds (median and max over the runs), plus the CSV
export.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from grader import create_app  # noqa: E402
from grader.db import ENGINE_KEY  # noqa: E402
from grader.db import SESSIONMAKER_KEY  # noqa: E402
from grader.exercises import generate  # noqa: E402
from grader.migrate import upgrade  # noqa: E402
from grader.models import Attempt  # noqa: E402
from grader.models import Course  # noqa: E402
from grader.models import Enrolment  # noqa: E402
from grader.models import Exercise  # noqa: E402
from grader.models import ExerciseVersion  # noqa: E402
from grader.models import GradeOverride  # noqa: E402
from grader.models import Quiz  # noqa: E402
from grader.models import QuizItem  # noqa: E402
from grader.models import Submission  # noqa: E402
from grader.models import User  # noqa: E402
from grader.services.authoring import spec_of_source  # noqa: E402
from grader.services.library import default_library_dir  # noqa: E402
from grader.services.library import sync_builtin_exercises  # noqa: E402

SEEDS_PER_EXERCISE = 4


class Counter:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, *_args: Any) -> None:
        self.queries += 1


def build(app: Any, students: int, items: int, rng: random.Random) -> tuple[int, int]:
    """A course, its instructor, ``students`` students and a quiz of ``items`` items, all
    answered. Returns (quiz id, instructor id)."""
    factory = app.extensions[SESSIONMAKER_KEY]
    with factory() as session:
        prof = User(email=f"prof{students}@bench.test", name="Prof", role="instructor")
        course = Course(code=f"GB{students}", title="Gradebook bench", join_code=f"GB{students}")
        session.add_all([prof, course])
        session.flush()
        session.add(Enrolment(course_id=course.id, user_id=prof.id, role="instructor"))
        quiz = Quiz(course_id=course.id, title="Bench quiz", is_published=True)
        session.add(quiz)
        session.flush()
        library = session.execute(
            select(Exercise.id, ExerciseVersion.source_yaml)
            .join(ExerciseVersion, ExerciseVersion.exercise_id == Exercise.id)
            .where(ExerciseVersion.version == Exercise.current_version)
            .order_by(Exercise.slug)
        ).all()
        variants: dict[int, list[dict[str, Any]]] = {}
        item_rows = []
        for position in range(1, items + 1):
            exercise_id, source = library[(position - 1) % len(library)]
            if exercise_id not in variants:
                spec = spec_of_source(source)
                variants[exercise_id] = [
                    generate(spec, seed).to_json() for seed in range(SEEDS_PER_EXERCISE)
                ]
            item_rows.append(
                {"quiz_id": quiz.id, "position": position, "exercise_id": exercise_id, "points": 5}
            )
        session.execute(insert(QuizItem), item_rows)
        item_ids = session.execute(
            select(QuizItem.id, QuizItem.exercise_id).where(QuizItem.quiz_id == quiz.id)
        ).all()
        session.execute(
            insert(User),
            [
                {
                    "email": f"s{students}-{i}@bench.test",
                    "name": f"Student {i:04d}",
                    "role": "student",
                }
                for i in range(students)
            ],
        )
        user_ids = session.scalars(select(User.id).where(User.email.like(f"s{students}-%"))).all()
        session.execute(
            insert(Enrolment),
            [{"course_id": course.id, "user_id": uid, "role": "student"} for uid in user_ids],
        )
        attempt_rows = []
        for uid in user_ids:
            for item_id, exercise_id in item_ids:
                seed = rng.randrange(SEEDS_PER_EXERCISE)
                attempt_rows.append(
                    {
                        "quiz_item_id": item_id,
                        "user_id": uid,
                        "exercise_version": 1,
                        "seed": seed,
                        "variant": variants[exercise_id][seed],
                    }
                )
        session.execute(insert(Attempt), attempt_rows)
        attempts = session.execute(
            select(Attempt.id, Attempt.quiz_item_id)
            .join(QuizItem)
            .where(QuizItem.quiz_id == quiz.id)
        ).all()
        parts_of = {
            item_id: [p["id"] for p in variants[exercise_id][0]["parts"]]
            for item_id, exercise_id in item_ids
        }
        submission_rows = []
        override_rows = []
        for attempt_id, item_id in attempts:
            for part_id in parts_of[item_id]:
                for _ in range(2):
                    score = rng.choice([0.0, 0.25, 1.0])
                    submission_rows.append(
                        {
                            "attempt_id": attempt_id,
                            "part_id": part_id,
                            "raw_answer": "0",
                            "status": "graded",
                            "verdict": "correct" if score == 1.0 else "incorrect",
                            "raw_score": score,
                            "score": score,
                            "note": "correct" if score == 1.0 else "incorrect",
                        }
                    )
            if rng.random() < 0.1:
                override_rows.append(
                    {
                        "attempt_id": attempt_id,
                        "part_id": parts_of[item_id][0],
                        "score": 1.0,
                        "reason": "bench",
                        "created_by_id": prof.id,
                    }
                )
        session.execute(insert(Submission), submission_rows)
        if override_rows:
            session.execute(insert(GradeOverride), override_rows)
        session.commit()
        return quiz.id, prof.id


def measure(
    app: Any, counter: Counter, path: str, user_id: int, runs: int
) -> tuple[int, list[float]]:
    client = app.test_client()
    with client.session_transaction() as s:
        s["user_id"] = user_id
    timings, queries = [], set()
    for _ in range(runs):
        before = counter.queries
        start = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        queries.add(counter.queries - before)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    if len(queries) != 1:
        raise SystemExit(f"{path}: the query count varies between runs: {sorted(queries)}")
    return queries.pop(), timings


def bench_gradebook(students: int = 300, items: int = 20, runs: int = 10) -> tuple[list[str], bool]:
    """The gradebook page at two class sizes; the report lines and whether queries are constant."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "ENV": "testing",
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'gradebook.sqlite3'}",
                "SECRET_KEY": "bench-secret-" + "x" * 40,
                "LOG_LEVEL": "WARNING",
            }
        )
        logging.getLogger("grader").setLevel(logging.WARNING)
        engine = app.extensions[ENGINE_KEY]
        with engine.begin() as conn:
            upgrade(conn)
        with app.extensions[SESSIONMAKER_KEY]() as session:
            sync_builtin_exercises(session, default_library_dir())
        counter = Counter()
        event.listen(engine, "before_cursor_execute", counter)
        rng = random.Random(6)
        lines: list[str] = []
        counts = []
        for size in (30, students):
            start = time.perf_counter()
            quiz_id, prof_id = build(app, size, items, rng)
            setup = time.perf_counter() - start
            queries, timings = measure(
                app, counter, f"/teach/quizzes/{quiz_id}/gradebook", prof_id, runs
            )
            csv_queries, csv_timings = measure(
                app, counter, f"/teach/quizzes/{quiz_id}/gradebook.csv", prof_id, max(3, runs // 3)
            )
            counts.append(queries)
            csv_ms = statistics.median(csv_timings)
            lines.append(
                f"gradebook page, {size:4d} students x {items} items: {queries} queries, "
                f"median {statistics.median(timings):7.1f} ms, max {max(timings):7.1f} ms "
                f"(CSV export: {csv_queries} queries, median {csv_ms:7.1f} ms; "
                f"data built in {setup:4.1f} s)"
            )
        constant = counts[0] == counts[1]
        lines.append(
            f"gradebook queries constant from 30 to {students} students: "
            f"{'PASS' if constant else 'FAIL'} ({counts[0]} vs {counts[1]})"
        )
        engine.dispose()
        return lines, constant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    lines, constant = bench_gradebook(args.students, args.items, args.runs)
    for line in lines:
        print(line)
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(main())
