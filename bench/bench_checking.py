"""Benchmark: the answer checker against the naive SymPy way, on a fixed suite.

The suite (``tests/checking/suite.py``, 140 expression pairs with known truth) is
checked twice in the same run:

* ours: ``grader.checking.check_expression`` with every cache cleared before each
  check (a cold check: parse, compile, evaluate, diagnose);
* naive: ``parse_expr`` then ``simplify(a - b) == 0``, with a 5 s cap per pair enforced
  by SIGALRM inside two worker processes, and a cap on the naive run's total wall time
  so ``make bench`` stays short. A pair that hits a cap counts as not decided.

Targets (issues 4 and 19): every pair right, strictly more pairs right than the naive
way, our median at most 2 ms and p99 at most 15 ms per check (with the stronger points
of issue 19: wide magnitudes, both sides of every kink, interval-checked differences),
at least 20x faster than the naive way at the median, working toward 50x. Exits non-zero
if our checker gets a pair wrong or decides no more pairs right than the naive way;
timings are reported, not enforced, because the machine is shared.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.checking import check_expression  # noqa: E402
from grader.checking.intervals import compile_interval  # noqa: E402
from grader.checking.keys import build_key  # noqa: E402
from grader.checking.keys import compiled  # noqa: E402
from grader.checking.keys import parse_cached  # noqa: E402
from tests.checking.suite import SUITE  # noqa: E402

NAIVE_PAIR_CAP = 5.0
NAIVE_TOTAL_CAP = 150.0
NAIVE_WORKERS = 2


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def run_ours() -> tuple[int, list[float], list[str]]:
    right = 0
    times: list[float] = []
    wrong: list[str] = []
    check_expression("x", "x", variables=("x",))  # import-time work out of the way
    for expected, answer, variables, domains, truth in SUITE:
        parse_cached.cache_clear()
        compiled.cache_clear()
        compile_interval.cache_clear()
        build_key.cache_clear()  # and with it the key's cached points and values
        start = time.perf_counter()
        verdict = check_expression(expected, answer, variables=variables, domains=domains)
        times.append(time.perf_counter() - start)
        decided = {"correct": True, "incorrect": False}.get(verdict.status)
        if decided is truth:
            right += 1
        else:
            wrong.append(f"{expected[:40]} | {answer[:40]} -> {verdict.status}")
    return right, times, wrong


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _naive_init() -> None:
    signal.signal(signal.SIGALRM, _alarm)


def _naive_one(pair: tuple[str, str, tuple[str, ...], dict[str, str], bool]) -> tuple[Any, float]:
    """(decided: True/False/None, seconds) for one pair, the way PrairieLearn does it."""
    import sympy
    from sympy.parsing.sympy_parser import convert_xor
    from sympy.parsing.sympy_parser import implicit_multiplication_application
    from sympy.parsing.sympy_parser import parse_expr
    from sympy.parsing.sympy_parser import standard_transformations

    expected, answer, variables, domains, _ = pair
    names = set(variables) | {"a", "b", "c", "k", "m", "p", "t", "w", "x", "y", "z"}
    local: dict[str, Any] = {}
    for name in names:
        domain = domains.get(name, "real")
        if domain == "positive" or domain.startswith("("):
            local[name] = sympy.Symbol(name, positive=True)
        else:
            local[name] = sympy.Symbol(name, real=True)
    u = sympy.Symbol("u", real=True)
    local.update(
        {
            "sigmoid": sympy.Lambda(u, 1 / (1 + sympy.exp(-u))),
            "softplus": sympy.Lambda(u, sympy.log(1 + sympy.exp(u))),
            "relu": sympy.Lambda(u, sympy.Max(0, u)),
            "logit": sympy.Lambda(u, sympy.log(u / (1 - u))),
            "max": sympy.Max,
            "min": sympy.Min,
            "abs": sympy.Abs,
            "ln": sympy.log,
            "e": sympy.E,
        }
    )
    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, NAIVE_PAIR_CAP)
    try:
        # safe: benchmark baseline on our own fixed suite
        a = parse_expr(expected, local_dict=local, transformations=transformations)
        b = parse_expr(
            answer, local_dict=local, transformations=transformations
        )  # safe: benchmark baseline on our own fixed suite
        decided: Any = bool(sympy.simplify(a - b) == 0)
    except _Timeout:
        decided = None
    except Exception:  # the naive way failing on a pair counts as not decided
        decided = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return decided, time.perf_counter() - start


def run_naive() -> tuple[int, list[float], int, int]:
    """(right, times, capped pairs, pairs not run because of the total cap)."""
    right = 0
    times: list[float] = []
    capped = 0
    deadline = time.perf_counter() + NAIVE_TOTAL_CAP
    pool = multiprocessing.get_context("fork").Pool(NAIVE_WORKERS, initializer=_naive_init)
    results = pool.imap(_naive_one, SUITE)
    done = 0
    try:
        for pair in SUITE:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            try:
                decided, seconds = results.next(timeout=remaining + NAIVE_PAIR_CAP)
            except multiprocessing.TimeoutError:
                break
            done += 1
            times.append(seconds)
            if decided is None:
                capped += 1
            elif decided is pair[4]:
                right += 1
    finally:
        pool.terminate()
        pool.join()
    return right, times, capped, len(SUITE) - done


def main() -> int:
    total = len(SUITE)
    equivalent = sum(1 for pair in SUITE if pair[4])
    print(f"suite: {total} pairs ({equivalent} equivalent, {total - equivalent} not)")
    ours_right, ours_times, wrong = run_ours()
    ours_median = statistics.median(ours_times)
    ours_p99 = percentile(ours_times, 0.99)
    print(
        f"ours : {ours_right}/{total} right; per check (cold caches) median "
        f"{ours_median * 1e3:.2f} ms, p99 {ours_p99 * 1e3:.2f} ms, "
        f"max {max(ours_times) * 1e3:.2f} ms"
    )
    for line in wrong:
        print(f"  wrong: {line}")
    naive_right, naive_times, capped, not_run = run_naive()
    naive_median = statistics.median(naive_times) if naive_times else float("nan")
    print(
        f"naive: {naive_right}/{total} right; median {naive_median * 1e3:.1f} ms, "
        f"p99 {percentile(naive_times, 0.99) * 1e3:.0f} ms; {capped} hit the "
        f"{NAIVE_PAIR_CAP:.0f} s cap or failed; {not_run} not run (total cap "
        f"{NAIVE_TOTAL_CAP:.0f} s, {NAIVE_WORKERS} workers)"
    )
    speedup = naive_median / ours_median
    targets = [
        ("median speed-up >= 20x (goal 50x)", speedup >= 20, f"{speedup:.0f}x"),
        ("our median <= 2 ms", ours_median <= 0.002, f"{ours_median * 1e3:.2f} ms"),
        ("our p99 <= 15 ms", ours_p99 <= 0.015, f"{ours_p99 * 1e3:.1f} ms"),
        ("strictly more right", ours_right > naive_right, f"{ours_right} vs {naive_right}"),
    ]
    for name, passed, value in targets:
        print(f"target {name}: {'PASS' if passed else 'FAIL'} ({value})")
    return 0 if not wrong and ours_right > naive_right else 1


if __name__ == "__main__":
    sys.exit(main())
