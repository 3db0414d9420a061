"""Behind a real reverse proxy, the login limiter keys on the real client's address.

gunicorn (3 sync workers, ``GRADER_TRUSTED_PROXIES=1``) serves grader on PostgreSQL; a
tiny reverse proxy (another process, ``tests/ops/tiny_proxy.py``) sits in front and appends
the connecting address to ``X-Forwarded-For``, as nginx does. Client A (from 127.0.0.2)
guesses a student's password until it is blocked; client B (from 127.0.0.3) then signs in
as that student with the right password. Without the setting every request would come
from the proxy's address and A would have locked B out (the issue's reproduction).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from grader.models import LoginFailure
from grader.services.auth import MAX_FAILURES
from grader.services.auth import limiter_key
from tests.faults.server import Gunicorn
from tests.faults.server import Student
from tests.support.postgres import PostgresServer
from tests.support.postgres import free_port
from tests.support.student_world import PASSWORD
from tests.support.student_world import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("gunicorn")]

PROXY = Path(__file__).with_name("tiny_proxy.py")
CLIENT_A, CLIENT_B = "127.0.0.2", "127.0.0.3"


class _FromAddress(HTTPAdapter):
    """Connect from a chosen loopback address (Linux routes all of 127/8 to lo)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _client(base_url: str, email: str, password: str, address: str) -> Student:
    student = Student(base_url, email, password)
    student.http.mount("http://", _FromAddress(address))
    return student


@pytest.fixture(scope="module")
def database(pg_server: PostgresServer) -> Iterator[tuple[str, str]]:
    url = pg_server.create_database(f"proxy_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            upgrade(conn)
        with Session(engine) as session:
            make_user(session, "victim@example.com", password=PASSWORD)
            session.commit()
        yield url, "victim@example.com"
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def behind_proxy(
    database: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Gunicorn]]:
    url, _ = database
    workdir = tmp_path_factory.mktemp("proxied")
    with Gunicorn(
        url, workdir, workers=3, app="wsgi:app", extra_env={"GRADER_TRUSTED_PROXIES": "1"}
    ) as server:
        port = free_port()
        proxy = subprocess.Popen(
            [sys.executable, str(PROXY), str(port), str(server.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proxy.stdout is not None
            assert proxy.stdout.readline().strip() == "ready"
            yield f"http://127.0.0.1:{port}", server
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _try(client: Student, token: str, **headers: str) -> int:
    response = client.post(
        "/auth/login",
        data={"csrf_token": token, "email": client.email, "password": client.password},
        headers=headers,
        allow_redirects=False,
    )
    assert "Traceback" not in response.text
    return response.status_code


def test_one_clients_wrong_passwords_do_not_lock_out_another_client(behind_proxy, database):
    base, _server = behind_proxy
    url, email = database
    attacker = _client(base, email, "not-the-password", CLIENT_A)
    token = attacker.csrf()
    # A forged X-Forwarded-For naming B must not move A's failures onto B's address.
    statuses = [
        _try(attacker, token, **{"X-Forwarded-For": CLIENT_B}) for _ in range(MAX_FAILURES + 1)
    ]
    assert statuses == [401] * MAX_FAILURES + [429]
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            keys = set(session.scalars(select(LoginFailure.key_hash)))
            assert keys == {_sha256(limiter_key(email, CLIENT_A))}
            # B, from its own address, signs in with the right password at once.
            victim = _client(base, email, PASSWORD, CLIENT_B)
            victim.sign_in()
            assert victim.get("/").status_code == 200
            # A is still blocked, even with the right password: the limit is real.
            again = _client(base, email, PASSWORD, CLIENT_A)
            assert _try(again, again.csrf()) == 429
            session.execute(delete(LoginFailure))
            session.commit()
    finally:
        engine.dispose()


def test_request_ids_come_from_the_trusted_proxy_and_are_echoed(behind_proxy):
    base, _server = behind_proxy
    given = requests.get(base + "/healthz", headers={"X-Request-ID": "edge-1234567890"}, timeout=30)
    assert given.headers["X-Request-ID"] == "edge-1234567890"
    made = requests.get(base + "/healthz", timeout=30).headers["X-Request-ID"]
    assert len(made) == 32
    assert made != requests.get(base + "/healthz", timeout=30).headers["X-Request-ID"]
