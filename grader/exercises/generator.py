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
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

import numpy as np

from grader.checking.limits import budget_clock
from grader.checking.numeric import float_decimal
from grader.exercises import expressions
from grader.exercises.errors import SpecError
from grader.exercises.families import FAMILIES
from grader.exercises.families.base import FamilyOutput
from grader.exercises.families.base import IllPosed
from grader.exercises.families.base import Quantity
from grader.exercises.sampling import coerce
from grader.exercises.sampling import draw_all
from grader.exercises.spec import ExerciseSpec
from grader.exercises.spec import PartSpec
from grader.exercises.templating import render
from grader.exercises.variant import Mistake
from grader.exercises.variant import Part
from grader.exercises.variant import Variant
from grader.exercises.yamlsafe import field_name

logger = logging.getLogger(__name__)

MAX_TRIES = 200
#: CPU seconds the load-time trial (seeds 0-2) may take: bounds one editor validation
#: request. The library's slowest exercise needs about 0.1 s; a spec with 20 long derived
#: values and a constraint that never holds took 2.0 s before this bound.
TRIAL_CPU_BUDGET = 0.5
#: a nonzero key smaller than this "rounds to zero" for a student working by hand
MIN_MAGNITUDE = 1e-3
DEFAULT_NUMERIC_CHECK = {"mode": "combined", "rtol": 0.01, "atol": 1e-4}
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
    parts = tuple(_part(spec, i, p, out, values, rng) for i, p in enumerate(spec.parts))
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
    )


def _json_params(drawn: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in drawn.items()}


def _check_options(part: PartSpec, quantity: Quantity | None) -> dict[str, Any]:
    ptype = part.type
    base: dict[str, Any] = dict(quantity.check) if quantity is not None else {}
    if ptype in ("numeric", "vector", "matrix"):
        if not base.get("mode") and not part.check:
            base = {**DEFAULT_NUMERIC_CHECK, **base}
        base.update(part.check)
        if "sigfigs" in base:
            base["mode"] = "sigfigs"
        base.setdefault("mode", "combined")
        base.setdefault("rtol", DEFAULT_NUMERIC_CHECK["rtol"])
        base.setdefault("atol", DEFAULT_NUMERIC_CHECK["atol"])
    elif ptype == "expression":
        base.update(part.check)
        base["mode"] = "symbolic"
    return base


def _part(
    spec: ExerciseSpec,
    index: int,
    part: PartSpec,
    out: FamilyOutput,
    values: Mapping[str, Any],
    rng: np.random.Generator,
) -> Part:
    path = ("parts", index)
    quantity = out.quantities.get(part.key) if part.key else None
    ptype = part.type or (quantity.type if quantity else "numeric")
    check = _check_options(part, quantity)
    choices: tuple[dict[str, str], ...] | None = None
    if quantity is not None:
        key = quantity.value
        family_mistakes = {m.code: m for m in quantity.mistakes}
        candidates = []
        if part.mistakes_given:
            for m in part.mistakes:
                fm = family_mistakes.get(m.code)
                if fm is not None:
                    candidates.append((m.code, m.feedback or fm.feedback, fm.value, m.credit))
        else:
            candidates = [(m.code, m.feedback, m.value, 0.0) for m in quantity.mistakes]
        if quantity.choices is not None:
            choices = tuple(dict(c) for c in quantity.choices)
    elif ptype in ("choice", "multiselect"):
        key, candidates, choices = _declarative_choices(spec, part, rng)
        choices = tuple({**c, "text": render(c["text"], values)} for c in choices)
    else:
        free = set(check.get("variables", ())) | set(check.get("definitions", {}))
        values = {k: v for k, v in values.items() if k not in free}
        key = _evaluate_answer(spec, f"{_field(path)}.answer", ptype, values, path)
        candidates = []
        for j, m in enumerate(part.mistakes):
            mfield = f"{_field(path)}.mistakes[{j}].answer"
            try:
                value = _evaluate_answer(spec, mfield, ptype, values, path)
            except IllPosed:
                continue
            candidates.append((m.code, m.feedback or "", value, m.credit))
    if ptype in ("numeric", "vector", "matrix"):
        _guard_numbers(key, check, path)
    if quantity is None or part.mistakes_given:  # instructor text may use placeholders
        candidates = [(c, render(fb, values), v, cr) for c, fb, v, cr in candidates]
    mistakes = _distinct_mistakes(ptype, key, candidates, check)
    return Part(
        id=part.id,
        prompt_md=render(part.prompt, values),
        type=ptype,
        points=float(part.points),
        check=check,
        key=key,
        key_text=key_text(ptype, key, check),
        mistakes=mistakes,
        choices=choices,
        hints=tuple(render(h, values) for h in part.hints),
    )


def _field(path: tuple[Any, ...]) -> str:
    return f"parts[{path[1]}]"


def _evaluate_answer(
    spec: ExerciseSpec, name: str, ptype: str, values: Mapping[str, Any], path: tuple[Any, ...]
) -> Any:
    expr = spec.compiled[name]
    if ptype == "expression":
        return expressions.to_text(expressions.substitute(expr, values))
    try:
        return expressions.evaluate(expr, values)
    except (ArithmeticError, ValueError) as exc:
        raise _illposed(f"the answer of {path} is undefined ({exc})", path) from None


def _declarative_choices(
    spec: ExerciseSpec, part: PartSpec, rng: np.random.Generator
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
    key: Any = correct[0] if part.type == "choice" else correct
    if part.type == "multiselect":
        candidates = [(code, fb, sorted({*correct, v}), cr) for code, fb, v, cr in candidates]
    return key, candidates, tuple(choices)


def _flat(value: Any) -> list[float]:
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    return [float(value)]


def _guard_numbers(key: Any, check: Mapping[str, Any], path: tuple[Any, ...]) -> None:
    floor = max(MIN_MAGNITUDE, 10 * float(check.get("atol", 0.0)))
    for v in _flat(key):
        if not math.isfinite(v):
            raise _illposed("an answer is not finite", path)
        if 1e-12 < abs(v) < floor:
            raise _illposed(f"an answer ({v:.3g}) rounds to zero", path)


def close(a: Any, b: Any, check: Mapping[str, Any]) -> bool:
    """Would the checker accept ``a`` for key ``b``? (a float-level estimate)."""
    fa, fb = _flat(a), _flat(b)
    if len(fa) != len(fb):
        return False
    if check.get("mode") == "sigfigs":
        rtol, atol = 0.5 * 10 ** (1 - int(check.get("sigfigs", 3))), 0.0
    else:
        rtol, atol = float(check.get("rtol", 0.0)), float(check.get("atol", 0.0))
        if check.get("mode") == "relative":
            atol = 0.0
        elif check.get("mode") == "absolute":
            rtol = 0.0
    return all(abs(x - y) <= max(atol, rtol * abs(y)) * 2 for x, y in zip(fa, fb, strict=True))


def _distinct_mistakes(
    ptype: str, key: Any, candidates: list[tuple[str, str, Any, float]], check: Mapping[str, Any]
) -> tuple[Mistake, ...]:
    """Drop mistakes the checker could not tell from the key or from an earlier mistake."""
    kept: list[Mistake] = []
    numeric = ptype in ("numeric", "vector", "matrix")
    for code, feedback, value, credit in candidates:
        if numeric:
            if not all(math.isfinite(v) for v in _flat(value)) or close(value, key, check):
                continue
            if any(close(value, m.value, check) for m in kept):
                continue
        elif value == key or any(value == m.value for m in kept):
            continue
        kept.append(Mistake(code, feedback, value, float(credit)))
    return tuple(kept)


def sig_text(value: float, sigfigs: int) -> str:
    """``value`` rounded half-up (in decimal) to ``sigfigs`` significant figures."""
    d = float_decimal(value)
    if d == 0:
        return "0"
    quantum = Decimal(1).scaleb(d.adjusted() - sigfigs + 1)
    return format(d.quantize(quantum, rounding=ROUND_HALF_UP), "f")


def key_text(ptype: str, key: Any, check: Mapping[str, Any]) -> str:
    """How a student would type the key (used by self-tests and the CLI)."""
    if ptype == "numeric":
        if check.get("mode") == "sigfigs":
            return sig_text(key, int(check["sigfigs"]))
        return expressions.format_number(key, 12)
    if ptype in ("vector", "matrix"):
        return _array_text(key)
    if ptype == "multiselect":
        return ", ".join(key)
    return str(key)


def _array_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_array_text(v) for v in value) + "]"
    return expressions.format_number(value, 12)


def trial_generate(spec: ExerciseSpec) -> None:
    """Generate a few variants at load time so a bad spec is refused whole.

    Raises:
        SpecError: the constraints cannot be met, a template fails, or the family fails.
    """
    deadline = budget_clock() + TRIAL_CPU_BUDGET
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
