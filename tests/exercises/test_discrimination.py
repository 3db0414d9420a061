"""Every variant discriminates (issue 12): mistakes recomputed here, independently of the
families, are never judged correct, and a correctly rounded answer always is.

The mistakes are computed from the variant's parameters with plain floats (delta rule,
chain rule, activation derivatives) or from the update itself (any part that names the
value its update starts from: unchanged, sign flipped, doubled, halved, forgot eta).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import ClassVar

import numpy as np
import pytest
from click.testing import CliRunner

from grader.cli.exercise_cmds import validate_command
from grader.exercises import FAMILIES
from grader.exercises import Variant
from grader.exercises import generate
from grader.exercises import judge
from grader.exercises import load_spec_text
from grader.exercises.families.base import Family
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import MistakeValue
from grader.exercises.families.base import Quantity
from grader.exercises.families.base import QuantityInfo
from tests.exercises.helpers import ACT
from tests.exercises.helpers import fd

SEEDS = range(200)


def _rounded(value: float, figures: int) -> str:
    """``value`` correctly rounded to ``figures`` significant figures, by Python's format."""
    return f"{value:.{figures - 1}e}"


def _array_text(value: Any, places: int) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_array_text(x, places) for x in value) + "]"
    return f"{value:.{places}f}"


def _forms(value: float, figures: int) -> list[str]:
    return [repr(value), _rounded(value, figures), _rounded(value, figures + 1)]


def _variants(library: dict[str, Any], exercise_id: str) -> Iterator[Variant]:
    for seed in SEEDS:
        yield generate(library[exercise_id], seed)


def _never_correct(v: Variant, part_id: str, wrong: float, why: str) -> None:
    part = v.part(part_id)
    figures = int(part.check.get("figures", 3))
    if math.isclose(wrong, part.key, rel_tol=0, abs_tol=1e-12):
        return  # not a mistake for these numbers (the family leaves such cases out too)
    for text in _forms(wrong, figures):
        r = judge(v, part_id, text)
        assert r.status != "correct", f"{v.exercise_id} seed {v.seed} {part_id}: {why} {text}"


def _update_mistakes(v: Variant, part_id: str) -> dict[str, float]:
    part = v.part(part_id)
    ref, key = float(part.check["reference"]), float(part.key)
    step = key - ref
    out = {
        "unchanged": ref,
        "sign flipped": ref - step,
        "doubled step": ref + 2 * step,
        "halved step": ref + step / 2,
    }
    rate = v.params.get("eta", v.params.get("lr"))
    if rate not in (None, 1, 1.0):
        out["forgot eta"] = ref + step / float(rate)
    return out


@pytest.mark.slow  # every part of every exercise, many seeds: minutes
def test_correct_rounding_is_accepted_and_updates_discriminate(library) -> None:
    checked = 0
    for exercise_id in sorted(library):
        for v in _variants(library, exercise_id):
            for part in v.parts:
                if "decimals" in part.check:
                    places = int(part.check["decimals"])
                    text = _array_text(part.key, places)
                    assert judge(v, part.id, text).status == "correct", (exercise_id, text)
                    assert f"{places} decimal place" in part.prompt_md
                if "figures" not in part.check or part.type != "numeric":
                    continue
                figures = int(part.check["figures"])
                for text in (_rounded(part.key, figures), _rounded(part.key, figures + 2)):
                    r = judge(v, part.id, text)
                    assert r.status == "correct", f"{exercise_id} seed {v.seed} {part.id}: {text}"
                assert f"{figures} significant figures" in part.prompt_md
                if "reference" in part.check:
                    for why, wrong in _update_mistakes(v, part.id).items():
                        _never_correct(v, part.id, wrong, why)
                checked += 1
    assert checked > 2000


@pytest.mark.slow  # a parameter sweep
def test_delta_rule_mistakes_from_the_parameters(library) -> None:
    for v in _variants(library, "delta-rule-classic"):
        p = v.params
        y = p["w1"] * p["x1"] + p["w2"] * p["x2"]
        err, eta = p["t"] - y, p["eta"]
        for i, part_id in ((1, "w1"), (2, "w2")):
            w, x = p[f"w{i}"], p[f"x{i}"]
            assert v.part(part_id).key == pytest.approx(w + eta * err * x, abs=1e-12)
            wrong = {
                "unchanged": w,
                "sign flipped": w - eta * err * x,
                "forgot eta": w + err * x,
                "forgot input": w + eta * err,
                "factor 2": w + 2 * eta * err * x,
                "only the change": eta * err * x,
            }
            for why, value in wrong.items():
                _never_correct(v, part_id, value, why)


def _fprime(name: str, z: float) -> float:
    return fd(ACT[name], z)


@pytest.mark.slow  # a parameter sweep
def test_chain_rule_forgotten_derivatives_from_the_parameters(library) -> None:
    for v in _variants(library, "chain-rule-numeric"):
        p = v.params
        z1 = p["w1"] * p["x"] + p["b1"]
        h = ACT[p["f"]](z1)
        z2 = p["w2"] * h + p["b2"]
        y = ACT[p["g"]](z2)
        dy = 2 * (y - p["t"])
        gp, fp = _fprime(p["g"], z2), _fprime(p["f"], z1)
        assert v.part("dw2").key == pytest.approx(dy * gp * h, rel=1e-6, abs=1e-9)
        if p["g"] != "linear":
            _never_correct(v, "dw2", dy * h, "forgot g'")
            _never_correct(v, "dw1", dy * p["w2"] * fp * p["x"], "forgot g'")
        if p["f"] != "linear":
            _never_correct(v, "dw1", dy * gp * p["w2"] * p["x"], "forgot f'")
        _never_correct(v, "dw2", -dy * gp * h, "sign")
        _never_correct(v, "dw2", dy / 2 * gp * h, "forgot 2")


def test_activation_derivative_mistakes_from_the_parameters(library) -> None:
    for v in _variants(library, "activation-derivatives"):
        name, z = v.params["act"], v.params["z0"]
        value = _fprime(name, z)
        assert v.part("at_point").key == pytest.approx(value, rel=1e-6, abs=1e-9)
        _never_correct(v, "at_point", ACT[name](z), "gave f")
        _never_correct(v, "at_point", -value, "sign")


# --------------------------------------------------------------------------- a broken family


class _Blurry(Family):
    """A toy family whose one mistake is the key itself whenever a = 2 (or always)."""

    name = "toy_blurry"
    parameters: ClassVar[dict[str, dict[str, Any]]] = {
        "a": {"range": [1.0, 3.0], "step": 0.5},
    }

    def __init__(self, always: bool) -> None:
        self.always = always

    def quantities(self, options: Any) -> dict[str, QuantityInfo]:
        return {"v": QuantityInfo("numeric", ("doubled",), "2a")}

    def build(self, params: Any, options: Any, rng: np.random.Generator) -> FamilyOutput:
        a = float(params["a"])
        wrong = 2 * a if self.always else a * a  # a² = 2a exactly when a = 2
        mistake = MistakeValue("doubled", wrong, "No.")
        return FamilyOutput({"v": Quantity("numeric", 2 * a, (mistake,))}, {})


TOY = textwrap.dedent(
    """\
    id: toy-blurry
    title: Toy
    version: 1
    family: toy_blurry
    prompt: "a = {{a}}"
    parts:
      - {id: v, key: v, prompt: "2a = ?"}
    """
)


@pytest.fixture
def blurry(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    def install(always: bool) -> None:
        monkeypatch.setitem(FAMILIES, "toy_blurry", _Blurry(always))

    return install


def test_validate_fails_naming_exercise_seed_part_and_mistake(blurry, tmp_path) -> None:
    blurry(True)
    (tmp_path / "toy-blurry.yaml").write_text(TOY, encoding="utf-8")
    result = CliRunner().invoke(validate_command, [str(tmp_path), "--seeds", "5"])
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("FAIL"))
    for word in ("toy-blurry", "seed 0", "part v", "mistake doubled", "cannot be told"):
        assert word in line, line


def test_a_draw_that_cannot_discriminate_is_redrawn_from_the_seed(blurry) -> None:
    blurry(False)
    spec = load_spec_text(TOY)
    drawn = [generate(spec, seed) for seed in range(40)]
    assert all(v.params["a"] != 2.0 for v in drawn)
    assert all(v.part("v").mistakes[0].code == "doubled" for v in drawn)  # never dropped
    assert [generate(spec, s).to_json() for s in range(40)] == [v.to_json() for v in drawn]
