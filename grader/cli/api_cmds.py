"""Placeholder: API token commands are added here."""

import click

COMMANDS: list[click.Command] = []
