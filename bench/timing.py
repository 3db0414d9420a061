"""Timing helpers the benchmarks share (run as scripts, so ``bench/`` is on the path)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Median over `repeat` runs of the mean time of `number` calls."""
    fn()  # warm caches and lazy initialisation
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)
