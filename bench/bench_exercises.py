"""Median time to generate a variant with its answer key, per family (target < 5 ms each).

Run: ``.venv/bin/python bench/bench_exercises.py [--seeds N] [--json]``. Each built-in
exercise is generated for N seeds after one warm-up call (which fills per-process caches
such as the symbolic twin's derivatives); the table reports the median and the 95th
percentile per family, and the worst exercise of each family.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict

from grader.exercises import generate
from grader.exercises import load_library

TARGET_MS = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    specs = load_library()
    per_family: dict[str, list[float]] = defaultdict(list)
    per_exercise: dict[str, float] = {}
    for spec in specs.values():
        generate(spec, 10**6)  # warm-up
        times = []
        for seed in range(args.seeds):
            start = time.perf_counter()
            generate(spec, seed)
            times.append((time.perf_counter() - start) * 1000)
        family = spec.family or "declarative"
        per_family[family] += times
        per_exercise[spec.id] = statistics.median(times)
    rows = []
    for family, times in sorted(per_family.items()):
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        rows.append({"family": family, "median_ms": statistics.median(times), "p95_ms": p95})
    ok = all(r["median_ms"] < TARGET_MS for r in rows)
    if args.json:
        print(json.dumps({"families": rows, "exercises": per_exercise, "ok": ok}, indent=2))
    else:
        print(f"{'family':28} {'median ms':>10} {'p95 ms':>8}")
        for r in rows:
            flag = "" if r["median_ms"] < TARGET_MS else "  (over target)"
            print(f"{r['family']:28} {r['median_ms']:10.2f} {r['p95_ms']:8.2f}{flag}")
        print(f"target: median < {TARGET_MS} ms per family: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
