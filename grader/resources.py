"""Where the data that ships with grader lives: the migrations and the built-in library.

In a source checkout they are the repository's top-level ``migrations/`` and ``exercises/``
(the design card keeps them there). A built wheel carries copies inside the package, under
``grader/_bundled/`` (``setup.py``'s build step puts them there), because an installed
package has no repository around it. The bundled copy wins when present, so an installed
wheel never reads a stray folder next to ``site-packages``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "_bundled"
SOURCE_ROOT = PACKAGE_DIR.parent

#: the data folders a wheel bundles, by their top-level names in the repository
BUNDLED_NAMES = ("migrations", "exercises")


def data_dir(name: str) -> Path:
    """The bundled ``name`` folder of an installed wheel, else the checkout's top-level one.

    Raises:
        ValueError: ``name`` is not one of :data:`BUNDLED_NAMES`.
    """
    if name not in BUNDLED_NAMES:
        raise ValueError(f"no bundled data folder {name!r}")
    bundled = BUNDLED_DIR / name
    if bundled.is_dir():
        return bundled
    return SOURCE_ROOT / name


def migrations_dir() -> Path:
    return data_dir("migrations")


def exercises_dir() -> Path:
    return data_dir("exercises")
