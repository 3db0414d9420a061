"""Fixtures for the JSON API tests: a small course (tests.support.student_world), tokens,
and a client that sends them. Every test that takes ``api`` runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from grader.models import User
from grader.services import tokens
from tests.support.student_world import World
from tests.support.student_world import make_world


@dataclasses.dataclass
class Api:
    """The test client with a bearer token; ``as_(token)`` switches who calls."""

    client: Any
    token: str | None = None

    def as_(self, token: str | None) -> Api:
        return Api(self.client, token)

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        result = dict(headers or {})
        if self.token is not None:
            result.setdefault("Authorization", f"Bearer {self.token}")
        return result

    def open(self, method: str, path: str, **kw: Any) -> Any:
        return self.client.open(
            f"/api/v1{path}", method=method, headers=self._headers(kw.pop("headers", None)), **kw
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(
            f"/api/v1{path}", headers=self._headers(kw.pop("headers", None)), **kw
        )

    def post(self, path: str, **kw: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", headers=self._headers(kw.pop("headers", None)), **kw
        )

    def put(self, path: str, **kw: Any) -> Any:
        return self.client.put(
            f"/api/v1{path}", headers=self._headers(kw.pop("headers", None)), **kw
        )

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(
            f"/api/v1{path}", headers=self._headers(kw.pop("headers", None)), **kw
        )


@dataclasses.dataclass
class Tokens:
    instructor: str
    student: str
    other: str


@pytest.fixture
def world(db_session) -> World:
    return make_world(db_session, prefix="api")


def issue(session, user: User, *, course_id: int | None = None, name: str = "test") -> str:
    return tokens.create_token(session, user=user, name=name, course_id=course_id).secret


@pytest.fixture
def toks(db_session, world) -> Tokens:
    return Tokens(
        instructor=issue(db_session, world.instructor),
        student=issue(db_session, world.student),
        other=issue(db_session, world.other),
    )


@pytest.fixture
def api(client) -> Api:
    return Api(client)
