"""Deep Linking 2.0 response: the signed ``LtiDeepLinkingResponse`` and its auto-submit form.

The content item always carries a ``lineItem`` with the quiz's real points: without it
Blackboard creates an ungradable link (hypothesis/lms#5973) and D2L/Canvas default to 100
(webwork2#2422). The JWT header always carries ``kid`` (D2L requires it).

Seam: after the instructor picks a quiz, the lead calls ``build_deep_linking_response(launch,
[ResourceLinkItem(...)], key=active_key(records))`` and returns ``response.form_html`` (text/html).
"""

from __future__ import annotations

import html
import secrets
import time
import uuid
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import jwt

from grader.lti import claims as c
from grader.lti._http import check_http_url
from grader.lti.errors import DeepLinkingError
from grader.lti.grades import LineItemSpec
from grader.lti.keys import KeyRecord
from grader.lti.launch import DeepLinkingSettings
from grader.lti.launch import LaunchData

RESOURCE_LINK_TYPE = "ltiResourceLink"
RESPONSE_LIFETIME_SECONDS = 300


@dataclass(frozen=True)
class ResourceLinkItem:
    """An ``ltiResourceLink`` content item (e.g. one quiz)."""

    title: str
    url: str | None = None
    text: str | None = None
    custom: Mapping[str, str] = field(default_factory=dict)
    line_item: LineItemSpec | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": RESOURCE_LINK_TYPE, "title": self.title}
        if self.url is not None:
            try:
                check_http_url(self.url)
            except ValueError:
                raise DeepLinkingError("bad_url", "content item URLs must be http(s)") from None
            out["url"] = self.url
        if self.text is not None:
            out["text"] = self.text
        if self.custom:
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.custom.items()):
                raise DeepLinkingError("bad_custom", "custom parameters must be strings")
            out["custom"] = dict(self.custom)
        if self.line_item is not None:
            out["lineItem"] = self.line_item.to_json()
        return out


@dataclass(frozen=True)
class DeepLinkingResponse:
    """What to send back: POST ``jwt`` as form field ``JWT`` to ``return_url``."""

    return_url: str
    jwt: str = field(repr=False)
    form_html: str = field(repr=False)


def check_items(settings: DeepLinkingSettings, items: Sequence[ResourceLinkItem]) -> None:
    """Refuse items the platform said it will not accept."""
    if not items:
        return
    if RESOURCE_LINK_TYPE not in settings.accept_types:
        raise DeepLinkingError("type_not_accepted", "the platform does not accept ltiResourceLink")
    if len(items) > 1 and not settings.accept_multiple:
        raise DeepLinkingError("multiple_not_accepted", "the platform accepts a single item")
    if not settings.accept_lineitem and any(i.line_item is not None for i in items):
        raise DeepLinkingError("lineitem_not_accepted", "the platform does not accept line items")


def build_deep_linking_jwt(
    launch: LaunchData,
    items: Sequence[ResourceLinkItem],
    *,
    key: KeyRecord,
    msg: str | None = None,
    errormsg: str | None = None,
    now: float | None = None,
    lifetime: int = RESPONSE_LIFETIME_SECONDS,
) -> str:
    """The signed response JWT (iss = our client_id, aud = the platform issuer)."""
    settings = launch.deep_linking
    if settings is None:
        raise DeepLinkingError("not_deep_linking", "the launch is not a deep-linking request")
    check_items(settings, items)
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        "iss": launch.client_id,
        "aud": launch.issuer,
        "iat": issued,
        "exp": issued + lifetime,
        "nonce": secrets.token_urlsafe(24),
        "jti": str(uuid.uuid4()),
        c.CLAIM_DEPLOYMENT_ID: launch.deployment_id,
        c.CLAIM_MESSAGE_TYPE: c.MESSAGE_DEEP_LINKING_RESPONSE,
        c.CLAIM_VERSION: c.LTI_VERSION,
        c.CLAIM_DL_CONTENT_ITEMS: [item.to_json() for item in items],
    }
    if settings.data is not None:
        payload[c.CLAIM_DL_DATA] = settings.data
    if msg is not None:
        payload[c.CLAIM_DL_MSG] = msg
    if errormsg is not None:
        payload[c.CLAIM_DL_ERRORMSG] = errormsg
    return jwt.encode(
        payload, key.private_key(), algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"}
    )


def auto_submit_form(
    action: str, fields: Mapping[str, str], *, script_nonce: str | None = None
) -> str:
    """A minimal HTML page POSTing ``fields`` to ``action``; every value is escaped.

    Args:
        action: the target URL (platform-supplied: escaped, and must be http(s)).
        fields: hidden inputs.
        script_nonce: CSP nonce for the inline submit script, if the app uses one.
    """
    check_http_url(action)
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    nonce_attr = f' nonce="{html.escape(script_nonce, quote=True)}"' if script_nonce else ""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Returning to the course</title>'
        "</head><body>"
        f'<form id="lti-autosubmit" method="post" action="{html.escape(action, quote=True)}">'
        f'{inputs}<noscript><button type="submit">Continue</button></noscript></form>'
        f'<script{nonce_attr}>document.getElementById("lti-autosubmit").submit();</script>'
        "</body></html>"
    )


def build_deep_linking_response(
    launch: LaunchData,
    items: Sequence[ResourceLinkItem],
    *,
    key: KeyRecord,
    msg: str | None = None,
    errormsg: str | None = None,
    now: float | None = None,
    script_nonce: str | None = None,
) -> DeepLinkingResponse:
    """The signed JWT plus the auto-submit page that returns it to the platform."""
    token = build_deep_linking_jwt(launch, items, key=key, msg=msg, errormsg=errormsg, now=now)
    assert launch.deep_linking is not None
    return_url = launch.deep_linking.deep_link_return_url
    return DeepLinkingResponse(
        return_url=return_url,
        jwt=token,
        form_html=auto_submit_form(return_url, {"JWT": token}, script_nonce=script_nonce),
    )
