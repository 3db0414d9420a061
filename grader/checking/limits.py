"""Hard limits checked before any algebra, so no answer can make a check slow.

Every limit is enforced by the lexer or the parser in time linear in the input, and
exceeding one yields an ``invalid`` verdict with a message, never a long computation.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

MAX_LENGTH = 2000
"""Characters in one answer; a long backprop expression is a few hundred."""

MAX_NESTING = 30
"""Open brackets, bars and function calls inside each other."""

MAX_DEPTH = 80
"""Depth of the parsed tree (brackets plus operator levels)."""

MAX_NODES = 1000
"""Nodes in the parsed tree of one answer."""

MAX_POWER_CHAIN = 4
"""Powers written in a row without brackets, e.g. ``a^b^c^d``."""

MAX_EXPONENT = 10_000
"""Largest constant exponent: ``(x-a)^6000`` is allowed, ``x^(10^10)`` is not."""

MAX_LITERAL_EXPONENT = 400
"""Largest power of ten in scientific notation (``1e400``)."""

MAX_CONSTANT_DIGITS = 400
"""Digits of an exact constant (numerator or denominator) built by folding."""

MAX_MAGNITUDE_BITS = 1_000_000
"""Binary exponent beyond which a sampled value counts as overflow (about 10^300000)."""

MAX_FUNCTION_ARGUMENT = 100_000.0
"""|x| beyond which exp/sinh/cosh/trig arguments count as overflow at a sample point."""


class _Collections(threading.local):
    """CPU seconds this thread has spent in the garbage collector."""

    started: float | None = None
    spent: float = 0.0


_COLLECTIONS = _Collections()


def _count_collection(phase: str, info: dict[str, Any]) -> None:
    """``gc.callbacks`` hook: a collection runs in the thread whose allocation set it off.

    Only full collections count: young ones are frequent, cheap and part of the
    allocating work itself (timing each would slow every check).
    """
    if info.get("generation") != 2:
        return
    if phase == "start":
        _COLLECTIONS.started = time.thread_time()
    elif _COLLECTIONS.started is not None:
        _COLLECTIONS.spent += time.thread_time() - _COLLECTIONS.started
        _COLLECTIONS.started = None


gc.callbacks.append(_count_collection)


def budget_clock() -> float:
    """The clock time budgets are measured on: CPU seconds of the calling thread, less
    the time it spent collecting garbage.

    A budget bounds the work one check may do. Wall-clock time would also count the
    time other requests (or other processes) hold the CPU, so the same answer could be
    decided on a quiet server and ``undetermined`` on a busy one, and a regrade could
    change a verdict. CPU time makes verdicts reproducible under load. A full (oldest
    generation) collection is not the check's work either: it costs in proportion to
    everything the process holds (a second or more in a big one), and counted, it made a
    check that takes a millisecond run out of its budget whenever one began inside it.
    """
    return time.thread_time() - _COLLECTIONS.spent
