"""LTI key speed: ``GET /lti/jwks`` (public, no sign-in) and ``signing_key`` (all we sign).

Run: .venv/bin/python bench/bench_lti.py

The app runs on a throwaway SQLite file (WAL) migrated with Alembic, with the three keys a
rotated install publishes (active, next, retired), through Flask's test client: the server's
time without the network. Each figure is a median over repeats.

Baselines, measured in the same process:

* **uncached**: what every request paid without a key cache: decrypt each row and load its
  key with OpenSSL's RSA consistency check, every time (``key_record_from_pem`` untrusted,
  with its PEM cache cleared). The cached figures are reported as ratios against it.
* **cold**: this code after ``clear_key_cache()`` before each call: what a fresh worker pays
  on its first request, or every worker once after a rotation (decrypt + load, no RSA check).
* a request that touches neither keys nor the database (``/lti/config/canvas.json``) and one
  that makes one query (``/healthz``): the floor any GET /lti/jwks stands on.

Then where the time goes for one key: HKDF, Fernet, the PEM load with and without the check.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from timing import median_seconds  # noqa: E402

from grader import create_app  # noqa: E402
from grader.db import ENGINE_KEY  # noqa: E402
from grader.db import SESSIONMAKER_KEY  # noqa: E402
from grader.lti import KeyState  # noqa: E402
from grader.lti import active_key  # noqa: E402
from grader.lti import jwks_document  # noqa: E402
from grader.lti import key_record_from_pem  # noqa: E402
from grader.lti import keys as lti_key_module  # noqa: E402
from grader.migrate import upgrade  # noqa: E402
from grader.models_lti import LtiToolKey  # noqa: E402
from grader.services import lti_keys  # noqa: E402


def uncached_records(session: Any, secret: str) -> list[Any]:
    """The rows decrypted and loaded with the RSA check, as with no cache at all."""
    lti_key_module._load_private_key.cache_clear()
    rows = session.execute(
        select(LtiToolKey.private_pem_encrypted, LtiToolKey.state).order_by(LtiToolKey.id)
    ).all()
    return [
        key_record_from_pem(lti_keys.decrypt_pem(secret, blob), KeyState(state))
        for blob, state in rows
    ]


def uncached_public_jwks(session: Any, secret: str) -> dict[str, list[dict[str, str]]]:
    return jwks_document(uncached_records(session, secret))


def uncached_signing_key(session: Any, secret: str) -> Any:
    return active_key(uncached_records(session, secret))


def make_app(directory: Path) -> Any:
    """A production-like app on a migrated SQLite file with active, next and retired keys."""
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
            "SECRET_KEY": "bench-secret-" + "x" * 40,
            "LOG_LEVEL": "WARNING",
        }
    )
    logging.getLogger("grader").setLevel(logging.WARNING)
    with app.extensions[ENGINE_KEY].begin() as conn:
        upgrade(conn)
    secret = lti_keys.key_secret(app.config)
    with app.extensions[SESSIONMAKER_KEY]() as session:
        lti_keys.ensure_keys(session, secret)
        lti_keys.rotate_keys(session, secret)
    return app


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        secret = lti_keys.key_secret(app.config)
        client = app.test_client()
        sessions = app.extensions[SESSIONMAKER_KEY]
        queries = 0

        @event.listens_for(app.extensions[ENGINE_KEY], "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            nonlocal queries
            queries += statement.strip().upper() != "BEGIN"  # SQLite's explicit BEGIN

        def get_jwks() -> None:
            response = client.get("/lti/jwks")
            assert response.status_code == 200, response.status_code
            assert len(response.get_json()["keys"]) == 3

        def cold_get_jwks() -> None:
            lti_keys.clear_key_cache()
            get_jwks()

        def uncached_get_jwks() -> None:
            cached = lti_keys.public_jwks
            lti_keys.public_jwks = uncached_public_jwks  # type: ignore[assignment]
            try:
                get_jwks()
            finally:
                lti_keys.public_jwks = cached  # type: ignore[assignment]

        # The same document either way: a ratio of two different answers would mean nothing.
        with sessions() as session:
            assert uncached_public_jwks(session, secret) == lti_keys.public_jwks(session, secret)

        rows: list[tuple[str, float, str]] = []
        r = 7
        floor_static = median_seconds(lambda: client.get("/lti/config/canvas.json"), 50, r)
        floor_query = median_seconds(lambda: client.get("/healthz"), 50, r)
        jwks_uncached = median_seconds(uncached_get_jwks, 2, 5)
        jwks_cold = median_seconds(cold_get_jwks, 30, r)
        jwks_cached = median_seconds(get_jwks, 100, r)
        queries = 0
        get_jwks()
        jwks_queries = queries
        with sessions() as session:
            sign_uncached = median_seconds(lambda: uncached_signing_key(session, secret), 2, 5)

            def cold_signing_key() -> None:
                lti_keys.clear_key_cache()
                lti_keys.signing_key(session, secret)

            sign_cold = median_seconds(cold_signing_key, 30, r)
            sign_cached = median_seconds(lambda: lti_keys.signing_key(session, secret), 200, r)
            blob = session.scalars(select(LtiToolKey.private_pem_encrypted)).first()
        assert blob is not None
        pem = lti_keys.decrypt_pem(secret, blob)

        rows += [
            ("GET /lti/config/canvas.json (no keys, no DB): floor", floor_static * 1e3, "ms"),
            ("GET /healthz (one query): floor", floor_query * 1e3, "ms"),
            ("GET /lti/jwks, 3 keys, uncached (RSA check per key)", jwks_uncached * 1e3, "ms"),
            ("GET /lti/jwks, cold cache (first request, rotation)", jwks_cold * 1e3, "ms"),
            ("GET /lti/jwks, cached", jwks_cached * 1e3, "ms"),
            ("GET /lti/jwks, uncached / cached", jwks_uncached / jwks_cached, "x"),
            ("GET /lti/jwks, SQL statements per request (BEGIN aside)", float(jwks_queries), ""),
            ("signing_key, uncached (RSA check per key)", sign_uncached * 1e3, "ms"),
            ("signing_key, cold cache", sign_cold * 1e3, "ms"),
            ("signing_key, cached", sign_cached * 1e3, "ms"),
            ("signing_key, uncached / cached", sign_uncached / sign_cached, "x"),
            (
                "one key: HKDF-SHA256 of the secret",
                median_seconds(lambda: lti_keys._fernet(secret), 500, r) * 1e3,
                "ms",
            ),
            (
                "one key: Fernet decrypt (HKDF included)",
                median_seconds(lambda: lti_keys.decrypt_pem(secret, blob), 500, r) * 1e3,
                "ms",
            ),
            (
                "one key: load_pem_private_key with the RSA check",
                median_seconds(lambda: serialization.load_pem_private_key(pem, None), 2, 5) * 1e3,
                "ms",
            ),
            (
                "one key: load_pem_private_key, check skipped",
                median_seconds(
                    lambda: serialization.load_pem_private_key(
                        pem, None, unsafe_skip_rsa_key_validation=True
                    ),
                    200,
                    r,
                )
                * 1e3,
                "ms",
            ),
        ]
    print("grader LTI key benchmark (SQLite, Flask test client, 3 published keys)")
    print(f"{'case':56s} {'median':>10s}")
    for label, value, unit in rows:
        shown = f"{value:8.3f}" if unit == "ms" else f"{value:8.0f}"
        print(f"{label:56s} {shown} {unit}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
