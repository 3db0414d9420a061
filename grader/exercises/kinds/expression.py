"""Expression answers: symbolic equivalence over the part's variables and definitions."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

from grader.checking import Verdict
from grader.checking import check_expression
from grader.checking import preview
from grader.exercises.kinds.base import AnswerKind
from grader.exercises.kinds.base import CheckProblem
from grader.exercises.kinds.base import Raw


class ExpressionKind(AnswerKind):
    """A formula in the declared variables (and defined names such as ``z1``)."""

    name = "expression"
    previewed = True
    junk: ClassVar[tuple[str, ...]] = ("", "2 +", "((")
    diagnoses_late = True

    def free_names(self, check: Mapping[str, Any]) -> set[str]:
        """The declared variables and the defined names stay symbols."""
        return set(check.get("variables", ())) | set(check.get("definitions", {}))

    def declarative_value(self, expr: Any, values: Mapping[str, Any]) -> Any:
        """The expression with the parameters' values substituted, as answer-language text."""
        from grader.exercises import expressions  # the evaluator: only when generating

        return expressions.to_text(expressions.substitute(expr, values))

    def key_latex(self, key_text: str, names: Sequence[str]) -> str | None:
        """The key through the checker's parser (the one answers use) to LaTeX."""
        shown = preview(key_text, variables=names)
        return shown.latex if shown.ok and shown.latex else None

    def check_options(
        self, part_check: Mapping[str, Any], family_check: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Always ``mode: symbolic``."""
        return {**family_check, **part_check, "mode": "symbolic"}

    def check_problems(self, check: Mapping[str, Any]) -> list[CheckProblem]:
        """Only the symbolic mode; domains name declared variables."""
        problems: list[CheckProblem] = []
        if check.get("mode") not in (None, "symbolic"):
            problems.append((("mode",), "an expression answer is checked with mode: symbolic"))
        for name in check.get("domains", {}):
            if name not in check.get("variables", ()):
                problems.append((("domains", name), f"{name!r} is not one of the variables"))
        return problems

    def check(
        self,
        check: Mapping[str, Any],
        expected: Any,
        raw: Raw,
        budget: float,
        *,
        diagnose: bool = True,
    ) -> Verdict:
        """Symbolic equivalence, with the diagnosis only when asked (it is costly)."""
        assert isinstance(raw, str)
        return check_expression(
            str(expected),
            raw,
            variables=tuple(check.get("variables", ())),
            domains=dict(check.get("domains", {})),
            definitions=dict(check.get("definitions", {})),
            time_budget=budget,
            diagnose=diagnose,
        )

    def input_hint(
        self, shape: Sequence[int] | None, variables: Sequence[str], defined: Sequence[str] = ()
    ) -> str:
        """Names the variables and the defined names a student may use."""
        inside = f" in {', '.join(variables)}" if variables else ""
        also = f"; you may also use {', '.join(defined)}" if defined else ""
        return f"an expression{inside}{also}; 2x and 2*x both multiply"
