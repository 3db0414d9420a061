"""Generation: deterministic, reproducible with fixed parameters, well-posed, bounded."""

from __future__ import annotations

import json
import textwrap
import time

import pytest

from grader.exercises import SpecError
from grader.exercises import Variant
from grader.exercises import generate
from grader.exercises import load_spec_text
from grader.exercises.sampling import decimals_of

DECLARATIVE = textwrap.dedent(
    """\
    id: decl
    title: Declarative neuron
    version: 3
    parameters:
      w: {range: [-1.5, 1.5], step: 0.1, exclude: [0]}
      x: {range: [-2, 2], step: 0.5, exclude: [0]}
      t: {choices: [0, 1]}
    derived:
      y: sigmoid(w*x)
    constraints:
      - abs(y - t) >= 0.1
    prompt: "w = {{w}}, x = {{x}}, t = {{t}}, y = {{y:.3f}}"
    parts:
      - id: dw
        type: numeric
        answer: (y - t)*y*(1 - y)*x
        mistakes:
          - {code: forgot_activation_derivative, answer: (y - t)*x, credit: 0.25}
      - id: formula
        type: expression
        answer: (sigmoid(w*x) - t)*sigmoid(w*x)*(1 - sigmoid(w*x))*x
        check: {variables: [w]}
      - id: both
        type: vector
        answer: "[y, 1 - y]"
    """
)


def test_same_seed_same_variant_different_seeds_differ(library) -> None:
    for spec in library.values():
        a, b = generate(spec, 7), generate(spec, 7)
        assert a.to_json() == b.to_json(), spec.id
    variants = {json.dumps(generate(library["delta-rule-classic"], s).params) for s in range(20)}
    assert len(variants) > 15


def test_classic_example_is_reproduced_exactly(gen) -> None:
    v = gen("delta-rule-classic", 0, x1="1.2", x2="0.8", w1="0.5", w2="-0.2", t="0.6", eta="0.1")
    assert v.params == {"x1": 1.2, "x2": 0.8, "w1": 0.5, "w2": -0.2, "t": 0.6, "eta": 0.1}
    assert v.part("y").key_text == "0.440"
    assert v.part("w1").key_text == "0.519"
    assert v.part("w2").key_text == "-0.187"
    assert "$x_1 = 1.2$ and $x_2 = 0.8$" in v.prompt_md


def test_fixing_one_parameter_keeps_it(gen) -> None:
    for seed in range(10):
        assert gen("delta-rule-classic", seed, w1=0.3).params["w1"] == 0.3


def test_unknown_or_bad_parameters_are_value_errors(gen) -> None:
    with pytest.raises(ValueError, match="no parameter 'w9'"):
        gen("delta-rule-classic", 0, w9=1)
    with pytest.raises(ValueError, match="not a number"):
        gen("delta-rule-classic", 0, w1="abc")
    with pytest.raises(ValueError, match="seed"):
        generate(load_spec_text(DECLARATIVE), -1)


def test_fixed_parameters_that_cannot_work_raise_spec_error(gen) -> None:
    with pytest.raises(SpecError, match="fixed parameters"):
        gen("delta-rule-classic", 0, x1=1, x2=1, w1=0.3, w2=0.3, t=0.6)


def test_grid_values_print_exactly(library) -> None:
    assert decimals_of(0.05) == 2
    assert decimals_of(1) == 0
    for seed in range(30):
        for value in generate(library["delta-rule-classic"], seed).params.values():
            assert len(repr(value)) <= 5, value


def test_declarative_exercise(library) -> None:
    spec = load_spec_text(DECLARATIVE, "decl.yaml")
    for seed in range(20):
        v = generate(spec, seed)
        w, x, t = v.params["w"], v.params["x"], v.params["t"]
        import math

        y = 1 / (1 + math.exp(-w * x))
        assert abs(y - t) >= 0.1
        assert v.part("dw").key == pytest.approx((y - t) * y * (1 - y) * x, rel=1e-12)
        assert v.part("both").key == pytest.approx([y, 1 - y], rel=1e-12)
        assert "w" in v.part("formula").key  # the variable stays symbolic
        assert f"x = {x:g}" in v.prompt_md or f"x = {int(x)}" in v.prompt_md
        assert v.spec_version == 3


def test_declarative_bad_expressions_are_refused_with_place() -> None:
    err = _error(DECLARATIVE.replace("(y - t)*x, credit", "(y - t)*/x, credit"))
    assert err.field == "parts[0].mistakes[0].answer"
    assert "cannot parse" in err.message
    assert "character" in err.message
    err = _error(DECLARATIVE.replace("abs(y - t) >= 0.1", "abs(y - q) >= 0.1"))
    assert err.field == "constraints[0]"
    assert "unknown name(s) q" in err.message
    err = _error(DECLARATIVE.replace('"[y, 1 - y]"', "y"))
    assert "must be a list" in err.message
    err = _error(DECLARATIVE.replace("abs(y - t) >= 0.1", "abs(y - t)"))
    assert "needs one of <" in err.message


def test_unsatisfiable_constraint_names_file_and_line_quickly() -> None:
    start = time.thread_time()
    err = _error(DECLARATIVE.replace("abs(y - t) >= 0.1", "w > 5"), "stuck.yaml")
    assert time.thread_time() - start < 3
    assert err.source == "stuck.yaml"
    assert err.field == "constraints[0]"
    assert err.line == 11
    assert "'w > 5' fails" in err.message


def _error(text: str, source: str = "decl.yaml") -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, source)
    return info.value


def test_variant_json_round_trip_and_public_view(library) -> None:
    for spec in library.values():
        v = generate(spec, 3)
        data = json.loads(json.dumps(v.to_json()))
        again = Variant.from_json(data)
        assert again == v
        public = v.public_json()
        text = json.dumps(public)
        assert "key" not in text.replace("key_", "")
        assert "mistakes" not in text
        assert "solution" not in text
        for part in public["parts"]:
            assert set(part) == {
                "id",
                "prompt_md",
                "type",
                "points",
                "check",
                "choices",
                "hints",
                "shape",
            }


def test_old_records_without_new_keys_still_load(gen) -> None:
    data = gen("delta-rule-classic", 1).to_json()
    for key in (
        "diagram_svg",
        "solution_diagram_svg",
        "family",
        "topics",
        "extra",
        "schema_version",
    ):
        data.pop(key)
    v = Variant.from_json(data)
    assert v.schema_version == 1
    assert v.diagram_svg is None


def test_numbers_are_well_posed(library) -> None:
    for spec_id in ("chain-rule-numeric", "matrix-deltas-232", "softmax-cross-entropy"):
        for seed in range(30):
            v = generate(library[spec_id], seed)
            for part in v.parts:
                flat = json.loads(json.dumps(part.key))
                values = flat if isinstance(flat, list) else [flat]
                values = [x for row in values for x in (row if isinstance(row, list) else [row])]
                assert all(abs(x) >= 1e-3 for x in values), (spec_id, seed, part.id)
