"""Two workers on one PostgreSQL database never send a score twice (real commits, threads).

Uses a database of its own on the test server (dropped afterwards): the rollback session
of the other tests cannot show what two connections see.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.db import make_sessionmaker
from grader.lti import claims as c
from grader.migrate import upgrade
from grader.models import Course
from grader.models import User
from grader.models import utcnow
from grader.models_lti import LtiContext
from grader.models_lti import LtiLineItem
from grader.models_lti import LtiResourceLink
from grader.models_lti import LtiScore
from grader.models_lti import LtiUser
from grader.services import lti_keys
from grader.services import lti_outbox
from grader.services import lti_registrations
from tests.lti.fake_platform import FakePlatform
from tests.lti.fake_platform import User as PlatformUser
from tests.lti_web.lms import install_pooled_keys
from tests.support.postgres import PostgresServer
from tests.support.student_world import load_exercise
from tests.support.student_world import make_quiz

pytestmark = pytest.mark.postgres

SECRET = "worker-test-secret-" + "y" * 32
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


@pytest.fixture
def pg_engine(pg_server: PostgresServer) -> Iterator[Engine]:
    name = f"grader_lti_workers_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    engine = make_engine(pg_server.create_database(name))
    with engine.begin() as conn:
        upgrade(conn)
    yield engine
    engine.dispose()
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{pg_server.port}/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    with FakePlatform("canvas") as started:
        yield started


def _world(session: Session, platform: FakePlatform, students: int) -> tuple[int, int]:
    """A linked course and quiz; returns (link with a known column, link without one)."""
    install_pooled_keys(session, SECRET)
    tool = platform.register_tool(
        login_url="http://localhost/lti/login",
        launch_url="http://localhost/lti/launch",
        jwks=lti_keys.public_jwks(session, SECRET),
    )
    reg = platform.registration(tool.client_id)
    registration, _ = lti_registrations.add_platform(
        session,
        lti_registrations.PlatformInput(
            issuer=reg.issuer,
            client_id=reg.client_id,
            auth_login_url=reg.auth_login_url,
            token_url=reg.token_url,
            jwks_url=reg.jwks_url,
            deployment_ids=tuple(reg.deployment_ids),
        ),
    )
    course = Course(code="PG101", title="Workers")
    session.add(course)
    session.flush()
    quiz = make_quiz(session, course, [load_exercise(session)])
    context = LtiContext(
        lti_deployment_id=registration.deployments[0].id,
        lms_context_id="course-1",
        course_id=course.id,
        lineitems_url=f"{platform.base_url}/c/course-1/lineitems",
        ags_scopes=list(c.AGS_SCOPES),
    )
    session.add(context)
    session.flush()
    known = platform.add_resource_link(tool.client_id, line_item={"label": "Q", "scoreMaximum": 5})
    assert known.lineitem_num is not None
    with_item = LtiResourceLink(lti_context_id=context.id, lms_link_id=known.id, quiz_id=quiz.id)
    fresh = LtiResourceLink(lti_context_id=context.id, lms_link_id="rl-fresh", quiz_id=quiz.id)
    session.add_all([with_item, fresh])
    session.flush()
    session.add(
        LtiLineItem(
            lti_resource_link_id=with_item.id, url=platform.line_item_url(known.lineitem_num)
        )
    )
    now = utcnow()
    for n in range(students):
        sub = f"pg-stu-{n}"
        platform.enroll("course-1", PlatformUser(sub, f"Stu {n}", f"{sub}@x.edu", [LEARNER]))
        user = User(email=f"{sub}@x.edu", name=sub)
        session.add(user)
        session.flush()
        session.add(LtiUser(registration_id=registration.id, sub=sub, user_id=user.id))
        for link in (with_item, fresh):
            session.add(
                LtiScore(
                    lti_resource_link_id=link.id,
                    user_id=user.id,
                    sub=sub,
                    reason="submission",
                    changed_at=now,
                    next_attempt_at=now,
                )
            )
    session.commit()
    return with_item.id, fresh.id


def test_a_row_locked_by_one_worker_is_skipped_by_the_other(
    pg_engine: Engine, platform: FakePlatform
) -> None:
    factory = make_sessionmaker(pg_engine)
    with factory() as setup:
        link_id, _ = _world(setup, platform, students=4)
    clients = lti_outbox.ServiceClients(SECRET, allow_private_urls=True)
    with factory() as holder, factory() as worker:
        locked = holder.scalars(
            select(LtiScore)
            .where(LtiScore.lti_resource_link_id == link_id)
            .order_by(LtiScore.id)
            .limit(2)
            .with_for_update()
        ).all()
        locked_subs = {row.sub for row in locked}
        report = lti_outbox.send_pending(worker, clients, limit=100)
        assert report.sent == 6  # 8 rows, 2 held by the other transaction
        sent_to_column = {
            s.user_id for s in platform.scores if s.lineitem_url.endswith(f"/{_num(platform)}")
        }
        assert not (sent_to_column & locked_subs)
        holder.rollback()
        assert lti_outbox.send_pending(worker, clients, limit=100).sent == 2
    clients.close()
    assert Counter((s.lineitem_num, s.user_id) for s in platform.scores).most_common(1)[0][1] == 1


def _num(platform: FakePlatform) -> int:
    return min(platform.line_items)


def test_two_worker_threads_send_every_row_exactly_once(
    pg_engine: Engine, platform: FakePlatform
) -> None:
    factory = make_sessionmaker(pg_engine)
    with factory() as setup:
        _world(setup, platform, students=10)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        clients = lti_outbox.ServiceClients(SECRET, allow_private_urls=True)
        try:
            with factory() as session:
                start.wait(timeout=10)
                for _ in range(500):
                    if lti_outbox.send_pending(session, clients, limit=3):
                        continue
                    pending = session.scalar(
                        select(LtiScore.id).where(LtiScore.status == "pending").limit(1)
                    )
                    session.commit()
                    if pending is None:
                        return
                    # A row deferred while the other worker created its column: a little
                    # later (well inside the other worker's lease, which must not be stolen).
                    later = utcnow() + lti_outbox.BUSY_RETRY + dt.timedelta(seconds=1)
                    if not lti_outbox.send_pending(session, clients, limit=3, now=later):
                        time.sleep(0.02)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
        finally:
            clients.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert not any(t.is_alive() for t in threads)

    with factory() as check:
        statuses = Counter(check.scalars(select(LtiScore.status)))
    assert statuses == {"sent": 20}
    per_row = Counter((s.lineitem_num, s.user_id) for s in platform.scores)
    assert len(per_row) == 20
    assert set(per_row.values()) == {1}
    posted = Counter(a.user_id for a in platform.score_attempts)
    assert set(posted.values()) == {2}  # one per student and column, never a second
    assert len(platform.line_items_for()) == 2  # the fresh link got exactly one new column
