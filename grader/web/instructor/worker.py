"""Run queued jobs in a background thread of the web process.

A regrade started from the gradebook is queued as a row in ``jobs``; this starts a thread
with its own database session that runs queued jobs until none is left (a ``grader
worker`` process may take them as well: claiming is safe between processes). Config
``INSTRUCTOR_JOBS``: ``thread`` (the default outside production), ``inline`` (run inside the
request: tests and single-threaded setups) or ``off`` (production's default: leave them to
``grader worker``, whose jobs lane also resumes a job a dead web worker left running).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from flask import current_app

from grader.db import SESSIONMAKER_KEY
from grader.db import get_session
from grader.services import job_runner

logger = logging.getLogger(__name__)

# One draining thread at a time per process keeps SQLite's single writer uncontended.
_lock = threading.Lock()


def _drain(app: Flask) -> None:
    with app.app_context(), _lock:
        session = app.extensions[SESSIONMAKER_KEY]()
        try:
            job_runner.run_pending(session)
        except Exception:  # a crash here must not kill silently: log; the job stays visible
            logger.exception("background job runner stopped")
        finally:
            session.close()


def kick() -> None:
    """Make sure someone runs the queued jobs."""
    mode = current_app.config.get("INSTRUCTOR_JOBS") or "thread"
    if mode == "off":
        return
    if mode == "inline":
        job_runner.run_pending(get_session())
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=_drain, args=(app,), name="grader-jobs", daemon=True).start()
