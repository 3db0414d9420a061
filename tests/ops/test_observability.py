"""What an operator sees and relies on: /metrics and who may read it, request ids in the
JSON log and the response, Secure cookies and HSTS in production, cacheable static files,
and production refusing a public URL that is not https (also for `grader lti show-config`)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from grader import create_app
from grader.db import ENGINE_KEY
from grader.db import SESSIONMAKER_KEY
from grader.logging import configure_logging
from grader.models import Job
from grader.models import WorkerHeartbeat
from grader.models import utcnow
from grader.services import queue_stats

GRADER = str(Path(sys.executable).parent / "grader")
SECRET = "observability-secret-" + "s" * 40


def _app(db_engine: Engine, db_session: Session, **overrides: object) -> Flask:
    app = create_app(
        {
            "ENV": "testing",
            "TESTING": True,
            "DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": SECRET,
            **overrides,
        }
    )
    app.extensions[ENGINE_KEY].dispose()
    app.extensions[ENGINE_KEY] = db_engine
    app.extensions[SESSIONMAKER_KEY] = lambda: db_session
    return app


def _samples(text: str, name: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(name + r'\{queue="([a-z_]+)"\} (\S+)', line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def test_metrics_report_latency_and_queue_depth_read_from_the_database(client, db_session):
    db_session.add(
        WorkerHeartbeat(
            id="host-a:4242:x",
            hostname="host-a",
            pid=4242,
            role="worker",
            started_at=utcnow() - dt.timedelta(minutes=5),
            beat_at=utcnow() - dt.timedelta(minutes=1),
        )
    )
    db_session.add(
        Job(
            kind="regrade",
            payload={},
            status="queued",
            created_at=utcnow() - dt.timedelta(minutes=5),
        )
    )
    db_session.commit()
    assert client.get("/healthz").status_code == 200
    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["Content-Type"].startswith("text/plain; version=")
    text = scrape.get_data(as_text=True)
    assert 'grader_http_request_duration_seconds_count{endpoint="health.healthz"' in text
    depth = _samples(text, "grader_queue_depth")
    assert set(depth) == set(queue_stats.KINDS)
    assert depth["jobs"] == 1.0
    assert _samples(text, "grader_queue_oldest_age_seconds")["jobs"] >= 290
    assert "grader_queue_stats_up 1.0" in text
    beats = re.findall(
        r'grader_worker_heartbeat_age_seconds\{role="worker",worker="host-a:4242"\} (\S+)', text
    )
    assert len(beats) == 1
    assert float(beats[0]) >= 50


def test_metrics_are_for_this_machine_or_the_token_only(db_engine, db_session):
    open_app = _app(db_engine, db_session)
    client = open_app.test_client()
    assert client.get("/metrics").status_code == 200  # loopback, direct
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 404
    guarded = _app(db_engine, db_session, METRICS_TOKEN="scrape-" + "t" * 30).test_client()
    assert guarded.get("/metrics").status_code == 404  # loopback is not enough now
    bearer = {"Authorization": "Bearer scrape-" + "t" * 30}
    ok = guarded.get("/metrics", headers=bearer, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert ok.status_code == 200
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404


@pytest.mark.parametrize("trusted", [0, 1])
def test_json_logs_and_the_response_carry_the_request_id(
    db_engine, db_session, capsys: pytest.CaptureFixture[str], trusted: int
) -> None:
    app = _app(db_engine, db_session, LOG_FORMAT="json", TRUSTED_PROXIES=trusted)

    def probe() -> str:
        logging.getLogger("grader.probe").warning("probe line")
        return "ok"

    app.add_url_rule("/_probe", view_func=probe)
    configure_logging("INFO", "json")  # a handler on the captured stderr
    try:
        response = app.test_client().get("/_probe", headers={"X-Request-ID": "edge-abcdef123"})
    finally:
        configure_logging("INFO", "text")
    request_id = response.headers["X-Request-ID"]
    assert (request_id == "edge-abcdef123") is bool(trusted)  # only a trusted proxy's id
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    [line] = [entry for entry in lines if entry["message"] == "probe line"]
    assert line["request_id"] == request_id


def test_production_cookies_are_secure_and_hsts_is_sent(db_engine, db_session):
    app = _app(db_engine, db_session, ENV="production", PUBLIC_URL="https://grader.example.org")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/auth/login", base_url="https://grader.example.org")
    assert response.status_code == 200
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    assert all("Secure" in cookie for cookie in cookies)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    testing = _app(db_engine, db_session).test_client().get("/auth/login")
    assert "Strict-Transport-Security" not in testing.headers


def test_static_files_have_versioned_urls_a_proxy_may_cache(client):
    page = client.get("/auth/login").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{12})"', page)
    assert urls
    for path, _version in urls:
        assert client.get(path).headers["Cache-Control"] == "public, max-age=3600"
    path, version = urls[0]
    versioned = client.get(f"{path}?v={version}")
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert versioned.headers.get("ETag")
    stale = client.get(f"{path}?v=000000000000")
    assert stale.headers["Cache-Control"] == "public, max-age=3600"


def test_lti_show_config_refuses_production_without_an_https_public_url(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(
        {
            "GRADER_ENV": "production",
            "GRADER_SECRET_KEY": SECRET,
            "GRADER_DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite3",
        }
    )
    refused = subprocess.run(
        [GRADER, "lti", "show-config"], capture_output=True, text=True, env=env, timeout=120
    )
    assert refused.returncode != 0
    assert "GRADER_PUBLIC_URL must be this server's public https:// URL" in refused.stderr
    assert "http://127.0.0.1:5000" not in refused.stdout
    assert "Traceback" not in refused.stderr


def test_a_sentry_dsn_without_sentry_sdk_stops_start_up_with_what_to_install(db_engine, db_session):
    import importlib.util

    from grader.errors import ConfigError

    if importlib.util.find_spec("sentry_sdk") is not None:
        app = _app(db_engine, db_session, SENTRY_DSN="https://key@sentry.invalid/1")
        assert app.config["SENTRY_DSN"]
        return
    with pytest.raises(ConfigError, match="pip install sentry-sdk"):
        _app(db_engine, db_session, SENTRY_DSN="https://key@sentry.invalid/1")
