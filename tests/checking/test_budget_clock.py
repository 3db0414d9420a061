"""The budget clock: CPU time of the thread, without the garbage collector's share."""

from __future__ import annotations

import gc
import threading
import time

from grader.checking.limits import budget_clock


def test_a_full_collection_costs_no_budget() -> None:
    held = [[i] for i in range(400_000)]  # a heap a full collection must walk
    cpu, budget = time.thread_time(), budget_clock()
    gc.collect()
    spent_cpu, spent_budget = time.thread_time() - cpu, budget_clock() - budget
    assert spent_cpu > 0
    assert spent_budget <= spent_cpu / 4, (spent_cpu, spent_budget)
    assert len(held) == 400_000


def test_work_counts_and_the_clock_never_runs_backwards() -> None:
    budget = budget_clock()
    total = sum(i * i for i in range(300_000))
    assert budget_clock() > budget
    assert total > 0


def test_each_thread_has_its_own_count() -> None:
    seen: list[float] = []

    def other() -> None:
        before = budget_clock()
        gc.collect()
        seen.append(budget_clock() - before)

    mine = budget_clock()
    held = [[i] for i in range(200_000)]
    worker = threading.Thread(target=other)
    worker.start()
    worker.join()
    # the other thread's collection is not subtracted from this thread's clock
    assert budget_clock() >= mine
    assert seen
    assert seen[0] >= 0
    assert len(held) == 200_000
