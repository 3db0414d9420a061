"""Webhooks of a course: create (the signing secret is shown once), list, inspect, delete.

The rules, the event recording and the delivery (signature, retries) live in
``grader.services.webhooks``. Loopback and private receiver addresses are refused unless
``WEBHOOK_ALLOW_PRIVATE_URLS`` is set (it defaults on in development and testing only).
"""

from __future__ import annotations

from flask import Response
from flask import current_app
from flask import jsonify
from flask import url_for

from grader.db import get_session
from grader.services import webhooks as webhook_service
from grader.web.api import serialize
from grader.web.api.auth import api_user
from grader.web.api.auth import require_course
from grader.web.api.blueprint import ID
from grader.web.api.blueprint import bp
from grader.web.api.body import Field
from grader.web.api.body import json_object
from grader.web.api.pagination import page_request
from grader.web.api.pagination import paginate


def allow_private_urls() -> bool:
    """Whether receivers on loopback/private addresses are allowed (dev and tests)."""
    default = current_app.config.get("ENV") in ("development", "testing") or current_app.testing
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS", default))


@bp.get(f"/courses/<{ID}:course_id>/webhooks")
def list_webhooks(course_id: int) -> Response:
    """The course's webhooks (course staff); secrets are never listed."""
    require_course(course_id)
    hooks = webhook_service.list_webhooks(get_session(), api_user(), course_id)
    return paginate(hooks, serialize.webhook)


@bp.post(f"/courses/<{ID}:course_id>/webhooks")
def create_webhook(course_id: int) -> tuple[Response, int, dict[str, str]]:
    """Subscribe a receiver URL to grade events; the answer holds the secret, once."""
    require_course(course_id)
    body = json_object(
        [
            Field("url", str, max_length=webhook_service.MAX_URL_LENGTH),
            Field(
                "events",
                list,
                required=False,
                max_length=len(webhook_service.EVENTS),
                choices=webhook_service.EVENTS,
            ),
        ]
    )
    hook, secret = webhook_service.create_webhook(
        get_session(),
        api_user(),
        course_id,
        url=body["url"],
        events=body.get("events"),
        allow_private=allow_private_urls(),
    )
    result = serialize.webhook(hook)
    result["secret"] = secret
    location = url_for("api.get_webhook", course_id=course_id, webhook_id=hook.id)
    return jsonify(result), 201, {"Location": location}


@bp.get(f"/courses/<{ID}:course_id>/webhooks/<{ID}:webhook_id>/deliveries")
def list_deliveries(course_id: int, webhook_id: int) -> Response:
    """The webhook's recent deliveries, to see why a receiver gets nothing."""
    require_course(course_id)
    page = page_request()
    rows = webhook_service.list_deliveries(
        get_session(), api_user(), course_id, webhook_id, after=page.after, limit=page.limit + 1
    )
    return paginate(rows, serialize.delivery)


@bp.get(f"/courses/<{ID}:course_id>/webhooks/<{ID}:webhook_id>")
def get_webhook(course_id: int, webhook_id: int) -> Response:
    """One webhook (course staff); its secret is not shown again."""
    require_course(course_id)
    hook = webhook_service.get_webhook(get_session(), api_user(), course_id, webhook_id)
    return jsonify(serialize.webhook(hook))


@bp.delete(f"/courses/<{ID}:course_id>/webhooks/<{ID}:webhook_id>")
def delete_webhook(course_id: int, webhook_id: int) -> tuple[str, int]:
    """Remove a webhook and its undelivered events (instructors)."""
    require_course(course_id)
    webhook_service.delete_webhook(get_session(), api_user(), course_id, webhook_id)
    return "", 204
