"""Configuration: defaults safe for a laptop, overridden by ``GRADER_*`` variables.

One place decides every setting, so the app, the CLI, the worker and the migrations
agree. Values from the environment are strings; the defaults' types say how each is
parsed (``GRADER_SESSION_COOKIE_SECURE=true`` becomes ``True``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from grader.errors import ConfigError

DEV_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - the refused-in-production placeholder

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": DEV_SECRET_KEY,
    # None means "an SQLite file in the instance folder", resolved in load_config.
    "DATABASE_URL": None,
    "DATABASE_ECHO": False,
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "text",  # "text" or "json"
    "EXERCISES_DIR": None,  # None: the built-in library at the repository's top level
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,  # uploads (YAML, CSV rosters) are small
    "CHECK_TIME_BUDGET": 1.0,  # seconds per symbolic check
    # None: True in production (the cookie only travels over HTTPS), False elsewhere.
    "SESSION_COOKIE_SECURE": None,
    # Strict-Transport-Security max-age sent in production (0: none).
    "HSTS_SECONDS": 365 * 24 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # The URL LMSs and emailed links use. Empty: in development, http://HOST:PORT of
    # `grader serve` (so `make run PORT=8000` advertises port 8000).
    "PUBLIC_URL": "",
    "HOST": "127.0.0.1",
    "PORT": 5000,
    # Outgoing mail (invitations, set-password links): smtp://user:pass@host:587 (STARTTLS)
    # or smtps://...:465. Empty: links are logged (development) and shown to instructors.
    "SMTP_URL": "",
    "MAIL_FROM": "grader@localhost",
    "WTF_CSRF_TIME_LIMIT": None,
    # How the web app runs background jobs it starts (regrades): "thread" beside the
    # request, "inline" inside it (tests), "off" (leave them to `grader worker`). None:
    # "off" in production (a regrade in a web worker's thread dies with that worker;
    # `grader worker` resumes it from its heartbeat, but should run it in the first place),
    # "thread" otherwise.
    "INSTRUCTOR_JOBS": None,
    # A worker thread inside the serving process (pending grading, LTI scores, webhooks,
    # regrades) for set-ups without `grader worker`. None: `grader serve` runs one in
    # development (`make run`); true: every serving process runs one (gunicorn too);
    # false: never. Safe beside real workers (every claim is checked).
    "EMBEDDED_WORKER": None,
    # `grader worker` (and the embedded one): LTI scores and webhook POSTs sent at once,
    # seconds a pending answer is left to the request that stored it, idle poll interval.
    "WORKER_LTI_CONCURRENCY": 4,
    "WORKER_WEBHOOK_CONCURRENCY": 4,
    "WORKER_PENDING_GRACE_SECONDS": 20.0,
    "WORKER_IDLE_SECONDS": 2.0,
    # LTI 1.3: our public base URL for LMSs (PUBLIC_URL when empty), the tool's name,
    # and the secret the tool's private keys are encrypted under (SECRET_KEY when empty).
    "LTI_BASE_URL": "",
    "LTI_TOOL_TITLE": "grader",
    "LTI_KEY_SECRET": "",
    # Extra origins allowed to frame our pages (space-separated), beyond the registered
    # LTI platforms: an LMS that frames from another host than its issuer.
    "FRAME_ANCESTORS": "",
    # JSON API: a token bucket per token (or client address), per worker process.
    "API_RATE_LIMIT_PER_MINUTE": 300,
    "API_RATE_LIMIT_BURST": 60,
    # Webhook receivers on private or loopback addresses (SSRF guard). None: allowed in
    # development and testing only.
    "WEBHOOK_ALLOW_PRIVATE_URLS": None,  # tokens last the session: quizzes stay open for hours
    # How many reverse proxies in front of us append X-Forwarded-For/-Proto/-Host/-Port
    # (werkzeug's ProxyFix with this hop count). 0: none; the socket's address is the client.
    "TRUSTED_PROXIES": 0,
    # /metrics: with a token, only ``Authorization: Bearer <token>``; without, only direct
    # requests from this machine (loopback, no X-Forwarded-For).
    "METRICS_TOKEN": "",
    # Error tracking: sentry-sdk is imported (and must be installed) only when this is set.
    "SENTRY_DSN": "",
}


#: settings whose default is None but whose value, when set, is a boolean
_OPTIONAL_BOOLEANS = {"WEBHOOK_ALLOW_PRIVATE_URLS", "EMBEDDED_WORKER", "SESSION_COOKIE_SECURE"}


def _parse(raw: str, default: Any, *, boolean: bool = False) -> Any:
    """Turn an environment string into the type the default has."""
    if boolean or isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"expected true or false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"expected an integer, got {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"expected a number, got {raw!r}") from None
    return raw


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    instance_path: str | os.PathLike[str] = "instance",
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the full configuration: defaults, then ``GRADER_*`` variables, then overrides.

    Raises:
        ConfigError: a value cannot be parsed or the combination is unsafe.
    """
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(f"GRADER_{key}")
        if raw is None:
            continue
        try:
            config[key] = _parse(raw, default, boolean=key in _OPTIONAL_BOOLEANS)
        except ConfigError as exc:
            raise ConfigError(f"GRADER_{key}: {exc}") from None
    if overrides:
        config.update(overrides)
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = config["ENV"] == "production"
    if config.get("INSTRUCTOR_JOBS") is None:
        config["INSTRUCTOR_JOBS"] = "off" if config["ENV"] == "production" else "thread"
    if config.get("WEBHOOK_ALLOW_PRIVATE_URLS") is None:
        config["WEBHOOK_ALLOW_PRIVATE_URLS"] = config["ENV"] in {"development", "testing"}
    # The public URL follows the serving address unless set (serve updates it too).
    config["PUBLIC_URL_FOLLOWS_ADDRESS"] = not config["PUBLIC_URL"]
    if not config["PUBLIC_URL"]:
        config["PUBLIC_URL"] = address_url(str(config["HOST"]), int(config["PORT"]))
    if not config["DATABASE_URL"]:
        path = Path(instance_path).resolve() / "grader.sqlite3"
        config["DATABASE_URL"] = f"sqlite:///{path}"
    validate(config)
    return config


def require_https_url(key: str, value: str) -> None:
    """Production links (LMS registrations, emails, LTI) must be https on a real host.

    Raises:
        ConfigError: ``value`` is not ``https://host...`` (or is a loopback host).
    """
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.hostname in _LOOPBACK_NAMES:
        raise ConfigError(
            f"GRADER_{key} must be this server's public https:// URL in production "
            f"(got {value or 'nothing'!r}); LMSs and links are given this address"
        )


_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def address_url(host: str, port: int) -> str:
    """``http://host:port`` of a development server (``0.0.0.0`` reads as localhost)."""
    shown = "127.0.0.1" if host in {"0.0.0.0", ""} else host  # noqa: S104 - naming it, not binding
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def validate(config: Mapping[str, Any]) -> None:
    """Refuse configurations that would run but be unsafe or broken."""
    if config["ENV"] not in {"development", "production", "testing"}:
        raise ConfigError(
            f"GRADER_ENV must be development, production or testing, not {config['ENV']!r}"
        )
    if config["ENV"] == "production":
        if config["SECRET_KEY"] in {DEV_SECRET_KEY, "", None}:
            raise ConfigError(
                "GRADER_SECRET_KEY is not set: production refuses the development key. "
                'Set it to a long random value, e.g. python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"'
            )
        if len(str(config["SECRET_KEY"])) < 32:
            raise ConfigError("GRADER_SECRET_KEY is too short for production: use 32+ characters")
        for key in ("PUBLIC_URL", "LTI_BASE_URL"):
            value = str(config.get(key) or "")
            if key == "PUBLIC_URL" or value:
                require_https_url(key, value)
        if config.get("SMTP_URL") and config.get("PUBLIC_URL_FOLLOWS_ADDRESS"):
            # mailed set-password links would point at the bind address (127.0.0.1)
            raise ConfigError(
                "GRADER_SMTP_URL is set but GRADER_PUBLIC_URL is not: mailed links need the "
                "address people reach this site at, e.g. https://grader.example.edu"
            )
    if not isinstance(config["TRUSTED_PROXIES"], int) or not 0 <= config["TRUSTED_PROXIES"] <= 5:
        raise ConfigError("GRADER_TRUSTED_PROXIES must be the number of proxies in front, 0-5")
    if config["INSTRUCTOR_JOBS"] not in {"thread", "inline", "off"}:
        raise ConfigError("GRADER_INSTRUCTOR_JOBS must be thread, inline or off")
    for key in ("WORKER_LTI_CONCURRENCY", "WORKER_WEBHOOK_CONCURRENCY"):
        if not 1 <= int(config[key]) <= 64:
            raise ConfigError(f"GRADER_{key} must be between 1 and 64")
    if config["LOG_FORMAT"] not in {"text", "json"}:
        raise ConfigError(f"GRADER_LOG_FORMAT must be text or json, not {config['LOG_FORMAT']!r}")
    url = str(config["DATABASE_URL"])
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(
            "GRADER_DATABASE_URL must be sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, "
            f"not {url.split(':', 1)[0]}:..."
        )
