"""The exercise format as one JSON Schema, and a small validator with instructor-grade messages.

``SPEC_JSON_SCHEMA`` is the single description of an exercise file: the YAML loader checks
every file against it and the web editor can hand it to a browser-side validator. The
validator here implements the subset of JSON Schema the format uses (type, enum, pattern,
lengths, bounds, items, properties, required, additionalProperties, $ref) and says, for
each problem, what is allowed. Rules that JSON Schema cannot say well (exactly one of
``range``/``choices``/``value``; a family's own options) are checked in :mod:`spec`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from grader.checking.names import FUNCTIONS
from grader.exercises.kinds import ANSWER_KINDS
from grader.exercises.yamlsafe import Path

SCHEMA_VERSION = 1

ANSWER_TYPES = tuple(ANSWER_KINDS)
CHECK_MODES = ("relative", "absolute", "combined", "sigfigs", "symbolic")
DOMAINS = ("real", "positive", "nonnegative", "negative", "nonzero", "integer")

_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
_NUMBER = {"type": "number"}

SPEC_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "grader exercise",
    "type": "object",
    "required": ["id", "title", "version", "prompt", "parts"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"type": "integer", "enum": [SCHEMA_VERSION]},
        "id": {
            "type": "string",
            "pattern": r"^[a-z0-9][a-z0-9_-]{1,63}$",
            "description": "lower-case letters, digits, '-' and '_', 2 to 64 characters",
        },
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "version": {"type": "integer", "minimum": 1},
        "topics": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 60},
            "maxItems": 20,
        },
        "family": {
            "type": "string",
            "description": "a built-in family; leave out for a declarative exercise",
        },
        "options": {"type": "object", "description": "the family's options"},
        "parameters": {
            "type": "object",
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": {"$ref": "#/$defs/parameter"},
            "maxProperties": 40,
        },
        "derived": {
            "type": "object",
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 2000},
            "maxProperties": 40,
            "description": "name: expression over the parameters, computed in order",
        },
        "constraints": {
            "type": "array",
            "items": {"type": "string", "minLength": 3, "maxLength": 2000},
            "maxItems": 40,
            "description": "comparisons such as 'abs(t - y) >= 0.1' that every variant meets",
        },
        "prompt": {"type": "string", "minLength": 1, "maxLength": 20000},
        "solution": {"type": "string", "maxLength": 20000},
        "parts": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {"$ref": "#/$defs/part"},
        },
    },
    "$defs": {
        "scalar": {"type": ["number", "string", "boolean"]},
        "parameter": {
            "type": "object",
            "additionalProperties": False,
            "description": "exactly one of range, choices or value",
            "properties": {
                "range": {"type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2},
                "step": {"type": "number", "exclusiveMinimum": 0},
                "exclude": {"type": "array", "items": _NUMBER, "maxItems": 50},
                "choices": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/scalar"},
                    "minItems": 1,
                    "maxItems": 200,
                },
                "value": {"$ref": "#/$defs/scalar"},
            },
        },
        "check": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {"type": "string", "enum": list(CHECK_MODES)},
                "rtol": {"type": "number", "minimum": 0, "maximum": 1},
                "atol": {"type": "number", "minimum": 0},
                "sigfigs": {"type": "integer", "minimum": 1, "maximum": 15},
                # The precision rule: the significant figures a student gives (see FORMAT.md).
                "figures": {"type": "integer", "minimum": 1, "maximum": 6},
                # An update's starting value: its tolerance is then relative to the change.
                "reference": {"type": ["number", "string"]},
                "variables": {
                    "type": "array",
                    "items": {"type": "string", "pattern": _NAME},
                    "maxItems": 30,
                },
                "domains": {
                    "type": "object",
                    "propertyNames": {"pattern": _NAME},
                    "additionalProperties": {"type": "string", "enum": list(DOMAINS)},
                },
                "definitions": {
                    "type": "object",
                    "propertyNames": {"pattern": _NAME},
                    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 2000},
                },
                # Numbers, vectors and matrices: the functions an answer may use. By
                # default none, so `tanh(1.9)` cannot stand in for its value.
                "functions": {
                    "type": "array",
                    "items": {"type": "string", "enum": sorted(FUNCTIONS)},
                    "maxItems": 30,
                },
            },
        },
        "mistake": {
            "type": "object",
            "required": ["code"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,63}$"},
                "credit": {"type": "number", "minimum": 0, "maximum": 1},
                "feedback": {"type": "string", "maxLength": 2000},
                "answer": {"type": "string", "minLength": 1, "maxLength": 2000},
            },
        },
        "choice": {
            "type": "object",
            "required": ["text"],
            "additionalProperties": False,
            "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                "correct": {"type": "boolean"},
                "feedback": {"type": "string", "maxLength": 2000},
            },
        },
        "part": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": _NAME},
                "prompt": {"type": "string", "maxLength": 20000},
                "type": {"type": "string", "enum": list(ANSWER_TYPES)},
                "key": {"type": "string", "description": "a quantity the family computes"},
                "answer": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 2000,
                    "description": "declarative: an expression (or a list [a, b]) over parameters",
                },
                "follows": {
                    "type": "array",
                    "items": {"type": "string", "pattern": _NAME},
                    "minItems": 1,
                    "maxItems": 20,
                    "description": "declarative: the earlier parts the answer is computed "
                    "from; in answer: their ids name their values (follow-through)",
                },
                "label": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 60,
                    "description": "declarative: how follow-through feedback names this "
                    "part's value (∂L/∂y)",
                },
                "choices": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/choice"},
                    "minItems": 2,
                    "maxItems": 12,
                },
                "shuffle": {"type": "boolean"},
                "check": {"$ref": "#/$defs/check"},
                "points": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                "hints": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 2000},
                    "maxItems": 10,
                },
                "mistakes": {"type": "array", "items": {"$ref": "#/$defs/mistake"}, "maxItems": 20},
            },
        },
    },
}

_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _is_type(value: Any, name: str) -> bool:
    actual = _type_of(value)
    return actual == name or (name == "number" and actual == "integer")


def validate(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None
) -> list[tuple[Path, str]]:
    """Check ``value`` against ``schema``; return (path, message) for each problem."""
    problems: list[tuple[Path, str]] = []
    _validate(value, schema, root if root is not None else schema, (), problems)
    return problems


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    assert ref.startswith("#/$defs/"), ref
    resolved: Mapping[str, Any] = root["$defs"][ref.removeprefix("#/$defs/")]
    return resolved


def _validate(
    value: Any,
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: Path,
    problems: list[tuple[Path, str]],
) -> None:
    schema = _resolve(schema, root)
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, t) for t in allowed):
            names = " or ".join(_TYPE_NAMES[t] for t in allowed)
            problems.append((path, f"expected {names}, got {_TYPE_NAMES.get(_type_of(value))}"))
            return
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(c) for c in schema["enum"])
        problems.append((path, f"{value!r} is not allowed; use one of: {choices}"))
        return
    if isinstance(value, str):
        _check_string(value, schema, path, problems)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, path, problems)
    elif isinstance(value, list):
        _check_array(value, schema, root, path, problems)
    elif isinstance(value, Mapping):
        _check_object(value, schema, root, path, problems)


def _check_string(
    value: str, schema: Mapping[str, Any], path: Path, problems: list[tuple[Path, str]]
) -> None:
    if len(value) < schema.get("minLength", 0):
        problems.append((path, f"must have at least {schema['minLength']} characters"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append((path, f"must have at most {schema['maxLength']} characters"))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        hint = schema.get("description") or f"the pattern {schema['pattern']}"
        problems.append((path, f"{value!r} is not allowed here; expected {hint}"))


def _check_number(
    value: float, schema: Mapping[str, Any], path: Path, problems: list[tuple[Path, str]]
) -> None:
    if value != value or value in (float("inf"), float("-inf")):
        problems.append((path, "must be a finite number"))
        return
    if "minimum" in schema and value < schema["minimum"]:
        problems.append((path, f"must be at least {schema['minimum']}"))
    if "maximum" in schema and value > schema["maximum"]:
        problems.append((path, f"must be at most {schema['maximum']}"))
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        problems.append((path, f"must be greater than {schema['exclusiveMinimum']}"))


def _check_array(
    value: list[Any],
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: Path,
    problems: list[tuple[Path, str]],
) -> None:
    if len(value) < schema.get("minItems", 0):
        problems.append((path, f"needs at least {schema['minItems']} items"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        problems.append((path, f"allows at most {schema['maxItems']} items"))
    if "items" in schema:
        for i, item in enumerate(value):
            _validate(item, schema["items"], root, (*path, i), problems)


def _check_object(
    value: Mapping[str, Any],
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: Path,
    problems: list[tuple[Path, str]],
) -> None:
    props: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            problems.append((path, f"the field {name!r} is required"))
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        problems.append((path, f"allows at most {schema['maxProperties']} entries"))
    extra = schema.get("additionalProperties", True)
    names_rule = schema.get("propertyNames")
    for key, item in value.items():
        if names_rule is not None and not re.search(names_rule["pattern"], key):
            problems.append(
                ((*path, key), "names must start with a letter and use letters, digits and _")
            )
            continue
        if key in props:
            _validate(item, props[key], root, (*path, key), problems)
        elif extra is False:
            allowed = ", ".join(props) or "none"
            problems.append(((*path, key), f"unknown field {key!r}; allowed fields: {allowed}"))
        elif isinstance(extra, Mapping):
            _validate(item, extra, root, (*path, key), problems)
