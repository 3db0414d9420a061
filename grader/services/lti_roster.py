"""The LMS side of a course for its instructors: roster sync (NRPS) and grade-sync status.

Roster sync reads every page of the platform's Names and Role Provisioning Service for each
LMS course linked to ours and brings enrolments up to date: active members with a context
role are enrolled (created as users on first sight, like a launch would), roles follow the
LMS's *context* roles, and inactive or deleted members are counted but never removed here
(their work stays; an instructor removes people on the course page).

The status page lists the course's LMS links, their line items, and the score outbox:
what was sent, what waits for a retry, and the permanent per-student errors (each can be
queued again once fixed in the LMS).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import begin_write
from grader.db import writes
from grader.errors import BadRequest
from grader.errors import NotFound
from grader.lti import NrpsClient
from grader.lti import ServiceError
from grader.models import Course
from grader.models import Quiz
from grader.models import User
from grader.models import utcnow
from grader.models_lti import LtiContext
from grader.models_lti import LtiDeployment
from grader.models_lti import LtiLineItem
from grader.models_lti import LtiRegistration
from grader.models_lti import LtiResourceLink
from grader.models_lti import LtiScore
from grader.models_lti import LtiUser
from grader.services import lti_accounts
from grader.services import lti_outbox
from grader.services.enrolments import require_staff

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class RosterSyncReport:
    """What a roster sync did, over every LMS course linked to ours."""

    contexts: int = 0
    members: int = 0
    added: int = 0
    updated: int = 0
    inactive: int = 0
    no_role: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)


def _course_contexts(session: Session, course_id: int) -> list[LtiContext]:
    return list(
        session.scalars(
            select(LtiContext).where(LtiContext.course_id == course_id).order_by(LtiContext.id)
        )
    )


def sync_roster(
    session: Session,
    actor: User | None,
    course_id: int,
    clients: lti_outbox.ServiceClients,
    *,
    now: dt.datetime | None = None,
) -> RosterSyncReport:
    """Sync the course's enrolments from the LMS rosters (committed per LMS course).

    Raises:
        Forbidden/Unauthorized/NotFound: the actor may not manage the course.
        BadRequest: no LMS course with a roster service is linked to this course.
    """
    require_staff(session, actor, course_id)
    now = now or utcnow()
    contexts = [c for c in _course_contexts(session, course_id) if c.memberships_url]
    if not contexts:
        raise BadRequest("no LMS course with a roster service is linked to this course yet")
    report = RosterSyncReport()
    for context in contexts:
        deployment = session.get(LtiDeployment, context.lti_deployment_id)
        assert deployment is not None
        registration = session.get(LtiRegistration, deployment.registration_id)
        assert registration is not None
        assert context.memberships_url is not None
        try:
            roster = NrpsClient(clients.get(session, registration)).roster(context.memberships_url)
        except ServiceError as exc:
            report.errors.append(f"{registration.name or registration.issuer}: {exc.message}")
            logger.warning("lti roster sync failed: context=%s (%s)", context.id, exc.code)
            continue
        report.contexts += 1
        begin_write(session)  # after the LMS answered: no write lock held over HTTP
        for member in roster.members:
            report.members += 1
            if not member.is_active:
                report.inactive += 1
                continue
            role = lti_accounts.enrolment_role(member.roles)
            if role is None:
                report.no_role += 1
                continue
            known = session.scalar(
                select(LtiUser.id).where(
                    LtiUser.registration_id == registration.id, LtiUser.sub == member.user_id
                )
            )
            user = lti_accounts.find_or_create_user(
                session,
                registration,
                member.user_id,
                name=member.name,
                given_name=member.given_name,
                family_name=member.family_name,
                email=member.email,
                is_test_user=member.roles.is_test_user,
                now=now,
                from_launch=False,
            )
            changed = lti_accounts.set_enrolment(session, course_id, user.id, role)
            if known is None:
                report.added += 1
            elif changed:
                report.updated += 1
        context.roster_synced_at = now
        session.commit()
    logger.info(
        "lti roster synced: course_id=%s members=%s added=%s updated=%s",
        course_id,
        report.members,
        report.added,
        report.updated,
    )
    return report


# --------------------------------------------------------------------------- status


@dataclasses.dataclass(frozen=True)
class LinkStatus:
    link: LtiResourceLink
    quiz: Quiz | None
    line_item: LtiLineItem | None
    counts: dict[str, int]


@dataclasses.dataclass(frozen=True)
class ScoreRow:
    score: LtiScore
    student: User
    link_title: str


@dataclasses.dataclass(frozen=True)
class CourseLtiStatus:
    course: Course
    contexts: list[tuple[LtiContext, LtiRegistration]]
    links: list[LinkStatus]
    problems: list[ScoreRow]  # permanent errors, and pending rows that already failed once
    recent: list[ScoreRow]


def course_status(
    session: Session, actor: User | None, course_id: int, *, recent: int = 30
) -> CourseLtiStatus:
    """The course's LMS links and grade sync for its instructors."""
    course = require_staff(session, actor, course_id)
    contexts = []
    for context in _course_contexts(session, course_id):
        deployment = session.get(LtiDeployment, context.lti_deployment_id)
        assert deployment is not None
        registration = session.get(LtiRegistration, deployment.registration_id)
        assert registration is not None
        contexts.append((context, registration))
    context_ids = [c.id for c, _ in contexts]
    links = list(
        session.scalars(
            select(LtiResourceLink)
            .where(LtiResourceLink.lti_context_id.in_(context_ids))
            .order_by(LtiResourceLink.id)
        )
    )
    link_ids = [link.id for link in links]
    counts: dict[int, dict[str, int]] = {i: {} for i in link_ids}
    for link_id, status, n in session.execute(
        select(LtiScore.lti_resource_link_id, LtiScore.status, func.count(LtiScore.id))
        .where(LtiScore.lti_resource_link_id.in_(link_ids))
        .group_by(LtiScore.lti_resource_link_id, LtiScore.status)
    ):
        counts[link_id][status] = int(n)
    items = {
        i.lti_resource_link_id: i
        for i in session.scalars(
            select(LtiLineItem).where(LtiLineItem.lti_resource_link_id.in_(link_ids))
        )
    }
    link_status = [
        LinkStatus(
            link=link,
            quiz=session.get(Quiz, link.quiz_id) if link.quiz_id else None,
            line_item=items.get(link.id),
            counts=counts[link.id],
        )
        for link in links
    ]
    titles = {ls.link.id: ls.link.title or (ls.quiz.title if ls.quiz else "") for ls in link_status}

    def rows(query: object) -> list[ScoreRow]:
        out = []
        for score, student in session.execute(query):  # type: ignore[call-overload]
            out.append(ScoreRow(score, student, titles.get(score.lti_resource_link_id, "")))
        return out

    base = (
        select(LtiScore, User)
        .join(User, User.id == LtiScore.user_id)
        .where(LtiScore.lti_resource_link_id.in_(link_ids))
    )
    problems = rows(
        base.where(
            (LtiScore.status == "failed")
            | ((LtiScore.status == "pending") & LtiScore.last_error.is_not(None))
        ).order_by(LtiScore.id.desc())
    )
    latest = rows(base.order_by(LtiScore.id.desc()).limit(recent))
    return CourseLtiStatus(course, contexts, link_status, problems, latest)


@writes
def resend_score(session: Session, actor: User | None, course_id: int, score_id: int) -> LtiScore:
    """Queue a failed score again (after the instructor fixed the cause in the LMS)."""
    require_staff(session, actor, course_id)
    score = session.get(LtiScore, score_id)
    link = session.get(LtiResourceLink, score.lti_resource_link_id) if score else None
    context = session.get(LtiContext, link.lti_context_id) if link else None
    if score is None or context is None or context.course_id != course_id:
        raise NotFound(f"no LMS score {score_id} in this course")
    if score.status != "failed":
        raise BadRequest("only failed scores can be sent again")
    return lti_outbox.queue_resend(session, score)
