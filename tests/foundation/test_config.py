from __future__ import annotations

import pytest

from grader import create_app
from grader.config import DEV_SECRET_KEY
from grader.config import load_config
from grader.errors import ConfigError


def test_defaults_are_a_laptop_sqlite_file(tmp_path):
    config = load_config(instance_path=tmp_path, environ={})
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path.resolve()}/grader.sqlite3"
    assert config["ENV"] == "development"
    assert config["SECRET_KEY"] == DEV_SECRET_KEY


def test_environment_values_are_typed(tmp_path):
    config = load_config(
        instance_path=tmp_path,
        environ={
            "GRADER_SESSION_COOKIE_SECURE": "true",
            "GRADER_MAX_CONTENT_LENGTH": "1024",
            "GRADER_CHECK_TIME_BUDGET": "0.5",
            "GRADER_DATABASE_URL": "postgresql+psycopg://u@h/db",
        },
    )
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["MAX_CONTENT_LENGTH"] == 1024
    assert config["CHECK_TIME_BUDGET"] == 0.5
    assert config["DATABASE_URL"] == "postgresql+psycopg://u@h/db"


def test_bad_typed_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="GRADER_MAX_CONTENT_LENGTH: expected an integer"):
        load_config(instance_path=tmp_path, environ={"GRADER_MAX_CONTENT_LENGTH": "lots"})


PRODUCTION = {
    "GRADER_ENV": "production",
    "GRADER_SECRET_KEY": "s" * 48,
    "GRADER_PUBLIC_URL": "https://grader.example.org",
}


def test_production_refuses_the_development_secret(tmp_path):
    with pytest.raises(ConfigError, match="GRADER_SECRET_KEY"):
        load_config(instance_path=tmp_path, environ={"GRADER_ENV": "production"})


def test_production_accepts_a_real_secret(tmp_path):
    config = load_config(
        instance_path=tmp_path,
        environ=PRODUCTION,
    )
    assert config["ENV"] == "production"
    # Production's session cookie only travels over HTTPS unless explicitly turned off.
    assert config["SESSION_COOKIE_SECURE"] is True
    off = {**PRODUCTION, "GRADER_SESSION_COOKIE_SECURE": "false"}
    assert load_config(instance_path=tmp_path, environ=off)["SESSION_COOKIE_SECURE"] is False
    assert load_config(instance_path=tmp_path, environ={})["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    "url", [None, "http://grader.example.org", "https://127.0.0.1:5000", "https://localhost/"]
)
def test_production_refuses_a_public_url_that_is_not_https(tmp_path, url):
    environ = {k: v for k, v in PRODUCTION.items() if k != "GRADER_PUBLIC_URL"}
    if url is not None:
        environ["GRADER_PUBLIC_URL"] = url
    with pytest.raises(ConfigError, match="GRADER_PUBLIC_URL must be this server's public https"):
        load_config(instance_path=tmp_path, environ=environ)


def test_production_refuses_an_lti_base_url_that_is_not_https(tmp_path):
    environ = {**PRODUCTION, "GRADER_LTI_BASE_URL": "http://grader.example.org/lti-base"}
    with pytest.raises(ConfigError, match="GRADER_LTI_BASE_URL must be"):
        load_config(instance_path=tmp_path, environ=environ)


@pytest.mark.parametrize("hops", ["-1", "6", "two"])
def test_trusted_proxies_must_be_a_small_count(tmp_path, hops):
    with pytest.raises(ConfigError, match="GRADER_TRUSTED_PROXIES"):
        load_config(instance_path=tmp_path, environ={"GRADER_TRUSTED_PROXIES": hops})


def test_unknown_database_scheme_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="GRADER_DATABASE_URL must be"):
        load_config(instance_path=tmp_path, environ={"GRADER_DATABASE_URL": "mysql://x"})


def test_create_app_applies_overrides(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "LOG_LEVEL": "WARNING"})
    assert app.config["DATABASE_URL"].endswith("x.sqlite3")


def test_private_webhook_receivers_follow_the_environment(tmp_path):
    assert load_config(instance_path=tmp_path, environ={})["WEBHOOK_ALLOW_PRIVATE_URLS"] is True
    production = dict(PRODUCTION)
    assert (
        load_config(instance_path=tmp_path, environ=production)["WEBHOOK_ALLOW_PRIVATE_URLS"]
        is False
    )
    production["GRADER_WEBHOOK_ALLOW_PRIVATE_URLS"] = "yes"
    assert (
        load_config(instance_path=tmp_path, environ=production)["WEBHOOK_ALLOW_PRIVATE_URLS"]
        is True
    )


def test_production_mail_needs_the_public_url(tmp_path):
    """Mailed set-password links are built on PUBLIC_URL; unset it follows the bind
    address (127.0.0.1), which nobody who gets the mail can open."""
    environ = {
        "GRADER_ENV": "production",
        "GRADER_SECRET_KEY": "s" * 48,
        "GRADER_SMTP_URL": "smtp://mail.example.edu:587",
    }
    with pytest.raises(ConfigError, match="GRADER_PUBLIC_URL"):
        load_config(instance_path=tmp_path, environ=environ)
    environ["GRADER_PUBLIC_URL"] = "https://grader.example.edu"
    config = load_config(instance_path=tmp_path, environ=environ)
    assert config["PUBLIC_URL"] == "https://grader.example.edu"
