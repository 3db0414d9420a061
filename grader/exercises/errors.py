"""The one error an exercise file can cause: :class:`SpecError`.

A bad file is refused whole, and the message names the file, the line, the field, what is
wrong and what is allowed, so an instructor can fix it without reading our code.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.errors import GraderError


@dataclass(frozen=True)
class SpecProblem:
    """One problem found in an exercise file."""

    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class SpecError(GraderError, ValueError):
    """An exercise spec that cannot be used (HTTP 422 when it reaches the web layer).

    Attributes:
        source: the file name (or ``"<editor>"``) the spec came from.
        line: 1-based line of the first problem, or None when it has no line.
        field: dotted path of the offending field (``parts[1].check.rtol``), or None.
        message: what is wrong and what is allowed, for the first problem.
        errors: every problem found, first one first.
    """

    status = 422
    code = "invalid_exercise"

    def __init__(self, problems: list[SpecProblem]) -> None:
        if not problems:
            raise ValueError("SpecError needs at least one problem")
        first = problems[0]
        self.errors = list(problems)
        text = str(first)
        if len(problems) > 1:
            text += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        super().__init__(text, detail=self.to_json())
        self.source = first.source
        self.line = first.line
        self.field = first.field
        self.message = first.message

    @classmethod
    def single(
        cls, source: str, message: str, *, line: int | None = None, field: str | None = None
    ) -> SpecError:
        """Build an error holding one problem."""
        return cls([SpecProblem(source, line, field, message)])

    def to_json(self) -> dict[str, object]:
        """All problems as JSON-safe dicts, for the web editor."""
        return {
            "errors": [
                {"source": p.source, "line": p.line, "field": p.field, "message": p.message}
                for p in self.errors
            ]
        }
