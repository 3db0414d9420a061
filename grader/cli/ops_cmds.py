"""Placeholder: operations commands (export, import, regrade) are added here."""

import click

COMMANDS: list[click.Command] = []
