"""Our keys are decrypted once per process, and the cache can never serve a key the database
no longer has: a rotation elsewhere, a rolled-back transaction, a tampered row or a wrong
secret are all seen on the next read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jwt
import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader import create_app
from grader.db import ENGINE_KEY
from grader.db import SESSIONMAKER_KEY
from grader.errors import ConfigError
from grader.lti import KeyState
from grader.lti import generate_key_record
from grader.lti.jwks_client import parse_jwks
from grader.migrate import upgrade
from grader.models_lti import LtiToolKey
from grader.services import lti_keys
from grader.services.lti_keys import KeyCache
from tests.lti.tool_harness import pooled_key_record
from tests.lti_web.lms import Lms
from tests.lti_web.lms import install_pooled_keys
from tests.support.postgres import PostgresServer

SECRET = "key-cache-test-secret-" + "z" * 32


def _kids(app: Flask) -> list[str]:
    response = app.test_client().get("/lti/jwks")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [k["kid"] for k in response.get_json()["keys"]]


def test_keys_are_decrypted_once_per_process(lms: Lms) -> None:
    lti_keys.clear_key_cache()
    first = _kids(lms.app)
    misses = lti_keys.key_cache.misses
    for _ in range(3):
        assert _kids(lms.app) == first
    key = lti_keys.signing_key(lms.db, lms.secret)
    assert lti_keys.key_cache.misses == misses  # no row decrypted again
    assert key is lti_keys.signing_key(lms.db, lms.secret)
    assert key.kid == first[0]


@contextmanager
def _rolled_back(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back at the end, as the tests' db_session fixture does."""
    with engine.connect() as conn:
        trans = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            trans.rollback()


def test_keys_of_a_rolled_back_transaction_are_never_served(db_engine: Engine) -> None:
    """What broke the first cache (keyed on kid and state): rows of a test rolled back, the
    next test's rows with the same kids, sessions closed after a rollback."""
    with _rolled_back(db_engine) as session:
        active, upcoming = install_pooled_keys(session, SECRET)
        lti_keys.public_jwks(session, SECRET)
        lti_keys.rotate_keys(session, SECRET)
        rotated = [k["kid"] for k in lti_keys.public_jwks(session, SECRET)["keys"]]
        assert rotated[0] == upcoming
        assert len(rotated) == 3
        session.rollback()  # as a refused launch does: every loaded object expires

    with _rolled_back(db_engine) as session:
        assert lti_keys.load_keys(session, SECRET) == []
        assert install_pooled_keys(session, SECRET) == [active, upcoming]
        assert [k["kid"] for k in lti_keys.public_jwks(session, SECRET)["keys"]] == [
            active,
            upcoming,
        ]
        assert lti_keys.signing_key(session, SECRET).kid == active


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def committed_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own with real commits (another process must see them)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
        yield url
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"grader_lti_keys_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    yield server.create_database(name)
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{server.port}/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_a_rotation_by_another_process_is_seen_at_once(committed_url: str) -> None:
    app = create_app(
        {"ENV": "testing", "TESTING": True, "DATABASE_URL": committed_url, "SECRET_KEY": SECRET}
    )
    engine = app.extensions[ENGINE_KEY]
    try:
        with engine.begin() as conn:
            upgrade(conn)
        active, upcoming = _kids(app)  # created on first use, committed
        assert _kids(app) == [active, upcoming]  # and now served from the cache
        with app.extensions[SESSIONMAKER_KEY]() as session:
            assert lti_keys.signing_key(session, SECRET).kid == active

        env = {
            **os.environ,
            "GRADER_DATABASE_URL": committed_url,
            "GRADER_SECRET_KEY": SECRET,
            "GRADER_ENV": "testing",
        }
        script = "import sys; from grader.cli import main; sys.argv[0] = 'grader'; main()"
        done = subprocess.run(
            [sys.executable, "-c", script, "lti", "rotate-keys"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        # A separate interpreter importing grader afresh (edits in progress elsewhere in the
        # working tree would show here, with their traceback).
        assert done.returncode == 0, f"rotate-keys failed:\n{done.stdout}\n{done.stderr}"
        assert f"active key: {upcoming}" in done.stdout

        after = _kids(app)
        assert after[0] == upcoming
        assert active in after
        assert len(after) == 3
        with app.extensions[SESSIONMAKER_KEY]() as session:
            key = lti_keys.signing_key(session, SECRET)
            document = lti_keys.public_jwks(session, SECRET)
        assert key.kid == upcoming
        token = jwt.encode({"x": 1}, key.private_key(), algorithm="RS256", headers={"kid": key.kid})
        assert jwt.decode(token, parse_jwks(document)[upcoming], algorithms=["RS256"]) == {"x": 1}
    finally:
        engine.dispose()


def test_a_wrong_secret_still_fails_clearly(lms: Lms) -> None:
    assert len(lti_keys.public_jwks(lms.db, lms.secret)["keys"]) == 2  # the cache is warm
    for read in (lti_keys.load_keys, lti_keys.public_jwks, lti_keys.signing_key):
        with pytest.raises(ConfigError, match="cannot decrypt the LTI tool keys"):
            read(lms.db, "another-secret")

    lms.app.config["LTI_KEY_SECRET"] = "another-secret"
    response = lms.browser().get("/lti/jwks")
    assert response.status_code == 500
    assert b'"keys"' not in response.data
    assert b"PRIVATE" not in response.data

    lms.app.config["LTI_KEY_SECRET"] = lms.secret
    assert len(lms.browser().get("/lti/jwks").get_json()["keys"]) == 2


def test_a_tampered_or_reencrypted_row_is_read_again(lms: Lms) -> None:
    active = _kids(lms.app)[0]
    row = lms.db.scalars(select(LtiToolKey).where(LtiToolKey.kid == active)).one()
    original = row.private_pem_encrypted

    # The same key encrypted afresh (a new IV): another blob, decrypted once more, same kid.
    pem = lti_keys.decrypt_pem(lms.secret, original)
    lms.db.execute(
        update(LtiToolKey)
        .where(LtiToolKey.id == row.id)
        .values(private_pem_encrypted=lti_keys.encrypt_pem(lms.secret, pem))
    )
    misses = lti_keys.key_cache.misses
    assert _kids(lms.app)[0] == active
    assert lti_keys.key_cache.misses == misses + 1

    # One byte changed: Fernet's HMAC refuses it, whatever the cache holds for the kid.
    middle = len(original) // 2
    tampered = (
        original[:middle] + ("A" if original[middle] != "A" else "B") + original[middle + 1 :]
    )
    lms.db.execute(
        update(LtiToolKey).where(LtiToolKey.id == row.id).values(private_pem_encrypted=tampered)
    )
    with pytest.raises(ConfigError, match="cannot decrypt"):
        lti_keys.signing_key(lms.db, lms.secret)


def test_the_cache_is_bounded_and_least_recently_used_goes_first() -> None:
    cache = KeyCache(size=2)
    records = [pooled_key_record(i, KeyState.NEXT) for i in (2, 3, 4)]
    keys = [(b"s", bytes([i]), "next") for i in range(3)]
    cache.put(keys[0], records[0])
    cache.put(keys[1], records[1])
    assert cache.get(keys[0]) is records[0]  # now the most recently used
    cache.put(keys[2], records[2])
    assert len(cache) == 2
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) is records[0]
    assert cache.get(keys[2]) is records[2]


def test_first_use_creates_keys_that_load_without_the_rsa_check(db_session: Session) -> None:
    lti_keys.clear_key_cache()
    records = lti_keys.ensure_keys(db_session, SECRET)
    assert sorted(r.state.value for r in records) == ["active", "next"]
    lti_keys.clear_key_cache()
    again = lti_keys.load_keys(db_session, SECRET)
    assert again == records
    assert all(r.loaded is not None for r in again)
    fresh = generate_key_record()
    assert fresh.loaded is not None
    assert [r.public_jwk() for r in again] == [r.public_jwk() for r in records]
