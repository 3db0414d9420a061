"""The item-analysis charts of a quiz or an exercise: credit per part, common diagnoses,
right / follow-through / wrong per part, and where students break first (and how).

Each returns server-rendered SVG (``grader.services.charts``); the template puts the same
numbers in a table beside it.
"""

from __future__ import annotations

from markupsafe import Markup

from grader.services import analysis
from grader.services import charts

#: narrow enough to draw at full size on a 390 px phone (its labels are short part names)
CHART_WIDTH = 340


def part_charts(item: analysis.ItemStats, part: analysis.PartStats) -> tuple[Markup, Markup]:
    """The two charts of a part: credit distribution and most common diagnoses."""
    key = f"{item.key}-{part.part_id}"
    dist = list(zip(analysis.BANDS, part.bands, strict=True))
    distribution = charts.column_chart(
        dist,
        chart_id=f"dist-{key}",
        title=f"Credit on part {part.part_id} of {item.title}",
        desc="Students per credit band: " + ", ".join(f"{b} {n}" for b, n in dist),
        y_label="students",
    )
    notes = charts.bar_chart(
        [(n.label, n.count) for n in part.notes],
        chart_id=f"notes-{key}",
        title=f"Most common diagnoses on part {part.part_id}",
        desc="; ".join(f"{n.label}: {n.count}" for n in part.notes) or "No wrong answers yet",
    )
    return distribution, notes


def cause_colors(item: analysis.ItemStats) -> dict[str, str]:
    """One colour per diagnosis across the item's first wrong steps (most common first);
    ``other`` is grey."""
    colors: dict[str, str] = {analysis.OTHER: charts.OTHER_COLOR}
    for part in item.first_wrong_parts:
        for cause in part.causes:
            if cause.note not in colors:
                colors[cause.note] = charts.PALETTE[(len(colors) - 1) % len(charts.PALETTE)]
    return colors


def first_wrong_chart(item: analysis.ItemStats) -> tuple[Markup, Markup]:
    """Where students break first in the exercise, split by how (the chart and its key)."""
    colors = cause_colors(item)
    bars = [
        (
            f"{fw.name} ({fw.count} attempt{'s' if fw.count != 1 else ''})",
            [charts.Segment(c.note, c.label, c.count) for c in fw.causes],
        )
        for fw in item.first_wrong_parts
    ]
    desc = "; ".join(
        f"{fw.name}: {fw.count} (" + ", ".join(f"{c.label}: {c.count}" for c in fw.causes) + ")"
        for fw in item.first_wrong_parts
    )
    chart = charts.stacked_bar_chart(
        bars,
        chart_id=f"first-wrong-{item.key}",
        title=f"First wrong step in {item.title}, by diagnosis",
        desc=desc or "Nothing wrong yet",
        colors=colors,
        width=CHART_WIDTH,
    )
    seen = {c.note: c.label for fw in item.first_wrong_parts for c in fw.causes}
    key = charts.legend([(colors[note], label) for note, label in seen.items()])
    return chart, key


OUTCOMES = (
    ("right", "Right", "#0072B2"),
    ("follow", "Follow-through (right given a wrong earlier answer)", "#56B4E9"),
    ("wrong", "Wrong", "#D55E00"),
)


def outcome_chart(item: analysis.ItemStats) -> tuple[Markup, Markup]:
    """Per part: students right, right by follow-through and wrong, stacked."""
    parts = [p for p in item.parts if p.right + p.follow + p.wrong]
    bars = [
        (
            p.name or p.part_id,
            [
                charts.Segment(series, label, value)
                for (series, label, _), value in zip(
                    OUTCOMES, (p.right, p.follow, p.wrong), strict=True
                )
            ],
        )
        for p in parts
    ]
    desc = "; ".join(
        f"{p.name or p.part_id}: right {p.right}, follow-through {p.follow}, wrong {p.wrong}"
        for p in parts
    )
    chart = charts.stacked_bar_chart(
        bars,
        chart_id=f"outcomes-{item.key}",
        title=f"Right, follow-through and wrong per part of {item.title}",
        desc=desc or "No answers yet",
        colors={series: color for series, _, color in OUTCOMES},
        width=CHART_WIDTH,
    )
    return chart, charts.legend([(color, label) for _, label, color in OUTCOMES])
