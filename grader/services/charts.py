"""Small server-side SVG bar charts: no JavaScript, no chart library, nothing from a CDN.

Every text is escaped here; the result is ``Markup`` so templates insert it as is. Each
chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>`` (screen readers
read those), each bar has its own ``<title>`` (a tooltip), and the page shows the same
numbers in a table next to it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

BAR_COLOR = "#2f6db5"
AXIS_COLOR = "#555"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:60] or "chart"


def _fmt(value: float) -> str:
    return f"{value:g}"


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    cid = _id(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{cid}-title {cid}-desc" {FONT}>',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def column_chart(
    bars: Sequence[tuple[str, float]],
    *,
    chart_id: str,
    title: str,
    desc: str,
    y_label: str = "",
    width: int = 360,
    height: int = 200,
) -> Markup:
    """Vertical bars with a label under each (a distribution)."""
    left, right, top, bottom = 36, 8, 12, 36
    plot_w = width - left - right
    plot_h = height - top - bottom
    peak = max((v for _, v in bars), default=0.0)
    scale_max = max(1.0, peak)
    parts = _open(chart_id, width, height, title, desc)
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="{AXIS_COLOR}"/>'
    )
    parts.append(
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{AXIS_COLOR}">'
        f"{escape(_fmt(scale_max))}</text>"
    )
    parts.append(
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" fill="{AXIS_COLOR}">0</text>'
    )
    if y_label:
        parts.append(
            f'<text transform="translate(10 {top + plot_h / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle" fill="{AXIS_COLOR}">{escape(y_label)}</text>'
        )
    n = max(1, len(bars))
    slot = plot_w / n
    bar_w = max(2.0, slot * 0.7)
    for i, (label, value) in enumerate(bars):
        h = 0.0 if scale_max == 0 else plot_h * max(0.0, value) / scale_max
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{BAR_COLOR}"><title>{escape(label)}: {escape(_fmt(value))}</title></rect>'
        )
        if value > 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
                f"{escape(_fmt(value))}</text>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'fill="{AXIS_COLOR}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    chart_id: str,
    title: str,
    desc: str,
    value_format: Callable[[float], str] = _fmt,
    width: int = 440,
    max_label: int = 64,
) -> Markup:
    """Horizontal bars, each under its own label (most common mistakes)."""
    row_h, top, right = 38, 4, 40
    height = top * 2 + row_h * max(1, len(bars))
    plot_w = width - right
    peak = max((v for _, v in bars), default=0.0)
    parts = _open(chart_id, width, height, title, desc)
    if not bars:
        parts.append(f'<text x="4" y="{top + 16}" fill="{AXIS_COLOR}">No data yet</text>')
    for i, (label, value) in enumerate(bars):
        y = top + i * row_h
        w = 0.0 if peak <= 0 or not math.isfinite(value) else plot_w * max(0.0, value) / peak
        short = label if len(label) <= max_label else label[: max_label - 1] + "…"
        parts.append(f'<text x="0" y="{y + 13}">{escape(short)}</text>')
        parts.append(
            f'<rect x="0" y="{y + 18}" width="{max(w, 1.0):.1f}" height="14" '
            f'fill="{BAR_COLOR}"><title>{escape(label)}: {escape(value_format(value))}</title>'
            "</rect>"
        )
        parts.append(
            f'<text x="{w + 5:.1f}" y="{y + 30}" fill="{AXIS_COLOR}">'
            f"{escape(value_format(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


# Okabe-Ito colours: told apart with the usual colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER_COLOR = "#8c8c8c"


@dataclasses.dataclass(frozen=True)
class Segment:
    """One piece of a stacked bar: its series (for the colour), its name and its value."""

    series: str
    label: str
    value: float


def _ink(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (a ``#rrggbb`` colour)."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lum = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    y = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2]
    return "#000" if (y + 0.05) / 0.05 >= 1.05 / (y + 0.05) else "#fff"


def stacked_bar_chart(
    bars: Sequence[tuple[str, Sequence[Segment]]],
    *,
    chart_id: str,
    title: str,
    desc: str,
    colors: Mapping[str, str],
    width: int = 440,
    max_label: int = 64,
) -> Markup:
    """Horizontal stacked bars, each under its own label, the total after it; a segment
    wide enough shows its value inside. ``colors`` maps each series to its colour."""
    row_h, top, right = 40, 4, 40
    height = top * 2 + row_h * max(1, len(bars))
    plot_w = width - right
    totals = [sum(max(0.0, s.value) for s in segs if math.isfinite(s.value)) for _, segs in bars]
    peak = max(totals, default=0.0)
    parts = _open(chart_id, width, height, title, desc)
    if not bars:
        parts.append(f'<text x="4" y="{top + 16}" fill="{AXIS_COLOR}">No data yet</text>')
    for i, ((label, segments), total) in enumerate(zip(bars, totals, strict=True)):
        y = top + i * row_h
        short = label if len(label) <= max_label else label[: max_label - 1] + "…"
        parts.append(f'<text x="0" y="{y + 13}">{escape(short)}</text>')
        x = 0.0
        for seg in segments:
            if peak <= 0 or not math.isfinite(seg.value) or seg.value <= 0:
                continue
            w = plot_w * seg.value / peak
            fill = colors.get(seg.series, OTHER_COLOR)
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 18}" width="{w:.1f}" height="16" fill="{fill}" '
                f'stroke="#fff" stroke-width="1"><title>{escape(label)}, {escape(seg.label)}: '
                f"{escape(_fmt(seg.value))}</title></rect>"
            )
            if w >= 16:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 30}" text-anchor="middle" '
                    f'fill="{_ink(fill)}" aria-hidden="true">{escape(_fmt(seg.value))}</text>'
                )
            x += w
        parts.append(
            f'<text x="{x + 5:.1f}" y="{y + 30}" fill="{AXIS_COLOR}">{escape(_fmt(total))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def legend(entries: Sequence[tuple[str, str]]) -> Markup:
    """A list of ``(colour, name)``: the key to a chart's colours, as text that wraps on a
    phone (the swatches are decoration; the names carry the meaning)."""
    items = [
        '<li><svg class="swatch" aria-hidden="true" focusable="false" width="12" height="12">'
        f'<rect width="12" height="12" fill="{escape(color)}"/></svg> {escape(name)}</li>'
        for color, name in entries
    ]
    return Markup('<ul class="chart-legend">' + "".join(items) + "</ul>")  # noqa: S704
