"""The one place this package imports grader.checking from.

TEMPORARY: while grader.checking (issue 4) has not landed, a minimal stand-in keeps the
exercise pipeline testable (floats, lists and option ids only; expressions answer
"undetermined"). It is used only when the real module lacks the API.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

try:
    from grader.checking import Diagnosis
    from grader.checking import Verdict
    from grader.checking import check_array
    from grader.checking import check_choice
    from grader.checking import check_expression
    from grader.checking import check_numeric
    from grader.checking import parse

    STAND_IN = False
except ImportError:  # pragma: no cover - removed once issue 4 lands
    STAND_IN = True
    logger.warning("grader.checking is not available; using the exercise stand-in")

    @dataclass(frozen=True)
    class Diagnosis:  # type: ignore[no-redef]
        code: str
        message: str

    @dataclass(frozen=True)
    class Verdict:  # type: ignore[no-redef]
        status: str
        message: str
        latex: str | None = None
        diagnosis: Diagnosis | None = None
        offset: int | None = None
        variables: tuple[str, ...] = ()
        entries: tuple[str, ...] | None = None

        def to_json(self) -> dict[str, Any]:
            return {"status": self.status, "message": self.message}

    def _num(text: str) -> float | None:
        try:
            return float(text.strip())
        except ValueError:
            return None

    def _close(a: float, b: float, mode: str, rtol: float, atol: float, sigfigs: Any) -> bool:
        if mode == "sigfigs":
            rtol, atol = 0.5 * 10 ** (1 - int(sigfigs)), 0.0
        elif mode == "relative":
            atol = 0.0
        elif mode == "absolute":
            rtol = 0.0
        return abs(a - b) <= max(atol, rtol * abs(b)) + 1e-12

    def check_numeric(  # type: ignore[misc]
        expected: float,
        answer: str,
        *,
        mode: str = "relative",
        rtol: float = 1e-2,
        atol: float = 0.0,
        sigfigs: Any = None,
    ) -> Verdict:
        a = _num(answer)
        if a is None:
            return Verdict("invalid", "not a number")
        ok = _close(a, float(expected), mode, rtol, atol, sigfigs)
        diag = (
            Diagnosis("sign_flipped", "sign")
            if not ok and _close(-a, float(expected), mode, rtol, atol, sigfigs)
            else None
        )
        return Verdict("correct" if ok else "incorrect", "ok" if ok else "wrong", diagnosis=diag)

    def _parse_list(text: str) -> Any:
        import json

        try:
            return json.loads(text)
        except ValueError:
            return None

    def check_array(expected: Any, answer: str, **tol: Any) -> Verdict:  # type: ignore[misc]
        import numpy as np

        a = _parse_list(answer)
        if not isinstance(a, list):
            return Verdict("invalid", "not a list")
        try:
            arr = np.asarray(a, dtype=float)
        except (TypeError, ValueError):
            return Verdict("invalid", "not a list of numbers")
        exp = np.asarray(expected, dtype=float)
        if arr.shape != exp.shape:
            return Verdict("incorrect", "wrong shape")
        ok = all(
            _close(
                float(x),
                float(y),
                tol.get("mode", "relative"),
                tol.get("rtol", 1e-2),
                tol.get("atol", 0.0),
                tol.get("sigfigs"),
            )
            for x, y in zip(arr.ravel(), exp.ravel(), strict=True)
        )
        return Verdict("correct" if ok else "incorrect", "ok" if ok else "wrong")

    def check_choice(  # type: ignore[misc]
        expected: str | Sequence[str], answer: str | Sequence[str], *, multiple: bool = False
    ) -> Verdict:
        if multiple:
            ok = sorted(expected) == sorted(answer)
        else:
            ok = expected == answer
        return Verdict("correct" if ok else "incorrect", "ok" if ok else "wrong")

    def check_expression(expected: str, answer: str, **kw: Any) -> Verdict:  # type: ignore[misc]
        if (
            not answer.strip()
            or answer.count("(") != answer.count(")")
            or answer.rstrip()[-1] in "+-*/^"
        ):
            return Verdict("invalid", "malformed")
        if answer.replace(" ", "") == expected.replace(" ", ""):
            return Verdict("correct", "ok")
        return Verdict("undetermined", "no checker")

    def parse(text: str) -> Any:  # type: ignore[misc]
        raise ValueError("grader.checking is not available yet")


__all__ = [
    "STAND_IN",
    "Diagnosis",
    "Verdict",
    "check_array",
    "check_choice",
    "check_expression",
    "check_numeric",
    "parse",
]
