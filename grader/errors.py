"""Domain errors. Services raise them; the web layer maps them to HTML or JSON.

Bad *user input* to the checker is a value (a Verdict), not an exception. These are
for refusals: not found, not allowed, a conflict, a bad request, bad configuration.
"""

from __future__ import annotations


class GraderError(Exception):
    """Base of every error grader raises on purpose.

    Attributes:
        status: the HTTP status the web layer answers with.
        code: a short stable machine-readable name (used in problem+json ``type``).
    """

    status = 500
    code = "error"

    def __init__(self, message: str, *, detail: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class BadRequest(GraderError):
    status = 400
    code = "bad_request"


class Unauthorized(GraderError):
    status = 401
    code = "unauthorized"


class Forbidden(GraderError):
    status = 403
    code = "forbidden"


class NotFound(GraderError):
    status = 404
    code = "not_found"


class Conflict(GraderError):
    status = 409
    code = "conflict"


class TooManyRequests(GraderError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message, detail={"retry_after": retry_after})
        self.retry_after = retry_after


class ServiceUnavailable(GraderError):
    """The database or another dependency is down; the request may be retried."""

    status = 503
    code = "service_unavailable"


class ConfigError(GraderError):
    """The configuration cannot work; raised at start-up with what to set."""

    status = 500
    code = "config_error"
