"""The exercise spec: turning checked YAML data into its dataclasses (:mod:`.spec_types`).

``load_spec_text`` runs three passes and refuses the file whole if any finds a problem:
the JSON Schema (shape and allowed values), the semantic rules (a known family, its
options, names that exist, expressions that parse) and a trial generation (constraints
that can be met, templates that render). Each problem carries the file, line and field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any

from grader.checking.names import RESERVED_NAMES
from grader.exercises import declared_follow
from grader.exercises import expressions
from grader.exercises.errors import SpecError
from grader.exercises.errors import SpecProblem
from grader.exercises.kinds import kind_of
from grader.exercises.schema import SCHEMA_VERSION
from grader.exercises.schema import SPEC_JSON_SCHEMA
from grader.exercises.schema import validate
from grader.exercises.spec_types import ChoiceSpec
from grader.exercises.spec_types import ExerciseSpec
from grader.exercises.spec_types import MistakeSpec
from grader.exercises.spec_types import ParamSpec
from grader.exercises.spec_types import PartSpec
from grader.exercises.templating import placeholders
from grader.exercises.yamlsafe import Path
from grader.exercises.yamlsafe import field_name
from grader.exercises.yamlsafe import load_yaml

__all__ = [
    "TAKEN_NAMES",
    "ChoiceSpec",
    "ExerciseSpec",
    "MistakeSpec",
    "ParamSpec",
    "PartSpec",
    "load_spec_file",
    "load_spec_text",
    "spec_from_data",
]

logger = logging.getLogger(__name__)

#: names a parameter or derived value may not take: the answer language's own, and ``seed``
TAKEN_NAMES = RESERVED_NAMES | {"seed"}


class _Collector:
    """Gathers problems with their lines."""

    def __init__(self, source: str, lines: Mapping[Path, int]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[SpecProblem] = []

    def line_of(self, path: Path) -> int | None:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def add(self, path: Path, message: str) -> None:
        self.problems.append(
            SpecProblem(self.source, self.line_of(path), field_name(path) or None, message)
        )

    def raise_if_any(self) -> None:
        if self.problems:
            raise SpecError(self.problems)


def load_spec_text(
    text: str, source: str = "<editor>", *, trial_budget: float | None = None
) -> ExerciseSpec:
    """Parse, validate and trial-generate one exercise given as YAML text.

    ``trial_budget`` bounds the trial generation's CPU seconds (the editor's requests
    pass one); loading the library or a stored version has none, so it never depends on
    how busy the process is (a garbage collection, say).

    Raises:
        SpecError: with every problem found (file, line, field, message).
    """
    data, lines = load_yaml(text, source)
    return spec_from_data(data, source, lines, trial_budget=trial_budget)


def load_spec_file(path: str | FsPath) -> ExerciseSpec:
    """Load one exercise file; the SpecError names the file."""
    path = FsPath(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError.single(source, f"cannot read the file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError.single(source, f"not UTF-8 text (byte {exc.start})") from None
    return load_spec_text(text, source)


def spec_from_data(
    data: Any,
    source: str = "<editor>",
    lines: Mapping[Path, int] | None = None,
    *,
    trial_budget: float | None = None,
) -> ExerciseSpec:
    """Validate plain data (YAML or the editor's JSON) and build the spec."""
    lines = lines or {}
    out = _Collector(source, lines)
    if not isinstance(data, Mapping):
        out.add((), "an exercise file must be a mapping of fields (id, title, ...)")
        out.raise_if_any()
    for path, message in validate(data, SPEC_JSON_SCHEMA):
        out.add(path, message)
    out.raise_if_any()
    spec = _build(data, source, lines, out)
    out.raise_if_any()
    from grader.exercises.generator import trial_generate

    trial_generate(spec, budget=trial_budget)
    return spec


def _build(
    data: Mapping[str, Any], source: str, lines: Mapping[Path, int], out: _Collector
) -> ExerciseSpec:
    from grader.exercises.families import FAMILIES

    family_name = data.get("family")
    family = None
    options = dict(data.get("options", {}))
    params: dict[str, ParamSpec] = {}
    if family_name is not None:
        family = FAMILIES.get(family_name)
        if family is None:
            out.add(
                ("family",),
                f"unknown family {family_name!r}; known families: {', '.join(sorted(FAMILIES))}",
            )
            return _empty(data, source)
        for opt_path, message in validate(options, family.options_schema):
            out.add(("options", *opt_path), message)
        if out.problems:
            return _empty(data, source)
        for opt_path, message in family.validate_options(options):
            out.add(("options", *opt_path), message)
        for name, decl in family.parameter_defaults(options).items():
            params[name] = ParamSpec.from_data(name, decl)
    elif "options" in data:
        out.add(("options",), "options belong to a family; this exercise names no family")

    path: Path = ()
    for name, decl in data.get("parameters", {}).items():
        path = ("parameters", name)
        if name in TAKEN_NAMES:
            out.add(path, f"{name!r} is a function or constant of the answer language")
            continue
        kinds = [k for k in ("range", "choices", "value") if k in decl]
        if len(kinds) != 1:
            out.add(path, "give exactly one of range, choices or value")
            continue
        if kinds[0] != "range" and ("step" in decl or "exclude" in decl):
            out.add(path, "step and exclude go with range only")
            continue
        p = ParamSpec.from_data(name, decl)
        if p.kind == "range":
            if not p.low < p.high:
                out.add((*path, "range"), "the range must be [low, high] with low < high")
                continue
            if (p.high - p.low) / p.step > 1_000_000:
                out.add((*path, "step"), "the step is too small for the range (over 10^6 values)")
                continue
        params[name] = p

    compiled: dict[str, Any] = {}
    known = set(params)
    family_values = set(family.value_names(options)) if family is not None else set()

    derived = dict(data.get("derived", {}))
    for name, text in derived.items():
        path = ("derived", name)
        if name in known or name in TAKEN_NAMES:
            out.add(path, f"the name {name!r} is already taken")
            continue
        expr = _compile(text, path, out)
        if expr is not None:
            unknown = expressions.free_names(expr) - known
            if unknown:
                out.add(path, _unknown_names(unknown, known))
            compiled[f"derived.{name}"] = expr
        known.add(name)

    all_names = known | family_values
    for i, text in enumerate(data.get("constraints", [])):
        path = ("constraints", i)
        try:
            cmp = expressions.parse_comparison(text)
        except expressions.ExprError as exc:
            out.add(path, f"cannot parse: {exc.message}")
            continue
        unknown = expressions.free_names([cmp.lhs, cmp.rhs]) - all_names
        if unknown:
            out.add(path, _unknown_names(unknown, all_names))
        compiled[f"constraints.{i}"] = cmp

    template_names = all_names | {"seed"}
    for key in ("prompt", "solution"):
        _check_placeholders(data.get(key, ""), (key,), template_names, out)

    parts = []
    seen: set[str] = set()
    quantities = family.quantities(options) if family is not None else {}
    follows = _check_follows(data["parts"], family is not None, out)
    for i, pdata in enumerate(data["parts"]):
        path = ("parts", i)
        if pdata["id"] in seen:
            out.add((*path, "id"), f"the part id {pdata['id']!r} is used twice")
        seen.add(pdata["id"])
        _check_placeholders(pdata.get("prompt", ""), (*path, "prompt"), template_names, out)
        for j, hint in enumerate(pdata.get("hints", ())):
            _check_placeholders(hint, (*path, "hints", j), template_names, out)
        for j, choice in enumerate(pdata.get("choices", ())):
            for key in ("text", "feedback"):
                _check_placeholders(
                    choice.get(key, ""), (*path, "choices", j, key), template_names, out
                )
        for j, mistake in enumerate(pdata.get("mistakes", ())):
            _check_placeholders(
                mistake.get("feedback", ""), (*path, "mistakes", j, "feedback"), template_names, out
            )
        part = _build_part(
            pdata, path, family is not None, quantities, all_names, compiled, out, follows[i]
        )
        if part is not None:
            parts.append(part)

    return ExerciseSpec(
        id=data["id"],
        title=data["title"],
        version=data["version"],
        prompt=data["prompt"],
        parts=tuple(parts),
        topics=tuple(data.get("topics", ())),
        family=family_name,
        options=options,
        parameters=params,
        derived=derived,
        constraints=tuple(data.get("constraints", ())),
        solution=data.get("solution", ""),
        schema_version=data.get("schema_version", SCHEMA_VERSION),
        source=source,
        data=data,
        lines=lines,
        compiled=compiled,
    )


def _empty(data: Mapping[str, Any], source: str) -> ExerciseSpec:
    return ExerciseSpec(id=str(data.get("id")), title="", version=1, prompt="", parts=())


def _unknown_names(unknown: set[str], known: set[str]) -> str:
    allowed = ", ".join(sorted(known)) or "none"
    return f"unknown name(s) {', '.join(sorted(unknown))}; names defined here: {allowed}"


def _compile(text: str, path: Path, out: _Collector) -> Any:
    try:
        return expressions.parse(text)
    except expressions.ExprError as exc:
        where = "" if exc.offset is None else f" at character {exc.offset + 1}"
        out.add(path, f"cannot parse {text!r}{where}: {exc.message}")
        return None


def _check_placeholders(text: str, path: Path, names: set[str], out: _Collector) -> None:
    for name, fmt in placeholders(text):
        if name not in names:
            out.add(path, f"the placeholder {{{{{name}}}}} names nothing; {_names(names)}")
        elif fmt is not None and not re.fullmatch(r"\.\d{1,2}[fge]|plain|latex", fmt):
            out.add(path, f"the format {fmt!r} is not allowed; use .3f, .4g, plain or latex")


def _names(names: set[str]) -> str:
    return "available: " + (", ".join(sorted(names)) or "none")


def _build_part(
    pdata: Mapping[str, Any],
    path: Path,
    from_family: bool,
    quantities: Mapping[str, Any],
    names: set[str],
    compiled: dict[str, Any],
    out: _Collector,
    follows: tuple[str, ...] = (),
) -> PartSpec | None:
    ptype = pdata.get("type")
    check = dict(pdata.get("check", {}))
    mistakes = tuple(MistakeSpec(**m) for m in pdata.get("mistakes", ()))
    choices = tuple(ChoiceSpec(**c) for c in pdata.get("choices", ()))
    before = len(out.problems)
    if from_family:
        key = pdata.get("key")
        for bad in ("answer", "choices"):
            if bad in pdata:
                out.add((*path, bad), f"{bad} is for declarative exercises; use key: with a family")
        if key is None:
            out.add(path, f"the field 'key' is required; the family computes: {_keys(quantities)}")
            return None
        if key not in quantities:
            out.add(
                (*path, "key"), f"unknown key {key!r}; the family computes: {_keys(quantities)}"
            )
            return None
        info = quantities[key]
        if ptype is not None and ptype != info.type:
            out.add((*path, "type"), f"{key!r} is a {info.type} answer, not {ptype}")
        ptype = info.type
        if "reference" in check:
            out.add((*path, "check", "reference"), "the family gives the reference of its updates")
        if "label" in pdata:
            out.add((*path, "label"), "the family names its quantities; label: is declarative")
        for j, m in enumerate(mistakes):
            if m.answer is not None:
                out.add((*path, "mistakes", j, "answer"), "the family computes mistake answers")
            if m.code not in info.mistakes:
                known = ", ".join(info.mistakes) or "none"
                out.add(
                    (*path, "mistakes", j, "code"),
                    f"unknown mistake {m.code!r} for {key!r}; known: {known}",
                )
    else:
        if "key" in pdata:
            out.add((*path, "key"), "key: needs a family; declarative parts use answer:")
        if ptype is None:
            out.add(path, "the field 'type' is required in a declarative exercise")
            return None
        if kind_of(ptype).from_choices:
            _check_choices(pdata, choices, ptype, path, out)
        else:
            if "answer" not in pdata:
                out.add(path, "the field 'answer' is required (an expression over parameters)")
                return None
            # The parts it follows are names too: their values (the keys; at
            # follow-through, a student's own).
            names = names | set(follows)
            apath = (*path, "answer")
            _compile_answer(pdata["answer"], ptype, check, apath, names, compiled, out)
            if follows and field_name(apath) in compiled:
                _check_recomputable(compiled[field_name(apath)], follows, path, pdata, out)
            if isinstance(check.get("reference"), str):
                rpath = (*path, "check", "reference")
                _compile_answer(check["reference"], ptype, check, rpath, names, compiled, out)
            for j, m in enumerate(mistakes):
                mpath = (*path, "mistakes", j)
                if m.answer is None:
                    out.add(mpath, "a declarative mistake needs answer: (what the mistake gives)")
                    continue
                _compile_answer(m.answer, ptype, check, (*mpath, "answer"), names, compiled, out)
    if ptype is not None:
        for sub, message in kind_of(ptype).check_problems(check):
            out.add((*path, "check", *sub), message)
    if len(out.problems) > before:
        return None
    return PartSpec(
        id=pdata["id"],
        prompt=pdata.get("prompt", ""),
        type=ptype,
        key=pdata.get("key"),
        answer=pdata.get("answer"),
        choices=choices,
        shuffle=pdata.get("shuffle", True),
        check=check,
        points=pdata.get("points", 1.0),
        hints=tuple(pdata.get("hints", ())),
        mistakes=mistakes,
        mistakes_given="mistakes" in pdata,
        follows=follows,
        label=pdata.get("label", ""),
    )


def _check_follows(
    parts: list[Mapping[str, Any]], from_family: bool, out: _Collector
) -> list[tuple[str, ...]]:
    """Each part's ``follows:``, checked: earlier numeric parts of a declarative exercise.

    Returns the entries that pass, per part (a part with a bad entry keeps the good ones,
    so its answer's names are still checked; the spec is refused either way).
    """
    ids = [p["id"] for p in parts]
    edges = {p["id"]: list(p.get("follows", ())) for p in parts}
    result: list[tuple[str, ...]] = []
    for i, pdata in enumerate(parts):
        path: Path = ("parts", i, "follows")
        good: list[str] = []
        result.append(())
        if "follows" not in pdata:
            continue
        if from_family:
            out.add(path, "follows: is declarative; a family declares how its keys follow")
            continue
        ptype = pdata.get("type")
        if ptype is None or not kind_of(ptype).numeric or kind_of(ptype).from_choices:
            out.add(path, f"follows: needs a numeric, vector or matrix part, not {ptype}")
            continue
        for j, source in enumerate(pdata["follows"]):
            where = (*path, j)
            earlier = ", ".join(ids[:i]) or "none"
            if source == pdata["id"]:
                out.add(where, f"part {source} cannot follow itself (a cycle)")
            elif source in good:
                out.add(where, f"{source} is listed twice")
            elif source not in ids:
                out.add(where, f"unknown part {source!r}; earlier parts: {earlier}")
            elif ids.index(source) > i:
                cycle = _cycle(edges, source, pdata["id"])
                if cycle:
                    out.add(where, "a cycle: " + " follows ".join([pdata["id"], *cycle]))
                else:
                    out.add(
                        where,
                        f"part {source} comes later; a part follows earlier parts only "
                        f"(earlier parts: {earlier})",
                    )
            elif parts[ids.index(source)].get("type") != "numeric":
                stype = parts[ids.index(source)].get("type")
                out.add(
                    where,
                    f"part {source} has type {stype}; only numeric (one-number) parts "
                    "can be followed",
                )
            else:
                good.append(source)
        result[i] = tuple(good)
    return result


def _cycle(edges: Mapping[str, list[str]], start: str, goal: str) -> list[str]:
    """A path of ``follows`` from ``start`` back to ``goal`` (empty when none)."""
    stack: list[list[str]] = [[start]]
    visited: set[str] = set()
    while stack:
        trail = stack.pop()
        if trail[-1] == goal:
            return trail
        if trail[-1] in visited:
            continue
        visited.add(trail[-1])
        stack += [[*trail, n] for n in edges.get(trail[-1], ())]
    return []


def _check_recomputable(
    expr: Any, follows: tuple[str, ...], path: Path, pdata: Mapping[str, Any], out: _Collector
) -> None:
    """Every followed part is used, through operations follow-through can recompute."""
    used = expressions.free_names(expr)
    for j, source in enumerate(pdata.get("follows", ())):
        if source in follows and source not in used:
            out.add((*path, "follows", j), f"the answer does not use {source}")
    for message in dict.fromkeys(declared_follow.problems(expr, follows)):
        out.add((*path, "answer"), message)


def _keys(quantities: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} ({v.type})" for k, v in quantities.items())


def _check_choices(
    pdata: Mapping[str, Any],
    choices: tuple[ChoiceSpec, ...],
    ptype: str,
    path: Path,
    out: _Collector,
) -> None:
    if not choices:
        out.add(path, f"a {ptype} part needs choices: (a list of {{text, correct, feedback}})")
        return
    if "answer" in pdata:
        out.add((*path, "answer"), "mark the right choices with correct: true instead")
    n = sum(c.correct for c in choices)
    problem = kind_of(ptype).correct_count_problem(n)
    if problem:
        out.add((*path, "choices"), problem)
    if pdata.get("mistakes"):
        out.add((*path, "mistakes"), "give feedback on each wrong choice instead")


def _compile_answer(
    text: str,
    ptype: str,
    check: Mapping[str, Any],
    path: Path,
    names: set[str],
    compiled: dict[str, Any],
    out: _Collector,
) -> None:
    expr = _compile(text, path, out)
    if expr is None:
        return
    kind = kind_of(ptype)
    depth = _depth(expr)
    want = kind.depth
    if depth != want:
        shapes = {
            0: "a single expression",
            1: "a list [a, b, ...]",
            2: "a list of rows [[a, b], ...]",
        }
        out.add(path, f"a {ptype} answer must be {shapes[want]}")
        return
    allowed = set(names) | kind.free_names(check)
    unknown = expressions.free_names(expr) - allowed
    if unknown:
        out.add(path, _unknown_names(unknown, allowed))
        return
    compiled[field_name(path)] = expr


def _depth(expr: Any) -> int:
    if isinstance(expr, list):
        return 1 + (max((_depth(x) for x in expr), default=0))
    return 0
