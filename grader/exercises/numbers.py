"""How the exercises print a number (keys, templates, diagrams): short and exact-looking."""

from __future__ import annotations


def format_number(value: float | int, sig: int = 10) -> str:
    """Short, exact-looking decimal text: 0.526, -0.1792, 3, 1.5e-05."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    v = float(value)
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.{sig}g}"
    if "e" in text:
        mant, _, exp_ = text.partition("e")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        return f"{mant}e{int(exp_)}"
    return text
