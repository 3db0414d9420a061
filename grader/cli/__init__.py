"""The ``grader`` command: a Flask CLI group.

Each topic keeps its commands in its own module here and lists them in ``COMMANDS``.
The group imports a module only when one of its commands runs, so ``grader
check-expr`` starts without loading SymPy-heavy exercise code, the database models or
the app. Commands that need the app (database, config) use
``flask.cli.with_appcontext``; pure ones (``check-expr``, ``generate``) do not, so they
run without a database.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from flask.cli import FlaskGroup

#: command name -> the module whose COMMANDS holds it (tests keep this table complete)
COMMAND_MODULES: dict[str, str] = {
    "db": "grader.cli.db_cmds",
    "load-exercises": "grader.cli.db_cmds",
    "seed-demo": "grader.cli.db_cmds",
    "serve": "grader.cli.db_cmds",
    "check-expr": "grader.cli.checking_cmds",
    "generate": "grader.cli.exercise_cmds",
    "validate-exercises": "grader.cli.exercise_cmds",
    "list-exercises": "grader.cli.exercise_cmds",
    "replay": "grader.cli.exercise_cmds",
    "format-reference": "grader.cli.exercise_cmds",
    "create-token": "grader.cli.api_cmds",
    "revoke-token": "grader.cli.api_cmds",
    "list-tokens": "grader.cli.api_cmds",
    "lti": "grader.cli.lti_cmds",
    "worker": "grader.cli.lti_cmds",
    "export": "grader.cli.ops_cmds",
    "import": "grader.cli.ops_cmds",
    "regrade": "grader.cli.ops_cmds",
}


def _create_app():
    """Build the app; bad configuration ends the command with one clear line."""
    from grader import create_app
    from grader.errors import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)


def load_command(name: str) -> click.Command:
    """Import the module that defines ``name`` and return that command."""
    module = importlib.import_module(COMMAND_MODULES[name])
    for command in module.COMMANDS:
        if command.name == name:
            return command
    raise LookupError(f"{COMMAND_MODULES[name]} lists no command {name!r}")


class GraderGroup(FlaskGroup):
    """FlaskGroup whose own commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> Any:
        if cmd_name in COMMAND_MODULES:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)


main = GraderGroup(
    name="grader",
    create_app=_create_app,
    add_version_option=False,
    help="grader: teach backpropagation by grading it.",
)
