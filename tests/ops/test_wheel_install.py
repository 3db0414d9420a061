"""The built wheel, installed in a fresh virtualenv outside the source tree, runs.

Honest about what runs: the wheel is built from this checkout (``pip wheel``, with
setup.py's build step bundling ``migrations/`` and ``exercises/``), installed with
``--no-deps`` into a new virtualenv in a temporary folder, and every command runs from
another temporary folder with ``PYTHONPATH`` unset. Dependencies come from the shared
virtualenv's site-packages through a ``.pth`` line appended *after* the new venv's own
site-packages (cheap: no torch download), and that line does not process the shared
venv's editable-install hook, so ``grader`` can only be the installed copy; the test
checks ``grader.__file__`` to be sure.

Then: ``grader db upgrade``, ``grader load-exercises`` (the bundled library), gunicorn
with the packaged config (``-c python:grader.gunicorn_conf``) serving ``/healthz`` and
Prometheus text at ``/metrics`` over HTTP, and ``grader:create_app()`` as the app too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.postgres import free_port
from tests.support.processes import stop_process_group

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    # Build from a clean copy: setuptools reuses a build/ folder it finds, and a stale one
    # (with modules since deleted) would put them in the wheel; nor do we litter the checkout.
    source = root / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
            "instance",
            "tests",
            "bench",
            "loadtest",
        ),
    )
    build = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dist),
            str(source),
        ],
        {**os.environ},
        root,
    )
    assert build.returncode == 0, build.stderr
    wheels = list(dist.glob("grader-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            {},
            root,
        ).stdout.strip()
    )
    install = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheels[0]),
        ],
        {k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        root,
    )
    assert install.returncode == 0, install.stderr
    # Only now (pip must not see the shared venv's editable grader as "already installed").
    shared = sysconfig.get_paths()["purelib"]
    (site / "zz_shared_dependencies.pth").write_text(shared + "\n", encoding="utf-8")
    work = root / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "PYTHON"))}
    env.update(
        {
            "GRADER_DATABASE_URL": f"sqlite:///{work / 'grader.sqlite3'}",
            "GRADER_LOG_LEVEL": "WARNING",
            "PATH": f"{env_dir / 'bin'}:{env.get('PATH', '')}",
        }
    )
    return env_dir, env


def _where(env_dir: Path, env: dict[str, str], module: str) -> str:
    found = _run(
        [str(env_dir / "bin" / "python"), "-c", f"import {module}; print({module}.__file__)"],
        env,
        env_dir.parent / "elsewhere",
    )
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def test_the_installed_package_is_the_wheel_with_its_data(installed):
    env_dir, env = installed
    where = Path(_where(env_dir, env, "grader"))
    assert where.is_relative_to(env_dir), where
    assert not where.is_relative_to(REPO)
    bundled = where.parent / "_bundled"
    assert sorted(p.name for p in (bundled / "exercises").glob("*.yaml")) == sorted(
        p.name for p in (REPO / "exercises").glob("*.yaml")
    )
    assert sorted(p.name for p in (bundled / "migrations" / "versions").glob("*.py")) == sorted(
        p.name for p in (REPO / "migrations" / "versions").glob("*.py")
    )


def _serve(env_dir: Path, env: dict[str, str], app: str | None) -> Iterator[str]:
    port = free_port()
    cmd = [
        str(env_dir / "bin" / "python"),
        "-m",
        "gunicorn",
        "-c",
        "python:grader.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
    ]
    work = env_dir.parent / "elsewhere"
    proc = subprocess.Popen(
        [*cmd, *([app] if app else [])],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        yield base
    finally:
        stop_process_group(proc, timeout=20)


def test_installed_wheel_migrates_loads_the_library_and_serves(installed):
    env_dir, env = installed
    work = env_dir.parent / "elsewhere"
    grader = str(env_dir / "bin" / "grader")
    upgrade = _run([grader, "db", "upgrade"], env, work)
    assert upgrade.returncode == 0, upgrade.stderr
    loaded = _run([grader, "load-exercises"], env, work)
    assert loaded.returncode == 0, loaded.stderr
    count = len(list((REPO / "exercises").glob("*.yaml")))
    assert f"exercises: {count} added" in loaded.stdout
    empty = work / "empty-library"
    empty.mkdir()
    nothing = _run([grader, "load-exercises", str(empty)], env, work)
    assert nothing.returncode != 0
    assert "no exercise files" in nothing.stderr
    for app in (None, "grader:create_app()"):  # the packaged wsgi_app, then the factory
        for base in _serve(env_dir, env, app):
            health = requests.get(base + "/healthz", timeout=30)
            assert health.status_code == 200
            assert health.json()["database"] == "ok"
            scrape = requests.get(base + "/metrics", timeout=30)
            assert scrape.status_code == 200
            assert scrape.headers["Content-Type"].startswith("text/plain")
            assert 'grader_http_request_duration_seconds_count{endpoint="health.healthz"' in (
                scrape.text
            )
            assert 'grader_queue_depth{queue="lti_scores"} 0.0' in scrape.text
