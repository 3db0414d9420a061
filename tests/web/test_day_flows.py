"""Issue 17 through the test client: answers persist, nothing typed is lost, times are
visible before acting, every account has a way in, LMS courses link, quizzes copy."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import random
import re
import socketserver
import threading
import time

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from grader.errors import Forbidden
from grader.exercises import FAMILIES
from grader.models import AccountLink
from grader.models import Course
from grader.models import Enrolment
from grader.models import Quiz
from grader.models import User
from grader.models import utcnow
from grader.models_lti import LtiContext
from grader.models_lti import LtiDeployment
from grader.models_lti import LtiRegistration
from grader.services import account_links
from grader.services import accounts
from grader.services import course_linking
from grader.services import mail
from grader.web import display
from tests.support.student_world import PASSWORD
from tests.support.student_world import enrol
from tests.support.student_world import hours
from tests.support.student_world import make_user
from tests.support.student_world import make_world
from tests.web.test_student_views import answer
from tests.web.test_student_views import csrf
from tests.web.test_student_views import key_text
from tests.web.test_student_views import login_as
from tests.web.test_student_views import my_attempt
from tests.web.test_student_views import open_quiz


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2id with tiny costs: these tests are about the flows, not the hash."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def page_token(client, path):
    return csrf(client.get(path).get_data(as_text=True))


# --------------------------------------------------------------------------- answers


def test_the_box_keeps_the_last_answer_verbatim_and_a_correct_part_asks_nothing_more(
    client, db_session
):
    world = make_world(db_session, attempts_allowed=3)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    answer(client, html, attempt, "w1", "2*(  ")  # not readable: no try used
    html = open_quiz(client, world)
    box = re.search(rf'<input type="text"[^>]*id="answer-{attempt.id}-w1"[^>]*>', html, re.S)
    assert box is not None
    assert 'value="2*(  "' in box.group(0)

    answer(client, html, attempt, "w1", key_text(attempt, "w1"))
    html = open_quiz(client, world)
    part = html.split(f'id="part-{attempt.id}-w1"', 1)[1].split("</section>", 1)[0]
    assert "nothing more to do here" in part
    assert "<form" not in part  # no box, no button: nothing more is asked

    history = client.get(f"/quizzes/{world.quiz.id}/history").get_data(as_text=True)
    assert '<td data-label="Part">Part 2</td>' in history  # w1 is the second part
    assert ">w1<" not in history


def test_a_signed_out_answer_goes_to_sign_in_and_back_to_its_part(client, db_session):
    world = make_world(db_session)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    with client.session_transaction() as cookie:
        cookie.clear()  # the sign-in ended in another tab
    response = client.post(
        f"/attempts/{attempt.id}/parts/w1",
        data={"answer": "0.25", "csrf_token": csrf(html), "quiz_id": str(world.quiz.id)},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302
    target = f"/quizzes/{world.quiz.id}%23part-{attempt.id}-w1"
    assert response.headers["Location"] == f"/auth/login?next={target}"
    assert "grader_unsent=" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]

    # signed in again (no JavaScript needed): the text is back in its box, once
    login_as(client, world.student)
    html = open_quiz(client, world)
    box = re.search(rf'<input type="text"[^>]*id="answer-{attempt.id}-w1"[^>]*>', html, re.S)
    assert 'value="0.25"' in box.group(0)
    assert "Your unsent answer is back in the box" in html
    html = open_quiz(client, world)
    assert "Your unsent answer is back in the box" not in html


def test_an_unsent_answer_cookie_opens_nothing_of_anyone_else(client, db_session):
    world = make_world(db_session)
    login_as(client, world.other)
    other_html = open_quiz(client, world)
    other_attempt = my_attempt(db_session, world, world.other)
    with client.session_transaction() as cookie:
        cookie.clear()
    response = client.post(
        f"/attempts/{other_attempt.id}/parts/w1",
        data={
            "answer": "olive's text",
            "csrf_token": csrf(other_html),
            "quiz_id": str(world.quiz.id),
        },
        headers={"Origin": "http://localhost"},  # a browser without Sec-Fetch-Site
    )
    assert "grader_unsent=" in response.headers["Set-Cookie"]
    login_as(client, world.student)  # someone else in the same browser
    html = open_quiz(client, world)
    assert "olive&#39;s text" not in html
    assert "olive's text" not in html


def test_a_withdrawn_or_closed_quiz_says_so_and_gives_the_text_back(client, db_session):
    world = make_world(db_session)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)

    quiz = db_session.get(Quiz, world.quiz.id)  # the request detached the test's copy
    quiz.due_at = utcnow() - hours(1)  # closed (no late answers)
    db_session.commit()
    response = answer(client, html, attempt, "w1", "0.123 + my long answer")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "closed before your answer arrived" in text
    assert "0.123 + my long answer</textarea>" in text

    quiz = db_session.get(Quiz, world.quiz.id)
    quiz.due_at = None
    quiz.is_published = False  # withdrawn
    db_session.commit()
    response = answer(client, html, attempt, "w1", "kept text")
    assert response.status_code == 409
    assert "withdrew this quiz" in response.get_data(as_text=True)
    assert "kept text</textarea>" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- times


def test_a_late_quiz_shows_late_with_its_penalty_on_the_dashboard_and_the_quiz(client, db_session):
    world = make_world(
        db_session, due_at=utcnow() - hours(2), late_policy={"mode": "penalty", "penalty": 0.3}
    )
    login_as(client, world.student)
    dashboard = client.get("/").get_data(as_text=True)
    assert "Late (−30\u202f%)" in dashboard
    assert ">Open<" not in dashboard
    quiz = open_quiz(client, world)
    assert "Answers you send now are late and lose 30\u202f% of their credit" in quiz
    assert re.search(r'<time datetime="[0-9T:.-]+Z" data-localize>', quiz)


def test_a_scheduled_quiz_is_listed_and_its_page_says_when_it_opens(client, db_session):
    opens = (utcnow() + hours(48)).replace(microsecond=0)
    world = make_world(db_session, opens_at=opens)
    login_as(client, world.student)
    dashboard = client.get("/").get_data(as_text=True)
    assert "Quiz 1" in dashboard
    assert "Opens later" in dashboard
    assert display.iso_utc(opens) in dashboard
    response = client.get(f"/quizzes/{world.quiz.id}")
    assert response.status_code == 200
    assert "This quiz opens at" in response.get_data(as_text=True)
    # an unpublished one stays unknown
    db_session.get(Quiz, world.quiz.id).is_published = False
    db_session.commit()
    assert client.get(f"/quizzes/{world.quiz.id}").status_code == 404


def test_part_points_add_up_and_keys_read_as_math():
    assert display.shared_points([1 / 3] * 3) == ["0.34", "0.33", "0.33"]
    assert display.shared_points([0.335, 0.335, 0.33]) == ["0.34", "0.33", "0.33"]
    shown = display.readable_key("expression", "tanh(3/10 + b)**2", ["b"])
    assert "\\tanh" in shown
    assert "**" not in shown
    assert display.readable_key("matrix", "[[0.0537892290468, 2.0]]") == (
        "<code>[[0.05379, 2.0]]</code>"
    )
    assert display.answer_example("matrix", [3, 2]) == "[[1, 2], [3, 4], [5, 6]]"


def test_the_format_hint_lists_every_allowed_name_and_no_star_rule(client, db_session):
    from tests.support.student_world import REPO
    from tests.support.student_world import load_exercise
    from tests.support.student_world import make_quiz

    world = make_world(db_session)
    chain = load_exercise(db_session, REPO / "exercises" / "chain-rule-symbolic.yaml")
    quiz = make_quiz(db_session, world.course, [chain], title="Chain")
    db_session.commit()
    login_as(client, world.student)
    html = client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert "write multiplication with *" not in html
    assert "you may also use h, y, z1, z2" in html


# --------------------------------------------------------------------------- accounts


def _register(client, email, code="w-JOIN"):
    return client.post(
        "/auth/register",
        data={
            "name": "Someone",
            "email": email,
            "password": PASSWORD,
            "join_code": code,
            "csrf_token": page_token(client, "/auth/register"),
        },
    )


def test_registration_answers_the_same_for_a_new_and_a_taken_email(client, db_session):
    world = make_world(db_session)
    new = _register(client, "fresh@example.com")
    taken = _register(client, world.student.email)
    assert new.status_code == taken.status_code == 302
    assert new.headers["Location"].split("?")[0] == taken.headers["Location"].split("?")[0]
    assert client.get("/auth/login").get_data(as_text=True).count("Registration received") == 1
    # the taken account was not changed, and was not enrolled again
    assert not accounts.verify_password(world.student, PASSWORD)


def test_registration_is_rate_limited_per_address(client, db_session, monkeypatch):
    from grader.web import auth as auth_views

    make_world(db_session)
    monkeypatch.setattr(auth_views, "REGISTER_LIMIT", 2)
    assert _register(client, "a1@example.com").status_code == 302
    assert _register(client, "a2@example.com").status_code == 302
    response = _register(client, "a3@example.com")
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)


def test_forgot_password_never_tells_and_its_link_works_once(client, db_session):
    world = make_world(db_session)
    data = {"csrf_token": page_token(client, "/auth/forgot")}
    unknown = client.post("/auth/forgot", data={**data, "email": "nobody@example.com"})
    known = client.post("/auth/forgot", data={**data, "email": world.student.email})
    assert unknown.status_code == known.status_code == 302
    assert db_session.scalar(select(AccountLink.purpose)) == "reset"

    link = account_links.issue(db_session, world.student, purpose="reset")
    page = client.get(f"/auth/set-password/{link.token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    form = {"password": "a-new-password", "confirm": "a-new-password"}
    done = client.post(
        f"/auth/set-password/{link.token}",
        data={**form, "csrf_token": csrf(page.get_data(as_text=True))},
    )
    assert done.status_code == 302
    assert accounts.verify_password(db_session.get(User, world.student.id), "a-new-password")
    assert client.get(f"/auth/set-password/{link.token}").status_code == 410  # spent
    stored = db_session.scalar(
        select(AccountLink.token_hash).where(AccountLink.used_at.is_not(None))
    )
    assert link.token not in (stored or "")


def test_links_expire_and_a_new_one_replaces_the_old(db_session):
    world = make_world(db_session)
    old = account_links.issue(db_session, world.student, created_by=world.instructor)
    assert old.purpose == "invite"  # no password yet
    assert account_links.find_valid(db_session, old.token) is not None
    later = utcnow() + dt.timedelta(days=15)
    assert account_links.find_valid(db_session, old.token, now=later) is None
    new = account_links.issue_for_member(
        db_session, world.instructor, world.course.id, world.student.id
    )
    assert account_links.find_valid(db_session, old.token) is None
    assert account_links.find_valid(db_session, new.token) is not None


def test_an_instructor_copies_a_link_from_the_roster_and_lands_on_teach(client, db_session):
    world = make_world(db_session, passwords=True)
    login_as(client, world.instructor)
    course_page = client.get(f"/teach/courses/{world.course.id}").get_data(as_text=True)
    assert 'New sign-in link<span class="visually-hidden"> for' in course_page
    response = client.post(
        f"/teach/courses/{world.course.id}/members/{world.other.id}/link",
        data={"csrf_token": csrf(course_page)},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    url = re.search(r'id="issued-url"[^>]*value="([^"]+)"', html).group(1)
    assert url.startswith(client.application.config["PUBLIC_URL"] + "/auth/set-password/")
    assert "not emailed" in html

    client.post("/auth/logout", data={"csrf_token": csrf(html)})
    response = client.post(
        "/auth/login",
        data={
            "email": world.instructor.email,
            "password": PASSWORD,
            "csrf_token": page_token(client, "/auth/login"),
        },
    )
    assert response.headers["Location"] == "/teach/"


def test_smtp_urls_parse_and_refuse_other_schemes():
    from grader.errors import ConfigError
    from grader.services import mail

    server = mail.parse_smtp_url("smtps://me%40x.org:p%2Fw@mail.example.org")
    assert (server.host, server.port, server.tls, server.user, server.password) == (
        "mail.example.org",
        465,
        True,
        "me@x.org",
        "p/w",
    )
    assert mail.parse_smtp_url("smtp://mail.example.org").port == 587
    with pytest.raises(ConfigError):
        mail.parse_smtp_url("http://mail.example.org")


# --------------------------------------------------------------------------- instructors


def test_the_format_reference_lists_every_family_from_the_registry(client, db_session):
    world = make_world(db_session)
    login_as(client, world.instructor)
    html = client.get("/teach/format").get_data(as_text=True)
    editor = client.get(f"/teach/courses/{world.course.id}/exercises/new").get_data(as_text=True)
    families = editor.split('id="families"', 1)[1]
    assert 'href="/teach/format"' in editor
    for name, family in FAMILIES.items():
        assert name in html
        assert f"<dt><code>{name}</code></dt>" in families
        for parameter in family.parameter_defaults({}):
            assert f"<code>{parameter}</code>" in families


def test_preview_as_a_student_and_copying_a_quiz(client, db_session):
    world = make_world(db_session)
    second = Course(code="W202", title="Second course", join_code="w2-JOIN")
    db_session.add(second)
    db_session.flush()
    enrol(db_session, second, world.instructor, "instructor")
    db_session.commit()
    login_as(client, world.instructor)
    builder = client.get(f"/teach/quizzes/{world.quiz.id}").get_data(as_text=True)
    assert f'href="/quizzes/{world.quiz.id}">Preview as a student' in builder
    assert "Student view." in open_quiz(client, world)
    response = client.post(
        f"/teach/quizzes/{world.quiz.id}/copy",
        data={"course_id": str(second.id), "csrf_token": csrf(builder)},
    )
    assert response.status_code == 303
    copy = db_session.scalar(select(Quiz).where(Quiz.course_id == second.id))
    assert copy is not None
    assert not copy.is_published
    assert [i.exercise_id for i in copy.items] == [i.exercise_id for i in world.quiz.items]


def _lms_course(db_session, instructor: User) -> Course:
    registration = LtiRegistration(
        issuer="https://lms.example",
        client_id="c",
        auth_login_url="https://lms.example/auth",
        token_url="https://lms.example/token",
        jwks_url="https://lms.example/jwks",
    )
    db_session.add(registration)
    db_session.flush()
    deployment = LtiDeployment(registration_id=registration.id, deployment_id="d1")
    db_session.add(deployment)
    db_session.flush()
    course = Course(code="LTI-0123456789abcdef", title="LMS course")
    db_session.add(course)
    db_session.flush()
    db_session.add(
        LtiContext(lti_deployment_id=deployment.id, lms_context_id="ctx", course_id=course.id)
    )
    enrol(db_session, course, instructor, "instructor")
    lms_student = make_user(db_session, "lms-student@example.com")
    enrol(db_session, course, lms_student)
    db_session.commit()
    return course


def test_a_fresh_lms_course_links_to_a_course_the_instructor_teaches(client, db_session):
    world = make_world(db_session)
    lms = _lms_course(db_session, world.instructor)
    offer = course_linking.link_offer(db_session, world.instructor, lms.id)
    assert offer is not None
    assert [c.id for c in offer.choices] == [world.course.id]
    assert course_linking.link_offer(db_session, world.student, lms.id) is None

    login_as(client, world.instructor)
    page = client.get(f"/teach/courses/{lms.id}").get_data(as_text=True)
    assert "Use one of your grader courses?" in page
    response = client.post(
        f"/teach/courses/{lms.id}/link-lms",
        data={"target_id": str(world.course.id), "csrf_token": csrf(page)},
    )
    assert response.status_code == 302
    db_session.expire_all()
    context = db_session.scalar(select(LtiContext))
    assert context.course_id == world.course.id
    assert db_session.get(Course, lms.id) is None
    moved = db_session.scalar(
        select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(User.email == "lms-student@example.com")
    )
    assert moved.course_id == world.course.id


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ready\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            self.server.verbs.append(line.split()[0].upper().decode())  # type: ignore[attr-defined]
            if verb == b"EHLO":
                extra = "".join(f"250-{f}\r\n" for f in self.server.features)  # type: ignore[attr-defined]
                self.wfile.write(b"250-test\r\n" + extra.encode() + b"250 8BITMIME\r\n")
            elif verb == b"STAR":  # STARTTLS offered, but this test server has no TLS
                self.wfile.write(b"454 TLS not available\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data)
                self.server.messages.append(b"".join(body).decode())  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []  # type: ignore[attr-defined]
    server.verbs = []  # type: ignore[attr-defined]
    server.features = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_link_is_mailed_when_smtp_is_configured(client, db_session, smtp_server):
    world = make_world(db_session)
    client.application.config["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_server.server_address[1]}"
    login_as(client, world.instructor)
    course_page = client.get(f"/teach/courses/{world.course.id}").get_data(as_text=True)
    html = client.post(
        f"/teach/courses/{world.course.id}/members/{world.student.id}/link",
        data={"csrf_token": csrf(course_page)},
    ).get_data(as_text=True)
    assert "emailed." in html
    url = re.search(r'id="issued-url"[^>]*value="([^"]+)"', html).group(1)
    (raw,) = smtp_server.messages
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["To"] == world.student.email
    assert message["Subject"] == "Your grader account: choose a password"
    assert url in message.get_content()


def test_a_roster_link_never_opens_an_account_that_belongs_to_another_course(client, db_session):
    """An instructor can enrol any existing account by email; the roster's link is shown
    to them, so it must not become a way into a student or instructor of another course."""
    world = make_world(db_session, passwords=True)
    elsewhere = Course(code="OTHER-101", title="Another course", join_code="OTHERJOIN")
    db_session.add(elsewhere)
    db_session.flush()
    colleague = make_user(db_session, "colleague@example.com", password=PASSWORD)
    enrol(db_session, elsewhere, colleague, role="instructor")
    enrol(db_session, elsewhere, world.other)  # also a student of another course
    enrol(db_session, world.course, colleague, role="student")  # added by email
    db_session.commit()
    for victim in (colleague, world.other):
        with pytest.raises(Forbidden):
            account_links.issue_for_member(db_session, world.instructor, world.course.id, victim.id)
    assert db_session.scalar(select(AccountLink.id)) is None

    login_as(client, world.instructor)
    course_page = client.get(f"/teach/courses/{world.course.id}").get_data(as_text=True)
    response = client.post(
        f"/teach/courses/{world.course.id}/members/{colleague.id}/link",
        data={"csrf_token": csrf(course_page)},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "courses you do not manage" in html
    assert "/auth/set-password/" not in html
    # a member of only this course still gets one
    link = account_links.issue_for_member(
        db_session, world.instructor, world.course.id, world.student.id
    )
    assert account_links.find_valid(db_session, link.token) is not None


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://elsewhere.example"}, {}],
    ids=["cross-site", "foreign-origin", "unknown"],
)
def test_a_form_from_another_site_plants_no_text_in_an_answer_box(client, db_session, headers):
    """A page elsewhere can post to an answer URL (it fails CSRF); what it posted must
    not come back in the student's box as "your unsent answer"."""
    world = make_world(db_session)
    login_as(client, world.student)
    open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    response = client.post(
        f"/attempts/{attempt.id}/parts/w1",
        data={"answer": "0.99", "quiz_id": str(world.quiz.id)},
        headers=headers,
    )
    assert response.status_code == 302
    assert "grader_unsent=" not in response.headers.get("Set-Cookie", "")
    html = open_quiz(client, world)
    assert "Your unsent answer is back in the box" not in html
    assert 'value="0.99"' not in html


def test_an_unsent_answer_too_long_for_a_cookie_is_not_set(client, db_session):
    world = make_world(db_session)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    with client.session_transaction() as cookie:
        cookie.clear()
    rng = random.Random(17)
    text = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(1800))  # \uXXXX: 6x
    response = client.post(
        f"/attempts/{attempt.id}/parts/w1",
        data={"answer": text, "csrf_token": csrf(html), "quiz_id": str(world.quiz.id)},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302
    assert "grader_unsent=" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("offers_starttls", [True, False])
def test_the_smtp_password_never_travels_unencrypted(smtp_server, offers_starttls):
    """STARTTLS is used when offered (EHLO first: smtplib knows no extension before it);
    a server without it gets neither the password nor the mail."""
    smtp_server.features = ["AUTH PLAIN LOGIN"] + (["STARTTLS"] if offers_starttls else [])
    port = smtp_server.server_address[1]
    config = {"SMTP_URL": f"smtp://grader:secret-pw@127.0.0.1:{port}", "ENV": "testing"}
    sent = mail.send(config, mail.link_mail("a@example.com", "A", "reset", "http://x/y", 2))
    assert sent is False  # no TLS either way: the STARTTLS fails, or there is none
    assert "AUTH" not in smtp_server.verbs
    assert ("STARTTLS" in smtp_server.verbs) is offers_starttls
    assert smtp_server.messages == []


def test_forgot_password_mails_the_link_off_the_request_thread(client, db_session, smtp_server):
    """The page answers before the mail goes (its time must not tell who has an account);
    the link still arrives."""
    world = make_world(db_session)
    client.application.config["SMTP_URL"] = f"smtp://127.0.0.1:{smtp_server.server_address[1]}"
    data = {"csrf_token": page_token(client, "/auth/forgot"), "email": world.student.email}
    assert client.post("/auth/forgot", data=data).status_code == 302
    deadline = time.monotonic() + 30
    while not smtp_server.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    (raw,) = smtp_server.messages
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["To"] == world.student.email
    assert "/auth/set-password/" in message.get_content()
