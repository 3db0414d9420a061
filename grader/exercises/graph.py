"""Answering on the graph: the typed layout a graph-shaped family declares once.

A :class:`GraphLayout` says which nodes the diagram has (id, label, where they sit in the
plain diagram's SVG coordinates), which quantity gives each node's forward value and which
its gradient, and the backward order (output to inputs) in which a student fills them.
The family names quantities; :meth:`GraphLayout.resolve` turns them into the part ids an
exercise asks (dropping the ones it does not ask), and the result is stored in the variant
(``Variant.extra["graph"]``), so a page shows a stored variant the way it was generated.

:func:`first_wrong_node` finds the node to highlight from the student's answers with the
same rule follow-through uses for its "first wrong step" (:mod:`grader.exercises.follow`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from typing import Any
from typing import Literal

from grader.exercises.follow import ancestors
from grader.exercises.follow import earlier_answer
from grader.exercises.kinds.base import Raw
from grader.exercises.variant import Variant

#: what a field asks at its node
Role = Literal["forward", "gradient", "also"]
#: where ``Variant.extra`` keeps the layout
EXTRA_KEY = "graph"


@dataclass(frozen=True)
class Field:
    """One answer box at a node: the part it answers and how a screen reader names it."""

    role: Role
    part: str  #: a quantity name in a family's declaration, a part id once resolved
    label: str  #: the quantity ("∂L/∂h", "h"), read after the role and node


@dataclass(frozen=True)
class GraphNode:
    """One node of the diagram, with the answer boxes it carries."""

    id: str
    label: str
    #: centres in the plain diagram's SVG coordinates (a layer node covers several units)
    at: tuple[tuple[float, float], ...]
    radius: float = 24.0
    forward: Field | None = None
    gradient: Field | None = None
    #: further parts asked at this node (w1 after one step), after the gradient
    also: tuple[Field, ...] = ()
    #: the forward value given in the exercise ("x = 0.5"), when it is not asked
    known: str = ""

    @property
    def fields(self) -> tuple[Field, ...]:
        """The answer boxes in tab order: forward value, gradient, the rest."""
        head = tuple(f for f in (self.forward, self.gradient) if f is not None)
        return head + self.also


@dataclass(frozen=True)
class GraphLayout:
    """The diagram's nodes, in the backward order a student fills them (output first)."""

    width: float
    height: float
    nodes: tuple[GraphNode, ...]

    @property
    def backward_order(self) -> tuple[str, ...]:
        """Node ids from the output back to the inputs."""
        return tuple(n.id for n in self.nodes)

    def node(self, node_id: str) -> GraphNode:
        """The node with this id.

        Raises:
            KeyError: no such node.
        """
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(f"the graph has no node {node_id!r}")

    def fields(self) -> list[tuple[GraphNode, Field]]:
        """Every answer box in tab order (backward order, then within each node)."""
        return [(n, f) for n in self.nodes for f in n.fields]

    def part_ids(self) -> list[str]:
        """The parts the graph asks, in tab order."""
        return [f.part for _, f in self.fields()]

    def node_of(self, part_id: str) -> GraphNode | None:
        """The node whose box answers this part."""
        return next((n for n, f in self.fields() if f.part == part_id), None)

    def resolve(self, asked: Mapping[str, str]) -> GraphLayout:
        """The layout over part ids: ``asked`` maps each quantity an exercise asks to its
        part id; a box for a quantity the exercise does not ask is dropped."""

        def pick(f: Field | None) -> Field | None:
            return None if f is None or f.part not in asked else replace(f, part=asked[f.part])

        nodes = []
        for n in self.nodes:
            also = tuple(p for p in (pick(f) for f in n.also) if p is not None)
            nodes.append(replace(n, forward=pick(n.forward), gradient=pick(n.gradient), also=also))
        return replace(self, nodes=tuple(nodes))

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict (stored in the variant)."""
        return {
            "width": self.width,
            "height": self.height,
            "nodes": [_node_json(n) for n in self.nodes],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> GraphLayout:
        """Inverse of :meth:`to_json`."""
        return cls(
            width=float(d["width"]),
            height=float(d["height"]),
            nodes=tuple(_node_from_json(n) for n in d["nodes"]),
        )


def _field_json(f: Field | None) -> dict[str, str] | None:
    return None if f is None else {"role": f.role, "part": f.part, "label": f.label}


def _field_from_json(d: Mapping[str, Any] | None) -> Field | None:
    if d is None:
        return None
    role = d["role"]
    if role not in ("forward", "gradient", "also"):
        raise ValueError(f"unknown graph field role {role!r}")
    return Field(role, str(d["part"]), str(d.get("label", "")))


def _node_json(n: GraphNode) -> dict[str, Any]:
    return {
        "id": n.id,
        "label": n.label,
        "at": [[x, y] for x, y in n.at],
        "radius": n.radius,
        "forward": _field_json(n.forward),
        "gradient": _field_json(n.gradient),
        "also": [_field_json(f) for f in n.also],
        "known": n.known,
    }


def _node_from_json(d: Mapping[str, Any]) -> GraphNode:
    also = tuple(f for f in (_field_from_json(x) for x in d.get("also", ())) if f is not None)
    return GraphNode(
        id=str(d["id"]),
        label=str(d.get("label", d["id"])),
        at=tuple((float(x), float(y)) for x, y in d.get("at", ())),
        radius=float(d.get("radius", 24.0)),
        forward=_field_from_json(d.get("forward")),
        gradient=_field_from_json(d.get("gradient")),
        also=also,
        known=str(d.get("known", "")),
    )


def layout_of(variant: Variant) -> GraphLayout | None:
    """The variant's stored layout; None for an exercise that is not graph-shaped."""
    data = variant.extra.get(EXTRA_KEY)
    return None if not data else GraphLayout.from_json(data)


def first_wrong_node(
    variant: Variant, layout: GraphLayout, answers: Mapping[str, Raw]
) -> tuple[GraphNode, str] | None:
    """The node to highlight and its part: the first wrong step among the answers.

    A wrong answer counts when none of the answers its key depends on is wrong (it is
    where the chain broke, not a consequence of it); of several such, the first in the
    graph's backward order.
    """
    wrong = set()
    for part_id in layout.part_ids():
        stand = earlier_answer(variant, part_id, answers.get(part_id))
        if stand is not None and not stand.right:
            wrong.add(part_id)
    for node, f in layout.fields():
        if f.part in wrong and not wrong & set(ancestors(variant, f.part)):
            return node, f.part
    return None
