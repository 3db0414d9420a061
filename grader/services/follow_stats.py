"""Follow-through in the instructor's numbers: right, follow-through and wrong apart, and
the step students most often break first.

A student's outcome on a part is *right* when any graded answer was correct, else
*follow-through* when one was ``consistent`` (right given their own wrong earlier answer),
else *wrong*. Their first wrong step in an attempt is, among the parts whose newest graded
answer is wrong, one with no wrong part upstream of it (the stored variant's follow-through
rules say what is upstream), the first in part order.
"""

from __future__ import annotations

from collections import Counter
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ScalarSelect
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.exercises import Variant
from grader.exercises.follow import ancestors
from grader.models import Submission

RIGHT, FOLLOW, WRONG = "right", "follow", "wrong"


def outcomes(
    session: Session, attempt_ids: ScalarSelect[Any]
) -> tuple[dict[tuple[int, str], str], dict[int, dict[str, tuple[str, str]]]]:
    """Per (attempt, part) its outcome; per attempt the newest (verdict, note) per part."""
    verdicts: dict[tuple[int, str], set[str]] = defaultdict(set)
    newest: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
    for attempt_id, part_id, verdict, note in session.execute(
        select(Submission.attempt_id, Submission.part_id, Submission.verdict, Submission.note)
        .where(
            Submission.attempt_id.in_(attempt_ids),
            Submission.status == "graded",
            Submission.counts_as_try.is_(True),
        )
        .order_by(Submission.id)
    ):
        verdicts[(attempt_id, part_id)].add(verdict or "")
        newest[attempt_id][part_id] = (verdict or "", note or "")
    out = {}
    for key, seen in verdicts.items():
        out[key] = RIGHT if "correct" in seen else FOLLOW if "consistent" in seen else WRONG
    return out, newest


def first_wrong(variant: Variant, newest: Mapping[str, tuple[str, str]]) -> str | None:
    """The attempt's first wrong step (a part id), or None when nothing is wrong."""
    wrong = {pid for pid, (verdict, _) in newest.items() if verdict == "incorrect"}
    order = [p.id for p in variant.parts]
    roots = []
    for pid in wrong:
        try:
            upstream = set(ancestors(variant, pid))
        except KeyError:  # a part the stored variant no longer has
            continue
        if not wrong & upstream:
            roots.append(pid)
    return min(roots, key=order.index) if roots else None


def count_first_wrong(
    variant: Variant, newest_by_attempt: list[Mapping[str, tuple[str, str]]]
) -> Counter[tuple[str, str]]:
    """How often each (part id, note of its newest answer) is the first wrong step."""
    counts: Counter[tuple[str, str]] = Counter()
    for newest in newest_by_attempt:
        pid = first_wrong(variant, newest)
        if pid is not None:
            counts[(pid, newest[pid][1])] += 1
    return counts
