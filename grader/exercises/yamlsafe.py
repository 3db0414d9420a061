"""Load exercise YAML safely, keeping the line of every field.

Only plain data comes out: mappings with string keys, lists, strings, numbers, booleans and
null. The node graph is walked with a budget, so an alias bomb ("billion laughs"), a
recursive alias or a deeply nested document is refused in milliseconds instead of
exhausting memory. No tag can construct a Python object: the SafeLoader composes nodes and
we build the values ourselves.
"""

from __future__ import annotations

import logging
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from grader.exercises.errors import SpecError

logger = logging.getLogger(__name__)

MAX_BYTES = 256 * 1024
MAX_NODES = 20_000
MAX_DEPTH = 24

Path = tuple[str | int, ...]

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


def field_name(path: Path) -> str:
    """Render a path as ``parts[1].check.rtol``."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else str(key)
    return out


class _Builder:
    """Turns a composed node tree into plain data under a node and depth budget."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.count = 0
        self.lines: dict[Path, int] = {}
        self._scalars = SafeConstructor()

    def fail(self, node: yaml.Node, path: Path, message: str) -> SpecError:
        return SpecError.single(
            self.source, message, line=node.start_mark.line + 1, field=field_name(path) or None
        )

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(
                node,
                path,
                f"the document expands to more than {MAX_NODES} values "
                "(aliases are expanded; is this an alias bomb?)",
            )
        if depth > MAX_DEPTH:
            raise self.fail(node, path, f"nested deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise self.fail(
                    node,
                    path,
                    f"the tag {node.tag!r} is not allowed; only strings, numbers, "
                    "booleans and null",
                )
            try:
                value = self._scalars.construct_object(node)
            except ValueError:  # e.g. an integer past Python's 4300-digit conversion limit
                raise self.fail(node, path, "this number is too long to read") from None
            if isinstance(value, float) and value != value:
                raise self.fail(node, path, ".nan is not allowed here")
            return value
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self.fail(node, path, f"the tag {node.tag!r} is not allowed on a list")
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise self.fail(node, path, f"the tag {node.tag!r} is not allowed on a mapping")
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in {
                    "tag:yaml.org,2002:str",
                    "tag:yaml.org,2002:int",
                }:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        raise self.fail(key_node, path, "merge keys (<<) are not allowed")
                    raise self.fail(key_node, path, "mapping keys must be plain names")
                key = str(key_node.value)
                if key in out:
                    raise self.fail(key_node, (*path, key), "this key appears twice")
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        raise self.fail(node, path, "unsupported YAML node")  # pragma: no cover


def load_yaml(text: str, source: str) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document into plain data and a map from field path to line.

    Raises:
        SpecError: the text is too large, not YAML, several documents, or hostile.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise SpecError.single(source, f"the file is larger than {MAX_BYTES // 1024} KiB")
    if "\x00" in text:
        raise SpecError.single(source, "the file contains NUL bytes")
    try:
        # The reader checks characters as it is built: a character YAML refuses
        # (e.g. U+008C) raises here, before any node is read.
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise SpecError.single(source, f"not valid YAML: {exc}") from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise SpecError.single(source, f"not valid YAML: {what}", line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError.single(source, f"not valid YAML: {exc}") from None
    except RecursionError:
        # PyYAML's composer recurses per nesting level before our depth count runs.
        raise SpecError.single(source, f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError.single(source, "the file is empty")
    builder = _Builder(source)
    data = builder.build(node, (), 0)
    return data, builder.lines
