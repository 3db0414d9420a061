"""``{{name}}`` placeholders in prompts and solutions.

One small syntax, checked at load time: ``{{ name }}`` prints a value (numbers to six
significant figures, lists as LaTeX column vectors or matrices), ``{{ name:.3f }}`` or
``{{ name:.4g }}`` picks a number format, ``{{ name:plain }}`` prints lists the way a
student types them (``[0.5, -0.2]``) and ``{{ name:latex }}`` forces the LaTeX form.
No expressions, no attribute access, no code: a placeholder is a name and a format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from grader.exercises.numbers import format_number

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*(?::\s*([^}\s]+)\s*)?\}\}")


def placeholders(text: str) -> list[tuple[str, str | None]]:
    """Every (name, format) placeholder in ``text``, in order."""
    return [(m.group(1), m.group(2)) for m in _PLACEHOLDER.finditer(text)]


def fmt_value(value: Any, fmt: str | None = None) -> str:
    """One value as prompt text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if fmt and fmt[0] == ".":
            return format(float(value), fmt)
        return format_number(value, 6)
    if isinstance(value, list | tuple):
        if fmt == "plain":
            return "[" + ", ".join(fmt_value(v, "plain") for v in value) + "]"
        return latex_array(value)
    return str(value)


def latex_array(value: Any, sig: int = 6) -> str:
    """A vector as a LaTeX column, a list of rows as a LaTeX matrix."""
    if value and isinstance(value[0], list | tuple):
        rows = [" & ".join(format_number(v, sig) for v in row) for row in value]
    else:
        rows = [format_number(v, sig) for v in value]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def render(text: str, values: Mapping[str, Any]) -> str:
    """Fill every placeholder; an unknown name raises KeyError (load time catches it)."""
    return _PLACEHOLDER.sub(lambda m: fmt_value(values[m.group(1)], m.group(2)), text)
