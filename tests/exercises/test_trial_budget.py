"""Validating an exercise in the editor has a CPU bound: its trial stops redrawing past it.

The bound is CPU time, not wall time, and only the editor's trial has one: loading the
library or a stored version, and serving a variant, never depend on how busy the process
is (no timing in these asserts either: the budget is zero so the cut is certain).
"""

from __future__ import annotations

import pytest

from grader.exercises import generator
from grader.exercises.errors import SpecError
from grader.exercises.spec import load_spec_text
from grader.services import authoring

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


def test_a_trial_past_its_cpu_budget_refuses_the_spec() -> None:
    with pytest.raises(SpecError, match="generating a variant takes too long"):
        load_spec_text(SLOW, trial_budget=0.0)


def test_the_editor_validates_with_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authoring, "TRIAL_CPU_BUDGET", 0.0)
    problems = authoring.validate_source(SLOW)
    assert any("takes too long" in p["message"] for p in problems), problems


def test_loading_without_a_budget_never_cuts_on_time() -> None:
    spec_text = SLOW.replace("d0 > 1000", "w > -100")
    assert load_spec_text(spec_text).id == "slow-trial"


def test_serving_has_no_budget_so_variants_do_not_depend_on_load() -> None:
    spec_text = SLOW.replace("d0 > 1000", "w > -100")
    spec = load_spec_text(spec_text)
    first = generator.generate(spec, 5)
    assert generator.generate(spec, 5).to_json() == first.to_json()
