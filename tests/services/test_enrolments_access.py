"""Every instructor service refuses students; the managing ones refuse TAs too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from grader.errors import Forbidden
from grader.models import User
from grader.services import analysis
from grader.services import authoring
from grader.services import enrolments
from grader.services import gradebook
from grader.services import quizzes
from grader.services import regrade
from grader.services.quizzes import QuizSettings
from tests.services.test_gradebook import SOURCE
from tests.services.test_gradebook import attempt
from tests.services.test_gradebook import build_class


def test_students_get_forbidden_everywhere_and_tas_only_read(db_session: Session) -> None:
    c = build_class(db_session, students=1)
    student = c.students[0]
    ta_enrolment, _ = enrolments.add_member(
        db_session, c.prof, c.course.id, email="ta@example.com", role="ta"
    )
    ta = db_session.get(User, ta_enrolment.user_id)
    own = next(m for m in enrolments.roster(db_session, c.prof, c.course.id) if m.role == "student")
    a = attempt(db_session, c.items[0], student, {"y": 1.0})
    job = regrade.start_regrade(db_session, c.prof, c.quiz.id)
    cid, qid, eid, iid = c.course.id, c.quiz.id, c.exercise.id, c.items[0].id
    settings = QuizSettings(title="Mine")

    # (name, call, may a TA do it?)
    calls: list[tuple[str, Callable[[Any], object], bool]] = [
        ("roster", lambda u: enrolments.roster(db_session, u, cid), True),
        ("add_member", lambda u: enrolments.add_member(db_session, u, cid, email="x@e.org"), False),
        (
            "change_role",
            lambda u: enrolments.change_role(db_session, u, cid, own.enrolment_id, "ta"),
            False,
        ),
        (
            "remove_member",
            lambda u: enrolments.remove_member(db_session, u, cid, own.enrolment_id),
            False,
        ),
        (
            "import_roster",
            lambda u: enrolments.import_roster(db_session, u, cid, "y@e.org,Y"),
            False,
        ),
        ("list_exercises", lambda u: authoring.list_exercises(db_session, u, cid), True),
        ("get_exercise", lambda u: authoring.get_exercise(db_session, u, cid, eid), True),
        ("versions", lambda u: authoring.versions(db_session, u, cid, eid), True),
        ("starter_source", lambda u: authoring.starter_source(db_session, u, cid), False),
        ("copy_source", lambda u: authoring.copy_source(db_session, u, cid, eid), False),
        ("save", lambda u: authoring.save(db_session, u, cid, SOURCE, exercise_id=eid), False),
        ("list_quizzes", lambda u: quizzes.list_quizzes(db_session, u, cid), True),
        ("get_quiz", lambda u: quizzes.get_quiz(db_session, u, qid), True),
        ("available_exercises", lambda u: quizzes.available_exercises(db_session, u, cid), True),
        ("create_quiz", lambda u: quizzes.create_quiz(db_session, u, cid, settings), False),
        ("update_quiz", lambda u: quizzes.update_quiz(db_session, u, qid, settings), False),
        ("set_published", lambda u: quizzes.set_published(db_session, u, qid, False), False),
        ("add_item", lambda u: quizzes.add_item(db_session, u, qid, eid), False),
        ("update_item", lambda u: quizzes.update_item(db_session, u, qid, iid, points=2), False),
        ("remove_item", lambda u: quizzes.remove_item(db_session, u, qid, iid), False),
        ("move_item", lambda u: quizzes.move_item(db_session, u, qid, iid, 1), False),
        ("quiz_gradebook", lambda u: gradebook.quiz_gradebook(db_session, u, qid), True),
        ("course_gradebook", lambda u: gradebook.course_gradebook(db_session, u, cid), True),
        ("attempt_detail", lambda u: gradebook.attempt_detail(db_session, u, a.id), True),
        (
            "override_grade",
            lambda u: gradebook.override_grade(db_session, u, a.id, "y", points=1, reason="r"),
            True,
        ),
        ("export_csv", lambda u: gradebook.export_csv(db_session, u, qid), True),
        ("start_regrade", lambda u: regrade.start_regrade(db_session, u, qid), False),
        ("get_regrade", lambda u: regrade.get_regrade(db_session, u, qid, job.id), True),
        ("quiz_analysis", lambda u: analysis.quiz_analysis(db_session, u, qid), True),
        ("exercise_analysis", lambda u: analysis.exercise_analysis(db_session, u, cid, eid), True),
    ]
    let_through = []
    for name, call, ta_may in calls:
        with pytest.raises(Forbidden):
            call(student)
        if ta_may:
            call(ta)
        else:
            try:
                call(ta)
            except Forbidden:
                continue
            let_through.append(name)
    assert let_through == []
