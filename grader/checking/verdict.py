"""Result values of the checker: a verdict, its diagnosis, and a validation preview.

Bad student input is a value here, never an exception: ``invalid`` verdicts carry the
message and the offset, and never cost the student an attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Literal

Status = Literal["correct", "incorrect", "invalid", "undetermined"]


@dataclass(frozen=True)
class Diagnosis:
    """A machine-readable note on a wrong answer plus one sentence for the student.

    Codes used: ``sign_flipped``, ``constant_factor``, ``missing_term``, ``extra_term``,
    ``transposed``, ``order_of_magnitude``, ``inexact_decimal``, ``domain_differs``,
    ``wrong_digits``, ``inaccurate``, ``very_inaccurate``, ``inequality_backwards``,
    ``inequality_strictness``, ``missing_choice``, ``extra_choice``. Exercises decide
    what partial credit each earns.
    """

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The JSON form used by the CLI and stored with submissions."""
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check.

    Attributes:
        status: ``correct``, ``incorrect``, ``invalid`` (unreadable; free retry) or
            ``undetermined`` (we could not decide in the time budget; never a guess).
        message: one or two sentences for the student.
        latex: LaTeX of how the answer was interpreted (``None`` when invalid).
        diagnosis: what seems wrong, when we can tell.
        offset: for ``invalid``, 0-based character offset of the problem.
        variables: the variables found in the answer.
        entries: per-entry status for vectors and matrices, flattened row-major.
    """

    status: Status
    message: str
    latex: str | None = None
    diagnosis: Diagnosis | None = None
    offset: int | None = None
    variables: tuple[str, ...] = ()
    entries: tuple[str, ...] | None = None

    @property
    def correct(self) -> bool:
        """True only for a ``correct`` verdict."""
        return self.status == "correct"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; keys are stable (persisted with submissions)."""
        return {
            "status": self.status,
            "message": self.message,
            "latex": self.latex,
            "diagnosis": self.diagnosis.to_json() if self.diagnosis else None,
            "offset": self.offset,
            "variables": list(self.variables),
            "entries": list(self.entries) if self.entries is not None else None,
        }


@dataclass(frozen=True)
class Preview:
    """What a student sees before submitting: "interpreted as ...".

    Attributes:
        ok: whether the text is a well-formed answer.
        latex: LaTeX with every multiplication visible (``None`` when not ok).
        text: the same interpretation as plain text with explicit ``*``.
        variables: the variable names found, sorted.
        message: the error message when not ok; when ok, notes on how notation was
            read (``sin^2(x) was read as sin(x)^2.``) or an empty string.
        offset: 0-based character offset of the error when not ok.
    """

    ok: bool
    latex: str | None = None
    text: str | None = None
    variables: tuple[str, ...] = ()
    message: str = ""
    offset: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for the validation endpoint."""
        return {
            "ok": self.ok,
            "latex": self.latex,
            "text": self.text,
            "variables": list(self.variables),
            "message": self.message,
            "offset": self.offset,
        }


def invalid(message: str, offset: int | None) -> Verdict:
    """An ``invalid`` verdict: the answer could not be read; no attempt is used."""
    return Verdict(status="invalid", message=message, offset=offset)
