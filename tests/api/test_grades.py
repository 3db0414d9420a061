"""Grades as JSON and as CSV in the Canvas, Moodle, Brightspace and Blackboard import
dialects: each file parses back with the csv module, with that LMS's headers, and no text
cell can run as a spreadsheet formula."""

from __future__ import annotations

import csv
import io

import pytest

from grader.services import attempts as attempt_service
from grader.services import grade_exports
from grader.services import submissions as submission_service
from tests.support.student_world import make_quiz


@pytest.fixture
def graded(db_session, world, app):
    """Sam answers part w1 right (full credit of its points); Olive has not started.
    Sam's name tries a formula; a second quiz has a title that tries each dialect."""
    world.student.name = '=HYPERLINK("http://evil") Sam'
    attempt = attempt_service.start_or_resume(
        db_session, world.student, world.item, secret=app.config["SECRET_KEY"]
    )
    key = next(p["key_text"] for p in attempt.variant["parts"] if p["id"] == "w1")
    submission_service.submit(
        db_session,
        user=world.student,
        attempt=attempt,
        part_id="w1",
        raw_answer=key,
        idempotency_key="g1",
    )
    tricky = make_quiz(db_session, world.course, [world.exercise], title="@Tricky | <b> [x] (3)")
    db_session.commit()
    points = attempt_service.attempt_progress(db_session, attempt).earned
    return world, tricky, points


def parse(text):
    assert not text.startswith("\ufeff")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    return rows


def export(api, token, course_id, lms, extra=""):
    response = api.as_(token).get(f"/courses/{course_id}/grades.csv?lms={lms}{extra}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "charset=utf-8" in response.headers["Content-Type"]
    assert (
        response.headers["Content-Disposition"] == f'attachment; filename="grades-API101-{lms}.csv"'
    )
    return parse(response.get_data(as_text=True))


def test_grades_json_for_staff(api, toks, graded):
    world, tricky, points = graded
    body = api.as_(toks.instructor).get(f"/courses/{world.course.id}/grades").json
    assert [c["quiz_id"] for c in body["columns"]] == [world.quiz.id, tricky.id]
    rows = {r["user_id"]: r for r in body["rows"]}
    assert rows[world.student.id]["scores"] == [pytest.approx(points), None]
    assert rows[world.other.id]["scores"] == [None, None]
    assert body["max_total"] == pytest.approx(10.0)
    only = (
        api.as_(toks.instructor).get(f"/courses/{world.course.id}/grades?quiz_id={tricky.id}").json
    )
    assert [c["quiz_id"] for c in only["columns"]] == [tricky.id]
    missing = api.as_(toks.instructor).get(f"/courses/{world.course.id}/grades?quiz_id=999999")
    assert missing.status_code == 404


def test_students_own_grades_match_the_staff_view(api, toks, graded):
    world, _, points = graded
    mine = api.as_(toks.student).get(f"/courses/{world.course.id}/grades").json
    staff = api.as_(toks.instructor).get(f"/courses/{world.course.id}/grades").json
    assert mine["columns"] == staff["columns"]
    row = next(r for r in staff["rows"] if r["user_id"] == world.student.id)
    assert mine["rows"] == [row]
    assert row["scores"][0] == pytest.approx(points)


def test_canvas(api, toks, graded):
    world, _, points = graded
    rows = export(api, toks.instructor, world.course.id, "canvas")
    header, possible, *students = rows
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5] == "Quiz 1"
    assert header[6] == "'@Tricky | <b> [x] [3]"  # not read as Canvas assignment id 3
    assert possible == ["Points Possible", "", "", "", "", "5", "5"]
    by_login = {r[3]: r for r in students}
    sam = by_login[world.student.email]
    assert sam[0] == 'Sam, =HYPERLINK("http://evil")'  # sortable name: not a formula
    assert float(sam[5]) == pytest.approx(points)
    assert sam[6] == ""
    assert by_login[world.other.email][5:] == ["", ""]


def test_moodle(api, toks, graded):
    world, _, points = graded
    header, *students = export(api, toks.instructor, world.course.id, "moodle")
    assert header == [
        "First name",
        "Last name",
        "Email address",
        "Quiz 1",
        "'@Tricky | <b> [x] (3)",
    ]
    sam = next(r for r in students if r[2] == world.student.email)
    assert sam[0] == '\'=HYPERLINK("http://evil")'
    assert sam[1] == "Sam"
    assert float(sam[3]) == pytest.approx(points)


def test_brightspace(api, toks, graded):
    world, _, points = graded
    header, *students = export(
        api, toks.instructor, world.course.id, "brightspace", "&student_key=login"
    )
    assert header == [
        "OrgDefinedId",
        "Username",
        "Quiz 1 Points Grade <Numeric MaxPoints:5>",
        "'@Tricky | b [x] (3) Points Grade <Numeric MaxPoints:5>",
        "End-of-Line Indicator",
    ]
    sam = next(r for r in students if r[1] == "#api-sam")
    assert sam[0] == ""
    assert float(sam[2]) == pytest.approx(points)
    assert sam[-1] == "#"
    assert all(r[-1] == "#" for r in students)


def test_blackboard(api, toks, graded):
    world, _, points = graded
    response = api.as_(toks.instructor).get(
        f"/courses/{world.course.id}/grades.csv?lms=blackboard&student_key=login"
    )
    text = response.get_data(as_text=True)
    assert text.startswith('"Last Name","First Name","Username","Student ID",')  # all quoted
    header, *students = parse(text)
    assert header[4] == "Quiz 1 [Total Pts: 5 Score]"
    assert header[5] == "'@Tricky <b> x (3) [Total Pts: 5 Score]"  # no | to pose as a column id
    sam = next(r for r in students if r[2] == "api-sam")
    assert (sam[0], sam[1]) == ("Sam", '\'=HYPERLINK("http://evil")')
    assert float(sam[4]) == pytest.approx(points)


@pytest.mark.parametrize("query", ["", "?lms=excel", "?lms=canvas&student_key=sis"])
def test_bad_dialect_or_key_is_a_400(api, toks, world, query):
    response = api.as_(toks.instructor).get(f"/courses/{world.course.id}/grades.csv{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_numbers_are_plain_decimals():
    assert grade_exports.number(None) == ""
    assert grade_exports.number(2.0) == "2"
    assert grade_exports.number(1234567.891) == "1234567.891"
    assert grade_exports.number(1 / 3) == "0.3333"
    assert grade_exports.number(1e-9) == "0"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Ada Lovelace", ("Ada", "Lovelace")), ("Plato", ("Plato", "")), ("A B C", ("A B", "C"))],
)
def test_split_name(name, expected):
    assert grade_exports.split_name(name) == expected
