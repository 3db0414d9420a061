"""``generate(spec, seed)``: parameters, family build, answer keys, rendering.

Every random draw goes through one ``np.random.default_rng(seed)``, so the same (exercise,
seed) gives the same variant on any machine. Draws that make a poor exercise (a family's
:class:`IllPosed`, an unmet constraint, a key that rounds to zero) are redrawn a bounded
number of times; a spec that cannot be satisfied raises a SpecError naming its file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from grader.checking.limits import budget_clock
from grader.exercises import declared_follow
from grader.exercises import expressions
from grader.exercises import recipe as recipe_mod
from grader.exercises.errors import SpecError
from grader.exercises.families import FAMILIES
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import IllPosed
from grader.exercises.families.base import Quantity
from grader.exercises.graph import EXTRA_KEY as GRAPH_KEY
from grader.exercises.kinds import AnswerKind
from grader.exercises.kinds import kind_of
from grader.exercises.kinds.numeric import flat
from grader.exercises.kinds.precision import Indistinct
from grader.exercises.recipe import FollowRule
from grader.exercises.sampling import coerce
from grader.exercises.sampling import draw_all
from grader.exercises.spec_types import ExerciseSpec
from grader.exercises.spec_types import PartSpec
from grader.exercises.templating import render
from grader.exercises.variant import Mistake
from grader.exercises.variant import Part
from grader.exercises.variant import Variant
from grader.exercises.yamlsafe import field_name

logger = logging.getLogger(__name__)

MAX_TRIES = 200
#: CPU seconds the editor's trial generation (seeds 0-2) may take: bounds one validation
#: request. The library's slowest exercise needs about 0.1 s (a full garbage collection in a
#: big process can add a few tenths); a spec with 20 long derived values and a constraint
#: that never holds took 2.0 s before this bound, and loading the library has no bound.
TRIAL_CPU_BUDGET = 1.0
#: a nonzero key smaller than this "rounds to zero" for a student working by hand
MIN_MAGNITUDE = 1e-3
LETTERS = "ABCDEFGHIJKL"


def generate(
    spec: ExerciseSpec,
    seed: int,
    params: Mapping[str, object] | None = None,
    *,
    deadline: float | None = None,
) -> Variant:
    """Build the variant of ``spec`` for ``seed``, with some parameters optionally fixed.

    ``deadline`` (a :func:`budget_clock` value) is for load-time trials only: past it the
    redrawing stops and the spec is refused. Serving never passes one, so a variant stays
    a function of (exercise, version, seed) alone, never of how busy the CPU was.

    Raises:
        SpecError: the constraints cannot be met (naming the file and the constraint), or
            the trial ran past ``deadline``.
        ValueError: an unknown or ill-typed fixed parameter.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    fixed = _fixed(spec, params or {})
    rng = np.random.default_rng(int(seed))
    family = FAMILIES[spec.family] if spec.family else None
    reasons: dict[str, int] = {}
    last_path: tuple[Any, ...] = ()
    free = any(p.kind != "value" and n not in fixed for n, p in spec.parameters.items())
    free = free or (family is not None and family.draws)
    for draw in range(MAX_TRIES if free else 1):
        if deadline is not None and budget_clock() > deadline:
            raise SpecError.single(
                spec.source,
                f"generating a variant takes too long (more than {TRIAL_CPU_BUDGET:g} s of CPU "
                f"for seeds 0-2; {draw} draws of seed {seed} so far); simplify the derived "
                "values or loosen the constraints",
                line=spec.line_of(("parameters",)),
            )
        drawn = draw_all(spec.parameters, rng)
        drawn.update(fixed)
        try:
            return _attempt(spec, int(seed), drawn, family, rng)
        except IllPosed as exc:
            reason = str(exc)
            reasons[reason] = reasons.get(reason, 0) + 1
            last_path = getattr(exc, "path", last_path)
    worst = max(reasons, key=lambda r: reasons[r])
    fixed_note = f" with the fixed parameters {dict(fixed)}" if fixed else ""
    tries = MAX_TRIES if free else 1
    raise SpecError.single(
        spec.source,
        f"no parameters{fixed_note} give a well-posed variant in {tries} draws "
        f"(seed {seed}); most often: {worst}",
        line=spec.line_of(last_path) if last_path else spec.line_of(("parameters",)),
        field=field_name(last_path) if last_path else None,
    )


def _fixed(spec: ExerciseSpec, params: Mapping[str, object]) -> dict[str, Any]:
    out = {}
    for name, value in params.items():
        if name not in spec.parameters:
            known = ", ".join(spec.parameters) or "none"
            raise ValueError(f"{spec.id} has no parameter {name!r}; parameters: {known}")
        out[name] = coerce(spec.parameters[name], name, value)
    return out


def _illposed(reason: str, path: tuple[Any, ...] = ()) -> IllPosed:
    exc = IllPosed(reason)
    exc.path = path  # type: ignore[attr-defined]
    return exc


def _attempt(
    spec: ExerciseSpec,
    seed: int,
    drawn: dict[str, Any],
    family: Any,
    rng: np.random.Generator,
) -> Variant:
    values: dict[str, Any] = dict(drawn)
    for name in spec.derived:
        try:
            values[name] = expressions.evaluate(spec.compiled[f"derived.{name}"], values)
        except (ArithmeticError, ValueError) as exc:
            raise _illposed(f"derived {name} is undefined ({exc})", ("derived", name)) from None
    out = family.build(drawn, spec.options, rng) if family is not None else FamilyOutput({}, {})
    for k, v in {**out.drawn, **out.values}.items():
        values.setdefault(k, v)
    for i, text in enumerate(spec.constraints):
        if not spec.compiled[f"constraints.{i}"].holds(values):
            raise _illposed(f"constraint {text!r} fails", ("constraints", i))
    built: dict[str, Part] = {}
    for i, p in enumerate(spec.parts):
        built[p.id] = _part(spec, i, p, out, values, rng, built)
    parts = follow_rules(spec, tuple(built.values()), out.quantities)
    values["seed"] = seed
    solution = out.solution_md
    if spec.solution:
        solution = (solution + "\n\n" if solution else "") + render(spec.solution, values)
    summary = "\n".join(f"- **{p.id}**: `{p.key_text}`" for p in parts)
    solution = (solution + "\n\n" if solution else "") + "**Answers**\n\n" + summary
    return Variant(
        exercise_id=spec.id,
        spec_version=spec.version,
        seed=seed,
        params=_json_params({**drawn, **out.drawn}),
        title=spec.title,
        prompt_md=render(spec.prompt, values),
        parts=parts,
        solution_md=solution,
        diagram_svg=out.diagram_svg,
        solution_diagram_svg=out.solution_diagram_svg,
        family=spec.family,
        topics=spec.topics,
        extra=_graph_extra(spec, out),
    )


def _graph_extra(spec: ExerciseSpec, out: FamilyOutput) -> dict[str, Any]:
    """The family's graph layout over this exercise's part ids (``Variant.extra``)."""
    if out.graph is None:
        return {}
    asked = {p.key: p.id for p in spec.parts if p.key is not None}
    layout = out.graph.resolve(asked)
    if not layout.part_ids():
        return {}
    return {GRAPH_KEY: layout.to_json()}


def _json_params(drawn: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in drawn.items()}


def _part(
    spec: ExerciseSpec,
    index: int,
    part: PartSpec,
    out: FamilyOutput,
    values: Mapping[str, Any],
    rng: np.random.Generator,
    earlier: Mapping[str, Part],
) -> Part:
    path = ("parts", index)
    quantity = out.quantities.get(part.key) if part.key else None
    ptype = part.type or (quantity.type if quantity else "numeric")
    kind = kind_of(ptype)
    check = kind.check_options(part.check, quantity.check if quantity is not None else {})
    choices: tuple[dict[str, str], ...] | None = None
    if quantity is not None:
        key = quantity.value
        candidates = _family_mistakes(spec, part, quantity, path)
        if quantity.choices is not None:
            choices = tuple(dict(c) for c in quantity.choices)
    elif kind.from_choices:
        key, candidates, choices = _declarative_choices(kind, part, rng)
        choices = tuple({**c, "text": render(c["text"], values)} for c in choices)
    else:
        free = kind.free_names(check)
        values = {k: v for k, v in values.items() if k not in free}
        # A followed part's id names its key where no parameter or derived value has it
        # (where one does, the rule below must agree with it).
        values = {**{s: earlier[s].key for s in part.follows}, **values}
        key = _evaluate_answer(spec, f"{_field(path)}.answer", kind, values, path)
        candidates = []
        for j, m in enumerate(part.mistakes):
            mfield = f"{_field(path)}.mistakes[{j}].answer"
            value = _evaluate_answer(spec, mfield, kind, values, path)
            candidates.append((m.code, m.feedback or "", value, m.credit))
        if isinstance(check.get("reference"), str):
            rfield = f"{_field(path)}.check.reference"
            check["reference"] = _evaluate_answer(spec, rfield, kind, values, path)
    if kind.numeric:
        _guard_numbers(key, check, path)
    if quantity is None or part.mistakes_given:  # instructor text may use placeholders
        candidates = [(c, render(fb, values), v, cr) for c, fb, v, cr in candidates]
    try:
        check = kind.settle(key, [(c, v) for c, _, v, _ in candidates], check)
    except Indistinct as exc:
        raise _illposed(f"part {part.id}: {exc}", path) from None
    mistakes = tuple(Mistake(c, fb, v, float(cr)) for c, fb, v, cr in candidates)
    note = kind.precision_note(check)
    prompt = render(part.prompt, values)
    follow = _declared_rule(spec, index, part, key, values, earlier) if part.follows else None
    return Part(
        id=part.id,
        prompt_md=f"{prompt.rstrip()} {note}".strip() if note else prompt,
        type=kind.name,
        points=float(part.points),
        check=check,
        key=key,
        key_text=kind.key_text(key, check),
        mistakes=mistakes,
        choices=choices,
        hints=tuple(render(h, values) for h in part.hints),
        follow=follow,
        label=part.label,
    )


def _declared_rule(
    spec: ExerciseSpec,
    index: int,
    part: PartSpec,
    key: Any,
    values: Mapping[str, Any],
    earlier: Mapping[str, Part],
) -> FollowRule:
    """A declarative part's follow-through rule: its answer over the parts it follows.

    Raises:
        SpecError: the rule, fed the earlier parts' keys, does not give back the key (a
            followed id that is also a parameter or derived value with another value).
    """
    path = ("parts", index, "answer")
    expr = spec.compiled[field_name(path)]
    recipe = declared_follow.to_recipe(expr, part.follows, values)
    sources = tuple(recipe_mod.refs(recipe))
    keys = {s: earlier[s].key for s in sources}
    gives = recipe_mod.gives_back(recipe, keys, key)
    if gives is not None:
        fed = ", ".join(f"{s} = {earlier[s].key_text}" for s in sources)
        shadowed = [s for s in sources if s in spec.parameters or s in spec.derived]
        why = (
            f"; {', '.join(shadowed)} here means the earlier part, not the parameter or "
            "derived value of that name"
            if shadowed
            else ""
        )
        raise SpecError.single(
            spec.source,
            f"part {part.id}: its answer with the earlier answers ({fed}) gives {gives}, "
            f"not its key {key}{why}",
            line=spec.line_of(path),
            field=field_name(path),
        )
    labels = {s: earlier[s].label or s for s in sources}
    return FollowRule(sources, recipe, labels)


def follow_rules(
    spec: ExerciseSpec, parts: tuple[Part, ...], quantities: Mapping[str, Quantity]
) -> tuple[Part, ...]:
    """The parts with their follow-through rules, resolved from the family's recipes.

    A recipe names quantities; each one an exercise asks for in another part becomes a
    reference to that part, one it does not ask for is replaced by its own recipe (or its
    value), so a rule reads only parts the student answers. The resolved rule must give
    back the key from the upstream keys (a family bug otherwise).

    Raises:
        ValueError: a recipe does not reproduce its key.
    """
    asked = {p.key: sp.id for sp, p in zip(parts, spec.parts, strict=True) if p.key is not None}
    by_id = {p.id: p for p in parts}
    out = []
    for part, pspec in zip(parts, spec.parts, strict=True):
        quantity = quantities.get(pspec.key) if pspec.key else None
        if quantity is None:
            out.append(part)
            continue
        label = quantity.label
        if quantity.recipe is None:
            out.append(replace(part, label=label))
            continue

        def resolve(name: str, own: str = part.id) -> recipe_mod.Recipe:
            if name in asked and asked[name] != own:
                return recipe_mod.Ref(asked[name])
            q = quantities[name]
            if q.recipe is not None:
                return recipe_mod.substitute(q.recipe, resolve)
            return recipe_mod.const(q.value)

        resolved = recipe_mod.substitute(quantity.recipe, resolve)
        sources = tuple(recipe_mod.refs(resolved))
        if not sources:
            out.append(replace(part, label=label))
            continue
        gives = recipe_mod.gives_back(resolved, {s: by_id[s].key for s in sources}, part.key)
        if gives is not None:
            raise ValueError(f"{spec.family}: the recipe of {pspec.key} gives {gives}, not its key")
        names = {
            s: quantities[k].label or s
            for k, s in asked.items()
            if s in sources and k in quantities
        }
        rule = FollowRule(sources, resolved, names)
        out.append(replace(part, follow=rule, label=label))
    return tuple(out)


def _family_mistakes(
    spec: ExerciseSpec, part: PartSpec, quantity: Quantity, path: tuple[Any, ...]
) -> list[tuple[str, str, Any, float]]:
    """The part's declared mistakes this draw models, each with its credit.

    A part without its own ``mistakes:`` list has every mistake its family models, each
    with the credit another part of the exercise gives it (one rule per exercise).
    """
    made = {m.code: m for m in quantity.mistakes}
    if part.mistakes_given:
        wanted = [(m.code, m.feedback, m.credit) for m in part.mistakes]
    else:
        credits: dict[str, float] = {}
        for other in spec.parts:
            for m in other.mistakes:
                credits.setdefault(m.code, m.credit)
        assert spec.family is not None
        assert part.key is not None
        declared = FAMILIES[spec.family].quantities(spec.options)[part.key].mistakes
        wanted = [(code, None, credits.get(code, 0.0)) for code in declared]
    # A family models some mistakes only in some cases (an activation, a question);
    # validate-exercises fails on a declared mistake that no seed ever produces.
    return [
        (code, feedback or made[code].feedback, made[code].value, credit)
        for code, feedback, credit in wanted
        if code in made
    ]


def _field(path: tuple[Any, ...]) -> str:
    return f"parts[{path[1]}]"


def _evaluate_answer(
    spec: ExerciseSpec,
    name: str,
    kind: AnswerKind,
    values: Mapping[str, Any],
    path: tuple[Any, ...],
) -> Any:
    try:
        return kind.declarative_value(spec.compiled[name], values)
    except (ArithmeticError, ValueError) as exc:
        raise _illposed(f"the answer of {path} is undefined ({exc})", path) from None


def _declarative_choices(
    kind: AnswerKind, part: PartSpec, rng: np.random.Generator
) -> tuple[Any, list[tuple[str, str, Any, float]], tuple[dict[str, str], ...]]:
    order = list(range(len(part.choices)))
    if part.shuffle:
        order = [int(i) for i in rng.permutation(len(order))]
    choices = []
    correct = []
    candidates: list[tuple[str, str, Any, float]] = []
    for pos, original in enumerate(order):
        c = part.choices[original]
        letter = LETTERS[pos]
        choices.append({"id": letter, "text": c.text})
        if c.correct:
            correct.append(letter)
        else:
            feedback = c.feedback or "That option is not right."
            candidates.append((f"choice_{original + 1}", feedback, letter, 0.0))
    candidates = [(c, fb, kind.choice_mistake(correct, v), cr) for c, fb, v, cr in candidates]
    return kind.choice_key(correct), candidates, tuple(choices)


def _guard_numbers(key: Any, check: Mapping[str, Any], path: tuple[Any, ...]) -> None:
    floor = max(MIN_MAGNITUDE, 10 * float(check.get("atol", 0.0)))
    for v in flat(key):
        if not math.isfinite(v):
            raise _illposed("an answer is not finite", path)
        if 1e-12 < abs(v) < floor:
            raise _illposed(f"an answer ({v:.3g}) rounds to zero", path)


def key_text(ptype: str, key: Any, check: Mapping[str, Any]) -> str:
    """How a student would type the key (used by the CLI)."""
    return kind_of(ptype).key_text(key, check)


def trial_generate(spec: ExerciseSpec, *, budget: float | None = None) -> None:
    """Generate a few variants at load time so a bad spec is refused whole; with a
    ``budget``, refuse it when that takes more CPU seconds.

    Raises:
        SpecError: the constraints cannot be met, a template fails, the family fails, or
            the budget ran out.
    """
    deadline = None if budget is None else budget_clock() + budget
    for seed in (0, 1, 2):
        try:
            generate(spec, seed, deadline=deadline)
        except SpecError:
            raise
        except KeyError as exc:
            raise SpecError.single(spec.source, f"a template names nothing: {exc}") from None
        except Exception as exc:
            logger.exception("trial generation failed for %s seed=%d", spec.id, seed)
            raise SpecError.single(
                spec.source, f"generating a variant failed (seed {seed}): {exc}"
            ) from None
