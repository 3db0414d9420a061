"""API token commands: ``create-token``, ``revoke-token``, ``list-tokens``.

``grader create-token --user EMAIL [--course CODE] [--name N]`` prints the token once, on
its own line on stdout (so ``TOKEN=$(grader create-token ...)`` works); everything else
goes to stderr. Only its hash is stored: a lost token is revoked and replaced, never
recovered.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import SESSIONMAKER_KEY
from grader.errors import GraderError
from grader.models import Course
from grader.models import User
from grader.services import tokens
from grader.services.accounts import find_user_by_email


def _session() -> Session:
    session: Session = current_app.extensions[SESSIONMAKER_KEY]()
    return session


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _user(session: Session, email: str) -> User:
    user = find_user_by_email(session, email)
    if user is None:
        _fail(f"no user with email {email.strip().lower()}")
    assert user is not None
    return user


@click.command("create-token")
@click.option("--user", "email", required=True, help="Email of the user the token acts for.")
@click.option("--course", "course_code", default=None, help="Limit the token to this course.")
@click.option("--name", default="api", show_default=True, help="A label to tell tokens apart.")
@with_appcontext
def create_token(email: str, course_code: str | None, name: str) -> None:
    """Issue an API token and print it once (only its hash is stored)."""
    session = _session()
    try:
        user = _user(session, email)
        course_id = None
        if course_code is not None:
            course = session.scalar(
                select(Course).where(func.lower(Course.code) == course_code.strip().lower())
            )
            if course is None:
                _fail(f"no course with code {course_code}")
            assert course is not None
            course_id = course.id
        try:
            issued = tokens.create_token(session, user=user, name=name, course_id=course_id)
        except GraderError as exc:
            _fail(exc.message)
        scope = f"course {course_code}" if course_code else "all of the user's courses"
        click.echo(
            f"token {issued.row.id} ({issued.row.prefix}...) for {user.email}, {scope}; "
            "it is shown only now:",
            err=True,
        )
        click.echo(issued.secret)
    finally:
        session.close()


@click.command("revoke-token")
@click.argument("token")
@with_appcontext
def revoke_token(token: str) -> None:
    """Revoke a token by its id or prefix (``grd_AbCdEfGh``, as ``list-tokens`` shows)."""
    session = _session()
    try:
        try:
            row = tokens.find_token(session, token)
            tokens.revoke_token(session, row)
        except GraderError as exc:
            _fail(exc.message)
        click.echo(f"token {row.id} ({row.prefix}...) revoked")
    finally:
        session.close()


@click.command("list-tokens")
@click.option("--user", "email", required=True, help="Email of the tokens' owner.")
@with_appcontext
def list_tokens(email: str) -> None:
    """List a user's tokens (id, prefix, name, scope, last use, revoked)."""
    session = _session()
    try:
        user = _user(session, email)
        for row in tokens.list_tokens(session, user):
            scope = f"course={row.course_id}" if row.course_id else "all-courses"
            used = row.last_used_at.isoformat() if row.last_used_at else "never-used"
            state = f"revoked={row.revoked_at.isoformat()}" if row.revoked_at else "active"
            click.echo(f"{row.id}\t{row.prefix}\t{row.name}\t{scope}\t{used}\t{state}")
    finally:
        session.close()


COMMANDS: list[click.Command] = [create_token, revoke_token, list_tokens]
