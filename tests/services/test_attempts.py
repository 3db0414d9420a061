"""Attempts: a stored, per-student variant; progress; when solutions show."""

from __future__ import annotations

import datetime as dt

import pytest

from grader.errors import NotFound
from grader.exercises import generate
from grader.exercises import load_spec_text
from grader.models import Attempt
from grader.models import Quiz
from grader.models import Submission
from grader.models import utcnow
from grader.services import attempts
from grader.services import submissions
from grader.services.library import save_exercise_source
from tests.support.student_world import DELTA_RULE
from tests.support.student_world import hours
from tests.support.student_world import make_world


def test_seed_is_derived_from_the_secret_and_stable():
    assert attempts.derive_seed("k", 1, 2) == attempts.derive_seed("k", 1, 2)
    assert attempts.derive_seed("k", 1, 2) != attempts.derive_seed("k", 2, 1)
    assert attempts.derive_seed("k", 1, 2) != attempts.derive_seed("other", 1, 2)
    assert 0 <= attempts.derive_seed("k", 1, 2) < 2**31
    assert 0 <= attempts.derive_seed(None, 1, 2) < 2**31


def test_attempt_stores_its_variant_with_the_key_and_is_resumed(db_session):
    world = make_world(db_session)
    attempt = attempts.start_or_resume(db_session, world.student, world.item, secret="s")
    assert attempt.seed == attempts.derive_seed("s", world.student.id, world.item.id)
    spec = load_spec_text(DELTA_RULE.read_text())
    assert attempt.variant == generate(spec, attempt.seed).to_json()
    assert attempt.exercise_version == world.exercise.current_version
    again = attempts.start_or_resume(db_session, world.student, world.item, secret="s")
    assert again.id == attempt.id
    theirs = attempts.start_or_resume(db_session, world.other, world.item, secret="s")
    assert theirs.seed != attempt.seed


def test_a_new_exercise_version_leaves_issued_attempts_alone(db_session):
    world = make_world(db_session)
    mine = attempts.start_or_resume(db_session, world.student, world.item, secret="s")
    before = dict(mine.variant)
    edited = (
        DELTA_RULE.read_text()
        .replace("version: 2", "version: 3")
        .replace("What is the output $y$?", "Compute the output $y$.")
    )
    save_exercise_source(db_session, edited, builtin=True)
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Attempt, mine.id).variant == before
    theirs = attempts.start_or_resume(db_session, world.other, world.item, secret="s")
    assert theirs.exercise_version == mine.exercise_version + 1
    assert theirs.variant["parts"][0]["prompt_md"].startswith("Compute the output $y$. Give")


def test_hidden_quizzes_cannot_be_started(db_session):
    world = make_world(db_session, is_published=False)
    with pytest.raises(NotFound):
        attempts.start_or_resume(db_session, world.student, world.item)
    # staff may open it to try it out
    assert attempts.start_or_resume(db_session, world.instructor, world.item).id


def test_quizzes_open_at_their_opening_time(db_session):
    now = utcnow()
    world = make_world(db_session, opens_at=now + hours(1))
    with pytest.raises(NotFound):
        attempts.start_or_resume(db_session, world.student, world.item, now=now)
    assert attempts.start_or_resume(db_session, world.student, world.item, now=now + hours(2))


def test_progress_weights_parts_by_their_points_and_sums_quiz_scores(db_session):
    world = make_world(db_session)  # item worth 5: parts y, w1, w2 weigh 1, 2, 2
    attempt = attempts.start_or_resume(db_session, world.student, world.item)
    key = next(p["key_text"] for p in attempt.variant["parts"] if p["id"] == "w1")
    submissions.submit(
        db_session,
        user=world.student,
        attempt=attempt,
        part_id="w1",
        raw_answer=key,
        idempotency_key=None,
    )
    progress = attempts.attempt_progress(db_session, attempt)
    assert [(p.part_id, p.points) for p in progress.parts] == [("y", 1.0), ("w1", 2.0), ("w2", 2.0)]
    assert (progress.earned, progress.possible) == (2.0, 5.0)
    scores = attempts.quiz_scores(db_session, world.student, [world.quiz])
    assert scores[world.quiz.id] == attempts.QuizScore(2.0, 5.0, 1, 1)
    assert attempts.quiz_scores(db_session, world.other, [world.quiz])[world.quiz.id].earned == 0


NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _graded(verdict: str, *, counts: bool = True) -> Submission:
    return Submission(part_id="a", status="graded", verdict=verdict, counts_as_try=counts)


@pytest.mark.parametrize(
    ("mode", "due", "policy", "tries_left", "answers", "visible"),
    [
        ("always", None, {}, 2, [], False),  # nothing answered: nothing shown
        ("always", None, {}, 2, [_graded("undetermined", counts=False)], False),
        ("always", None, {}, 2, [_graded("incorrect")], True),  # after the first graded answer
        ("always", -1, {}, 3, [], True),  # closed: everything
        ("never", -1, {}, 0, [_graded("correct")], False),
        ("after_due", 1, {}, 2, [], False),
        ("after_due", -1, {}, 2, [], True),
        ("after_due", None, {}, 0, [], False),  # never due: never shown
        # late answers still accepted: the solution waits for the late window to end
        (
            "after_due",
            -1,
            {"mode": "penalty", "penalty": 0.5, "until": "2026-03-02T00:00:00+00:00"},
            2,
            [],
            False,
        ),
        ("after_last_try", 1, {}, 2, [_graded("incorrect")], False),
        ("after_last_try", 1, {}, 0, [_graded("incorrect")], True),  # out of tries
        # right after a penalty (credit < 1): done, no try needs burning
        ("after_last_try", 1, {}, 2, [_graded("incorrect"), _graded("correct")], True),
        ("after_last_try", -1, {}, 2, [], True),
    ],
)
def test_solution_visibility(mode, due, policy, tries_left, answers, visible):
    quiz = Quiz(
        title="q",
        show_solutions=mode,
        due_at=None if due is None else NOW + dt.timedelta(hours=due),
        late_policy=policy,
    )
    credit = 0.5 if any(s.verdict == "correct" for s in answers) else None
    progress = attempts.AttemptProgress(
        attempt=Attempt(id=1),
        parts=[
            attempts.PartProgress(
                "a", 1.0, len(answers), tries_left, credit, None, submissions=answers
            )
        ],
    )
    shown = attempts.solution_visibility(quiz, progress, NOW)
    assert shown.part("a") is visible
    assert shown.worked is visible


def test_always_shows_each_part_after_its_own_answer_and_the_worked_solution_after_all():
    quiz = Quiz(title="q", show_solutions="always")
    answered = attempts.PartProgress("a", 1.0, 1, 2, 0.0, None, submissions=[_graded("incorrect")])
    untouched = attempts.PartProgress("b", 1.0, 0, 3, None, None)
    progress = attempts.AttemptProgress(attempt=Attempt(id=1), parts=[answered, untouched])
    shown = attempts.solution_visibility(quiz, progress, NOW)
    assert (shown.part("a"), shown.part("b"), shown.worked) == (True, False, False)
