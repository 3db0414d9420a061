"""gunicorn settings for grader: ``gunicorn -c python:grader.gunicorn_conf`` from an install,
or ``gunicorn`` in a checkout (its ``gunicorn.conf.py`` re-exports this).

* Sync workers, CPU cores + 1 of them: grading is CPU work, and on the 2-core machine more
  workers or threads only lengthened the tail (README, Production). ``WEB_CONCURRENCY``
  or ``--workers`` overrides the count.
* Prometheus multiprocess mode: every worker writes its samples to files in
  ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary folder unless you set one), cleared when
  the server starts; ``child_exit`` marks a dead worker's files so its gauges go away.
* ``GRADER_BIND`` (default ``127.0.0.1:8000``): the proxy in front talks to this address.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


def _cores() -> int:
    """CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


wsgi_app = "grader.wsgi:app"
bind = os.environ.get("GRADER_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or _cores() + 1)
timeout = 60  # a request is at most a few CPU-bounded checks of 1 s each
graceful_timeout = 30
accesslog = "-"  # stdout; the app's own log lines (with request ids) go to stderr
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'

_created_metrics_dir: str | None = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _created_metrics_dir = tempfile.mkdtemp(prefix="grader-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _created_metrics_dir


def on_starting(server: Any) -> None:
    """Start from empty metric files: old ones belong to processes that are gone."""
    del server
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker died or was replaced: its live gauges must not linger."""
    del server
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    del server
    if _created_metrics_dir is not None:
        shutil.rmtree(_created_metrics_dir, ignore_errors=True)
