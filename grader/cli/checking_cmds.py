"""``grader check-expr``: judge one answer, or a JSON-lines batch, from the shell.

A public contract (documented in the README). Needs no app, database or config.

Single mode prints one JSON verdict::

    grader check-expr --expected "2*x" --answer "x+x" --vars x

Batch mode reads one JSON object a line (``{"id", "expected", "answer", "variables",
"mode", "tolerance", "sigfigs"}``; all but expected and answer optional, mode defaults
to symbolic) and writes one JSON verdict a line, in order: ``{"id", "status",
"message", "latex", "diagnosis"}``. A bad line gets an ``invalid`` verdict, not a crash.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any
from typing import TextIO

import click

from grader.checking import Verdict
from grader.checking.dispatch import DISPATCH_MODES

logger = logging.getLogger(__name__)

_BATCH_KEYS = frozenset({"id", "expected", "answer", "variables", "mode", "tolerance", "sigfigs"})


#: the checker's own time budget for one symbolic check (seconds)
TIME_BUDGET = 1.0


def check(
    expected: Any,
    answer: Any,
    *,
    mode: str = "symbolic",
    variables: str | Sequence[str] = (),
    tolerance: float | None = None,
    sigfigs: int | None = None,
) -> Verdict:
    """Judge through the exercises' answer kinds, with the checker's own defaults.

    The web judges with the same kinds; only the options differ (no definitions or
    mistakes here, and the checker's ``atol`` 1e-8 instead of the exercises' 1e-4).

    Raises:
        ValueError: an unknown mode or a bad key.
    """
    from grader.exercises.kinds import ANSWER_KINDS

    options: dict[str, Any]
    if mode == "symbolic":
        if not isinstance(expected, str):
            raise ValueError("a symbolic key must be a string")
        kind, options = ANSWER_KINDS["expression"], {"variables": _names(variables)}
    elif mode == "choice":
        several = not isinstance(expected, str)
        kind, options = ANSWER_KINDS["multiselect" if several else "choice"], {}
        if not several and not isinstance(answer, str):
            raise ValueError("a single choice is one label")
    elif mode in DISPATCH_MODES:
        is_array = (isinstance(expected, list)) or (
            isinstance(expected, str) and expected.lstrip().startswith("[")
        )
        kind = ANSWER_KINDS["vector" if is_array else "numeric"]
        options = {"mode": mode, "functions": None}
        if tolerance is not None:
            options["atol" if mode == "absolute" else "rtol"] = tolerance
        if mode == "sigfigs":
            options["sigfigs"] = sigfigs
        answer = str(answer)
    else:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(DISPATCH_MODES)}")
    return kind.check(options, expected, answer, TIME_BUDGET)


def _names(variables: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(variables, str):
        return tuple(part.strip() for part in variables.split(",") if part.strip())
    return tuple(variables)


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=True, sort_keys=False)


def _bad_line(identifier: Any, message: str) -> dict[str, Any]:
    return {
        "id": identifier,
        "status": "invalid",
        "message": message,
        "latex": None,
        "diagnosis": None,
    }


def judge_line(line: str, number: int) -> dict[str, Any]:
    """The verdict for one batch line; never raises."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return _bad_line(None, f"line {number}: not valid JSON ({exc.msg})")
    except (ValueError, RecursionError):
        return _bad_line(None, f"line {number}: not valid JSON")
    if not isinstance(item, dict):
        return _bad_line(None, f"line {number}: expected a JSON object")
    identifier = item.get("id")
    missing = [name for name in ("expected", "answer") if name not in item]
    if missing:
        return _bad_line(identifier, f"line {number}: missing {' and '.join(missing)}")
    unknown = sorted(set(item) - _BATCH_KEYS)
    if unknown:
        return _bad_line(identifier, f"line {number}: unknown keys {', '.join(unknown)}")
    mode = item.get("mode") or "symbolic"
    variables = item.get("variables") or []
    answer = item["answer"]
    if mode != "choice" and isinstance(answer, int | float) and not isinstance(answer, bool):
        answer = repr(answer)
    if not isinstance(variables, str | list) or (
        isinstance(variables, list) and not all(isinstance(v, str) for v in variables)
    ):
        return _bad_line(identifier, f"line {number}: variables must be a list of names")
    try:
        verdict = check(
            item["expected"],
            answer,
            mode=mode,
            variables=variables,
            tolerance=item.get("tolerance"),
            sigfigs=item.get("sigfigs"),
        )
    except (ValueError, TypeError) as exc:
        return _bad_line(identifier, f"line {number}: {exc}")
    except Exception:  # a bug must not stop the rest of the batch
        logger.exception("check-expr batch line %d failed", number)
        return _bad_line(identifier, f"line {number}: internal error while checking")
    payload = verdict.to_json()
    return {
        "id": identifier,
        "status": payload["status"],
        "message": payload["message"],
        "latex": payload["latex"],
        "diagnosis": payload["diagnosis"],
    }


def run_batch(source: TextIO) -> int:
    """Judge every non-blank line of ``source``, echoing (and flushing) each verdict."""
    count = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        click.echo(_dump(judge_line(line, number)))
        count += 1
    return count


@click.command("check-expr")
@click.option("--expected", "-e", help="The answer key (expression, number or [list]).")
@click.option("--answer", "-a", help="The answer to judge.")
@click.option("--vars", "variables", default="", help="Declared variables, comma-separated.")
@click.option(
    "--mode",
    type=click.Choice(DISPATCH_MODES),
    default="symbolic",
    show_default=True,
    help="How to compare.",
)
@click.option(
    "--tolerance",
    type=float,
    default=None,
    help="rtol (relative/combined) or atol (absolute); default rtol 0.01, atol 1e-8.",
)
@click.option("--sigfigs", type=int, default=None, help="Significant figures (sigfigs mode).")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="JSON-lines file of checks ('-' for stdin); one JSON verdict per line.",
)
def check_expr(
    expected: str | None,
    answer: str | None,
    variables: str,
    mode: str,
    tolerance: float | None,
    sigfigs: int | None,
    batch: TextIO | None,
) -> None:
    """Check an answer against an expected one and print a JSON verdict."""
    if batch is not None:
        if expected is not None or answer is not None:
            raise click.UsageError("--batch cannot be combined with --expected/--answer")
        run_batch(batch)
        return
    if expected is None or answer is None:
        raise click.UsageError("give --expected and --answer, or --batch FILE")
    try:
        verdict = check(
            expected,
            answer,
            mode=mode,
            variables=variables,
            tolerance=tolerance,
            sigfigs=sigfigs,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(_dump(verdict.to_json()))


COMMANDS: list[click.Command] = [check_expr]
