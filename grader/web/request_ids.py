"""A request id on every request: in each log line and the ``X-Request-ID`` response header.

A trusted proxy's ``X-Request-ID`` is kept (so the proxy's log and ours share the id) when
``GRADER_TRUSTED_PROXIES`` says there is one; otherwise, or when the header is not a short
plain token, we make one. A client talking to us directly cannot choose its id, so it
cannot forge or split someone else's log trail.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request

from grader.logging import REQUEST_ID

HEADER = "X-Request-ID"
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def current_id() -> str | None:
    return REQUEST_ID.get()


def _begin() -> None:
    offered = request.headers.get(HEADER, "")
    trusted = int(current_app.config.get("TRUSTED_PROXIES") or 0) > 0
    request_id = offered if trusted and _ACCEPTED.fullmatch(offered) else uuid.uuid4().hex
    g.request_id_token = REQUEST_ID.set(request_id)


def _echo(response: Response) -> Response:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        response.headers[HEADER] = request_id
    return response


def _end(exc: BaseException | None) -> None:
    del exc
    token = g.pop("request_id_token", None)
    if token is not None:
        REQUEST_ID.reset(token)


def init_app(app: Flask) -> None:
    """First before-request hook, so every later hook and view logs with the id."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_echo)
    app.teardown_request(_end)
