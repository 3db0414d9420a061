"""Happy paths against every quirk profile: launch, deep link → graded link → score, roster."""

from __future__ import annotations

import datetime as dt
import re

import jwt
import requests

from grader.lti import claims as c
from grader.lti.deep_linking import ResourceLinkItem
from grader.lti.deep_linking import build_deep_linking_response
from grader.lti.grades import LineItemSpec
from grader.lti.grades import Score
from grader.lti.keys import active_key
from grader.lti.services import AgsClient
from grader.lti.services import NrpsClient
from tests.lti.fake_platform import FakePlatform
from tests.lti.fake_platform import parse_auto_submit_form
from tests.lti.tool_harness import ToolHarness

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def _post_form(html_page: str) -> requests.Response:
    form = parse_auto_submit_form(html_page)
    with requests.post(form.action, data=form.fields, timeout=10) as response:
        return response


def test_resource_link_launch(any_platform: FakePlatform, tool: ToolHarness) -> None:
    registration = tool.connect(any_platform)

    launch = tool.launch(any_platform, registration.client_id, user="stu-1")

    assert launch.registration == registration
    assert launch.message_type == c.MESSAGE_RESOURCE_LINK
    assert launch.sub == "stu-1"
    assert launch.course_role == "learner"
    assert launch.gradable
    assert launch.context is not None
    assert launch.context.id == "course-1"
    assert launch.resource_link is not None
    assert launch.ags is not None
    assert launch.ags.can_score
    assert launch.ags.lineitems == f"{any_platform.base_url}/c/course-1/lineitems"
    assert launch.nrps is not None
    assert launch.nrps.service_versions == ("2.0",)
    assert launch.email == "ada@example.edu"
    assert launch.product_family_code == any_platform.profile.product_family_code


def test_deep_link_then_graded_launch_then_score(
    any_platform: FakePlatform, tool: ToolHarness
) -> None:
    """Instructor picks a quiz → platform creates link + line item → student launch → score."""
    registration = tool.connect(any_platform)
    dl_launch = tool.launch(
        any_platform,
        registration.client_id,
        user="teacher-1",
        message_type=c.MESSAGE_DEEP_LINKING_REQUEST,
    )
    assert dl_launch.is_deep_linking
    assert dl_launch.course_role == "instructor"
    item = ResourceLinkItem(
        title="Chain rule quiz",
        url=tool.config.launch_url,
        custom={"set_id": "set-42"},
        line_item=LineItemSpec(
            score_maximum=7.5, label="Chain rule quiz", resource_id="set-42", tag="backprop"
        ),
    )

    response = build_deep_linking_response(dl_launch, [item], key=active_key(tool.keys))
    header = jwt.get_unverified_header(response.jwt)
    assert header["kid"] == active_key(tool.keys).kid  # D2L requires it
    answer = _post_form(response.form_html)

    assert answer.status_code == 200, any_platform.rejections
    [returned] = any_platform.deep_link_returns
    [link] = returned.created_links
    assert link.custom == {"set_id": "set-42"}
    line_item = any_platform.line_items[link.lineitem_num]  # type: ignore[index]
    assert line_item.data["scoreMaximum"] == 7.5
    assert line_item.data["resourceId"] == "set-42"

    student = tool.launch(
        any_platform, registration.client_id, user="stu-2", resource_link_id=link.id
    )
    assert student.custom["set_id"] == "set-42"
    assert student.ags is not None
    assert student.ags.lineitem == any_platform.line_item_url(line_item.num)

    submitted = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    ags = AgsClient(tool.service(registration))
    ags.post_score(
        student.ags.lineitem,
        Score(
            user_id=student.sub or "",
            score_given=6.0,
            score_maximum=7.5,
            timestamp=dt.datetime.now(dt.UTC),
            submitted_at=submitted,
        ),
    )

    [score] = any_platform.scores
    assert score.content_type == c.MEDIA_SCORE
    assert score.user_id == "stu-2"
    assert _TIMESTAMP.match(score.body["timestamp"])
    assert score.body["submission"]["submittedAt"] == "2026-03-01T12:00:00.123456+00:00"
    assert (score.body["activityProgress"], score.body["gradingProgress"]) == (
        "Completed",
        "FullyGraded",
    )
    assert any_platform.gradebook() == {(line_item.num, "stu-2"): 6.0}


def test_line_item_found_or_created_never_duplicated(
    any_platform: FakePlatform, tool: ToolHarness
) -> None:
    registration = tool.connect(any_platform)
    launch = tool.launch(any_platform, registration.client_id, user="stu-1")
    assert launch.ags is not None
    assert launch.resource_link is not None
    lineitems = launch.ags.lineitems or ""
    ags = AgsClient(tool.service(registration))
    for n in range(3):  # other columns, so the wanted one sits on a later page (page size 2)
        ags.create_line_item(
            lineitems, LineItemSpec(score_maximum=10, label=f"other {n}", resource_id=f"x{n}")
        )
    spec = LineItemSpec(score_maximum=4, label="Quiz 4", resource_id="set-4", tag="backprop")

    first = ags.find_or_create_line_item(lineitems, spec, resource_link_id=launch.resource_link.id)
    again = ags.find_or_create_line_item(lineitems, spec, resource_link_id=launch.resource_link.id)

    assert first.id == again.id
    assert first.score_maximum == 4
    assert first.resource_link_id == launch.resource_link.id
    mine = [i for i in any_platform.line_items_for() if i.get("resourceId") == "set-4"]
    assert len(mine) == 1
    assert len(ags.list_line_items(lineitems)) == 4  # all pages
    assert ags.get_line_item(first.id).label == "Quiz 4"


def test_a_column_canvas_will_not_bind_to_a_module_launch_is_made_unbound_once(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    """Canvas gives a module launch the course's id as resource link id and answers 404 to a
    line item POST naming it (canvas-lms#1944): create the column without it, and only once."""
    registration = tool.connect(platform)
    launch = tool.launch(platform, registration.client_id, resource_link_id="course-1")
    assert launch.resource_link is not None
    assert launch.resource_link.id == "course-1"
    lineitems = launch.ags.lineitems if launch.ags is not None else ""
    assert lineitems
    ags = AgsClient(tool.service(registration))
    spec = LineItemSpec(score_maximum=4, label="Quiz 4", resource_id="quiz-4", tag="grader")

    first = ags.find_or_create_line_item(lineitems, spec, resource_link_id="course-1")
    again = ags.find_or_create_line_item(lineitems, spec, resource_link_id="course-1")

    assert first.id == again.id
    assert first.resource_link_id is None
    assert [i["resourceId"] for i in platform.line_items_for()] == ["quiz-4"]
    assert any("specified resource does not exist" in body for _, body in platform.rejections)


def test_roster_paging(any_platform: FakePlatform, tool: ToolHarness) -> None:
    registration = tool.connect(any_platform)
    launch = tool.launch(any_platform, registration.client_id, user="teacher-1")
    assert launch.nrps is not None

    roster = NrpsClient(tool.service(registration)).roster(launch.nrps.context_memberships_url)

    expected = set(any_platform.courses["course-1"].members)
    assert {m.user_id for m in roster.members} == expected
    assert len(roster.members) == len(expected)
    assert roster.context["id"] == "course-1"
    pages = [t for m, t, s, _ in any_platform.request_log if "/memberships" in t and m == "GET"]
    assert len(pages) == -(-len(expected) // any_platform.page_size)
    assert any("Cursor=PaGe2" in t for t in pages)  # the next URL was used with its case intact
    by_id = {m.user_id: m for m in roster.members}
    assert by_id["dropped-1"].is_active is False
    assert by_id["teacher-1"].roles.is_instructor
    assert by_id["stu-1"].roles.is_learner
    assert by_id["stu-1"].lis_person_sourcedid == "sis-stu-1"


def test_roster_role_filter(platform: FakePlatform, tool: ToolHarness) -> None:
    registration = tool.connect(platform)
    url = f"{platform.base_url}/c/course-1/memberships"
    roster = NrpsClient(tool.service(registration)).roster(url, role=c.ROLE_LEARNER, limit=3)
    assert all(m.roles.is_learner for m in roster.members)
    assert "teacher-1" not in {m.user_id for m in roster.members}


def test_results_readback(platform: FakePlatform, tool: ToolHarness) -> None:
    registration = tool.connect(platform)
    link = platform.add_resource_link(
        registration.client_id, line_item={"label": "Q", "scoreMaximum": 3}
    )
    launch = tool.launch(platform, registration.client_id, user="stu-3", resource_link_id=link.id)
    assert launch.ags is not None
    assert launch.ags.lineitem is not None
    ags = AgsClient(tool.service(registration))
    ags.post_score(
        launch.ags.lineitem,
        Score(user_id="stu-3", score_given=2, score_maximum=3, timestamp=dt.datetime.now(dt.UTC)),
    )
    [result] = ags.get_results(launch.ags.lineitem, user_id="stu-3")
    assert result["resultScore"] == 2
