"""Drive the Flask app like an LMS and a browser would, with the fake platform on loopback.

The platform is a real HTTP server (``tests.lti.fake_platform``); grader is reached through
Flask's test client at ``http://localhost``. The state cookie is ``Secure``; whether Flask's
test client sends it back over plain http depends on the Werkzeug version, so it is parsed
from ``Set-Cookie`` (its attributes are checked), removed from the client's jar, and handed
back by hand when a test wants the browser to have it.
"""

from __future__ import annotations

import dataclasses
import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from grader.lti import KeyState
from grader.lti import key_record_from_pem
from grader.models import Attempt as QuizAttempt
from grader.models import Course
from grader.models import Quiz
from grader.models_lti import LtiContext
from grader.models_lti import LtiToolKey
from grader.services import lti_keys
from grader.services import lti_outbox
from grader.services import lti_registrations
from tests.lti.fake_platform import FakePlatform
from tests.lti.fake_platform import FormPost
from tests.lti.fake_platform import ResourceLinkRecord
from tests.lti.fake_platform import parse_auto_submit_form
from tests.lti.fake_platform import pooled_key
from tests.support.lti_registration import platform_input
from tests.support.student_world import load_exercise
from tests.support.student_world import make_quiz

BASE = "http://localhost"
SESSION_COOKIE = "session"


def install_pooled_keys(session: Session, secret: str) -> list[str]:
    """Store an active and a next tool key from the test key pool (RSA generation is slow)."""
    kids = []
    for index, state in ((11, KeyState.ACTIVE), (12, KeyState.NEXT)):
        pem = pooled_key(index).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        record = key_record_from_pem(pem, state)
        session.add(
            LtiToolKey(
                kid=record.kid,
                private_pem_encrypted=lti_keys.encrypt_pem(secret, pem),
                state=state.value,
            )
        )
        kids.append(record.kid)
    session.commit()
    return kids


@dataclasses.dataclass
class Attempt:
    """One login round trip: the platform's form to POST to /lti/launch, and the cookie."""

    form: dict[str, str]
    cookie_name: str
    cookie_value: str
    set_cookie: str
    nonce: str


def csrf(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match is not None, "no CSRF token in the page"
    return match.group(1)


class Lms:
    """One fake platform connected to grader, plus helpers to launch through it."""

    def __init__(self, app: Flask, db: Session, platform: FakePlatform) -> None:
        self.app = app
        self.db = db
        self.platform = platform
        self.secret = lti_keys.key_secret(app.config)

    def connect(self, **register: Any) -> str:
        """Register grader on the platform and the platform in grader (both admins' work)."""
        jwks = lti_keys.public_jwks(self.db, self.secret)
        tool = self.platform.register_tool(
            login_url=f"{BASE}/lti/login",
            launch_url=f"{BASE}/lti/launch",
            jwks=jwks,
            **register,
        )
        reg = self.platform.registration(tool.client_id)
        lti_registrations.add_platform(
            self.db,
            platform_input(reg, f"Fake {self.platform.profile.name}"),
        )
        return tool.client_id

    def browser(self) -> FlaskClient:
        return self.app.test_client()

    def attempt(
        self, client: FlaskClient, client_id: str, *, method: str = "GET", **launch: Any
    ) -> Attempt:
        """Platform initiation → /lti/login → platform /auth (HTTP) → the form for /lti/launch."""
        initiation = self.platform.launch_request(client_id, **launch)
        if method == "GET":
            response = client.get("/lti/login", query_string=initiation.params)
        else:
            response = client.post("/lti/login", data=initiation.params)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
        set_cookie = response.headers["Set-Cookie"]
        jar: SimpleCookie = SimpleCookie()
        jar.load(set_cookie.replace("; Partitioned", ""))
        ((name, morsel),) = jar.items()
        # Whether the test client would send a Secure cookie over http differs between Werkzeug
        # versions: take it out of the jar and hand it back explicitly in post_launch.
        client.delete_cookie(name)
        post: FormPost = self.platform.authorize(location)
        assert post.action == f"{BASE}/lti/launch"
        nonce = parse_qs(urlsplit(location).query)["nonce"][0]
        return Attempt(dict(post.fields), name, morsel.value, set_cookie, nonce)

    def post_launch(
        self, client: FlaskClient, attempt: Attempt, *, cookie: bool = True
    ) -> TestResponse:
        if cookie:
            client.set_cookie(attempt.cookie_name, attempt.cookie_value)
        return client.post("/lti/launch", data=attempt.form)

    def launch(self, client: FlaskClient, client_id: str, **launch: Any) -> TestResponse:
        return self.post_launch(client, self.attempt(client, client_id, **launch))

    def token(self, client_id: str, attempt: Attempt, **kwargs: Any) -> str:
        return self.platform.make_id_token(client_id, nonce=attempt.nonce, **kwargs)

    # ---- grader side ------------------------------------------------------------------------

    def course_of(self, context_id: str = "course-1") -> Course:
        course_id = self.db.scalar(
            select(LtiContext.course_id).where(LtiContext.lms_context_id == context_id)
        )
        assert course_id is not None, "the LMS course is not linked yet"
        course = self.db.get(Course, course_id)
        assert course is not None
        return course

    def add_quiz(self, course: Course, title: str = "Deltas") -> Quiz:
        quiz = make_quiz(self.db, course, [load_exercise(self.db)], title=title)
        self.db.commit()
        return quiz

    def linked_quiz(self, client_id: str) -> tuple[Quiz, ResourceLinkRecord]:
        """A course set up by the instructor's first launch, a quiz, and an LMS link to it with
        a gradebook column: what deep linking leaves behind."""
        self.launch(self.browser(), client_id, user="teacher-1")
        quiz = self.add_quiz(self.course_of())
        link = self.platform.add_resource_link(
            client_id,
            title=quiz.title,
            custom={"quiz_id": str(quiz.id)},
            line_item={"label": quiz.title, "scoreMaximum": 5, "resourceId": f"quiz-{quiz.id}"},
        )
        return quiz, link

    def student(self, client_id: str, sub: str, link: ResourceLinkRecord) -> FlaskClient:
        """A learner's browser, launched into the link (on the quiz page)."""
        browser = self.browser()
        response = self.launch(browser, client_id, user=sub, resource_link_id=link.id)
        assert response.status_code == 302, response.get_data(as_text=True)
        assert response.headers["Location"].startswith("/quizzes/")
        return browser

    def send_scores(
        self, *, timeout: tuple[float, float] | None = None, **kwargs: Any
    ) -> lti_outbox.OutboxReport:
        """One ``send_pending`` run with fresh clients (a new token); ``timeout``: (connect,
        read) seconds of the service calls."""
        clients = lti_outbox.ServiceClients(
            self.secret,
            allow_private_urls=True,  # the LMS double listens on loopback
            **({"timeout": timeout} if timeout is not None else {}),
        )
        try:
            return lti_outbox.send_pending(self.db, clients, **kwargs)
        finally:
            clients.close()


def signed_in_user(client: FlaskClient) -> Any:
    """The user id in the client's session cookie (None when nobody is signed in)."""
    with client.session_transaction() as session:
        return session.get("user_id")


def answer_part(
    client: FlaskClient, db: Session, quiz_id: int, part: str, *, correct: bool = True
) -> None:
    """Answer one part through the quiz page's form (as the signed-in student)."""
    page = client.get(f"/quizzes/{quiz_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    attempt = db.scalar(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == signed_in_user(client))
        .order_by(QuizAttempt.id)
    )
    assert attempt is not None
    match = re.search(
        rf'/attempts/{attempt.id}/parts/{part}".*?name="idempotency_key" value="([^"]+)"',
        html,
        re.S,
    )
    assert match is not None
    text = next(p["key_text"] for p in attempt.variant["parts"] if p["id"] == part)
    response = client.post(
        f"/attempts/{attempt.id}/parts/{part}",
        data={
            "answer": text if correct else "12345",
            "idempotency_key": match.group(1),
            "csrf_token": csrf(html),
        },
    )
    assert response.status_code == 302


def deep_link(client: FlaskClient, response: TestResponse, quiz_ids: list[int]) -> FormPost:
    """Follow the launch to the picker, choose quizzes, return the auto-submit form."""
    assert response.status_code == 302, response.get_data(as_text=True)
    picker = response.headers["Location"]
    page = client.get(picker)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    answer = client.post(
        picker,
        data={"quiz_id": [str(i) for i in quiz_ids], "action": "add", "csrf_token": csrf(html)},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return parse_auto_submit_form(answer.get_data(as_text=True))
