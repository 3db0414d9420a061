"""The one exception of the checking package: an answer we could not read."""

from __future__ import annotations


class ParseError(ValueError):
    """Raised by :func:`grader.checking.parse` for text that is not a valid answer.

    Attributes:
        message: what is wrong, in words a student understands.
        offset: 0-based character offset of the problem in the original text.
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, int]]:
        return (ParseError, (self.message, self.offset))
