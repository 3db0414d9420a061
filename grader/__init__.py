"""grader: teaches backpropagation by grading it.

``create_app`` is the only place that wires configuration, database, blueprints,
error handlers, logging and the CLI together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__version__ = "0.1.0"


def create_app(config: Mapping[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """Build the Flask application.

    Args:
        config: overrides applied after the defaults and the ``GRADER_*`` environment
            variables; tests and scripts pass their settings here.

    Raises:
        ConfigError: the configuration cannot work (e.g. the development secret key in
            production); the message says what to set.
    """
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from grader import db
    from grader import web
    from grader.config import load_config
    from grader.logging import configure_logging

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.update(load_config(overrides=config, instance_path=app.instance_path))
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops:
        # The proxies' X-Forwarded-* say who the client is (the login limiter, the logs) and
        # whether it used HTTPS; only the last ``hops`` entries are believed.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    db.init_app(app)
    web.init_app(app)
    return app
