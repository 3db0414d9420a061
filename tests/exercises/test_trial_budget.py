"""Validating an exercise has a CPU bound: the load-time trial stops redrawing past it.

The bound is CPU time, not wall time, and only the load-time trial has one: serving a
variant never depends on how busy the machine is (no timing in these asserts either: the
budget is set to zero so the cut is certain).
"""

from __future__ import annotations

import pytest

from grader.exercises import generator
from grader.exercises.errors import SpecError
from grader.exercises.spec import load_spec_text

EXPR = "+".join(f"sigmoid(w*x+{i / 10})*tanh(b*x-{i / 10})" for i in range(40))
SLOW = f"""id: slow-trial
title: Twenty long derived values and a constraint that never holds
version: 1
topics: [x]
parameters:
  w: {{range: [-1.5, 1.5], step: 0.1, exclude: [0]}}
  b: {{range: [-1, 1], step: 0.1}}
  x: {{range: [-2, 2], step: 0.5, exclude: [0]}}
derived:
{chr(10).join(f"  d{i}: {EXPR}" for i in range(20))}
constraints:
  - d0 > 1000
prompt: hi
parts:
  - id: y
    type: numeric
    prompt: "q"
    answer: d1
"""


def test_a_trial_past_its_cpu_budget_refuses_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator, "TRIAL_CPU_BUDGET", 0.0)
    with pytest.raises(SpecError, match="generating a variant takes too long"):
        load_spec_text(SLOW)


def test_serving_has_no_budget_so_variants_do_not_depend_on_load() -> None:
    spec_text = SLOW.replace("d0 > 1000", "w > -100")
    spec = load_spec_text(spec_text)
    first = generator.generate(spec, 5)
    assert generator.generate(spec, 5).to_json() == first.to_json()
