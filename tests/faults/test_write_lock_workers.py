"""Three gunicorn workers on one SQLite file: instructors editing, students answering and
LMS launches all at once. No 5xx, and every write lands.

SQLite has one writer at a time; a transaction that read first and writes later fails at
once with "database is locked" when another writer committed meanwhile, whatever the busy
timeout. Every writing service runs as the writer from its start (``grader.db.writes``);
this sends the three kinds of writes together over real HTTP. The server runs with
``GRADER_ENV=testing``, where a request that writes outside a writer's transaction is a
500 (``grader.db.guard_writes``), so a write path that forgot the lock fails here every
time, not only when the timing is unlucky.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from grader.models import Enrolment
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import Submission
from grader.models import User
from grader.models_lti import LtiUser
from grader.services import lti_keys
from grader.services import lti_registrations
from tests.faults.server import SECRET
from tests.faults.server import Gunicorn
from tests.faults.server import Student
from tests.lti.fake_platform import FakePlatform
from tests.lti_web.lms import install_pooled_keys
from tests.support.lti_registration import platform_input
from tests.support.student_world import PASSWORD
from tests.support.student_world import enrol
from tests.support.student_world import load_exercise
from tests.support.student_world import make_quiz
from tests.support.student_world import make_user
from tests.support.student_world import make_world

STUDENTS = 4
ANSWERS_EACH = 3
NEW_QUIZZES = 5
NEW_ITEMS = 5
LEARNERS = ("stu-1", "stu-2", "stu-3")  # the fake platform's learners in course-1
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def lti_launch(platform: FakePlatform, base: str, client_id: str, user: str) -> int:
    """One launch over HTTP: login (state cookie), the platform's signed form, the POST."""
    initiation = platform.launch_request(client_id, user=user)
    with requests.Session() as browser:
        login = browser.get(
            base + "/lti/login", params=initiation.params, allow_redirects=False, timeout=30
        )
        if login.status_code != 302:
            return login.status_code
        post = platform.authorize(login.headers["Location"])
        launched = browser.post(
            post.action,
            data=dict(post.fields),
            # The state cookie is Secure; this is plain http on loopback.
            cookies=dict(login.cookies),
            allow_redirects=False,
            timeout=30,
        )
        return launched.status_code


def test_edits_answers_and_launches_at_once_all_land(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/rush.sqlite3"
    engine = make_engine(url)
    with engine.begin() as conn:
        upgrade(conn)
    with Session(engine, expire_on_commit=False) as session:
        world = make_world(session, prefix="wl", passwords=True, attempts_allowed=None)
        emails = [world.student.email, world.other.email]
        for n in range(STUDENTS - 2):
            user = make_user(session, f"wl-extra{n}@example.com", password=PASSWORD)
            enrol(session, world.course, user)
            emails.append(user.email)
        draft = make_quiz(session, world.course, [load_exercise(session)], is_published=False)
        session.commit()
        course_id, quiz_id, draft_id = world.course.id, world.quiz.id, draft.id
        exercise_id = world.exercise.id
        install_pooled_keys(session, lti_keys.key_secret({"SECRET_KEY": SECRET}))

    with FakePlatform() as platform:
        server = Gunicorn(
            url,
            tmp_path,
            workers=3,
            extra_env={"GRADER_ENV": "testing", "GRADER_PUBLIC_URL": ""},
        )
        base = server.base_url
        server.extra_env["GRADER_PUBLIC_URL"] = base
        with Session(engine) as session:
            tool = platform.register_tool(
                login_url=f"{base}/lti/login",
                launch_url=f"{base}/lti/launch",
                jwks=lti_keys.public_jwks(session, lti_keys.key_secret({"SECRET_KEY": SECRET})),
            )
            reg = platform.registration(tool.client_id)
            lti_registrations.add_platform(
                session,
                platform_input(reg, "Fake LMS"),
            )
        with server:
            # The instructor's first launch opens the LMS course in grader; learners follow.
            assert lti_launch(platform, base, tool.client_id, "teacher-1") == 302, server.log()

            teacher = Student(base, world.instructor.email, PASSWORD)
            teacher.sign_in()
            students = [Student(base, email, PASSWORD) for email in emails]
            forms = []
            for student in students:
                student.sign_in()
                page, found = student.quiz(quiz_id)
                assert page.status_code == 200, page.text[:500]
                assert found
                forms.append(found)

            def edit_token() -> str:
                match = _CSRF.search(teacher.get(f"/teach/quizzes/{draft_id}").text)
                assert match is not None
                return match.group(1)

            token = edit_token()
            work: list[tuple[str, Callable[[], int]]] = []
            for n in range(NEW_QUIZZES):
                work.append(
                    (
                        "quiz",
                        lambda n=n: (
                            teacher.post(
                                f"/teach/courses/{course_id}/quizzes",
                                data={"csrf_token": token, "title": f"Rush quiz {n}"},
                                allow_redirects=False,
                            ).status_code
                        ),
                    )
                )
            for _ in range(NEW_ITEMS):
                work.append(
                    (
                        "item",
                        lambda: (
                            teacher.post(
                                f"/teach/quizzes/{draft_id}/items",
                                data={"csrf_token": token, "exercise_id": str(exercise_id)},
                                allow_redirects=False,
                            ).status_code
                        ),
                    )
                )
            for student, found in zip(students, forms, strict=True):
                for n in range(ANSWERS_EACH):
                    form = found[n % len(found)]
                    work.append(
                        (
                            "answer",
                            lambda s=student, f=form, n=n: (
                                s.post(
                                    f.action,
                                    data={
                                        "csrf_token": f.csrf_token,
                                        "idempotency_key": f"{f.idempotency_key}-{n}",
                                        "answer": "0.5",
                                    },
                                    allow_redirects=False,
                                ).status_code
                            ),
                        )
                    )
            for sub in LEARNERS:
                work.append(
                    ("launch", lambda sub=sub: lti_launch(platform, base, tool.client_id, sub))
                )
            # Interleaved, so every worker sees a mix of kinds.
            kinds = [
                [w for w in work if w[0] == kind] for kind in dict.fromkeys(k for k, _ in work)
            ]
            work = [w for group in itertools.zip_longest(*kinds) for w in group if w is not None]
            with ThreadPoolExecutor(max_workers=8) as pool:
                codes = list(pool.map(lambda w: (w[0], w[1]()), work))
            log = server.log()

    by_kind = Counter(codes)
    assert all(code < 500 for _, code in codes), (by_kind, log)
    assert "database is locked" not in log, log
    assert "WriteWithoutLock" not in log, log
    assert by_kind == Counter(
        {
            ("quiz", 303): NEW_QUIZZES,  # to the new quiz
            ("item", 303): NEW_ITEMS,  # back to the quiz
            ("answer", 302): STUDENTS * ANSWERS_EACH,
            ("launch", 200): len(LEARNERS),  # a placement with no quiz yet: a page saying so
        }
    ), (by_kind, log)
    with Session(engine) as session:
        titles = set(session.scalars(select(Quiz.title).where(Quiz.course_id == course_id)))
        assert {f"Rush quiz {n}" for n in range(NEW_QUIZZES)} <= titles
        positions = session.scalars(
            select(QuizItem.position).where(QuizItem.quiz_id == draft_id).order_by(QuizItem.id)
        ).all()
        assert positions == list(range(1, NEW_ITEMS + 2))  # the one it had, then each added
        stored = session.scalar(select(func.count()).select_from(Submission))
        assert stored == STUDENTS * ANSWERS_EACH
        graded = Counter(session.scalars(select(Submission.status)))
        assert graded == {"graded": STUDENTS * ANSWERS_EACH}, graded
        subs = set(session.scalars(select(LtiUser.sub)))
        assert {*LEARNERS, "teacher-1"} <= subs
        lms_course = session.scalar(
            select(Enrolment.course_id)
            .join(LtiUser, LtiUser.user_id == Enrolment.user_id)
            .where(LtiUser.sub == "teacher-1")
        )
        learners = session.scalars(
            select(Enrolment.role)
            .join(LtiUser, LtiUser.user_id == Enrolment.user_id)
            .where(Enrolment.course_id == lms_course, LtiUser.sub.in_(LEARNERS))
        ).all()
        assert learners == ["student"] * len(LEARNERS)
        assert session.scalar(select(func.count()).select_from(User)) >= (
            STUDENTS + 1 + len(LEARNERS) + 1
        )
    engine.dispose()
