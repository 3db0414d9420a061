"""The ``grader`` command: a Flask CLI group.

Each topic keeps its commands in its own module here and lists them in ``COMMANDS``;
this module only collects them. Commands that need the app (database, config) use
``flask.cli.with_appcontext``; pure ones (``check-expr``, ``generate``) do not, so they
run without a database.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from grader.cli import api_cmds
from grader.cli import checking_cmds
from grader.cli import db_cmds
from grader.cli import exercise_cmds
from grader.cli import lti_cmds
from grader.cli import ops_cmds


def _create_app():  # type: ignore[no-untyped-def]
    """Build the app; bad configuration ends the command with one clear line."""
    import sys

    from grader import create_app
    from grader.errors import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)


main = FlaskGroup(
    name="grader",
    create_app=_create_app,
    add_version_option=False,
    help="grader: teach backpropagation by grading it.",
)

for _module in (db_cmds, checking_cmds, exercise_cmds, api_cmds, lti_cmds, ops_cmds):
    for _command in _module.COMMANDS:
        main.add_command(_command)
