"""Deadline night: students open the quiz, preview answers and submit; an instructor watches.

Run by ``loadtest/run.py`` (which seeds the course and writes ``accounts.json``) in the
load test's own virtualenv: this file imports locust only, never grader.

* ``Student`` signs in once, then loops: open the
  quiz, preview an answer as it is typed (``POST /api/preview``), submit it through the
  no-JavaScript form, follow the redirect back to the quiz, sometimes open the history.
  Answers are a mix: right, wrong, unreadable and hostile, on numeric and symbolic parts.
  Deadline night finds most students signed in already: one in ``SIGN_IN_EVERY`` signs in
  through the real form (Argon2id, ~0.3 s of CPU each); the others arrive with the session
  cookie they got earlier (made by run.py with the server's key).
* ``Instructor`` (one) opens the quiz gradebook and the course gradebook now and then.

Every submit the server accepted (a redirect back to the quiz) is written, with its
idempotency key, to ``accepted.jsonl`` when the run ends, so the runner can check the
database: each accepted answer stored exactly once, with a score.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import time
import uuid
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import FastHttpUser
from locust import between
from locust import events
from locust import task

OUT = Path(os.environ.get("LOADTEST_OUT", "."))
ACCOUNTS = json.loads((OUT / "accounts.json").read_text(encoding="utf-8"))
_next_student = itertools.count()
_lock = threading.Lock()
_accepted: list[dict[str, str]] = []
_logins: list[float] = []
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

INVALID = ["1/0 +", "abc(", "[[1, 2]", "", "2 ** ", "w1 = 3"]
HOSTILE = [
    "9**9**9**9",
    "exp(exp(exp(exp(exp(x)))))",
    "(" * 300 + "x" + ")" * 300,
    "x" * 4000,
    "1e999999",
    "<script>alert(1)</script>",
    "\u202e1.5",
    "__import__('os').system('true')",
]
SIGN_IN_EVERY = int(os.environ.get("LOADTEST_SIGN_IN_EVERY", "10"))
MIX = ["right"] * 40 + ["wrong"] * 30 + ["invalid"] * 15 + ["hostile"] * 15


def _cookie(value: str, host: str | None) -> Cookie:
    domain = urlsplit(host or "").hostname or "127.0.0.1"
    return Cookie(
        0, "session", value, None, False, domain, False, False, "/", True, False, None, False,
        None, None, {"HttpOnly": None},
    )  # fmt: skip


def _answer(part: dict[str, Any], rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(MIX)
    if kind == "right":
        return kind, part["right"]
    if kind == "wrong":
        return kind, part["wrong"]
    if kind == "invalid":
        return kind, rng.choice(INVALID)
    return kind, rng.choice(HOSTILE)


class Student(FastHttpUser):
    weight = 300
    # A student reads, works a gradient out, previews while typing, submits: seconds apart.
    wait_time = between(3.0, 10.0)

    def on_start(self) -> None:
        n = next(_next_student)
        students = ACCOUNTS["students"]
        self.account = students[n % len(students)]
        self.rng = random.Random(n)
        self.quiz_id = ACCOUNTS["quiz_id"]
        self.csrf = ""
        if n % SIGN_IN_EVERY:
            self.client.cookiejar.set_cookie(_cookie(self.account["cookie"], self.host))
            self.open_quiz()
            return
        started = time.perf_counter()
        page = self.client.get("/auth/login", name="GET /auth/login")
        token = _CSRF.search(page.text)
        with self.client.post(
            "/auth/login",
            data={
                "csrf_token": token.group(1) if token else "",
                "email": self.account["email"],
                "password": ACCOUNTS["password"],
            },
            allow_redirects=False,
            name="POST /auth/login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}")
        with _lock:
            _logins.append(time.perf_counter() - started)
        self.open_quiz()

    def open_quiz(self, name: str = "GET /quizzes/[id]") -> None:
        with self.client.get(
            f"/quizzes/{self.quiz_id}", name=name, catch_response=True
        ) as response:
            token = _CSRF.search(response.text or "")
            if response.status_code != 200 or token is None:
                response.failure(f"quiz page answered {response.status_code}")
                return
            self.csrf = token.group(1)

    @task(3)
    def quiz(self) -> None:
        self.open_quiz()

    @task(4)
    def preview(self) -> None:
        part = self.rng.choice(self.account["parts"])
        _, text = _answer(part, self.rng)
        with self.client.post(
            "/api/preview",
            json={"attempt_id": part["attempt_id"], "part_id": part["part_id"], "text": text},
            headers={"X-CSRFToken": self.csrf},
            name="POST /api/preview",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"preview answered {response.status_code}")

    @task(3)
    def submit(self) -> None:
        part = self.rng.choice(self.account["parts"])
        kind, text = _answer(part, self.rng)
        key = uuid.uuid4().hex
        with self.client.post(
            f"/attempts/{part['attempt_id']}/parts/{part['part_id']}",
            data={"csrf_token": self.csrf, "idempotency_key": key, "answer": text},
            allow_redirects=False,
            name=f"POST submit ({part['kind']})",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"submit answered {response.status_code}")
                return
        with _lock:
            _accepted.append(
                {
                    "key": key,
                    "email": self.account["email"],
                    "attempt_id": part["attempt_id"],
                    "part_id": part["part_id"],
                    "kind": kind,
                    "type": part["kind"],
                }
            )
        self.open_quiz("GET /quizzes/[id] (after submit)")

    @task(1)
    def history(self) -> None:
        self.client.get(f"/quizzes/{self.quiz_id}/history", name="GET /quizzes/[id]/history")


class Instructor(FastHttpUser):
    fixed_count = 1
    wait_time = between(4.0, 6.0)

    def on_start(self) -> None:
        page = self.client.get("/auth/login", name="GET /auth/login")
        token = _CSRF.search(page.text)
        self.client.post(
            "/auth/login",
            data={
                "csrf_token": token.group(1) if token else "",
                "email": ACCOUNTS["instructor"],
                "password": ACCOUNTS["password"],
            },
            allow_redirects=False,
            name="POST /auth/login",
        )

    @task(2)
    def quiz_gradebook(self) -> None:
        self.client.get(
            f"/teach/quizzes/{ACCOUNTS['quiz_id']}/gradebook",
            name="GET /teach/quizzes/[id]/gradebook",
        )

    @task(1)
    def course_gradebook(self) -> None:
        self.client.get(
            f"/teach/courses/{ACCOUNTS['course_id']}/gradebook",
            name="GET /teach/courses/[id]/gradebook",
        )


SETTLE = float(os.environ.get("LOADTEST_SETTLE", "10"))


@events.init.add_listener
def _on_init(environment: Any, **_kwargs: Any) -> None:
    """Measure the steady state: restart the statistics SETTLE s after the last student
    started (sign-ins still in flight then are the ramp's, reported from logins.json)."""

    def settle(**_kw: Any) -> None:
        import gevent

        def reset() -> None:
            environment.runner.stats.reset_all()
            (OUT / "measure-start").write_text(str(time.time()), encoding="utf-8")

        gevent.spawn_later(SETTLE, reset)

    environment.events.spawning_complete.add_listener(settle)


@events.test_stop.add_listener
def _write_accepted(**_kwargs: Any) -> None:
    with _lock:
        with (OUT / "accepted.jsonl").open("w", encoding="utf-8") as out:
            for row in _accepted:
                out.write(json.dumps(row) + "\n")
        (OUT / "logins.json").write_text(json.dumps(_logins), encoding="utf-8")
