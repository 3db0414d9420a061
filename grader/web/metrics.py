"""``GET /metrics`` (Prometheus text) and the request-latency hook.

Who may read it: with ``GRADER_METRICS_TOKEN`` set, only ``Authorization: Bearer <token>``;
without it, only a direct request from this machine (the socket's peer is loopback and no
proxy added ``X-Forwarded-For``), so a scraper on the host works out of the box and nothing
behind the public proxy can read it. Anyone else gets 404, as if there were no such page.

Per-process samples (latency, grading) come from :mod:`grader.metrics` (merged across
gunicorn workers in multiprocess mode); queue depths and ages and each worker's heartbeat
age are read from the database at each scrape (:mod:`grader.services.queue_stats`).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterator

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from grader import metrics
from grader.db import get_session
from grader.errors import NotFound
from grader.services import queue_stats

bp = Blueprint("metrics", __name__)


class QueueCollector(Collector):
    """Queue depths and ages and worker heartbeat ages, read from the database at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "grader_queue_depth", "Items waiting in a background queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "grader_queue_oldest_age_seconds",
            "Age of the oldest waiting item of a background queue (0 when empty).",
            labels=["queue"],
        )
        beats = GaugeMetricFamily(
            "grader_worker_heartbeat_age_seconds",
            "Seconds since each worker process last stamped its heartbeat.",
            labels=["worker", "role"],
        )
        up = GaugeMetricFamily(
            "grader_queue_stats_up", "1 when the database answered the queue queries."
        )
        try:
            stats = queue_stats.queue_stats(get_session())
        except SQLAlchemyError:
            up.add_metric([], 0.0)
            yield up
            return
        for queue in stats.queues:
            depth.add_metric([queue.kind], float(queue.depth))
            age.add_metric([queue.kind], queue.oldest_age_seconds or 0.0)
        for worker in stats.workers:
            beats.add_metric([f"{worker.hostname}:{worker.pid}", worker.role], worker.age_seconds)
        up.add_metric([], 1.0)
        yield from (depth, age, beats, up)


def _peer_address() -> str:
    """The socket's peer, before ProxyFix rewrote ``REMOTE_ADDR`` (if it did)."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return str(original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR") or "")


def _allowed() -> bool:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    if token:
        offered = request.headers.get("Authorization", "")
        return hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(_peer_address()).is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def scrape() -> Response:
    if not _allowed():
        raise NotFound("no such page")
    registry = metrics.scrape_registry()
    body = generate_latest(registry)
    body += generate_latest(_QueueRegistry())
    response = Response(body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST  # with the exposition version
    return response


class _QueueRegistry:
    """The minimal registry ``generate_latest`` needs, holding just the queue collector."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return QueueCollector().collect()


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method() -> str:
    """The method as a label; made-up methods share one, so labels stay few."""
    return request.method if request.method in _METHODS else "other"


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"  # 404s share one label, not one per URL
        metrics.REQUEST_LATENCY.labels(
            endpoint=endpoint, method=_method(), status=str(response.status_code)
        ).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
