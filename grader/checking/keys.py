"""Parsing with caches: answer keys (with their variables, domains and definitions)
are parsed and compiled once per process, not once per submission."""

from __future__ import annotations

import functools
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from grader.checking.errors import ParseError
from grader.checking.evaluate import Compiled
from grader.checking.evaluate import compile_node
from grader.checking.lexer import tokenize
from grader.checking.names import resolve_function
from grader.checking.nodes import Node
from grader.checking.parser import parse_tree
from grader.checking.sampling import Domain
from grader.checking.sampling import parse_domain


@functools.lru_cache(maxsize=4096)
def parse_cached(text: str, known: frozenset[str] | None, functions: frozenset[str] | None) -> Node:
    """:func:`parse_tree` with an LRU cache on the text and the allowed names."""
    return parse_tree(text, known, functions)


@functools.lru_cache(maxsize=4096)
def compiled(node: Node) -> Compiled:
    """The evaluator closure of a tree, compiled once per tree."""
    return compile_node(node)


def normalize_name(name: str) -> str:
    """The canonical form of a declared name (``w_1`` -> ``w1``, ``η`` -> ``eta``).

    Raises:
        ValueError: if ``name`` is not a single valid name, or is a function name.
    """
    try:
        tokens = tokenize(name.strip())
    except ParseError:
        tokens = []
    if len(tokens) != 2 or tokens[0].kind != "name":
        raise ValueError(f"{name!r} is not a valid variable name")
    canonical = str(tokens[0].value)
    if resolve_function(canonical) is not None:
        raise ValueError(f"variable name {name!r} is also a function name")
    return canonical


def normalize_names(names: str | Iterable[str]) -> tuple[str, ...]:
    """Normalise a list of names, or a comma-separated string of them."""
    if isinstance(names, str):
        names = [part for part in names.split(",") if part.strip()]
    return tuple(dict.fromkeys(normalize_name(name) for name in names))


def functions_key(functions: Collection[str] | None) -> frozenset[str] | None:
    """The allowed functions in canonical spelling (``None``: all of them)."""
    if functions is None:
        return None
    allowed = set()
    for name in functions:
        canonical = resolve_function(name)
        if canonical is None:
            raise ValueError(f"unknown function {name!r}")
        allowed.add(canonical)
    return frozenset(allowed)


@dataclass(frozen=True)
class Key:
    """A parsed answer key with everything needed to judge answers against it.

    Attributes:
        root: the parsed expected answer (``None`` when it could not be read).
        error: why the key could not be read.
        known: the names an answer may use (``None``: any).
        definitions: defined names and their parsed bodies.
        compiled_definitions: the same, compiled.
        domains: sampling domain per variable.
        seed: what the key's points are seeded from (never anything of an answer).
        cache: per-key results computed on first use (the points of each entry and the
            key's values there; see :mod:`grader.checking.plans`).
    """

    root: Node | None
    error: str | None
    known: frozenset[str] | None
    definitions: Mapping[str, Node]
    compiled_definitions: Mapping[str, Compiled]
    domains: Mapping[str, Domain]
    seed: tuple[Any, ...] = ()
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def sampled(self) -> list[str]:
        """The variables a point gives values to: every known name but the defined ones."""
        return sorted(set(self.known or ()) - set(self.definitions))

    def free_variables(self, *nodes: Node) -> list[str]:
        """The variables to sample: every name used, through definitions, sorted."""
        names: set[str] = set()
        pending = [node.names() for node in nodes]
        seen_definitions: set[str] = set()
        while pending:
            for name in pending.pop():
                if name in self.definitions:
                    if name not in seen_definitions:
                        seen_definitions.add(name)
                        pending.append(self.definitions[name].names())
                else:
                    names.add(name)
        return sorted(names)


@functools.lru_cache(maxsize=1024)
def build_key(
    expected: str,
    variables: tuple[str, ...],
    domains: tuple[tuple[str, str], ...],
    definitions: tuple[tuple[str, str], ...],
) -> Key:
    """Parse and check an answer key once (cached).

    Raises:
        ValueError: for authoring errors in the variables, domains or definitions.
    """
    declared = normalize_names(variables)
    defined = {normalize_name(name): body for name, body in definitions}
    for name in defined:
        if name in declared:
            raise ValueError(f"{name!r} is both a variable and a definition")
    parsed_domains = {normalize_name(name): parse_domain(text) for name, text in domains}
    known: frozenset[str] | None = None
    if declared:
        known = frozenset(declared) | frozenset(defined)
    definition_nodes: dict[str, Node] = {}
    for name, body in defined.items():
        try:
            definition_nodes[name] = parse_cached(body, known, None)
        except ParseError as exc:
            raise ValueError(f"definition of {name!r} cannot be read: {exc.message}") from None
        if definition_nodes[name].op in ("list", "matrix", "eq", "rel"):
            raise ValueError(f"definition of {name!r} must be a scalar expression")
    _check_acyclic(definition_nodes)
    seed = (expected, declared, tuple(sorted(domains)), tuple(sorted(definitions)))
    try:
        root = parse_cached(expected, known, None)
    except ParseError as exc:
        return Key(None, exc.message, known, definition_nodes, {}, parsed_domains, seed)
    if known is None:
        inferred = set(root.names()) | set(defined)
        for node in definition_nodes.values():
            inferred |= node.names()
        known = frozenset(inferred)
    compiled_definitions = {name: compiled(node) for name, node in definition_nodes.items()}
    return Key(root, None, known, definition_nodes, compiled_definitions, parsed_domains, seed)


def _check_acyclic(definitions: Mapping[str, Node]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise ValueError(f"definitions refer to each other in a cycle: {' -> '.join(path)}")
        state[name] = 1
        for used in sorted(definitions[name].names()):
            if used in definitions:
                visit(used, (*path, used))
        state[name] = 2

    for name in sorted(definitions):
        visit(name, (name,))
