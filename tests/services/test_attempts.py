"""Attempts: a stored, per-student variant; progress; when solutions show."""

from __future__ import annotations

import datetime as dt

import pytest

from grader.errors import NotFound
from grader.exercises import generate
from grader.exercises import load_spec_text
from grader.models import Attempt
from grader.models import Quiz
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


@pytest.mark.parametrize(
    ("mode", "due", "policy", "finished", "visible"),
    [
        ("always", None, {}, False, True),
        ("never", -1, {}, True, False),
        ("after_due", 1, {}, False, False),
        ("after_due", -1, {}, False, True),
        ("after_due", None, {}, True, False),  # never due: never shown
        # late answers still accepted: the solution waits for the late window to end
        (
            "after_due",
            -1,
            {"mode": "penalty", "penalty": 0.5, "until": "2026-03-02T00:00:00+00:00"},
            False,
            False,
        ),
        ("after_last_try", 1, {}, False, False),
        ("after_last_try", 1, {}, True, True),
        ("after_last_try", -1, {}, False, True),
    ],
)
def test_solution_visibility(mode, due, policy, finished, visible):
    quiz = Quiz(
        title="q",
        show_solutions=mode,
        due_at=None if due is None else NOW + dt.timedelta(hours=due),
        late_policy=policy,
    )
    attempt = Attempt(id=1)
    progress = attempts.AttemptProgress(
        attempt=attempt,
        parts=[attempts.PartProgress("a", 1.0, 1, 0 if finished else 2, None, None)],
    )
    assert attempts.solution_visible(quiz, attempt, NOW, progress=progress) is visible
