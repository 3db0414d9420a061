"""The stored variant: everything needed to show, judge and explain one exercise instance.

A variant records the exercise id, spec version, seed, parameters and the answer key as
plain data. Judging reads only this record, so a later change to the exercise or to a
family never changes a grade already given. ``to_json``/``from_json`` round-trip exactly;
``public_json`` is the student-safe view (no key, no mistakes, no solution). New keys are
read with ``.get(key, default)`` and persisted keys are never renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from grader.exercises.kinds import kind_of

if TYPE_CHECKING:  # recipes need NumPy: loaded only for a part that has one
    from grader.exercises.recipe import FollowRule

VARIANT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Mistake:
    """An answer a usual mistake gives, with its feedback and credit (0..1)."""

    code: str
    feedback: str
    value: Any
    credit: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "code": self.code,
            "feedback": self.feedback,
            "value": self.value,
            "credit": self.credit,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Mistake:
        """Inverse of :meth:`to_json`."""
        return cls(d["code"], d.get("feedback", ""), d.get("value"), float(d.get("credit", 0.0)))


@dataclass(frozen=True)
class Part:
    """One part of a variant: prompt, answer type, check options, key and mistakes."""

    id: str
    prompt_md: str
    type: str
    points: float
    check: Mapping[str, Any]
    key: Any
    key_text: str
    mistakes: tuple[Mistake, ...] = ()
    choices: tuple[Mapping[str, str], ...] | None = None
    hints: tuple[str, ...] = ()
    #: how the key follows from earlier parts (follow-through judging); None: it does not
    follow: FollowRule | None = None
    #: how feedback names this part's quantity ("∂L/∂y"); "" means the part id
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict, answer key included."""
        out = self._json()
        if self.follow is not None:
            out["follow"] = self.follow.to_json()
        if self.label:
            out["label"] = self.label
        return out

    @property
    def name(self) -> str:
        """What feedback calls this part."""
        return self.label or self.id

    def _json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prompt_md": self.prompt_md,
            "type": self.type,
            "points": self.points,
            "check": dict(self.check),
            "key": self.key,
            "key_text": self.key_text,
            "mistakes": [m.to_json() for m in self.mistakes],
            "choices": None if self.choices is None else [dict(c) for c in self.choices],
            "hints": list(self.hints),
        }

    def public_json(self) -> dict[str, Any]:
        """What a student may see before answering: no key and no mistakes."""
        check = {k: v for k, v in self.check.items() if k in ("variables", "sigfigs", "mode")}
        if self.check.get("definitions"):  # names a student may use, not their definitions
            check["definition_names"] = sorted(self.check["definitions"])
        return {
            "id": self.id,
            "prompt_md": self.prompt_md,
            "type": self.type,
            "points": self.points,
            "check": check,
            "choices": None if self.choices is None else [dict(c) for c in self.choices],
            "hints": list(self.hints),
            "shape": kind_of(self.type).shape(self.key),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Part:
        """Inverse of :meth:`to_json`."""
        choices = d.get("choices")
        follow = d.get("follow")
        return cls(
            id=d["id"],
            prompt_md=d.get("prompt_md", ""),
            type=d["type"],
            points=float(d.get("points", 1.0)),
            check=dict(d.get("check", {})),
            key=d["key"],
            key_text=d.get("key_text", ""),
            mistakes=tuple(Mistake.from_json(m) for m in d.get("mistakes", ())),
            choices=None if choices is None else tuple(dict(c) for c in choices),
            hints=tuple(d.get("hints", ())),
            follow=None if follow is None else _follow_rule(follow),
            label=d.get("label", ""),
        )


@dataclass(frozen=True)
class Variant:
    """One generated instance of an exercise."""

    exercise_id: str
    spec_version: int
    seed: int
    params: Mapping[str, Any]
    title: str
    prompt_md: str
    parts: tuple[Part, ...]
    solution_md: str
    diagram_svg: str | None = None
    solution_diagram_svg: str | None = None
    family: str | None = None
    topics: tuple[str, ...] = ()
    schema_version: int = VARIANT_SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    def part(self, part_id: str) -> Part:
        """The part with this id.

        Raises:
            KeyError: no such part.
        """
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(f"variant of {self.exercise_id!r} has no part {part_id!r}")

    def to_json(self) -> dict[str, Any]:
        """The whole record as JSON-safe data (store this with the attempt)."""
        return {
            "schema_version": self.schema_version,
            "exercise_id": self.exercise_id,
            "spec_version": self.spec_version,
            "seed": self.seed,
            "params": dict(self.params),
            "title": self.title,
            "prompt_md": self.prompt_md,
            "parts": [p.to_json() for p in self.parts],
            "solution_md": self.solution_md,
            "diagram_svg": self.diagram_svg,
            "solution_diagram_svg": self.solution_diagram_svg,
            "family": self.family,
            "topics": list(self.topics),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Variant:
        """Rebuild a stored variant (older records lack newer keys: defaults apply)."""
        return cls(
            exercise_id=d["exercise_id"],
            spec_version=int(d["spec_version"]),
            seed=int(d["seed"]),
            params=dict(d.get("params", {})),
            title=d.get("title", ""),
            prompt_md=d.get("prompt_md", ""),
            parts=tuple(Part.from_json(p) for p in d["parts"]),
            solution_md=d.get("solution_md", ""),
            diagram_svg=d.get("diagram_svg"),
            solution_diagram_svg=d.get("solution_diagram_svg"),
            family=d.get("family"),
            topics=tuple(d.get("topics", ())),
            schema_version=int(d.get("schema_version", VARIANT_SCHEMA_VERSION)),
            extra=dict(d.get("extra", {})),
        )

    def public_json(self) -> dict[str, Any]:
        """The student-safe view: prompt, parts and the plain diagram; no key or solution."""
        return {
            "schema_version": self.schema_version,
            "exercise_id": self.exercise_id,
            "spec_version": self.spec_version,
            "seed": self.seed,
            "title": self.title,
            "prompt_md": self.prompt_md,
            "parts": [p.public_json() for p in self.parts],
            "diagram_svg": self.diagram_svg,
            "topics": list(self.topics),
        }


def _follow_rule(data: Mapping[str, Any]) -> FollowRule:
    from grader.exercises.recipe import FollowRule  # NumPy: only for parts that follow

    return FollowRule.from_json(data)
