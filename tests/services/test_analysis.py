"""Item analysis (means, bands, common mistakes) and the SVG charts that draw it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from grader.errors import Forbidden
from grader.services import analysis
from grader.services import charts
from grader.services import gradebook
from tests.services.test_gradebook import attempt
from tests.services.test_gradebook import build_class


def test_item_analysis_per_part(db_session: Session) -> None:
    c = build_class(db_session, students=4, items=1)
    item = c.items[0]
    s0, s1, s2, s3 = c.students
    attempt(db_session, item, s0, {"y": 1.0, "w1": 0.25})
    attempt(db_session, item, s1, {"y": 0.0, "w1": 0.25})
    a2 = attempt(db_session, item, s2, {"y": 1.0, "w1": 1.0})
    db_session.commit()
    gradebook.override_grade(db_session, c.prof, a2.id, "y", points=0.5, reason="sloppy")

    quiz, stats = analysis.quiz_analysis(db_session, c.prof, c.quiz.id)
    assert quiz is c.quiz
    (only,) = stats
    assert (only.key, only.students) == (item.id, 3)
    parts = {p.part_id: p for p in only.parts}
    assert list(parts) == ["y", "w1", "w2"]
    y, w1, w2 = parts["y"], parts["w1"], parts["w2"]
    assert (y.students, y.mean) == (3, pytest.approx((1.0 + 0.0 + 0.5) / 3))
    assert y.bands == [1, 0, 1, 0, 1]
    assert (w1.mean, w1.bands) == (pytest.approx(0.5), [0, 2, 0, 0, 1])
    assert [(n.note, n.count) for n in w1.notes] == [("mistake:sign_flipped", 2)]
    assert w1.notes[0].label.startswith("You moved the weight up the gradient")
    assert [(n.note, n.count) for n in y.notes] == [("mistake:sign_flipped", 1)]
    assert (w2.students, w2.mean, w2.notes) == (0, None, [])

    by_exercise = analysis.exercise_analysis(db_session, c.prof, c.course.id, c.exercise.id)
    assert by_exercise is not None
    assert by_exercise.parts == only.parts
    with pytest.raises(Forbidden):
        analysis.quiz_analysis(db_session, s3, c.quiz.id)
    with pytest.raises(Forbidden):
        analysis.exercise_analysis(db_session, s3, c.course.id, c.exercise.id)


def test_bands_and_labels() -> None:
    assert [analysis.band_of(x) for x in (0.0, 0.19, 0.2, 0.5, 0.99, 1.0)] == [0, 0, 1, 2, 4, 4]
    assert analysis.note_label("mistake:forgot_input", {}) == "Forgot input"
    assert analysis.note_label("mistake:forgot_input", {"forgot_input": "Scale by x."}) == (
        "Scale by x."
    )
    assert analysis.note_label("diagnosis:chain_rule", {}) == "Chain rule"
    assert analysis.note_label("invalid", {}) == "Answer could not be read"


def test_charts_escape_text_and_carry_a_title() -> None:
    svg = charts.bar_chart(
        [("<script>alert(1)</script>", 3), ("plain & simple", 1)],
        chart_id="notes 1",
        title='Mistakes in "w1"',
        desc="Two bars",
    )
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert 'aria-labelledby="notes-1-title notes-1-desc"' in svg
    assert '<title id="notes-1-title">Mistakes in &quot;w1&quot;</title>' in svg
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "plain &amp; simple" in svg
    columns = charts.column_chart(
        [(band, n) for band, n in zip(analysis.BANDS, [0, 1, 0, 2, 5], strict=True)],
        chart_id="dist",
        title="Distribution",
        desc="Students per band",
    )
    assert columns.count("<rect") == 5
    assert "80–100%" in columns
    assert "No data yet" in charts.bar_chart([], chart_id="e", title="t", desc="d")


def test_stacked_chart_escapes_scales_and_picks_readable_ink() -> None:
    svg = charts.stacked_bar_chart(
        [
            ("<b>dw1</b>", [charts.Segment("a", "x < y", 3), charts.Segment("b", "other", 1)]),
            ("db1", [charts.Segment("a", "x < y", 2), charts.Segment("b", "other", 0)]),
        ],
        chart_id="fw 1",
        title="First wrong",
        desc="dw1: 4; db1: 2",
        colors={"a": "#0072B2", "b": "#F0E442"},
        width=240,
    )
    assert 'aria-labelledby="fw-1-title fw-1-desc"' in svg
    assert "<b>" not in svg
    assert "&lt;b&gt;dw1&lt;/b&gt;, x &lt; y: 3" in svg
    # a zero segment draws nothing; the longest bar spans the plot (240 - 40)
    assert svg.count("<rect") == 3
    assert 'width="150.0"' in svg
    assert 'width="50.0"' in svg
    assert 'width="100.0"' in svg
    assert charts._ink("#0072B2") == "#fff"
    assert charts._ink("#F0E442") == "#000"
    legend = charts.legend([("#0072B2", "x < y")])
    assert legend.count("<li>") == 1
    assert "x &lt; y" in legend
    assert 'aria-hidden="true"' in legend
