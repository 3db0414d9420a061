"""Deeply nested JSON to the preview and the editor's endpoints: a clear 400, not a 500."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.services.test_gradebook import Class
from tests.support.student_world import make_world
from tests.web.test_instructor_views import sign_in
from tests.web.test_instructor_views import teach  # noqa: F401 - the fixture
from tests.web.test_instructor_views import token
from tests.web.test_student_views import csrf
from tests.web.test_student_views import login_as
from tests.web.test_student_views import open_quiz

DEEP = '{"source": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _post(client: FlaskClient, path: str, csrf_token: str):  # type: ignore[no-untyped-def]
    return client.post(
        path,
        data=DEEP,
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token},
    )


def test_nested_json_to_the_preview_is_a_clear_400(client: FlaskClient, db_session: Session):
    world = make_world(db_session)
    login_as(client, world.student)
    html = open_quiz(client, world)
    response = _post(client, "/api/preview", csrf(html))
    assert response.status_code == 400
    assert "nested too deeply" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_nested_json_to_the_editor_is_a_clear_400(client: FlaskClient, teach: Class):  # noqa: F811
    sign_in(client, teach.prof)
    base = f"/teach/courses/{teach.course.id}/exercises"
    for path in (f"{base}/validate", f"{base}/preview"):
        response = _post(client, path, token(client))
        assert response.status_code == 400, path
        assert "nested too deeply" in response.get_data(as_text=True)
