"""The parsed form of an answer: a small immutable tree that remembers where it came from.

We keep our own tree (not SymPy's) so that the echo shows exactly what was typed, the
evaluator can bound every operation, and errors can point at a character offset.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """One node of a parsed answer.

    ``op`` is one of ``num`` (value: exact ``Fraction``), ``name`` (value: canonical
    name), ``const`` (``e`` or ``pi``), ``neg``, ``add`` (value: a sign per term),
    ``mul`` (value: ``*``, ``/`` or ``imp`` per factor; the first is ``*``), ``pow``
    (value: ``^`` or ``sup``), ``call`` (value: canonical function name), ``group``
    (brackets as typed), ``list``, ``matrix``, ``eq`` or ``rel`` (an inequality; value:
    ``<``, ``<=``, ``>`` or ``>=``).

    ``start``/``end`` delimit the source text; ``at`` is the offset to blame in a
    message (the operator of a power, the name of a function).
    """

    op: str
    args: tuple[Node, ...] = ()
    value: Any = None
    start: int = 0
    end: int = 0
    at: int = 0
    text: str = ""
    depth: int = field(default=1)
    has_names: bool = False

    def walk(self) -> Iterator[Node]:
        """All nodes of the subtree, parents first."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.args))

    def names(self) -> set[str]:
        """The names (variables and definitions) used in the subtree."""
        return {str(n.value) for n in self.walk() if n.op == "name"}

    def unwrap(self) -> Node:
        """The node inside any number of typed brackets."""
        node = self
        while node.op == "group":
            node = node.args[0]
        return node
