"""One notation (issue 12 item 4): worked solutions use the prompt's names, print no engine
names, double signs or raw floats, and every key they print in **Answers** is judged correct.

The symbol rule, stated precisely for the LaTeX in ``$...$``:

- a layer superscript in parentheses (``a^{(1)}``, the engine's naming) appears in the
  solution only if the prompt writes it too;
- a letter the prompt writes only bare (``h``, ``t``) is never subscripted in the solution
  (``h_{1}``, ``t_{1}`` are engine names for them);
- a subscripted capital (``W_{xh}``) in the solution is a name the prompt also uses
  (when the prompt writes any math at all: a concept question may introduce its own).

Entries of a vector or matrix the prompt gives (``g = [...]``) may be indexed (``g_1``).
"""

from __future__ import annotations

import re

import pytest

from grader.exercises import generate
from grader.exercises import judge
from grader.exercises import load_library

SEEDS = range(6)

_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)
_WORDS = re.compile(r"\\(?:operatorname|text|mathrm|mathbf|mathit)\{[^{}]*\}")
_SUB = re.compile(r"(?<![A-Za-z\\])([A-Za-z])_(\{[^{}]*\}|[A-Za-z0-9])")
_LAYER = re.compile(r"\^\{\(\d+\)\}")
#: a minus (or plus) straight after a minus or plus, e.g. "1 - -0.78" or "− −0.78"
_DOUBLE_SIGN = re.compile(r"[-+−]\s*[-−]\s*\d")
#: a float printed with more than 10 significant digits (a raw repr, not a rounded value)
_RAW_FLOAT = re.compile(r"(?<![\d.])-?\d+\.\d*[1-9]\d*")


def _math(text: str) -> str:
    return " ".join(_WORDS.sub(" ", a or b) for a, b in _MATH.findall(text))


def _subscripted(math: str) -> set[str]:
    names = {f"{b}_{s.strip('{}').replace(' ', '')}" for b, s in _SUB.findall(math)}
    return {n for n in names if not n.endswith("_")}


def _arrays(prompt: str) -> set[str]:
    """Names the prompt gives as a vector or matrix (their entries may be indexed)."""
    given = r"(?<![A-Za-z\\])([A-Za-z])\s*=[^$=]*?(?:=[^$=]*?)?(?:\\begin\{|\[)"
    return set(re.findall(given, prompt))


def _bare(math: str, letter: str) -> bool:
    return re.search(rf"(?<![A-Za-z\\]){letter}(?![A-Za-z_])", math) is not None


def _significant(number: str) -> int:
    return len(number.lstrip("-").replace(".", "").lstrip("0"))


def _prompt(v) -> str:
    return v.prompt_md + "\n" + "\n".join(p.prompt_md for p in v.parts)


EXERCISES = sorted(load_library())


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_solution_uses_the_prompts_names(library, exercise_id: str) -> None:
    for seed in SEEDS:
        v = generate(library[exercise_id], seed)
        prompt, solution = _math(_prompt(v)), _math(v.solution_md)
        where = f"{exercise_id} seed {seed}"
        layers = set(_LAYER.findall(solution)) - set(_LAYER.findall(prompt))
        assert not layers, f"{where}: engine layer names {sorted(layers)}"
        in_prompt = _subscripted(prompt)
        arrays = _arrays(_prompt(v))
        for name in sorted(_subscripted(solution) - in_prompt):
            base = name.split("_")[0]
            if base in arrays:
                continue
            prompt_subscripts_it = any(n.split("_")[0] == base for n in in_prompt)
            if _bare(prompt, base) and not prompt_subscripts_it:
                pytest.fail(f"{where}: the prompt says {base}, the solution {name}")
            if prompt.strip():
                assert not base.isupper(), f"{where}: {name} is not a name of the prompt"


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_no_double_signs_or_raw_floats(library, exercise_id: str) -> None:
    for seed in SEEDS:
        v = generate(library[exercise_id], seed)
        for what, text in (("prompt", _prompt(v)), ("solution", v.solution_md)):
            where = f"{exercise_id} seed {seed} {what}"
            assert not _DOUBLE_SIGN.findall(_math(text)), f"{where}: {_DOUBLE_SIGN.findall(text)}"
            long = [n for n in _RAW_FLOAT.findall(text) if _significant(n) > 10]
            assert not long, f"{where}: raw floats {long}"
        for svg in (v.diagram_svg or "", v.solution_diagram_svg or ""):
            labels = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
            assert "⁽" not in labels, f"{exercise_id} seed {seed}: engine names in {labels}"
            long = [n for n in _RAW_FLOAT.findall(labels) if _significant(n) > 6]
            assert not long, f"{exercise_id} seed {seed}: raw floats in the diagram {long}"
        # one precision rule: only the kind's own note says how many figures to give
        assert "significant figures" not in v.prompt_md, exercise_id
        for part in v.parts:
            assert part.prompt_md.count("significant figures") <= 1, (exercise_id, part.id)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_printed_answer_is_judged_correct(library, exercise_id: str) -> None:
    for seed in SEEDS:
        v = generate(library[exercise_id], seed)
        answers = v.solution_md.split("**Answers**", 1)[1]
        for part in v.parts:
            line = next(x for x in answers.splitlines() if x.startswith(f"- **{part.id}**: "))
            printed = line.split("`")[1]
            assert printed == part.key_text
            assert not re.search(r"(?<![\d.])-0(\.0*)?(?![\d.])", printed), printed  # no -0.00
            if part.type in ("numeric", "vector", "matrix", "expression"):
                r = judge(v, part.id, printed)
                assert r.status == "correct", f"{exercise_id} seed {seed} {part.id}: {printed}"
