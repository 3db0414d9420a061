"""Tries and penalties follow the order answers were stored, whatever order their grading
finishes in; a regrade never lowers a score the student has seen.

On SQLite and PostgreSQL (db_session). Answers stored but not yet decided are what
simultaneous requests leave behind: each request stores its answer, then judges it with
no lock held, then decides it. Here the rows are stored ``pending`` and decided in
every other order; ``tests/faults/test_deadline_rush.py`` sends them at once for real.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Attempt
from grader.models import Submission
from grader.services import attempts
from grader.services import authoring
from grader.services import grading
from grader.services import jobs
from grader.services import regrade
from tests.services.test_gradebook import SOURCE
from tests.services.test_gradebook import attempt as make_attempt
from tests.services.test_gradebook import build_class
from tests.services.test_gradebook import variant_json
from tests.support.student_world import World
from tests.support.student_world import make_world

WRONG = "987654.321"  # far from every key and every usual mistake of the delta rule


def _world(session: Session) -> tuple[World, Attempt]:
    world = make_world(session, attempts_allowed=5, penalty_per_retry=0.25)
    attempt = attempts.start_or_resume(session, world.student, world.item, secret="s3cret")
    return world, attempt


def _key(attempt: Attempt, part_id: str) -> str:
    return str(next(p["key_text"] for p in attempt.variant["parts"] if p["id"] == part_id))


def _store(session: Session, attempt: Attempt, answers: list[str], part: str = "w1") -> list[int]:
    """Answers stored and committed, not yet decided (as simultaneous requests leave them)."""
    rows = [
        Submission(attempt_id=attempt.id, part_id=part, raw_answer=a, status="pending")
        for a in answers
    ]
    session.add_all(rows)
    session.commit()
    return [r.id for r in rows]


def _decide(session: Session, ids: list[int], order: tuple[int, ...]) -> dict[int, float | None]:
    for index in order:
        sub = session.get(Submission, ids[index])
        assert sub is not None
        grading.grade_submission(session, sub)
    session.expire_all()
    scores = {}
    for sub_id in ids:
        sub = session.get(Submission, sub_id)
        assert sub is not None
        assert sub.status == "graded"
        scores[sub_id] = sub.score
    return scores


@pytest.mark.parametrize("right_at", [0, 2, 4])
def test_the_right_answer_scores_by_its_place_in_storage_order(
    db_session: Session, right_at: int
) -> None:
    """4 wrong answers and the right one, 25 % penalty a retry, 5 tries: the right one's
    score is 1 - 0.25 x (wrong answers stored before it), in every order of deciding."""
    _, attempt = _world(db_session)
    answers = [WRONG] * 4
    answers.insert(right_at, _key(attempt, "w1"))
    ids = _store(db_session, attempt, answers)
    expected = {sub_id: 0.0 for sub_id in ids}
    expected[ids[right_at]] = 1.0 - 0.25 * right_at
    orders = list(itertools.permutations(range(5)))
    # the stored order, its reverse, the right one first and last, and a few others
    chosen = {orders[0], orders[-1], *orders[:: len(orders) // 7]}
    chosen |= {tuple([right_at] + [i for i in range(5) if i != right_at])}
    for order in sorted(chosen):
        for sub_id in ids:  # back to undecided, as stored
            sub = db_session.get(Submission, sub_id)
            assert sub is not None
            sub.status, sub.score, sub.verdict, sub.graded_at = "pending", None, None, None
        db_session.commit()
        assert _decide(db_session, ids, order) == expected, order


def test_deciding_the_last_decides_the_earlier_ones_first(db_session: Session) -> None:
    _, attempt = _world(db_session)
    ids = _store(db_session, attempt, [WRONG, WRONG, _key(attempt, "w1")])
    last = db_session.get(Submission, ids[-1])
    assert last is not None
    grading.grade_submission(db_session, last)
    assert last.score == pytest.approx(0.5)
    db_session.expire_all()
    earlier = [db_session.get(Submission, i) for i in ids[:2]]
    assert [(s.status, s.verdict) for s in earlier if s] == [("graded", "incorrect")] * 2


def test_an_answer_decided_meanwhile_is_not_graded_again(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, attempt = _world(db_session)
    (sub_id,) = _store(db_session, attempt, [_key(attempt, "w1")])
    sub = db_session.get(Submission, sub_id)
    assert sub is not None
    grading.grade_submission(db_session, sub)
    decided = (sub.status, sub.verdict, sub.score, sub.graded_at)
    calls = []
    real = grading.record_result
    monkeypatch.setattr(grading, "record_result", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = grading.grade_submission(db_session, sub)
    assert calls == []
    assert (again.status, again.verdict, again.score, again.graded_at) == decided


def test_a_failing_earlier_answer_stays_pending_and_the_later_one_is_decided(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, attempt = _world(db_session)
    ids = _store(db_session, attempt, ["boom", _key(attempt, "w1")])
    real = grading.judge

    def judge(variant, part_id, raw):  # type: ignore[no-untyped-def]
        if raw == "boom":
            raise RuntimeError("judge blew up")
        return real(variant, part_id, raw)

    monkeypatch.setattr(grading, "judge", judge)
    last = db_session.get(Submission, ids[1])
    assert last is not None
    grading.grade_submission(db_session, last)
    assert (last.status, last.score) == ("graded", 1.0)
    first = db_session.get(Submission, ids[0])
    assert first is not None
    assert first.status == "pending"


# --------------------------------------------------------------------------- regrades

# The "fix" that makes a right answer wrong: w1 keyed to w2's value.
REKEYED = SOURCE.replace("key: w1_new", "key: w2_new")


def test_a_regrade_keeps_a_score_the_student_has_seen_and_shows_the_change(
    db_session: Session,
) -> None:
    c = build_class(db_session, students=1, source=SOURCE)
    (ann,) = c.students
    attempt = make_attempt(db_session, c.items[0], ann, {}, seed=1, source=SOURCE)
    right = variant_json(SOURCE, 1)["parts"][1]["key_text"]
    sub = Submission(attempt_id=attempt.id, part_id="w1", raw_answer=right, status="pending")
    db_session.add(sub)
    db_session.commit()
    grading.grade_submission(db_session, sub)
    assert (sub.verdict, sub.score) == ("correct", 1.0)  # what the student saw

    authoring.save(db_session, c.prof, c.course.id, REKEYED, exercise_id=c.exercise.id)
    regrade.start_regrade(db_session, c.prof, c.quiz.id)
    job = jobs.run_next_job(db_session)
    assert job is not None
    assert job.status == "done", job.error

    db_session.expire_all()
    kept = db_session.get(Submission, sub.id)
    assert kept is not None
    assert (kept.status, kept.score, kept.counts_as_try) == ("graded", 1.0, True)
    assert kept.verdict == "incorrect"  # the new judgement is recorded ...
    assert kept.feedback is not None
    assert kept.feedback["kept_score"] == {"score": 0.0, "kept": 1.0}
    assert grading.KEPT_SCORE_NOTE in kept.feedback["message"]  # ... and the student told
    # The instructor's regrade report shows what changed and why, with the score kept.
    (change,) = [ch for ch in job.payload["changes"] if ch["submission_id"] == sub.id]
    assert (change["before"]["verdict"], change["after"]["verdict"]) == ("correct", "incorrect")
    assert change["before"]["score"] == change["after"]["score"] == 1.0
    progress = attempts.attempt_progress(db_session, kept.attempt)
    assert progress.part("w1").credit == 1.0


def test_a_regrade_still_raises_a_score(db_session: Session) -> None:
    c = build_class(db_session, students=1, source=REKEYED)
    (ann,) = c.students
    attempt = make_attempt(db_session, c.items[0], ann, {}, seed=1, source=REKEYED)
    right = variant_json(SOURCE, 1)["parts"][1]["key_text"]
    sub = Submission(attempt_id=attempt.id, part_id="w1", raw_answer=right, status="pending")
    db_session.add(sub)
    db_session.commit()
    grading.grade_submission(db_session, sub)
    assert sub.score == 0.0
    authoring.save(db_session, c.prof, c.course.id, SOURCE, exercise_id=c.exercise.id)
    regrade.start_regrade(db_session, c.prof, c.quiz.id)
    assert jobs.run_next_job(db_session) is not None
    db_session.expire_all()
    raised = db_session.scalar(select(Submission).where(Submission.id == sub.id))
    assert raised is not None
    assert (raised.verdict, raised.score) == ("correct", 1.0)
    assert "kept_score" not in (raised.feedback or {})
