"""Optional error tracking: ``GRADER_SENTRY_DSN`` turns on Sentry (sentry-sdk).

sentry-sdk is imported only when the DSN is set, so it is not a dependency: install it
(``pip install sentry-sdk``) where you use it. No personal data is sent (no cookies, bodies
or user emails); the request id is attached as a tag so an event matches its log lines.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from grader import __version__
from grader.errors import ConfigError
from grader.logging import REQUEST_ID


def _before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    del hint
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def init_app(app: Flask) -> bool:
    """Start Sentry when a DSN is configured; returns whether it did.

    Raises:
        ConfigError: a DSN is set but sentry-sdk is not installed.
    """
    dsn = str(app.config.get("SENTRY_DSN") or "")
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        raise ConfigError(
            "GRADER_SENTRY_DSN is set but sentry-sdk is not installed: pip install sentry-sdk"
        ) from None
    sentry_sdk.init(
        dsn=dsn,
        environment=str(app.config["ENV"]),
        release=f"grader@{__version__}",
        send_default_pii=False,
        before_send=_before_send,
    )
    return True
