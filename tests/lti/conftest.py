"""Fixtures for the LTI protocol tests: a fake LMS per quirk profile and the tool harness."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator

import pytest

from tests.lti.fake_platform import PROFILES
from tests.lti.fake_platform import FakePlatform
from tests.lti.tool_harness import ToolHarness


@pytest.fixture
def platform_factory() -> Iterator[Callable[..., FakePlatform]]:
    """Start fake platforms by profile name; all are stopped after the test."""
    started: list[FakePlatform] = []

    def make(profile: str = "canvas", **kwargs: object) -> FakePlatform:
        platform = FakePlatform(profile, **kwargs).start()  # type: ignore[arg-type]
        started.append(platform)
        return platform

    yield make
    for platform in started:
        platform.stop()


@pytest.fixture
def platform(platform_factory: Callable[..., FakePlatform]) -> FakePlatform:
    """A Canvas-profile platform (shared issuer, aud list with azp, test student)."""
    return platform_factory("canvas")


@pytest.fixture(params=sorted(PROFILES))
def any_platform(
    request: pytest.FixtureRequest, platform_factory: Callable[..., FakePlatform]
) -> FakePlatform:
    """Each quirk profile in turn."""
    return platform_factory(request.param)


@pytest.fixture
def tool() -> Iterator[ToolHarness]:
    harness = ToolHarness()
    yield harness
    harness.close()
