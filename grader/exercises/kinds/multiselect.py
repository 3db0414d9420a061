"""Multiselect answers: any number of the part's options (check boxes)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from grader.checking import Verdict
from grader.checking import check_choice
from grader.exercises.kinds.base import Raw
from grader.exercises.kinds.choice import ChoiceKind
from grader.exercises.kinds.choice import unknown_ids


class MultiselectKind(ChoiceKind):
    """Any number of choices (check boxes); the key is the list of right ids."""

    name = "multiselect"
    widget = "checkbox"

    def correct_count_problem(self, n: int) -> str | None:
        """At least one option is right."""
        return None if n >= 1 else "a multiselect part needs at least one correct choice"

    def choice_key(self, correct: list[str]) -> Any:
        """All the right ids."""
        return correct

    def choice_mistake(self, correct: list[str], wrong: str) -> Any:
        """The right ids plus one wrong one."""
        return sorted({*correct, wrong})

    omission_code = "missed_correct"

    def choice_omissions(self, correct: list[str]) -> list[Any]:
        """Each right option left out in turn (none when only one is right)."""
        if len(correct) < 2:
            return []
        return [[x for x in correct if x != letter] for letter in correct]

    def key_text(self, key: Any, check: Mapping[str, Any]) -> str:
        """The ids, comma-separated."""
        return ", ".join(key)

    def answer_for(self, value: Any, check: Mapping[str, Any]) -> Raw:
        """The ids as the form sends them (a list)."""
        return list(value)

    def precheck(self, choices: Sequence[Mapping[str, str]] | None, raw: Raw) -> Verdict | None:
        """Every selected id is one of the options (and something is selected)."""
        items = raw.replace(";", ",").split(",") if isinstance(raw, str) else list(raw)
        stripped = [x.strip() for x in items]
        return unknown_ids(choices, [x for x in stripped if x] or [""])

    def check(
        self,
        check: Mapping[str, Any],
        expected: Any,
        raw: Raw,
        budget: float,
        *,
        diagnose: bool = True,
    ) -> Verdict:
        """The selected set against the key's."""
        return check_choice([str(e).upper() for e in expected], _selection(raw), multiple=True)

    def input_hint(
        self, shape: Sequence[int] | None, variables: Sequence[str], defined: Sequence[str] = ()
    ) -> str:
        """Said once in the legend."""
        return "choose all that apply"


def _selection(raw: Raw) -> list[str]:
    items = raw.replace(";", ",").split(",") if isinstance(raw, str) else list(raw)
    return [x.strip().upper() for x in items if x.strip()]
