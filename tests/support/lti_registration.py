"""Registering a fake LMS in grader: what an admin would enter from the platform's page."""

from __future__ import annotations

from grader.services.lti_registrations import PlatformInput
from tests.lti.fake_platform import Registration


def platform_input(reg: Registration, name: str) -> PlatformInput:
    """The platform registration an admin types in, copied from what the LMS shows."""
    return PlatformInput(
        issuer=reg.issuer,
        client_id=reg.client_id,
        auth_login_url=reg.auth_login_url,
        token_url=reg.token_url,
        jwks_url=reg.jwks_url,
        deployment_ids=tuple(sorted(reg.deployment_ids)),
        name=name,
        platform_family=reg.platform_family,
        auth_audience=reg.auth_audience,
    )
