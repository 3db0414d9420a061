"""Text cells a spreadsheet shows as text, never runs as a formula (CSV injection).

A cell starting with ``= + - @`` (or a tab or CR) is a formula to Excel and LibreOffice, so
it gets a leading ``'``. A spreadsheet set to a locale whose list separator is ``;`` (much of
Europe) may split a line on ``;`` whatever our quoting says, so ``Mal;=HYPERLINK(...)`` in a
name would become a cell ``=HYPERLINK(...)``: every ``;`` (and tab) followed, after any
spaces, by one of those characters gets the quote after it too.
"""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_AFTER_SEPARATOR = re.compile(r"([;\t][ ]*)([=+\-@])")


def safe_cell(value: object) -> str:
    """``value`` as text that no spreadsheet will evaluate, in any list-separator locale."""
    text = "" if value is None else str(value)
    text = _AFTER_SEPARATOR.sub(r"\1'\2", text)
    if text.startswith(_FORMULA_START) or text.lstrip(" ").startswith(_FORMULA_START[:4]):
        return "'" + text
    return text
