"""Skip locally, fail in CI: a test that needs PostgreSQL or Chromium never skips silently."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Fail under CI=true, skip otherwise."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: missing requirements fail, they do not skip)")
    pytest.skip(reason)


def chromium_path() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        unavailable("Debian's chromium is not installed")
    return str(path)
