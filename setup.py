"""Build step: copy the top-level ``migrations/`` and ``exercises/`` into the wheel.

The design card keeps both at the repository's top level, but an installed package has no
repository around it, so ``build_py`` copies them to ``grader/_bundled/`` inside the built
package (``grader.resources`` looks there first). Everything else is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("migrations", "exercises")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildPyWithData(build_py):
    """``build_py`` plus the data folders under ``grader/_bundled``."""

    def run(self) -> None:
        super().run()
        for name in BUNDLED:
            source = HERE / name
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing; build from a full checkout")
            target = Path(self.build_lib) / "grader" / "_bundled" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=SKIP)


setup(cmdclass={"build_py": BuildPyWithData})
