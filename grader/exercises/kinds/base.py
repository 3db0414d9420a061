"""What an answer kind is: everything one answer type knows, in one object.

PrairieLearn's elements are the model: a kind owns its ``check`` options (defaults and
validation), how its key is typed, the precheck of a raw answer, the checker call
against the key or a mistake, the input widget and hint, and the junk its self-test
feeds it. Nothing outside ``grader.exercises.kinds`` branches on the answer type.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

from grader.checking import Verdict
from grader.exercises.kinds.precision import Indistinct

Raw = str | Sequence[str]
CheckProblem = tuple[tuple[str, ...], str]


def invalid_verdict(message: str) -> Verdict:
    """An ``invalid`` verdict for what the checker cannot know (shape, option ids)."""
    return Verdict(status="invalid", message=message)


class AnswerKind:
    """Base class of the answer kinds; one subclass per answer type."""

    #: the ``type`` string of parts of this kind (persisted in variants)
    name: ClassVar[str] = ""
    #: the student's input: ``text`` (a box), ``radio`` or ``checkbox`` (the choices)
    widget: ClassVar[str] = "text"
    #: whether the "interpreted as" preview applies
    previewed: ClassVar[bool] = False
    #: answers the self-test expects to judge ``invalid``
    junk: ClassVar[tuple[str, ...]] = ("",)
    #: a wrong answer gets a second, diagnosing check (costly; expressions only)
    diagnoses_late: ClassVar[bool] = False
    #: the answer is numbers (vectors, matrices, scalars): tolerances and figures apply
    numeric: ClassVar[bool] = False
    #: declarative parts of this kind list ``choices:`` instead of an ``answer:``
    from_choices: ClassVar[bool] = False
    #: nesting of a declarative ``answer:`` (0 a single expression, 1 a list, 2 rows)
    depth: ClassVar[int] = 0

    def check_options(
        self, part_check: Mapping[str, Any], family_check: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The check options stored in the variant: the family's, then the part's."""
        return {**family_check, **part_check}

    def check_problems(self, check: Mapping[str, Any]) -> list[CheckProblem]:
        """Problems with a part's ``check:`` options, as (sub-path, message) pairs."""
        return []

    def free_names(self, check: Mapping[str, Any]) -> set[str]:
        """Names an ``answer:`` may leave free (an expression's variables and definitions)."""
        return set()

    def declarative_value(self, expr: Any, values: Mapping[str, Any]) -> Any:
        """The key (or a mistake's answer) of a declarative ``answer:`` at these values.

        Raises:
            ArithmeticError, ValueError: the expression is undefined here.
        """
        from grader.exercises import expressions  # the evaluator: only when generating

        return expressions.evaluate(expr, values)

    def correct_count_problem(self, n: int) -> str | None:
        """What is wrong with ``n`` options marked correct (choice kinds)."""
        return None

    def choice_key(self, correct: list[str]) -> Any:
        """The key of a declarative choice part whose right options are ``correct``."""
        raise NotImplementedError

    def choice_mistake(self, correct: list[str], wrong: str) -> Any:
        """The answer of a student who picks the wrong option ``wrong``."""
        raise NotImplementedError

    #: the mistake code of an answer that leaves out a right option (None: no such answer)
    omission_code: ClassVar[str | None] = None

    def choice_omissions(self, correct: list[str]) -> list[Any]:
        """Answers that leave out one of the right options ``correct`` (multiselect)."""
        return []

    def key_text(self, key: Any, check: Mapping[str, Any]) -> str:
        """How a student would type the key (shown in solutions and by the CLI)."""
        return str(key)

    def answer_for(self, value: Any, check: Mapping[str, Any]) -> Raw:
        """How a student would enter ``value`` (the self-test and replay use this)."""
        return self.key_text(value, check)

    def precheck(self, choices: Sequence[Mapping[str, str]] | None, raw: Raw) -> Verdict | None:
        """An ``invalid`` verdict for a raw answer of the wrong shape, else None."""
        if not isinstance(raw, str):
            return invalid_verdict("Give one answer here, not a list of selections.")
        if not raw.strip():
            return invalid_verdict("The answer is empty.")
        return None

    def check(
        self,
        check: Mapping[str, Any],
        expected: Any,
        raw: Raw,
        budget: float,
        *,
        diagnose: bool = True,
    ) -> Verdict:
        """The checker's verdict on ``raw`` against ``expected`` (the key or a mistake)."""
        raise NotImplementedError

    def settle(
        self, key: Any, mistakes: Sequence[tuple[str, Any]], check: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The check options a variant is issued with, once its key and mistakes are known.

        Raises:
            Indistinct: a mistake cannot be told from the key or from another mistake.
        """
        seen: list[tuple[str, Any]] = [("the key", key)]
        for code, value in mistakes:
            for other, at in seen:
                if value == at:
                    raise Indistinct(code, other, "the same answer")
            seen.append((code, value))
        return dict(check)

    def mistake_options(self, check: Mapping[str, Any], value: Any) -> Mapping[str, Any]:
        """The check options that match an answer to the mistake ``value``."""
        return check

    def precision_note(self, check: Mapping[str, Any]) -> str:
        """What the prompt says about the precision expected ("" when nothing)."""
        return ""

    def shape(self, key: Any) -> list[int] | None:
        """The shape a student's answer must have (arrays), shown before answering."""
        return None

    def input_hint(
        self, shape: Sequence[int] | None, variables: Sequence[str], defined: Sequence[str] = ()
    ) -> str:
        """The short reminder next to the answer box (``defined``: names a part defines)."""
        return "a number"

    def key_latex(self, key_text: str, names: Sequence[str]) -> str | None:
        """The shown key typeset as LaTeX, or None to show it as plain text."""
        return None

    def example(self, shape: Sequence[int] | None) -> str:
        """An answer shaped like the part (``[[1, 2], [3, 4]]``), or "" when none helps."""
        return ""
