"""How answer keys, part names, format hints and times read on the student pages.

Presentation only: keys are shown once the solution policy allows it (the services
decide that); here they become readable text (LaTeX through the checker's own safe
parser, never SymPy on text), numbers lose their float noise, parts are called by their
number, and the answer box's hint is shaped like the part.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from grader.exercises import kind_of

#: significant digits a shown key keeps (the checker's tolerance is far looser)
KEY_DIGITS = 4
_LONG_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d{5,}(?:[eE][+-]?\d+)?|\d+(?:\.\d+)?[eE][+-]?\d+)")


def short_number(value: float) -> str:
    """``0.0537892290468`` -> ``0.05379``; integers stay integers."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{KEY_DIGITS}g}"


def shorten_numbers(text: str) -> str:
    """Every long decimal in ``text`` cut to :data:`KEY_DIGITS` significant digits."""
    return _LONG_NUMBER.sub(lambda m: short_number(float(m.group(1))), text)


def readable_key(part_type: str, key_text: str, names: Sequence[str] = ()) -> Markup:
    """The answer key as a student reads it: typeset math where the kind has it, short numbers.

    The part's kind says whether its key typesets (an expression's goes through the
    checker's parser to LaTeX, which KaTeX shows); the plain text stays beside it for copying.
    """
    text = shorten_numbers(key_text.replace("**", "^"))
    latex = kind_of(part_type).key_latex(text, names)
    if latex:
        return Markup('<span class="math">\\({}\\)</span> <code class="key-text">{}</code>').format(
            latex, text
        )
    return Markup("<code>{}</code>").format(text)


def shared_points(points: Sequence[float], digits: int = 2) -> list[str]:
    """Part points rounded so they add up to the rounded total (largest remainder):
    three parts of 1/3 show 0.33, 0.33, 0.34, never a total of 0.99 or 1.01."""
    scale = 10**digits
    exact = [p * scale for p in points]
    floors = [int(e) for e in exact]
    short = round(sum(exact)) - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in order[: max(short, 0)]:
        floors[i] += 1
    return [_points_text(f / scale) for f in floors]


def _points_text(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def part_number(variant: dict[str, Any], part_id: str) -> str:
    """ "Part 2": the part's place in its question (students never see internal ids)."""
    for index, part in enumerate(variant.get("parts", []), start=1):
        if part.get("id") == part_id:
            return f"Part {index}"
    return "Part"


def answer_example(part_type: str, shape: Sequence[int] | None) -> str:
    """An example shaped like the part: ``[[1, 2], [3, 4], [5, 6]]`` for a 3×2 matrix."""
    return kind_of(part_type).example(shape)


def iso_utc(value: dt.datetime | None) -> str:
    """ISO 8601 in UTC for a ``<time datetime>`` the page's script localizes."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def utc_text(value: dt.datetime) -> str:
    """``Mon 2 Mar 2026, 14:00 UTC``: what shows before (or without) the script."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return f"{value:%a} {value.day} {value:%b %Y, %H:%M} UTC"


def percent(fraction: float) -> str:
    """``0.3`` -> ``30 %`` (a thin no-break space, as typeset)."""
    return f"{round(fraction * 100)}\u202f%"


def format_points(value: float | None) -> str:
    """Points without float noise: 2, 1.5, 0.33."""
    if value is None:
        return "–"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
