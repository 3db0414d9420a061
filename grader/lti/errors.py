"""Typed errors with stable codes, so the web layer can map each failure to a page or a status."""

from __future__ import annotations


class LtiError(Exception):
    """Base of every LTI protocol error.

    Attributes:
        code: a stable, machine-readable identifier (``"bad_audience"``); safe to show and to log.
        message: a human-readable explanation; never contains tokens or keys.
    """

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code


class ConfigError(LtiError):
    """Our own configuration is unusable (no active key, a registration without URLs, ...)."""


class LoginError(LtiError):
    """The OIDC login initiation request was refused (unknown issuer, missing parameter, ...)."""


class LaunchError(LtiError):
    """An id_token launch was refused. No session must be created when this is raised."""


class UnknownDeployment(LaunchError):
    """A correctly signed launch from a registered platform, through a deployment nobody
    approved yet: the ids are genuine, so the tool may record them for its admin."""

    def __init__(self, issuer: str, client_id: str, deployment_id: str) -> None:
        super().__init__(
            "unknown_deployment", "this deployment is not approved for the registration"
        )
        self.issuer = issuer
        self.client_id = client_id
        self.deployment_id = deployment_id


class JwksError(LtiError):
    """A platform key set could not be fetched or does not hold the requested key."""


class DeepLinkingError(LtiError):
    """A deep-linking response cannot be built for the platform's settings."""


ANSWER_LOST = "answer_lost"
"""``ServiceError.code`` when the whole request went out and no answer came back."""


class ServiceError(LtiError):
    """An AGS, NRPS or token call failed.

    Attributes:
        retryable: True for 429, 5xx and connection errors: the caller should back off and retry.
        status: the HTTP status, or None for connection errors and malformed responses.
        retry_after: seconds the platform asked us to wait (``Retry-After``), if any.
        detail: a short excerpt of the platform's error body (e.g. Canvas'
            "User not found in course or is not a student"), for per-student error display.
    """

    retryable = False

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        status: int | None = None,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(code, message)
        self.status = status
        self.retry_after = retry_after
        self.detail = detail

    @property
    def answer_lost(self) -> bool:
        """The call's request was written to the socket whole, then no HTTP answer came (a read
        timeout, a connection reset or closed after sending): the platform may have applied it.

        False when the request never went out whole (connection refused, DNS, TLS, connect
        timeout, a token request failing before the call) and when the platform answered.
        """
        return self.code == ANSWER_LOST


class RetryableServiceError(ServiceError):
    """Transient: 429, 5xx, timeouts, connection errors; back off (honour ``retry_after``)."""

    retryable = True


class PermanentServiceError(ServiceError):
    """Permanent: 4xx and malformed answers. Retrying the same request will not help."""

    retryable = False
