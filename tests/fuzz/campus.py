"""A course with every kind of object a route can point at, and a way to fill route ids.

Sam and Olive are students of the same course; Olive has answered (her answer holds a
marker that must never reach Sam), has an override and an LTI launch; the course has a
course-owned exercise, a regrade job, an LTI registration with a deployment, a webhook.
``Campus.fill(rule, whose)`` turns a URL rule into a path with real ids: Olive's objects
(``whose="olive"``) for the isolation test, Sam's own (``"sam"``) for the form fuzzing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from grader.models import Attempt
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Job
from grader.models import Submission
from grader.models import User
from grader.models_lti import LtiDeployment
from grader.models_lti import LtiRegistration
from grader.services import attempts as attempt_service
from grader.services import gradebook
from grader.services import submissions as submission_service
from grader.services.library import save_exercise_source
from grader.web import security
from tests.ops.richcourse import own_exercise_text
from tests.support.student_world import World
from tests.support.student_world import make_user
from tests.support.student_world import make_world

MARKER = "987654.321"  # Olive's answer: never in anything Sam is shown
OLIVE_REASON = "olive-override-reason-7f3a"


@dataclasses.dataclass
class Campus:
    world: World
    admin: User
    sam_attempt: Attempt
    olive_attempt: Attempt
    olive_submission: Submission
    olive_enrolment: Enrolment
    own_exercise: Exercise
    job: Job
    registration: LtiRegistration
    deployment: LtiDeployment
    sam_submission_id: int

    @property
    def sam(self) -> User:
        return self.world.student

    @property
    def olive(self) -> User:
        return self.world.other

    @property
    def prof(self) -> User:
        return self.world.instructor

    def values(self, whose: str) -> dict[str, Any]:
        """A value for every route parameter name we have."""
        attempt = self.olive_attempt if whose == "olive" else self.sam_attempt
        return {
            "attempt_id": attempt.id,
            "submission_id": self.olive_submission.id
            if whose == "olive"
            else self.sam_submission_id,
            "part_id": "w1",
            "course_id": self.world.course.id,
            "quiz_id": self.world.quiz.id,
            "item_id": self.world.item.id,
            "exercise_id": self.own_exercise.id,
            "enrolment_id": self.olive_enrolment.id,
            "job_id": self.job.id,
            "registration_id": self.registration.id,
            "deployment_pk": self.deployment.id,
            "score_id": 999_999,
            "webhook_id": 999_999,
            "handle": "no-such-launch",
            "filename": "no-such-file.js",
            "token": "no-such-token",
            "user_id": self.olive.id,
        }

    def fill(self, rule: Rule, whose: str) -> str:
        values = self.values(whose)
        missing = [name for name in rule.arguments if name not in values]
        assert not missing, f"say how to fill {missing} of {rule.rule} in tests/fuzz/campus.py"
        path = rule.rule
        for name in rule.arguments:
            path = _substitute(path, name, str(values[name]))
        return path


def _substitute(path: str, name: str, value: str) -> str:
    import re

    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?" + name + ">", value, path)


def build(session: Session, app: Flask) -> Campus:
    app.config["INSTRUCTOR_JOBS"] = "inline"  # the rollback session cannot cross threads
    world = make_world(session, prefix="c", attempts_allowed=None)
    admin = make_user(session, "c-admin@example.com", role="admin")
    secret = app.config["SECRET_KEY"]
    sam_attempt = attempt_service.start_or_resume(session, world.student, world.item, secret=secret)
    sam_submission = submission_service.submit(
        session,
        user=world.student,
        attempt=sam_attempt,
        part_id="y",
        raw_answer="1.5",
        idempotency_key="sam-1",
    )
    olive_attempt = attempt_service.start_or_resume(session, world.other, world.item, secret=secret)
    olive_submission = submission_service.submit(
        session,
        user=world.other,
        attempt=olive_attempt,
        part_id="w1",
        raw_answer=MARKER,
        idempotency_key="olive-1",
    )
    gradebook.override_grade(
        session, world.instructor, olive_attempt.id, "y", points=0.5, reason=OLIVE_REASON
    )
    olive_enrolment = session.scalar(
        select(Enrolment).where(
            Enrolment.user_id == world.other.id, Enrolment.course_id == world.course.id
        )
    )
    assert olive_enrolment is not None
    own, _ = save_exercise_source(
        session,
        own_exercise_text("c-own", "Campus delta rule"),
        course_id=world.course.id,
        author_id=world.instructor.id,
    )
    job = Job(kind="regrade", payload={"quiz_id": world.quiz.id}, status="done", total=1)
    session.add(job)
    registration = LtiRegistration(
        name="Campus LMS",
        issuer="https://lms.campus.example",
        client_id="campus-client",
        auth_login_url="https://lms.campus.example/auth",
        token_url="https://lms.campus.example/token",
        jwks_url="https://lms.campus.example/jwks",
    )
    session.add(registration)
    session.flush()
    deployment = LtiDeployment(registration_id=registration.id, deployment_id="dep-1")
    session.add(deployment)
    session.commit()
    return Campus(
        world,
        admin,
        sam_attempt,
        olive_attempt,
        olive_submission,
        olive_enrolment,
        own,
        job,
        registration,
        deployment,
        sam_submission.id,
    )


def sign_in(client: FlaskClient, user: User | None, *, fresh: bool = True) -> None:
    """Sign ``user`` in (a recorded sign-in) or out; ``fresh=False`` keeps the CSRF token."""
    values = None if user is None else security.new_sign_in(client.application, user.id)
    with client.session_transaction() as cookie:
        if fresh:
            cookie.clear()
        if values is None:
            cookie.pop(security.USER_ID_KEY, None)
            cookie.pop(security.SIGN_IN_KEY, None)
        else:
            cookie.update(values)


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) of the app except static files, sorted for determinism."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda pair: (pair[0].rule, pair[1]))
