"""Run Alembic from Python: the CLI, ``make run`` and the tests build schemas this way.

The schema always comes from the migrations, never ``metadata.create_all``, so what
the tests exercise is what production gets.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from grader import models  # noqa: F401 - registers every table on Base.metadata
from grader.db import Base
from grader.resources import SOURCE_ROOT
from grader.resources import migrations_dir

MIGRATIONS_DIR = migrations_dir()
# Only a source checkout has alembic.ini (for `alembic revision`); an installed wheel runs
# the bundled migrations with the same options set here.
ALEMBIC_INI = SOURCE_ROOT / "alembic.ini"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic Config pointing at our migrations, bound to a connection or URL."""
    cfg = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.is_file() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["skip_logging_config"] = True
    if connection is not None:
        cfg.attributes["connection"] = connection
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind ``connection`` to ``revision``."""
    command.upgrade(alembic_config(connection), revision)


def schema_differences(connection: Connection) -> list[Any]:
    """What ``alembic check`` would report: models that drifted from the migrations."""
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True, "render_as_batch": True},
    )
    return list(compare_metadata(context, Base.metadata))
