"""Security headers on every kind of response.

* every response: ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy``;
* every HTML page: a Content-Security-Policy whose scripts come only from our own origin
  (no inline script, no eval, no other host), ``object-src 'none'``, ``base-uri``; no
  ``<script>`` in the page that is not one of our static files;
* pages for a signed-in person are ``no-store``; the session cookie is HttpOnly, SameSite;
* framing: the sign-in pages refuse it; other pages allow our own origin and the LMSs
  registered for LTI (``grader.web.security_headers``), nobody else.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from grader.web import security_headers
from tests.fuzz import campus as campus_mod

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def _directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _pages(client: FlaskClient, campus: campus_mod.Campus) -> dict[str, object]:
    quiz = campus.world.quiz.id
    seen: dict[str, object] = {}
    campus_mod.sign_in(client, None)
    for path in ("/auth/login", "/auth/register", "/healthz", "/no/such/page", "/lti/jwks"):
        seen[f"anonymous {path}"] = client.get(path)
    seen["anonymous lti refusal"] = client.post("/lti/launch", data={"state": "x"})
    seen["anonymous api"] = client.get("/api/v1/me")
    campus_mod.sign_in(client, campus.sam)
    for path in ("/", f"/quizzes/{quiz}", f"/quizzes/{quiz}/history", "/teach/", "/nope"):
        seen[f"student {path}"] = client.get(path)
    campus_mod.sign_in(client, campus.prof)
    for path in ("/teach/", f"/teach/quizzes/{quiz}/gradebook", f"/teach/quizzes/{quiz}"):
        seen[f"instructor {path}"] = client.get(path)
    return seen


def test_every_response_has_the_basic_headers(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    campus = campus_mod.build(db_session, app)
    pages = _pages(client, campus)
    static = client.get("/static/" + _first_static(app))
    pages["static file"] = static
    for name, response in pages.items():
        headers = response.headers  # type: ignore[attr-defined]
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("Referrer-Policy") in (
            "same-origin",
            "strict-origin-when-cross-origin",
            "no-referrer",
        ), name
        if response.mimetype != "text/html":  # type: ignore[attr-defined]
            continue
        policy = _directives(headers["Content-Security-Policy"])
        scripts = policy.get("script-src", policy.get("default-src"))
        assert scripts is not None, name
        assert all(s == "'self'" or s.startswith("'nonce-") for s in scripts), (name, scripts)
        assert policy.get("object-src") == ["'none'"] or policy.get("default-src") == ["'none'"]
        assert "base-uri" in policy, name
        body = response.get_data(as_text=True)  # type: ignore[attr-defined]
        for attrs in _SCRIPT.findall(body):
            assert 'src="/static/' in attrs, f"{name}: inline or foreign <script{attrs}>"
        if name.startswith(("student", "instructor")):
            assert headers.get("Cache-Control") == "no-store", name


def _first_static(app: Flask) -> str:
    from pathlib import Path

    root = Path(app.static_folder or "")
    first = sorted(p for p in root.rglob("*.js") if p.is_file())[0]
    return str(first.relative_to(root))


def test_the_session_cookie_is_httponly_and_samesite(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.sam)
    response = client.get("/")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "the session cookie is refreshed on a signed-in page"
    assert "HttpOnly" in cookies[0]
    assert "SameSite=Lax" in cookies[0]


def test_framing_is_limited_to_us_and_the_registered_lms(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    security_headers.init_app(app)  # what create_app should do (see the next test)
    app.config["FRAME_ANCESTORS"] = "https://school.instructure.com not-an-origin"
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.sam)
    quiz = client.get(f"/quizzes/{campus.world.quiz.id}")
    ancestors = _directives(quiz.headers["Content-Security-Policy"])["frame-ancestors"]
    assert ancestors == [
        "'self'",
        "https://lms.campus.example",
        "https://school.instructure.com",
    ]
    campus_mod.sign_in(client, None)
    login = client.get("/auth/login")
    assert login.status_code == 200
    assert _directives(login.headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
    health = client.get("/healthz")
    assert "frame-ancestors" not in health.headers.get("Content-Security-Policy", "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://lms.example.edu/path?q=1", "https://lms.example.edu"),
        ("http://LMS.example:8080", "http://lms.example:8080"),
        ("javascript:alert(1)", None),
        ("https://a b.example", None),
        ("https://x.example;script-src *", None),
        ("https://user@x.example", None),
        ("", None),
        (None, None),
    ],
)
def test_only_plain_origins_reach_the_policy(url: str | None, expected: str | None) -> None:
    assert security_headers.origin(url) == expected


def test_create_app_limits_framing(app: Flask, client: FlaskClient, db_session: Session) -> None:
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.sam)
    page = client.get(f"/quizzes/{campus.world.quiz.id}")
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
