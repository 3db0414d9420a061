"""Follow-through through the real submit service, on SQLite and PostgreSQL.

For every family with dependent parts: a wrong early answer and later answers right given
it are ``consistent`` with the quiz's credit; changing the early answer re-judges the later
ones; a regrade job gives the same outcome; the declared mistakes of a dependent part,
made from right earlier answers, get no follow-through.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.exercises import Variant
from grader.exercises.follow import dependents
from grader.models import Submission
from grader.services import attempts
from grader.services import job_runner
from grader.services import regrade
from grader.services import submissions
from tests.support.follow_values import chaining_exercises
from tests.support.follow_values import roots
from tests.support.follow_values import text
from tests.support.follow_values import wrong_chain
from tests.support.student_world import REPO
from tests.support.student_world import load_exercise
from tests.support.student_world import make_quiz
from tests.support.student_world import make_world

CASES = [f"{name}.yaml" for name in chaining_exercises()]


def setup(session: Session, filename: str, credit: float):
    world = make_world(session, prefix=filename[:5].replace("-", ""), commit=False)
    exercise = load_exercise(session, REPO / "exercises" / filename)
    quiz = make_quiz(
        session, world.course, [exercise], attempts_allowed=None, follow_through_credit=credit
    )
    session.commit()
    attempt = attempts.start_or_resume(session, world.student, quiz.items[0], secret="s3cret")
    return world, attempt


def send(session, world, attempt, part_id, answer):
    return submissions.submit(
        session,
        user=world.student,
        attempt=attempt,
        part_id=part_id,
        raw_answer=answer,
        idempotency_key=None,
    )


def latest(session, attempt) -> dict[str, Submission]:
    subs = session.scalars(
        select(Submission).where(Submission.attempt_id == attempt.id).order_by(Submission.id)
    ).all()
    return {s.part_id: s for s in subs}


def outcomes(session, attempt) -> dict[int, tuple]:
    session.expire_all()
    subs = session.scalars(select(Submission).where(Submission.attempt_id == attempt.id)).all()
    return {s.id: (s.verdict, s.score, s.note) for s in subs}


@pytest.mark.parametrize("filename", CASES)
def test_consistent_answers_get_the_quiz_credit_and_follow_changes(
    db_session: Session, filename: str
) -> None:
    credit = 0.75
    world, attempt = setup(db_session, filename, credit)
    variant = Variant.from_json(attempt.variant)
    root = roots(variant)[0]
    below = dependents(variant, root)
    assert below, f"{filename}: {root} has no dependent parts"
    student = wrong_chain(variant, root)
    send(db_session, world, attempt, root, text(student[root]))
    assert latest(db_session, attempt)[root].verdict == "incorrect"
    for pid in below:  # in part order: sources before dependents
        rule = variant.part(pid).follow
        assert rule is not None
        sub = send(db_session, world, attempt, pid, text(student[pid]))
        assert sub.verdict == "consistent", (pid, sub.feedback)
        assert sub.score == pytest.approx(credit)
        assert sub.counts_as_try
        named = [f["part"] for f in sub.feedback["follows"]]
        assert named
        assert set(named) <= set(rule.sources)
        assert sub.feedback["first_wrong"] == root
        # one wrong earlier value, or several (∂L/∂w2 follows both ∂L/∂y and h)
        were = "that value was" if len(named) == 1 else "those values were"
        assert f"{were} wrong" in sub.feedback["message"]

    # The early answer becomes right: the direct dependents are judged again and are now
    # simply wrong; the score the student has seen is kept (main's rule: a seen score
    # never goes down), and the feedback says so.
    direct = [p for p in below if variant.part(p).follow.sources == (root,)]
    assert direct
    send(db_session, world, attempt, root, variant.part(root).key_text)
    db_session.expire_all()
    now = latest(db_session, attempt)
    for pid in direct:
        assert now[pid].verdict == "incorrect", pid
        assert now[pid].feedback["follows"] == []
        assert now[pid].score == pytest.approx(credit)
        assert now[pid].feedback["kept_score"]["kept"] == pytest.approx(credit)

    # ...and wrong again: once right, it stays right for follow-through (its credit is
    # kept), so the later answers stay wrong.
    send(db_session, world, attempt, root, text(student[root]))
    db_session.expire_all()
    now = latest(db_session, attempt)
    for pid in direct:
        assert now[pid].verdict == "incorrect", pid

    # A regrade job recomputes follow-through and gives the same outcome.
    before = outcomes(db_session, attempt)
    regrade.start_regrade(db_session, world.instructor, attempt.quiz_item.quiz_id)
    assert job_runner.run_next_job(db_session) is not None
    assert outcomes(db_session, attempt) == before


@pytest.mark.parametrize("filename", CASES)
def test_no_follow_through_from_right_earlier_answers(db_session: Session, filename: str) -> None:
    world, attempt = setup(db_session, filename, 1.0)
    variant = Variant.from_json(attempt.variant)
    root = roots(variant)[0]
    send(db_session, world, attempt, root, variant.part(root).key_text)
    tried = 0
    for pid in dependents(variant, root):
        part = variant.part(pid)
        for s in part.follow.sources:  # every earlier value right
            send(db_session, world, attempt, s, variant.part(s).key_text)
        for m in part.mistakes:
            sub = send(db_session, world, attempt, pid, text(m.value))
            assert sub.verdict == "incorrect", (pid, m.code, sub.feedback)
            assert sub.note == f"mistake:{m.code}"
            assert sub.score == pytest.approx(m.credit)
            tried += 1
    assert tried


def test_item_analysis_shows_follow_through_apart_and_the_first_wrong_step(
    db_session: Session,
) -> None:
    from grader.services import analysis

    world, attempt = setup(db_session, "chain-rule-numeric.yaml", 1.0)
    variant = Variant.from_json(attempt.variant)
    root = "dLdy"
    student = wrong_chain(variant, root)
    send(db_session, world, attempt, root, text(student[root]))
    below = dependents(variant, root)
    for pid in below:
        send(db_session, world, attempt, pid, text(student[pid]))
    quiz_id = attempt.quiz_item.quiz_id
    _, items = analysis.quiz_analysis(db_session, world.instructor, quiz_id)
    (item,) = items
    stats = {p.part_id: p for p in item.parts}
    assert (stats[root].right, stats[root].follow, stats[root].wrong) == (0, 0, 1)
    for pid in below:
        assert (stats[pid].right, stats[pid].follow, stats[pid].wrong) == (0, 1, 0), pid
        assert stats[pid].mean == pytest.approx(1.0)
    assert [n.note for n in item.first_wrong] == [root]
    assert item.first_wrong[0].label.startswith("∂L/∂y")
    assert item.first_wrong[0].count == 1
    from grader.services import gradebook

    book = gradebook.quiz_gradebook(db_session, world.instructor, quiz_id)
    (cell,) = [c for row in book.rows for c in row.cells if c is not None]
    assert cell.points is not None
    assert cell.points > 0
    assert cell.follow_points == pytest.approx(cell.points)  # all but the wrong dL/dy

    # A regrade recomputes follow-through and keeps every consistent verdict.
    before = outcomes(db_session, attempt)
    assert sum(v[0] == "consistent" for v in before.values()) == len(below)
    regrade.start_regrade(db_session, world.instructor, quiz_id)
    assert job_runner.run_next_job(db_session) is not None
    assert outcomes(db_session, attempt) == before


def test_replay_reproduces_a_consistent_verdict(db_session: Session) -> None:
    from grader.services import replay

    world, attempt = setup(db_session, "delta-rule-classic.yaml", 0.5)
    variant = Variant.from_json(attempt.variant)
    chain = wrong_chain(variant, "y")
    send(db_session, world, attempt, "y", text(chain["y"]))
    sub = send(db_session, world, attempt, "w1", text(chain["w1"]))
    assert sub.verdict == "consistent"
    again = replay.replay_submission(db_session, sub.id).to_json()
    assert again["matches"], again
    assert again["judgement"]["status"] == "consistent"


def test_an_earlier_part_once_right_stays_right_for_follow_through(db_session: Session) -> None:
    """Answering right (credit kept) and then a crafted wrong value must not open
    follow-through for a later mistake."""
    world, attempt = setup(db_session, "chain-rule-numeric.yaml", 1.0)
    variant = Variant.from_json(attempt.variant)
    send(db_session, world, attempt, "dLdy", variant.part("dLdy").key_text)
    forgot = next(m for m in variant.part("dw2").mistakes if m.code == "forgot_input")
    # the dL/dy that would make the forgot-input answer "consistent"
    crafted = float(variant.part("dLdy").key) * float(forgot.value) / float(variant.part("dw2").key)
    send(db_session, world, attempt, "dLdy", text(crafted))
    sub = send(db_session, world, attempt, "dw2", text(forgot.value))
    assert sub.verdict == "incorrect"
    assert sub.note == "mistake:forgot_input"
