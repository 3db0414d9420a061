"""Fixtures: the app at http://localhost with pooled tool keys, and fake LMS platforms."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from grader.services import lti_keys
from tests.lti.fake_platform import FakePlatform
from tests.lti_web.lms import BASE
from tests.lti_web.lms import Lms
from tests.lti_web.lms import install_pooled_keys


@pytest.fixture
def lti_app(app: Flask, db_session: Session) -> Flask:
    app.config["PUBLIC_URL"] = BASE
    install_pooled_keys(db_session, lti_keys.key_secret(app.config))
    return app


@pytest.fixture
def lms_factory(lti_app: Flask, db_session: Session) -> Iterator[Callable[..., Lms]]:
    started: list[FakePlatform] = []

    def make(profile: str = "canvas") -> Lms:
        platform = FakePlatform(profile).start()
        started.append(platform)
        return Lms(lti_app, db_session, platform)

    yield make
    for platform in started:
        platform.stop()


@pytest.fixture
def lms(lms_factory: Callable[..., Lms]) -> Lms:
    """A Canvas-profile platform (shared issuer, aud list with azp, test student)."""
    return lms_factory("canvas")
