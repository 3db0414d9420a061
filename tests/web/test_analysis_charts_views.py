"""The item-analysis page draws where students break first (per step, split by diagnosis)
and right / follow-through / wrong per part as accessible SVG charts with the same numbers
in tables; the gradebook shows follow-through points apart."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from grader.exercises import Variant
from grader.services import analysis
from grader.web.display import format_points
from tests.services.test_first_wrong_analysis import chain_class
from tests.web.test_instructor_views import sign_in


class Tables(HTMLParser):
    """The text of every cell of the tables with a given class, row by row."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class = css_class
        self.depth = 0
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and (self.depth or self.css_class in classes):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, css_class: str) -> list[list[str]]:
    parser = Tables(css_class)
    parser.feed(html)
    return parser.rows


def svg(html: str, chart_id: str) -> str:
    match = re.search(
        rf'<svg [^>]*aria-labelledby="{chart_id}-title {chart_id}-desc".*?</svg>', html
    )
    assert match, chart_id
    return match.group(0)


def bars_markup(chart: str) -> list[str]:
    return re.findall(r"<rect [^>]*>", chart)


def test_the_analysis_page_charts_first_wrong_steps_and_outcomes(
    client: FlaskClient, db_session: Session
) -> None:
    c = chain_class(db_session, prefix="wv")
    variant = Variant.from_json(c.attempts[0].variant)

    def feedback(pid: str, code: str) -> str:
        return next(m.feedback for m in variant.part(pid).mistakes if m.code == code)

    weight, sign = feedback("dw1", "forgot_weight"), feedback("dLdy", "sign_flipped")
    forgot_input = feedback("dw2", "forgot_input")
    sign_in(client, c.world.instructor)
    html = client.get(f"/teach/quizzes/{c.world.quiz.id}/analysis").get_data(as_text=True)
    key = c.world.item.id

    chart = svg(html, f"first-wrong-{key}")
    assert 'role="img"' in chart
    title = re.search(r"<title id=[^>]*>(.*?)</title>", chart)
    assert title
    assert unescape(title.group(1)).startswith("First wrong step in The chain rule")
    desc = re.search(r"<desc id=[^>]*>(.*?)</desc>", chart)
    assert desc
    assert unescape(desc.group(1)) == (
        f"∂L/∂w1: 4 ({weight}: 3, {analysis.OTHER_LABEL}: 1); "
        f"∂L/∂y: 3 ({sign}: 2, {analysis.OTHER_LABEL}: 1); "
        f"∂L/∂w2: 1 ({forgot_input}: 1)"
    )
    bars = [unescape(t) for t in re.findall(r"<rect [^>]*><title>(.*?)</title>", chart)]
    assert bars == [
        f"∂L/∂w1 (4 attempts), {weight}: 3",
        f"∂L/∂w1 (4 attempts), {analysis.OTHER_LABEL}: 1",
        f"∂L/∂y (3 attempts), {sign}: 2",
        f"∂L/∂y (3 attempts), {analysis.OTHER_LABEL}: 1",
        f"∂L/∂w2 (1 attempt), {forgot_input}: 1",
    ]
    # The longest bar spans the plot; the others are in proportion.
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)"', chart)]
    assert len(widths) == 5
    assert sum(widths[:2]) == pytest.approx(300, abs=0.2)  # the chart's plot width
    assert sum(widths[2:4]) == pytest.approx(225, abs=0.2)
    assert widths[4] == pytest.approx(75, abs=0.1)
    # The key names each colour; the table gives the numbers without the picture.
    after = html[html.index(chart) + len(chart) :]
    legend = re.search(r'<ul class="chart-legend">(.*?)</ul>', after)
    assert legend
    entries = re.findall(r'<li><svg [^>]*><rect [^>]*fill="([^"]+)"/></svg> (.*?)</li>', legend[1])
    assert [unescape(name) for _, name in entries] == [
        weight,
        analysis.OTHER_LABEL,
        sign,
        forgot_input,
    ]
    colors = dict((unescape(name), color) for color, name in entries)
    assert len(set(colors.values())) == 4
    assert f'fill="{colors[weight]}"' in bars_markup(chart)[0]
    assert table(html, "first-wrong-table") == [
        ["First wrong step", "Diagnosis", "Attempts"],
        ["∂L/∂w1 · 4 in all", weight, "3"],
        [analysis.OTHER_LABEL, "1"],
        ["∂L/∂y · 3 in all", sign, "2"],
        [analysis.OTHER_LABEL, "1"],
        ["∂L/∂w2 · 1 in all", forgot_input, "1"],
    ]

    outcomes = svg(html, f"outcomes-{key}")
    desc = re.search(r"<desc id=[^>]*>(.*?)</desc>", outcomes)
    assert desc
    assert "∂L/∂w2: right 2, follow-through 1, wrong 1" in unescape(desc.group(1))
    assert "∂L/∂b1" not in unescape(desc.group(1))  # nobody answered it: no empty bar
    rows = table(html, "outcomes-table")
    assert rows[0] == ["Part", "Right", "Follow-through", "Wrong"]
    by_part = {row[0]: row[1:] for row in rows[1:]}
    assert by_part["∂L/∂y"] == ["6", "0", "3"]
    assert by_part["∂L/∂w2"] == ["2", "1", "1"]
    assert by_part["∂L/∂b2"] == ["0", "1", "0"]
    assert by_part["h"] == ["0", "0", "0"]  # the forward parts nobody in this class answered
    # The exercise's own analysis page draws the same chart.
    page = client.get(
        f"/teach/courses/{c.world.course.id}/exercises/{c.world.exercise.id}/analysis"
    ).get_data(as_text=True)
    assert table(page, "first-wrong-table") == table(html, "first-wrong-table")


def test_the_gradebook_shows_follow_through_points_apart(
    client: FlaskClient, db_session: Session
) -> None:
    c = chain_class(db_session, prefix="wg")
    sign_in(client, c.world.instructor)
    html = client.get(f"/teach/quizzes/{c.world.quiz.id}/gradebook").get_data(as_text=True)
    from grader.services import gradebook

    book = gradebook.quiz_gradebook(db_session, c.world.instructor, c.world.quiz.id)
    s = book.summary
    rows = table(html, "earned-table")
    assert rows[0] == ["Item", "Right answers", "Follow-through", "Other", "Earned"]
    numbers = [f"{v:g}" for v in (s.right_points, s.follow_points, s.other_points, s.points)]
    assert [round(float(x), 2) for x in rows[-1][1:]] == [round(float(x), 2) for x in numbers]
    assert rows[-1][0] == "All items"
    assert s.follow_points > 0
    assert "How the points were earned" in html
    assert html.count("follow-flag") == sum(
        1 for r in book.rows for cell in r.cells if cell is not None and cell.follow_points
    )


def test_the_course_gradebook_marks_follow_through_points_too(
    client: FlaskClient, db_session: Session
) -> None:
    c = chain_class(db_session, prefix="wc")
    sign_in(client, c.world.instructor)
    from grader.services import gradebook

    course_id = c.world.course.id
    html = client.get(f"/teach/courses/{course_id}/gradebook").get_data(as_text=True)
    book = gradebook.course_gradebook(db_session, c.world.instructor, course_id)
    flagged = [f for row in book.follow for f in row if f]
    assert flagged  # the class has students who earned points by follow-through
    assert html.count("follow-flag") == len(flagged)
    for f in flagged:
        assert f"({format_points(f)} points by follow-through)" in unescape(html)
