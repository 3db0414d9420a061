"""Families register themselves: the module list matches the files, names agree, and a
new family is one new file (the toy below touches nothing else)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.exercises import generate
from grader.exercises import judge
from grader.exercises import load_library
from grader.exercises import self_test
from grader.exercises.families import FAMILIES
from grader.exercises.families import FAMILY_MODULES
from grader.exercises.families import registry
from grader.exercises.reference import family_reference_md

FAMILY_DIR = Path(registry.__file__).parent


def _registering_files() -> set[str]:
    return {p.stem for p in FAMILY_DIR.glob("*.py") if "@register_family" in p.read_text()}


def test_the_module_list_is_the_family_files() -> None:
    listed = {m.__name__.rsplit(".", 1)[1] for m in FAMILY_MODULES}
    assert listed == _registering_files()
    assert {type(f).__module__.rsplit(".", 1)[1] for f in FAMILIES.values()} == listed


@pytest.mark.parametrize("key", sorted(FAMILIES))
def test_file_class_and_key_agree(key: str) -> None:
    family = FAMILIES[key]
    assert family.name == key
    assert type(family).__module__ == f"grader.exercises.families.{key}"
    assert type(family).__name__.lower() == key.replace("_", "")


def test_a_second_family_under_a_known_key_is_refused() -> None:
    class Impostor(registry.Family):
        name = "delta_rule"

    with pytest.raises(ValueError, match="already"):
        registry.register_family(Impostor)
    assert type(FAMILIES["delta_rule"]).__name__ == "DeltaRule"


TOY_FAMILY = '''
"""A toy family: y = a * x, with one mistake."""
from grader.exercises.families.base import Family, FamilyOutput, MistakeValue, Quantity
from grader.exercises.families.base import QuantityInfo
from grader.exercises.families.registry import register_family


@register_family
class ToyScale(Family):
    name = "toy_scale"
    description = "a toy: scale a number"
    parameters = {"a": {"choices": [2, 3, 5]}, "x": {"choices": [7, 11, 13]}}

    def quantities(self, options):
        return {"y": QuantityInfo("numeric", ("added",), "a times x")}

    def build(self, params, options, rng):
        a, x = float(params["a"]), float(params["x"])
        y = Quantity("numeric", a * x, (MistakeValue("added", a + x, "Multiply, not add."),))
        return FamilyOutput({"y": y}, {}, f"$y = {a:g} \\\\cdot {x:g}$")
'''

TOY_EXERCISE = """
id: toy-scale
title: Scale a number
version: 1
topics: [toy]
family: toy_scale
prompt: "Multiply {{a}} by {{x}}."
parts:
  - id: y
    key: y
    prompt: "y = ?"
"""


@pytest.fixture
def registry_snapshot() -> Iterator[None]:
    saved = dict(FAMILIES)
    yield
    FAMILIES.clear()
    FAMILIES.update(saved)
    sys.modules.pop("toy_scale", None)


def test_a_toy_family_is_one_new_file(tmp_path: Path, registry_snapshot: None) -> None:
    source = tmp_path / "toy_scale.py"
    source.write_text(textwrap.dedent(TOY_FAMILY))
    spec = importlib.util.spec_from_file_location("toy_scale", source)
    assert spec is not None
    assert spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))

    assert "toy_scale" in FAMILIES
    assert "### `toy_scale`: a toy: scale a number" in family_reference_md()
    (tmp_path / "toy.yaml").write_text(TOY_EXERCISE)
    exercise = load_library(tmp_path)["toy-scale"]
    assert self_test(exercise, range(3)) == []
    variant = generate(exercise, 0)
    a, x = float(variant.params["a"]), float(variant.params["x"])
    assert judge(variant, "y", str(a * x)).status == "correct"
    assert judge(variant, "y", str(a + x)).status == "incorrect"
