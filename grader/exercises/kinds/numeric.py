"""Numeric answers: a number, a vector or a matrix, checked with tolerances.

Defaults for exercises are ``mode: combined`` with ``rtol: 0.01, atol: 1e-4`` (the
checker's own ``atol`` is 1e-8; by-hand work needs a little more slack near zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Sequence
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any
from typing import ClassVar

from grader.checking import Verdict
from grader.checking import check_array
from grader.checking import check_numeric
from grader.checking.numeric import float_decimal
from grader.exercises.kinds import precision
from grader.exercises.kinds.base import AnswerKind
from grader.exercises.kinds.base import CheckProblem
from grader.exercises.kinds.base import Raw
from grader.exercises.numbers import format_number

DEFAULT_NUMERIC_CHECK: dict[str, Any] = {"mode": "combined", "rtol": 0.01, "atol": 1e-4}
#: options that choose explicit tolerances instead of the precision rule
EXPLICIT = frozenset({"mode", "rtol", "atol", "sigfigs"})
DEFAULT_FIGURES = precision.DEFAULT_FIGURES
SYMBOLIC_ONLY = ("variables", "domains", "definitions")


def flat(value: Any) -> list[float]:
    """A number, vector or matrix as a flat list of floats."""
    if isinstance(value, list):
        return [x for v in value for x in flat(v)]
    return [float(value)]


def sig_text(value: float, sigfigs: int) -> str:
    """``value`` rounded half-up (in decimal) to ``sigfigs`` significant figures."""
    d = float_decimal(value)
    if d == 0:
        return "0"
    quantum = Decimal(1).scaleb(d.adjusted() - sigfigs + 1)
    return format(d.quantize(quantum, rounding=ROUND_HALF_UP), "f")


def tolerances(check: Mapping[str, Any]) -> dict[str, Any]:
    """The checker's keyword arguments for these check options."""
    mode = check.get("mode", "combined")
    # A number box asks for the value: no functions unless the part allows some
    # (``None``: every function, as ``grader check-expr`` allows).
    functions = check.get("functions", ())
    out: dict[str, Any] = {
        "mode": mode,
        "functions": None if functions is None else tuple(functions),
    }
    if mode == "sigfigs":
        sigfigs = check.get("sigfigs")
        out["sigfigs"] = None if sigfigs is None else int(sigfigs)
        return out
    if mode in ("relative", "combined") and "rtol" in check:
        out["rtol"] = float(check["rtol"])
    if mode in ("absolute", "combined") and "atol" in check:
        out["atol"] = float(check["atol"])
    return out


def close(a: Any, b: Any, check: Mapping[str, Any]) -> bool:
    """Could the checker take ``a`` for key ``b``? (a float estimate with a factor 2 margin)"""
    fa, fb = flat(a), flat(b)
    if len(fa) != len(fb):
        return False
    if check.get("mode") == "sigfigs":
        rtol, atol = 0.5 * 10 ** (1 - int(check.get("sigfigs", 3))), 0.0
    else:
        rtol, atol = float(check.get("rtol", 0.0)), float(check.get("atol", 0.0))
        if check.get("mode") == "relative":
            atol = 0.0
        elif check.get("mode") == "absolute":
            rtol = 0.0
    return all(abs(x - y) <= max(atol, rtol * abs(y)) * 2 for x, y in zip(fa, fb, strict=True))


class NumericKind(AnswerKind):
    """One number."""

    name = "numeric"
    previewed = True
    numeric = True
    junk: ClassVar[tuple[str, ...]] = ("", "2 +", "((")

    def check_options(
        self, part_check: Mapping[str, Any], family_check: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Exercise defaults under the family's options under the part's."""
        base = {**family_check, **part_check}
        if not EXPLICIT & set(base):
            # The precision rule: N figures (the part's, or 3), settled per variant.
            base.setdefault("figures", DEFAULT_FIGURES)
            return base
        base = dict(family_check)
        if not base.get("mode") and not part_check:
            base = {**DEFAULT_NUMERIC_CHECK, **base}
        base.update(part_check)
        if "sigfigs" in base:
            base["mode"] = "sigfigs"
        base.setdefault("mode", "combined")
        base.setdefault("rtol", DEFAULT_NUMERIC_CHECK["rtol"])
        base.setdefault("atol", DEFAULT_NUMERIC_CHECK["atol"])
        return base

    def check_problems(self, check: Mapping[str, Any]) -> list[CheckProblem]:
        """Number modes only; sigfigs with its count."""
        problems: list[CheckProblem] = []
        mode = check.get("mode")
        for k in SYMBOLIC_ONLY:
            if k in check:
                problems.append(((k,), f"{k} applies to expression answers only"))
        if mode == "symbolic":
            problems.append((("mode",), "use relative, absolute, combined or sigfigs for numbers"))
        if mode == "sigfigs" and "sigfigs" not in check:
            problems.append(((), "mode: sigfigs needs sigfigs: N"))
        if "sigfigs" in check and mode not in (None, "sigfigs"):
            problems.append((("sigfigs",), "sigfigs goes with mode: sigfigs"))
        if "figures" in check and EXPLICIT & set(check):
            problems.append((("figures",), "figures is the precision rule: no mode or tolerances"))
        return problems

    def key_text(self, key: Any, check: Mapping[str, Any]) -> str:
        """The key to 12 figures, or rounded to the figures asked for."""
        if check.get("mode") == "sigfigs":
            return sig_text(key, int(check["sigfigs"]))
        if "figures" in check and "atol" in check:
            return sig_text(key, int(check["figures"]))
        return format_number(key, 12)

    def settle(
        self, key: Any, mistakes: Sequence[tuple[str, Any]], check: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Figures and tolerance from the key, its mistakes and the update's reference.

        Raises:
            Indistinct: a mistake cannot be told from the key or from another mistake.
        """
        out = dict(check)
        reference = check.get("reference")
        if "figures" in check:
            figures, tol = precision.scalar_settle(
                float(key),
                [(c, float(v)) for c, v in mistakes],
                None if reference is None else float(reference),
                int(check["figures"]),
            )
            out.update(mode="absolute", atol=tol, figures=figures)
            return out
        if reference is not None:  # explicit tolerances: rtol applies to the change
            rtol = float(check.get("rtol", DEFAULT_NUMERIC_CHECK["rtol"]))
            change = max(abs(a - b) for a, b in zip(flat(key), flat(reference), strict=True))
            out.update(mode="absolute", atol=max(precision.TINY, rtol * change))
        _close_pairs(key, mistakes, out)
        return out

    def mistake_options(self, check: Mapping[str, Any], value: Any) -> Mapping[str, Any]:
        """Under the precision rule, the mistake rounded at N figures matches too."""
        if "figures" not in check or "atol" not in check:
            return check
        radius = precision.figure_tolerance(float(value), int(check["figures"]))
        return {**check, "atol": max(float(check["atol"]), radius)}

    def precision_note(self, check: Mapping[str, Any]) -> str:
        """N significant figures."""
        if "figures" in check and "atol" in check:
            return precision.scalar_note(int(check["figures"]))
        return ""

    def check(
        self,
        check: Mapping[str, Any],
        expected: Any,
        raw: Raw,
        budget: float,
        *,
        diagnose: bool = True,
    ) -> Verdict:
        """The checker's numeric comparison with the part's tolerances."""
        assert isinstance(raw, str)
        key = expected if isinstance(expected, str) else float(expected)
        return check_numeric(key, raw, **tolerances(check))


class ArrayKind(NumericKind):
    """A vector or a matrix of numbers, compared entry by entry."""

    def key_text(self, key: Any, check: Mapping[str, Any]) -> str:
        """Nested brackets, each entry to 12 figures or to the decimals asked for."""
        places = int(check["decimals"]) if "decimals" in check and "atol" in check else None
        return _array_text(key, places)

    def settle(
        self, key: Any, mistakes: Sequence[tuple[str, Any]], check: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Decimal places and tolerance from the key, its mistakes and the reference.

        Raises:
            Indistinct: a mistake cannot be told from the key or from another mistake.
        """
        if "figures" not in check:
            return super().settle(key, mistakes, check)
        reference = check.get("reference")
        places, tol = precision.array_settle(
            flat(key),
            [(c, flat(v)) for c, v in mistakes],
            None if reference is None else flat(reference),
            int(check["figures"]),
        )
        return {**check, "mode": "absolute", "atol": tol, "decimals": places}

    def mistake_options(self, check: Mapping[str, Any], value: Any) -> Mapping[str, Any]:
        """Every entry's tolerance is the same: the key's."""
        return check

    def precision_note(self, check: Mapping[str, Any]) -> str:
        """D decimal places on every entry."""
        if "decimals" in check and "atol" in check:
            return precision.array_note(int(check["decimals"]))
        return ""

    def check(
        self,
        check: Mapping[str, Any],
        expected: Any,
        raw: Raw,
        budget: float,
        *,
        diagnose: bool = True,
    ) -> Verdict:
        """The checker's array comparison with the part's tolerances."""
        assert isinstance(raw, str)
        return check_array(expected, raw, **tolerances(check))

    def shape(self, key: Any) -> list[int] | None:
        """[n] or [rows, columns]."""
        if isinstance(key, list) and key and isinstance(key[0], list):
            return [len(key), len(key[0])]
        return [len(key)] if isinstance(key, list) else []


def _array_text(value: Any, places: int | None) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_array_text(v, places) for v in value) + "]"
    if places is None:
        return format_number(value, 12)
    rounded = float_decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return format(rounded.copy_abs() if rounded.is_zero() else rounded, "f")  # never "-0.00"


def _close_pairs(key: Any, mistakes: Sequence[tuple[str, Any]], check: Mapping[str, Any]) -> None:
    """Explicit tolerances: no mistake within twice the tolerance of the key or another."""
    seen: list[tuple[str, Any]] = [("the key", key)]
    for code, value in mistakes:
        if not all(math.isfinite(v) for v in flat(value)):
            raise precision.Indistinct(code, "a number", "not finite")
        for other, at in seen:
            if close(value, at, check):
                raise precision.Indistinct(code, other, "within twice the tolerance")
        seen.append((code, value))
