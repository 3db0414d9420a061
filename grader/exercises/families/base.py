"""What a family is: trusted Python that turns parameters into quantities with their keys.

A family declares its default parameters, the JSON Schema of its options, and the
quantities it can compute (each with an answer type and the mistake codes it knows). Its
``build`` uses the engine to compute every quantity, the answers that the usual mistakes
would give, a worked solution and a diagram. It raises :class:`IllPosed` for numbers that
would make a poor exercise (a saturated sigmoid, a gradient that rounds to zero), and the
generator then draws again.

Family code uses math names (``W``, ``dW`` = dL/dW) on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import ClassVar

import numpy as np

from grader.exercises.graph import GraphLayout
from grader.exercises.recipe import Recipe

Number = float | int
KeyValue = float | list[float] | list[list[float]] | str | list[str]


class IllPosed(Exception):
    """The drawn numbers make a poor exercise; draw again."""


@dataclass(frozen=True)
class MistakeValue:
    """The answer one usual mistake gives, and what to tell a student who gives it."""

    code: str
    value: KeyValue
    feedback: str


@dataclass(frozen=True)
class Quantity:
    """One answerable quantity: its type, key, mistakes and default check options."""

    type: str
    value: KeyValue
    mistakes: tuple[MistakeValue, ...] = ()
    check: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[Mapping[str, str], ...] | None = None
    #: how this key is computed from other quantities (follow-through), over their names
    recipe: Recipe | None = None
    #: how feedback names the quantity ("∂L/∂y")
    label: str = ""


@dataclass(frozen=True)
class QuantityInfo:
    """What a family can compute, known before any numbers are drawn (for validation)."""

    type: str
    mistakes: tuple[str, ...] = ()
    description: str = ""


@dataclass
class FamilyOutput:
    """Everything one build produces."""

    quantities: dict[str, Quantity]
    values: dict[str, Any]
    solution_md: str = ""
    diagram_svg: str | None = None
    solution_diagram_svg: str | None = None
    #: numbers the family drew itself (vectors, matrices), recorded with the parameters
    drawn: dict[str, Any] = field(default_factory=dict)
    #: the diagram's nodes for answering on the graph (over quantity names); None: no graph
    graph: GraphLayout | None = None


class Family:
    """Base class of the built-in families; subclasses fill the class attributes."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: default parameter declarations, in the format's own shape (``{"range": [..], "step": ..}``)
    parameters: ClassVar[dict[str, dict[str, Any]]] = {}
    #: True when ``build`` draws numbers from the rng itself (so redrawing can help)
    draws: ClassVar[bool] = False
    #: JSON Schema of ``options``; validated with the format's validator
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {},
    }

    def parameter_defaults(self, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Default parameter declarations under these options (a spec may override each)."""
        return dict(self.parameters)

    def quantities(self, options: Mapping[str, Any]) -> dict[str, QuantityInfo]:
        """The quantities that parts may ask for, under these options."""
        raise NotImplementedError

    def value_names(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """Names (besides parameters) that prompts and constraints may use."""
        return ()

    def validate_options(self, options: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
        """Cross-field option checks that JSON Schema cannot say; (path, message) pairs."""
        return []

    def build(
        self, params: Mapping[str, Any], options: Mapping[str, Any], rng: np.random.Generator
    ) -> FamilyOutput:
        """Compute every quantity for these parameters.

        Raises:
            IllPosed: the numbers would make a poor exercise.
        """
        raise NotImplementedError


def as_float(value: Any) -> float:
    """A parameter as a float (parameters may be drawn as ints)."""
    return float(value)


def tolist(array: Any) -> Any:
    """A NumPy array (or scalar) as nested Python floats."""
    return np.asarray(array, dtype=float).tolist()


def require(condition: bool, reason: str) -> None:
    """Raise :class:`IllPosed` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise IllPosed(reason)
