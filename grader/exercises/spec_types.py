"""The validated exercise spec's data classes (:mod:`grader.exercises.spec` builds them).

Kept apart from the loader so the generator and the sampler can use them without importing
the loader, which runs a trial generation (no import circle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from grader.exercises.schema import SCHEMA_VERSION
from grader.exercises.yamlsafe import Path


@dataclass(frozen=True)
class ParamSpec:
    """How to draw one parameter: a stepped range, a list of choices, or a fixed value."""

    name: str
    kind: str  # "range" | "choices" | "value"
    low: float = 0.0
    high: float = 0.0
    step: float = 0.1
    exclude: tuple[float, ...] = ()
    choices: tuple[Any, ...] = ()
    value: Any = None

    @classmethod
    def from_data(cls, name: str, data: Mapping[str, Any]) -> ParamSpec:
        """Build from the format's mapping (already schema-checked)."""
        if "range" in data:
            low, high = data["range"]
            return cls(
                name,
                "range",
                low=low,
                high=high,
                step=data.get("step", 0.1),
                exclude=tuple(data.get("exclude", ())),
            )
        if "choices" in data:
            return cls(name, "choices", choices=tuple(data["choices"]))
        return cls(name, "value", value=data["value"])


@dataclass(frozen=True)
class MistakeSpec:
    """A mistake a part recognises, its credit (0..1) and feedback."""

    code: str
    credit: float = 0.0
    feedback: str | None = None
    answer: str | None = None


@dataclass(frozen=True)
class ChoiceSpec:
    """One option of a declarative choice part."""

    text: str
    correct: bool = False
    feedback: str | None = None


@dataclass(frozen=True)
class PartSpec:
    """One answerable part of an exercise."""

    id: str
    prompt: str = ""
    type: str | None = None
    key: str | None = None
    answer: str | None = None
    choices: tuple[ChoiceSpec, ...] = ()
    shuffle: bool = True
    check: Mapping[str, Any] = field(default_factory=dict)
    points: float = 1.0
    hints: tuple[str, ...] = ()
    mistakes: tuple[MistakeSpec, ...] = ()
    mistakes_given: bool = False
    #: declarative: the earlier parts the answer is computed from (names in ``answer``)
    follows: tuple[str, ...] = ()
    #: declarative: how follow-through feedback names this part's value
    label: str = ""


@dataclass(frozen=True)
class ExerciseSpec:
    """A validated exercise, ready for :func:`grader.exercises.generate`."""

    id: str
    title: str
    version: int
    prompt: str
    parts: tuple[PartSpec, ...]
    topics: tuple[str, ...] = ()
    family: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, ParamSpec] = field(default_factory=dict)
    derived: Mapping[str, str] = field(default_factory=dict)
    constraints: tuple[str, ...] = ()
    solution: str = ""
    schema_version: int = SCHEMA_VERSION
    source: str = "<editor>"
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    lines: Mapping[Path, int] = field(default_factory=dict, compare=False, repr=False)
    compiled: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, path: Path) -> int | None:
        """The line of a field, or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def part(self, part_id: str) -> PartSpec:
        """The part with this id (KeyError when none)."""
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)
