"""A real gunicorn serving grader on loopback, and a student that talks to it over HTTP.

``Gunicorn`` starts ``.venv/bin/gunicorn`` (sync workers) in a subprocess on a free
loopback port, over a database URL it is given, and always stops it: SIGTERM, then SIGKILL
after a bounded wait. ``tests.faults.slow_wsgi:app`` is the app with one test-only hook
(grading sleeps while a flag file exists). ``Student`` signs in through the real form
and submits through the real no-JavaScript answer forms.

Also used by ``loadtest/run.py``.
"""

from __future__ import annotations

import dataclasses
import html
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from tests.support.postgres import free_port
from tests.support.processes import stop_process_group

REPO = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
GRADER = str(Path(sys.executable).parent / "grader")
SECRET = "faults-secret-key-" + "k" * 40

_FORM = re.compile(
    r'<form method="post" action="(/attempts/(\d+)/parts/([^"]+))"(.*?)</form>', re.S
)
_HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|idempotency_key)" value="([^"]*)"')
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Gunicorn:
    """``with Gunicorn(url, tmp) as server:`` serves until the block ends."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        *,
        workers: int = 3,
        app: str = "tests.faults.slow_wsgi:app",
        timeout: int = 60,
        extra_env: Mapping[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.workers = workers
        self.app = app
        self.timeout = timeout
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(extra_env or {})
        self.extra_args = extra_args
        self.log_path = workdir / "gunicorn.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env.update(
            {
                "GRADER_ENV": "production",
                "GRADER_SECRET_KEY": SECRET,
                # Plain HTTP on loopback, as behind a TLS-terminating proxy.
                "GRADER_PUBLIC_URL": "https://grader.test",
                "GRADER_SESSION_COOKIE_SECURE": "false",
                "GRADER_DATABASE_URL": self.database_url,
                "GRADER_LOG_LEVEL": "WARNING",
                "GRADER_INSTRUCTOR_JOBS": "off",
                "GRADER_FAULTS_DIR": str(self.workdir),
                "PYTHONPATH": str(REPO),
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, wait: float = 90.0) -> None:
        cmd = [
            GUNICORN,
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            str(self.timeout),
            "--graceful-timeout",
            "3",
            "--chdir",
            str(REPO),
            *self.extra_args,
            self.app,
        ]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.wait_ready(wait)

    def wait_ready(self, wait: float = 60.0) -> None:
        """Until /healthz answers 200 (or fail with the server's log)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn not ready after {wait} s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        """The master's live children (the workers)."""
        assert self.proc is not None
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def wait_workers(self, count: int | None = None, wait: float = 60.0) -> None:
        """Until the master runs ``count`` workers again and they answer."""
        count = count or self.workers
        start = time.monotonic()
        deadline = start + wait
        nudged = False
        while time.monotonic() < deadline and len(self.worker_pids()) < count:
            if not nudged and time.monotonic() - start > 15:
                # Seen once on a loaded CI machine: the master logged the reaped worker
                # but had not spawned its replacement a minute later. SIGCHLD is the
                # signal it acts on; sending it again wakes its management loop.
                assert self.proc is not None
                os.kill(self.proc.pid, signal.SIGCHLD)
                nudged = True
            time.sleep(0.2)
        assert len(self.worker_pids()) >= count, self.log()
        self.wait_ready(wait)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc)

    def __enter__(self) -> Gunicorn:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@dataclasses.dataclass
class AnswerForm:
    action: str
    attempt_id: int
    part_id: str
    csrf_token: str
    idempotency_key: str


def answer_forms(page: str) -> list[AnswerForm]:
    """The quiz page's answer forms, in page order."""
    forms = []
    for match in _FORM.finditer(page):
        hidden = dict(_HIDDEN.findall(match.group(4)))
        forms.append(
            AnswerForm(
                action=html.unescape(match.group(1)),
                attempt_id=int(match.group(2)),
                part_id=html.unescape(match.group(3)),
                csrf_token=hidden["csrf_token"],
                idempotency_key=hidden["idempotency_key"],
            )
        )
    return forms


class Student:
    """One browser-less student: a cookie jar, the sign-in form, the answer forms."""

    def __init__(self, base_url: str, email: str, password: str, timeout: float = 30) -> None:
        self.base_url = base_url
        self.email = email
        self.password = password
        self.timeout = timeout
        self.http = requests.Session()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.http.get(self.base_url + path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.http.post(self.base_url + path, **kwargs)

    def csrf(self, path: str = "/auth/login") -> str:
        page = self.get(path)
        page.raise_for_status()
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self) -> requests.Response:
        token = self.csrf()
        response = self.post(
            "/auth/login",
            data={"csrf_token": token, "email": self.email, "password": self.password},
            allow_redirects=False,
        )
        assert response.status_code == 302, (response.status_code, response.text[:500])
        return response

    def quiz(self, quiz_id: int) -> tuple[requests.Response, list[AnswerForm]]:
        page = self.get(f"/quizzes/{quiz_id}")
        return page, answer_forms(page.text) if page.status_code == 200 else []

    def submit(self, form: AnswerForm, answer: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.post(
            form.action,
            data={
                "csrf_token": form.csrf_token,
                "idempotency_key": form.idempotency_key,
                "answer": answer,
            },
            **kwargs,
        )


def run_grader(
    args: list[str], database_url: str, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real ``grader`` command against a database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(
        {
            "GRADER_DATABASE_URL": database_url,
            "GRADER_LOG_LEVEL": "WARNING",
            "GRADER_SECRET_KEY": SECRET,
        }
    )
    return subprocess.run(
        [GRADER, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )
