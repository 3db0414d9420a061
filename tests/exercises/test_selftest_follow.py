"""``validate-exercises`` checks follow-through: it never turns a mistake into credit where
the earlier values were right, on every seed it validates, for every exercise with rules.

The checks must be able to fail: a stored rule that does not give back its key, a
follow-through that credits a mistake made from right earlier answers, and a spec whose
rule would let a mistake through are each reported.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from grader.cli.exercise_cmds import validate_command
from grader.exercises import follow
from grader.exercises import generate
from grader.exercises import selftest
from grader.exercises.follow import Earlier
from grader.exercises.library import load_library
from grader.exercises.recipe import FollowRule
from grader.exercises.recipe import from_json
from grader.exercises.recipe import to_json
from grader.exercises.variant import Variant

REPO = Path(__file__).resolve().parents[2]
NEURON = REPO / "exercises" / "declarative-sigmoid-neuron.yaml"


def _with_rule(v: Variant, part_id: str, recipe: dict) -> Variant:
    data = v.to_json()
    for p in data["parts"]:
        if p["id"] == part_id:
            p["follow"]["recipe"] = recipe
    return Variant.from_json(data)


def _mistake_recipe(v: Variant) -> dict:
    """dw's rule made to compute the sign-flipped mistake instead of the key."""
    rule = v.part("dw").follow
    assert isinstance(rule, FollowRule)
    return to_json(from_json({"op": "neg", "args": [to_json(rule.recipe)]}))


def test_every_library_exercise_with_rules_passes() -> None:
    lib = load_library()
    checked = 0
    for spec in lib.values():
        for seed in range(3):
            v = generate(spec, seed)
            assert selftest.check_follow_through(v, f"{spec.id} {seed}", set()) == []
            checked += sum(p.follow is not None for p in v.parts)
    assert checked > 0


def test_a_stored_rule_that_does_not_give_back_its_key_is_reported() -> None:
    spec = load_library()["declarative-sigmoid-neuron"]
    v = generate(spec, 4)
    broken = _with_rule(v, "dw", _mistake_recipe(v))
    problems = selftest.check_follow_through(broken, "x", set())
    assert any("part dw: its follow-through rule gives" in p for p in problems), problems
    assert selftest.check_follow_through(v, "x", set()) == []


def test_follow_through_that_credits_a_mistake_from_right_values_is_reported(
    monkeypatch,
) -> None:
    # A follow-through that took every right earlier answer for a wrong one (of the
    # key's value), with a rule that gives a declared mistake: the mistake, made from
    # right values, would earn credit.
    spec = load_library()["declarative-sigmoid-neuron"]
    v = generate(spec, 4)
    broken = _with_rule(v, "dw", _mistake_recipe(v))
    real = follow.earlier_answer

    def everything_wrong(variant, part_id, raw):
        e = real(variant, part_id, raw)
        return None if e is None else Earlier(False, variant.part(part_id).key)

    monkeypatch.setattr(follow, "earlier_answer", everything_wrong)
    problems = selftest.check_follow_through(broken, "x", set())
    assert any(
        "part dw: mistake sign_flipped with right earlier answers judges consistent" in p
        for p in problems
    ), problems


def test_validate_exercises_runs_the_follow_through_check(tmp_path: Path, monkeypatch) -> None:
    calls: list[str] = []
    real = selftest.check_follow_through

    def spy(variant, where, seen):
        calls.append(where)
        return real(variant, where, seen)

    monkeypatch.setattr(selftest, "check_follow_through", spy)
    result = CliRunner().invoke(validate_command, [str(NEURON), "--seeds", "3"])
    assert result.exit_code == 0, result.output
    assert calls == [f"declarative-sigmoid-neuron seed {s}" for s in range(3)]


def test_a_spec_whose_rule_would_let_a_mistake_through_is_reported(tmp_path: Path) -> None:
    # Part y asks for w*x + b (the pre-activation) while dw's key uses the derived
    # y = sigmoid(z): dw's rule, fed part y's value, computes the "forgot the sigmoid"
    # gradient, not the key.
    text = NEURON.read_text(encoding="utf-8")
    text = text.replace("answer: sigmoid(w*x + b)\n", "answer: w*x + b\n", 1)
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(validate_command, [str(tmp_path), "--seeds", "3"])
    assert result.exit_code == 1, result.output
    line = next(r for r in result.output.splitlines() if r.startswith("FAIL"))
    assert "broken.yaml:" in line
    assert "parts[1].answer: part dw: its answer with the earlier answers (y = " in line
    assert "not its key" in line
    assert "y here means the earlier part" in line
