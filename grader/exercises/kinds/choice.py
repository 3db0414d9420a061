"""Choice answers: one option id out of the part's choices."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

from grader.checking import Verdict
from grader.checking import check_choice
from grader.exercises.kinds.base import AnswerKind
from grader.exercises.kinds.base import CheckProblem
from grader.exercises.kinds.base import Raw
from grader.exercises.kinds.base import invalid_verdict


def unknown_ids(choices: Sequence[Mapping[str, str]] | None, items: list[str]) -> Verdict | None:
    """``invalid`` when an item is not one of the choices' ids."""
    ids = {str(c["id"]).upper() for c in choices or ()}
    for item in items:
        if item.upper() not in ids:
            shown = item or "nothing"
            return invalid_verdict(f"Choose among {', '.join(sorted(ids))} (got {shown}).")
    return None


class ChoiceKind(AnswerKind):
    """A single choice (radio buttons)."""

    name = "choice"
    widget = "radio"
    junk: ClassVar[tuple[str, ...]] = ("", "ZZ")
    from_choices = True

    def correct_count_problem(self, n: int) -> str | None:
        """Exactly one option is right."""
        return None if n == 1 else f"a choice part needs exactly one correct choice, not {n}"

    def choice_key(self, correct: list[str]) -> Any:
        """The one right id."""
        return correct[0]

    def choice_mistake(self, correct: list[str], wrong: str) -> Any:
        """The wrong id itself."""
        return wrong

    def check_options(
        self, part_check: Mapping[str, Any], family_check: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Choices take no options beyond what the family stored."""
        return dict(family_check)

    def check_problems(self, check: Mapping[str, Any]) -> list[CheckProblem]:
        """Choice parts take no check options."""
        return [((), "choice parts take no check options")] if check else []

    def precheck(self, choices: Sequence[Mapping[str, str]] | None, raw: Raw) -> Verdict | None:
        """One of the option ids."""
        if not isinstance(raw, str):
            return invalid_verdict("Give one answer here, not a list of selections.")
        return unknown_ids(choices, [raw.strip()])

    def check(
        self,
        check: Mapping[str, Any],
        expected: Any,
        raw: Raw,
        budget: float,
        *,
        diagnose: bool = True,
    ) -> Verdict:
        """The chosen id against the key's."""
        assert isinstance(raw, str)
        return check_choice(str(expected).upper(), raw.strip().upper())

    def input_hint(
        self, shape: Sequence[int] | None, variables: Sequence[str], defined: Sequence[str] = ()
    ) -> str:
        """Radio buttons need no hint."""
        return ""
