"""The discrimination invariant, checked inside a family's build (issue 12).

Every declared mistake must lie clearly outside the key's acceptance region and outside every
other mistake's, in every variant; otherwise the family raises IllPosed and the generator
redraws from the same seed. `require_separated` measures with the part's own tolerance
(relative and absolute, as the numeric checker judges) times a safety margin, so a mistake
that would be accepted, or a diagnosis that would be ambiguous, never reaches a student.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.exercises.families.base import Quantity
from grader.exercises.families.base import require
from grader.exercises.kinds import kind_of

#: the generator's default numeric check (combined rtol 1 %, atol 1e-4)
DEFAULT_RTOL = 0.01
DEFAULT_ATOL = 1e-4
#: how many tolerances apart two answers must be
MARGIN = 3.0


def _flat(value: Any) -> list[float]:
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    return [float(value)]


def _tolerances(check: Mapping[str, Any]) -> tuple[float, float]:
    if "sigfigs" in check:
        return 0.5 * 10 ** (1 - int(check["sigfigs"])), 0.0
    rtol, atol = float(check.get("rtol", DEFAULT_RTOL)), float(check.get("atol", DEFAULT_ATOL))
    mode = check.get("mode")
    return (
        (rtol, 0.0) if mode == "relative" else (0.0, atol) if mode == "absolute" else (rtol, atol)
    )


def apart(a: Any, b: Any, check: Mapping[str, Any] | None = None, margin: float = MARGIN) -> bool:
    """True when some entry of a differs from b's by more than margin tolerances (either way)."""
    if isinstance(a, str) or isinstance(b, str):
        return a != b
    fa, fb = _flat(a), _flat(b)
    if len(fa) != len(fb):
        return True
    rtol, atol = _tolerances(check or {})
    return any(
        abs(x - y) > margin * max(atol, rtol * max(abs(x), abs(y)))
        for x, y in zip(fa, fb, strict=True)
    )


def require_separated(quantities: Mapping[str, Quantity], margin: float = MARGIN) -> None:
    """IllPosed unless, for every quantity, each mistake is apart from the key and each other."""
    for name, q in quantities.items():
        if not kind_of(q.type).numeric:
            continue
        for i, m in enumerate(q.mistakes):
            require(apart(m.value, q.value, q.check, margin), f"{name}: {m.code} is near the key")
            for other in q.mistakes[:i]:
                require(
                    apart(m.value, other.value, q.check, margin),
                    f"{name}: {m.code} is near {other.code}",
                )
