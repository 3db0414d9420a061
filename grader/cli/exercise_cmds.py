"""Exercise commands: ``generate``, ``validate-exercises``, ``list-exercises``, ``replay``,
``format-reference``.

Plain click commands: they need neither a Flask app nor a database. Exercise ids are looked
up in the built-in library (``$GRADER_EXERCISES_DIR`` or the repository's ``exercises/``)
unless ``--library`` names another directory.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from grader.exercises import ExerciseSpec
from grader.exercises import SpecError
from grader.exercises import generate
from grader.exercises import kind_of
from grader.exercises import load_library
from grader.exercises import self_test
from grader.exercises.library import default_library_path
from grader.exercises.library import library_files
from grader.exercises.spec import load_spec_file


def _library(path: str | None) -> dict[str, ExerciseSpec]:
    try:
        return load_library(path)
    except SpecError as exc:
        for problem in exc.errors:
            click.echo(str(problem), err=True)
        raise click.exceptions.Exit(2) from None


def _params(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected name=value, got {item!r}", param_hint="--param")
        out[name.strip()] = value.strip()
    return out


@click.command("generate")
@click.argument("exercise_id")
@click.option("--seed", type=click.IntRange(min=0), required=True, help="Variant seed.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Fix a parameter.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole variant as JSON.")
@click.option("--library", type=click.Path(exists=True), default=None, help="Exercise directory.")
def generate_command(
    exercise_id: str, seed: int, params: tuple[str, ...], as_json: bool, library: str | None
) -> None:
    """Print a variant: prompt, parameters, answer key and worked solution."""
    specs = _library(library)
    if exercise_id not in specs:
        known = ", ".join(sorted(specs)) or "none"
        raise click.BadParameter(f"unknown exercise {exercise_id!r}; known: {known}")
    try:
        variant = generate(specs[exercise_id], seed, _params(params))
    except SpecError as exc:
        click.echo(str(exc), err=True)
        raise click.exceptions.Exit(2) from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--param") from None
    if as_json:
        click.echo(json.dumps(variant.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"# {variant.title}  ({variant.exercise_id} v{variant.spec_version}, seed {seed})")
    click.echo("")
    click.echo("Parameters: " + ", ".join(f"{k} = {v}" for k, v in variant.params.items()))
    click.echo("")
    click.echo(variant.prompt_md.rstrip())
    for part in variant.parts:
        click.echo("")
        click.echo(f"## Part {part.id} ({part.type}, {part.points:g} points)")
        if part.prompt_md:
            click.echo(part.prompt_md.rstrip())
        for choice in part.choices or ():
            click.echo(f"  {choice['id']}. {choice['text']}")
        click.echo(f"Answer key: {part.key_text}")
        for m in part.mistakes:
            shown = kind_of(part.type).key_text(m.value, part.check)
            click.echo(f"  mistake {m.code} (credit {m.credit:g}): {shown}")
    click.echo("")
    click.echo("## Worked solution")
    click.echo(variant.solution_md.rstrip())


@click.command("validate-exercises")
@click.argument("path", required=False, type=click.Path(exists=True))
@click.option("--seeds", type=click.IntRange(min=1), default=50, show_default=True)
def validate_command(path: str | None, seeds: int) -> None:
    """Self-test every exercise (PATH: a directory or one file) over many seeds."""
    root = Path(path) if path else default_library_path()
    start = time.perf_counter()
    failures = 0
    exercises = 0
    try:
        files = library_files(root)
    except SpecError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    ids: dict[str, str] = {}
    for file in files:
        exercises += 1
        try:
            spec = load_spec_file(file)
        except SpecError as exc:
            failures += len(exc.errors)
            for problem in exc.errors:
                click.echo(f"FAIL {problem}")
            continue
        if spec.id in ids:
            failures += 1
            click.echo(f"FAIL {file}: id {spec.id!r} already used by {ids[spec.id]}")
            continue
        ids[spec.id] = str(file)
        problems = self_test(spec, range(seeds))
        failures += len(problems)
        for line in problems[:20]:
            click.echo(f"FAIL {file}: {line}")
        if len(problems) > 20:
            click.echo(f"FAIL {file}: ... and {len(problems) - 20} more")
        if not problems:
            click.echo(f"ok   {spec.id} ({len(spec.parts)} parts, {seeds} seeds)")
    elapsed = time.perf_counter() - start
    status = "FAILED" if failures else "passed"
    click.echo(
        f"validate-exercises: {exercises} exercises x {seeds} seeds, "
        f"{failures} problems, {status} in {elapsed:.1f} s"
    )
    if failures or not exercises:
        sys.exit(1)


@click.command("list-exercises")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--library", type=click.Path(exists=True), default=None, help="Exercise directory.")
def list_command(as_json: bool, library: str | None) -> None:
    """List the exercises: id, title, topics and parts."""
    specs = _library(library)
    rows: list[dict[str, Any]] = [
        {
            "id": s.id,
            "title": s.title,
            "version": s.version,
            "family": s.family,
            "topics": list(s.topics),
            "parts": [{"id": p.id, "type": p.type, "points": p.points} for p in s.parts],
        }
        for s in sorted(specs.values(), key=lambda s: s.id)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for s in sorted(specs.values(), key=lambda s: s.id):
        parts = ", ".join(f"{p.id}:{p.type}" for p in s.parts)
        click.echo(f"{s.id:<32} {s.title}  [{', '.join(s.topics)}]  parts: {parts}")


@click.command("replay")
@click.argument("exercise_id", required=False)
@click.option("--submission", "submission_id", type=int, default=None, help="A stored submission.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Variant seed.")
@click.option("--part", "part_id", default=None, help="Part id.")
@click.option("--answer", default=None, help="The answer to judge.")
@click.option("--library", type=click.Path(exists=True), default=None, help="Exercise directory.")
def replay_command(
    exercise_id: str | None,
    submission_id: int | None,
    seed: int | None,
    part_id: str | None,
    answer: str | None,
    library: str | None,
) -> None:
    """Print, as JSON, the judgement the web gives (or gave) an answer.

    Either ``--submission ID`` (judged again against the variant stored with its attempt;
    needs the database) or ``EXERCISE --seed N --part P --answer A`` (a fresh variant of
    the library's current version).
    """
    if submission_id is not None:
        if exercise_id or seed is not None or part_id or answer is not None:
            raise click.UsageError("--submission replays a stored answer: give nothing else")
        click.echo(json.dumps(_replay_stored(submission_id), indent=2, ensure_ascii=False))
        return
    if exercise_id is None or seed is None or part_id is None or answer is None:
        raise click.UsageError("give --submission ID, or EXERCISE --seed N --part P --answer A")
    from grader.exercises import judge

    specs = _library(library)
    if exercise_id not in specs:
        known = ", ".join(sorted(specs)) or "none"
        raise click.BadParameter(f"unknown exercise {exercise_id!r}; known: {known}")
    variant = generate(specs[exercise_id], seed)
    try:
        judgement = judge(variant, part_id, answer)
    except KeyError:
        known = ", ".join(p.id for p in variant.parts)
        raise click.BadParameter(f"no part {part_id!r}; parts: {known}") from None
    payload = {
        "exercise": variant.exercise_id,
        "version": variant.spec_version,
        "seed": seed,
        "part": part_id,
        "answer": answer,
        "judgement": judgement.to_json(),
    }
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _replay_stored(submission_id: int) -> dict[str, Any]:
    from flask.cli import ScriptInfo

    from grader.db import SESSIONMAKER_KEY
    from grader.errors import NotFound
    from grader.services.replay import replay_submission

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        session = app.extensions[SESSIONMAKER_KEY]()
        try:
            return replay_submission(session, submission_id).to_json()
        except NotFound as exc:
            raise click.BadParameter(str(exc), param_hint="--submission") from None
        finally:
            session.close()


@click.command("format-reference")
@click.option("--write", is_flag=True, help="Rewrite FORMAT.md's family section in place.")
@click.option("--check", is_flag=True, help="Exit 1 when FORMAT.md's section is stale.")
def format_reference_command(write: bool, check: bool) -> None:
    """Print the family reference generated from the registry (FORMAT.md embeds it)."""
    from grader.exercises.reference import FORMAT_MD
    from grader.exercises.reference import family_reference_md
    from grader.exercises.reference import with_reference

    if not write and not check:
        click.echo(family_reference_md(), nl=False)
        return
    current = FORMAT_MD.read_text(encoding="utf-8")
    fresh = with_reference(current)
    if check:
        if fresh != current:
            click.echo(f"{FORMAT_MD} is stale: run grader format-reference --write", err=True)
            sys.exit(1)
        click.echo(f"{FORMAT_MD} is up to date")
        return
    FORMAT_MD.write_text(fresh, encoding="utf-8")
    click.echo(f"wrote {FORMAT_MD}")


COMMANDS: list[click.Command] = [
    generate_command,
    validate_command,
    list_command,
    replay_command,
    format_reference_command,
]
