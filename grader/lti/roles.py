"""Role parsing: course powers come from *context* (membership) roles only.

Institution roles (``.../institution/person#Instructor``) say what someone is at the university,
not in this course; granting course powers from them lets any faculty member grade any course
(pylti1p3 had this confusion). System roles are likewise ignored for course authorisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from grader.lti import claims

CourseRole = Literal["instructor", "learner"]

_MEMBERSHIP_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/membership"
_INSTITUTION_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/institution/"
_SYSTEM_PREFIXES = (
    "http://purl.imsglobal.org/vocab/lis/v2/system/",
    "http://purl.imsglobal.org/vocab/lti/system/",
)
# LTI 1.3 Core §A.2.3.1 lets platforms send context roles by simple name.
_SIMPLE_CONTEXT_ROLES = frozenset(
    {
        "Administrator",
        "ContentDeveloper",
        "Instructor",
        "Learner",
        "Mentor",
        "Manager",
        "Member",
        "Officer",
    }
)
_INSTRUCTOR_ROLES = frozenset({claims.ROLE_INSTRUCTOR, claims.ROLE_CONTENT_DEVELOPER})
_INSTRUCTOR_SUBROLE_PREFIX = _MEMBERSHIP_PREFIX + "/Instructor#"
_LEARNER_SUBROLE_PREFIX = _MEMBERSHIP_PREFIX + "/Learner#"


@dataclass(frozen=True)
class Roles:
    """Roles from the ``.../claim/roles`` claim, split by kind.

    Attributes:
        context: membership roles, normalised to full URIs; the only ones that decide course powers.
        institution: institution roles, informational only.
        system: system roles (``TestUser`` lives here), informational only.
        other: anything unrecognised (vendor roles), kept for logging and display.
    """

    context: tuple[str, ...] = ()
    institution: tuple[str, ...] = ()
    system: tuple[str, ...] = ()
    other: tuple[str, ...] = ()

    @property
    def is_instructor(self) -> bool:
        """Instructor, ContentDeveloper, or an Instructor sub-role (TeachingAssistant...)."""
        return any(
            r in _INSTRUCTOR_ROLES or r.startswith(_INSTRUCTOR_SUBROLE_PREFIX) for r in self.context
        )

    @property
    def is_learner(self) -> bool:
        """Learner or a Learner sub-role in this context."""
        return any(
            r == claims.ROLE_LEARNER or r.startswith(_LEARNER_SUBROLE_PREFIX) for r in self.context
        )

    @property
    def is_test_user(self) -> bool:
        """Canvas' Test Student and similar: real UI, but platforms refuse their scores."""
        return claims.ROLE_TEST_USER in self.system

    @property
    def course_role(self) -> CourseRole | None:
        """``"instructor"`` wins over ``"learner"``; None when neither context role is present."""
        if self.is_instructor:
            return "instructor"
        if self.is_learner:
            return "learner"
        return None


def parse_roles(values: Iterable[object]) -> Roles:
    """Split role URIs by kind; simple context role names become membership URIs.

    Args:
        values: the raw roles claim (non-string entries are ignored).
    """
    context: list[str] = []
    institution: list[str] = []
    system: list[str] = []
    other: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value:
            continue
        if value in _SIMPLE_CONTEXT_ROLES:
            context.append(f"{_MEMBERSHIP_PREFIX}#{value}")
        elif value.startswith(_MEMBERSHIP_PREFIX):
            context.append(value)
        elif value.startswith(_INSTITUTION_PREFIX):
            institution.append(value)
        elif value.startswith(_SYSTEM_PREFIXES):
            system.append(value)
        else:
            other.append(value)
    return Roles(tuple(context), tuple(institution), tuple(system), tuple(other))
