"""The serving process's own background worker, for set-ups without ``grader worker``.

``grader serve`` in development (``make run``) runs one :class:`grader.services.worker.Worker`
in daemon threads of its process, so pending answers are graded, LTI scores and webhooks
sent and regrades run with nobody starting a worker (``GRADER_EMBEDDED_WORKER=false`` turns
it off). With ``GRADER_EMBEDDED_WORKER=true`` every serving process runs one: under
gunicorn each worker process starts its own on its first request (threads started before
gunicorn forks would not survive the fork). Claims are safe between workers, so a
``grader worker`` beside it never makes anything happen twice.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from flask import Flask

from grader.db import SESSIONMAKER_KEY
from grader.services import lti_keys
from grader.services import lti_outbox
from grader.services import worker as worker_service

logger = logging.getLogger(__name__)

_EXTENSION = "grader.embedded_worker"
_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Start the embedded worker on the first request when ``EMBEDDED_WORKER`` is true."""
    if app.config.get("EMBEDDED_WORKER") is not True:
        return

    @app.before_request
    def _ensure() -> None:
        if app.extensions.get(_EXTENSION, (None, -1))[1] != os.getpid():
            ensure_started(app)


def ensure_started(app: Flask) -> worker_service.Worker:
    """This process's embedded worker, started on the first call (once per process)."""
    with _lock:
        running = app.extensions.get(_EXTENSION)
        if running is not None and running[1] == os.getpid():
            found: worker_service.Worker = running[0]
            return found
        clients = lti_outbox.ServiceClients(
            lti_keys.key_secret(app.config),
            allow_private_urls=bool(app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS")),
        )
        runner = worker_service.Worker(
            app.extensions[SESSIONMAKER_KEY],
            clients,
            worker_service.settings_from(app.config),
            role="embedded",
        )
        runner.start()
        app.extensions[_EXTENSION] = (runner, os.getpid())

        def _stop() -> None:
            runner.stop(timeout=5.0)
            clients.close()

        atexit.register(_stop)
        return runner
