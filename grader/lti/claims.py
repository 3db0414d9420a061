"""Claim names, scopes, media types and role URIs (LTI 1.3 Core, DL 2.0, AGS 2.0, NRPS 2.0)."""

from __future__ import annotations

from typing import Final

LTI_VERSION: Final = "1.3.0"

_LTI: Final = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE: Final = _LTI + "message_type"
CLAIM_VERSION: Final = _LTI + "version"
CLAIM_DEPLOYMENT_ID: Final = _LTI + "deployment_id"
CLAIM_TARGET_LINK_URI: Final = _LTI + "target_link_uri"
CLAIM_RESOURCE_LINK: Final = _LTI + "resource_link"
CLAIM_ROLES: Final = _LTI + "roles"
CLAIM_CONTEXT: Final = _LTI + "context"
CLAIM_CUSTOM: Final = _LTI + "custom"
CLAIM_LAUNCH_PRESENTATION: Final = _LTI + "launch_presentation"
CLAIM_TOOL_PLATFORM: Final = _LTI + "tool_platform"
CLAIM_LIS: Final = _LTI + "lis"

CLAIM_AGS_ENDPOINT: Final = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS: Final = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

_DL: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CLAIM_DL_SETTINGS: Final = _DL + "deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS: Final = _DL + "content_items"
CLAIM_DL_DATA: Final = _DL + "data"
CLAIM_DL_MSG: Final = _DL + "msg"
CLAIM_DL_ERRORMSG: Final = _DL + "errormsg"
CLAIM_DL_LOG: Final = _DL + "log"
CLAIM_DL_ERRORLOG: Final = _DL + "errorlog"

MESSAGE_RESOURCE_LINK: Final = "LtiResourceLinkRequest"
MESSAGE_DEEP_LINKING_REQUEST: Final = "LtiDeepLinkingRequest"
MESSAGE_DEEP_LINKING_RESPONSE: Final = "LtiDeepLinkingResponse"

SCOPE_LINEITEM: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS: Final = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES: Final = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
ALL_SCOPES: Final = (*AGS_SCOPES, SCOPE_NRPS)

MEDIA_LINEITEM: Final = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER: Final = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE: Final = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULT_CONTAINER: Final = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_MEMBERSHIP_CONTAINER: Final = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_MEMBERSHIP: Final = "http://purl.imsglobal.org/vocab/lis/v2/membership"
ROLE_INSTRUCTOR: Final = _MEMBERSHIP + "#Instructor"
ROLE_LEARNER: Final = _MEMBERSHIP + "#Learner"
ROLE_CONTENT_DEVELOPER: Final = _MEMBERSHIP + "#ContentDeveloper"
ROLE_MENTOR: Final = _MEMBERSHIP + "#Mentor"
ROLE_CONTEXT_ADMIN: Final = _MEMBERSHIP + "#Administrator"
ROLE_TEACHING_ASSISTANT: Final = _MEMBERSHIP + "/Instructor#TeachingAssistant"
ROLE_INSTITUTION_INSTRUCTOR: Final = (
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"
)
ROLE_INSTITUTION_STUDENT: Final = (
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
)
ROLE_SYSTEM_ADMIN: Final = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
ROLE_TEST_USER: Final = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"
