"""``grader replay``: a stored verdict is reproduced exactly from the command line.

Submissions are made through the real submit service (SQLite and PostgreSQL); replaying
each gives the stored status, score, note and feedback record.
"""

from __future__ import annotations

import json

from grader.cli.exercise_cmds import replay_command
from grader.services import attempts
from grader.services import submissions
from grader.services.replay import replay_submission
from tests.support.student_world import make_world


def _answers(variant: dict, part_id: str) -> list[str]:
    part = next(p for p in variant["parts"] if p["id"] == part_id)
    wrong = [str(m["value"]) for m in part["mistakes"]]
    return [part["key_text"], *wrong, "0.123", "2 +", "", "x1"]


def test_replay_gives_the_stored_verdict_for_every_submission(db_session):
    world = make_world(db_session, attempts_allowed=50)
    made = []
    for user in (world.student, world.other):
        attempt = attempts.start_or_resume(db_session, user, world.item, secret="s3cret")
        for part_id in ("y", "w1", "w2"):
            for i, answer in enumerate(_answers(attempt.variant, part_id)):
                made.append(
                    submissions.submit(
                        db_session,
                        user=user,
                        attempt=attempt,
                        part_id=part_id,
                        raw_answer=answer,
                        idempotency_key=f"{user.id}-{part_id}-{i}",
                    )
                )
    assert {s.verdict for s in made} >= {"correct", "incorrect", "invalid"}
    assert any((s.note or "").startswith("mistake:") for s in made)
    for sub in made:
        replayed = replay_submission(db_session, sub.id).to_json()
        judgement = replayed["judgement"]
        assert replayed["matches"], replayed
        assert judgement["status"] == sub.verdict
        assert judgement["score"] == sub.raw_score
        assert judgement["note"] == sub.note
        assert judgement["feedback"] == sub.feedback


def test_replay_command_prints_the_judgement_of_a_stored_submission(app, db_session):
    world = make_world(db_session)
    attempt = attempts.start_or_resume(db_session, world.student, world.item, secret="s3cret")
    part = next(p for p in attempt.variant["parts"] if p["id"] == "w1")
    mistake = part["mistakes"][0]
    sub = submissions.submit(
        db_session,
        user=world.student,
        attempt=attempt,
        part_id="w1",
        raw_answer=str(mistake["value"]),
        idempotency_key="k",
    )
    result = app.test_cli_runner().invoke(replay_command, ["--submission", str(sub.id)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["matches"] is True
    assert payload["judgement"]["mistake"] == mistake["code"]
    assert payload["judgement"]["status"] == "incorrect" == sub.verdict
    missing = app.test_cli_runner().invoke(replay_command, ["--submission", "999999"])
    assert missing.exit_code != 0
    assert "no submission 999999" in missing.output
