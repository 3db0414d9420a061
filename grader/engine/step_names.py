"""The paper-style names of layered quantities (``w^{(2)}_{11}``), shared by the symbolic
twin's ``trace_names`` and the worked solutions' traces (:mod:`grader.exercises.solutions`),
so the two always name a quantity the same way.
"""

from __future__ import annotations

from functools import lru_cache


def sub(*indices: int) -> str:
    """A 1-based subscript body: "1", "12", or "1,12" once an index has two digits."""
    if all(i < 10 for i in indices):
        return "".join(str(i) for i in indices)
    return ",".join(str(i) for i in indices)


@lru_cache(maxsize=4096)  # pure, and called ~100 times per small trace
def layer_name(letter: str, layer: int, *idx: int) -> tuple[str, str]:
    """(name, LaTeX symbol) of a layered quantity, e.g. ("w^{(2)}_{11}", "w^{(2)}_{11}").

    The letter "delta" is written \\delta in the symbol and "delta" in the name.
    """
    body = sub(*idx)
    name_sub = body if len(idx) == 1 and len(body) == 1 else f"{{{body}}}"
    tex = "\\delta" if letter == "delta" else letter
    return f"{letter}^{{({layer})}}_{name_sub}", f"{tex}^{{({layer})}}_{{{body}}}"


@lru_cache(maxsize=1024)
def leaf_name(letter: str, j: int) -> tuple[str, str]:
    """(name, LaTeX symbol) of an input or target, e.g. ("x_1", "x_{1}")."""
    body = sub(j)
    return (
        f"{letter}_{body}" if len(body) == 1 else f"{letter}_{{{body}}}"
    ), f"{letter}_{{{body}}}"
