"""Prometheus metrics every process records into (no Flask, no database here).

Under gunicorn each worker is a process, so ``prometheus_client`` runs in multiprocess
mode: ``gunicorn.conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker starts,
each worker writes its samples to files there, ``/metrics`` merges them, and the
``child_exit`` hook marks a dead worker's files. Without that variable (``grader serve``,
the tests) the samples live in this process's default registry.

Queue depths and ages are not recorded here: ``/metrics`` reads them from the database at
scrape time (:mod:`grader.services.queue_stats`), so every worker reports the same truth.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import multiprocess
from prometheus_client.registry import REGISTRY

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Most pages answer in 5-50 ms; grading a symbolic answer has a 1 s CPU budget.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "grader_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint, method and status code.",
    ["endpoint", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)
SUBMISSIONS_GRADED = Counter(
    "grader_submissions_graded",
    "Submissions judged, by verdict (correct, incorrect, invalid, undetermined, ...).",
    ["status"],
)
GRADING_SECONDS = Histogram(
    "grader_grading_duration_seconds",
    "Time to judge one submitted answer against its stored variant.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def multiprocess_dir() -> str | None:
    """The multiprocess directory when running under gunicorn's configuration, else None."""
    return os.environ.get(MULTIPROC_ENV) or None


def scrape_registry() -> CollectorRegistry:
    """A registry holding every process's samples (multiprocess) or this process's own."""
    directory = multiprocess_dir()
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return registry
