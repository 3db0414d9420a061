"""Courses: the instructor's start page, a course's roster (add, upload, roles, remove)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.models import COURSE_ROLES
from grader.services import account_links
from grader.services import course_linking
from grader.services import enrolments
from grader.services import mail
from grader.services import quizzes as quiz_service
from grader.services.enrolments import MAX_ROSTER_BYTES
from grader.web import security
from grader.web.auth import link_url
from grader.web.instructor import bp
from grader.web.instructor._common import actor
from grader.web.instructor._common import back
from grader.web.instructor._common import db
from grader.web.instructor._common import fail
from grader.web.instructor._common import form_int
from grader.web.security import login_required


@bp.get("/")
@login_required
def index() -> str:
    """The courses I teach, and a form to create one."""
    user = actor()
    return render_template(
        "instructor/index.html",
        courses=enrolments.staff_courses(db(), user),
        can_create=user.role in ("admin", "instructor"),
    )


@bp.post("/courses")
@login_required
def create_course() -> Response:
    try:
        course = enrolments.create_course(
            db(), actor(), code=request.form.get("code", ""), title=request.form.get("title", "")
        )
    except (BadRequest, Conflict) as exc:
        fail(exc.message)
        return back("instructor.index")
    flash(f"Course {course.code} created. Add people, exercises and quizzes below.", "success")
    return back("instructor.course", course_id=course.id)


def _course_page(
    course_id: int, status: int = 200, report: object = None, issued: object = None
) -> tuple[str, int]:
    session, user = db(), actor()
    members = enrolments.roster(session, user, course_id)
    course = enrolments.get_course(session, course_id)
    manager = enrolments.can_manage(session, user, course_id)
    html = render_template(
        "instructor/course.html",
        course=course,
        members=members,
        manager=manager,
        roles=COURSE_ROLES,
        quizzes=quiz_service.list_quizzes(session, user, course_id),
        report=report,
        issued=issued,
        max_kib=MAX_ROSTER_BYTES // 1024,
    )
    return html, status


@bp.get("/courses/<int:course_id>")
@login_required
def course(course_id: int) -> tuple[str, int]:
    """The roster with roles, adding people one by one or from a CSV file, the quizzes."""
    return _course_page(course_id)


@bp.post("/courses/<int:course_id>/members")
@login_required
def add_member(course_id: int) -> Response:
    try:
        enrolment, outcome = enrolments.add_member(
            db(),
            actor(),
            course_id,
            email=request.form.get("email", ""),
            name=request.form.get("name", ""),
            role=request.form.get("role", "student"),
        )
    except (BadRequest, Conflict) as exc:
        fail(exc.message)
        return back("instructor.course", "add-member", course_id=course_id)
    email = enrolment.user.email
    messages = {
        "created": f"Created an account for {email} and added it as {enrolment.role}.",
        "added": f"Added {email} as {enrolment.role}.",
        "updated": f"{email} is now {enrolment.role}.",
        "unchanged": f"{email} was already {enrolment.role}.",
    }
    flash(messages[outcome], "success")
    return back("instructor.course", "roster", course_id=course_id)


@dataclasses.dataclass(frozen=True)
class IssuedView:
    """A link just made, shown once on the course page to copy."""

    name: str
    email: str
    purpose: str
    url: str
    mailed: bool
    expires_at: dt.datetime


@bp.post("/courses/<int:course_id>/members/<int:user_id>/link")
@login_required
def send_link(course_id: int, user_id: int) -> Response | tuple[str, int]:
    """A new set-password link for a member (invitation or reset): mailed when SMTP is
    configured, and shown once here to copy; the member's older links stop working."""
    try:
        link = account_links.issue_for_member(db(), actor(), course_id, user_id)
    except (BadRequest, Forbidden) as exc:
        fail(exc.message)
        return back("instructor.course", "roster", course_id=course_id)
    url = link_url(link.token)
    hours = account_links.LIFETIMES[link.purpose].total_seconds() / 3600
    mailed = mail.send(
        current_app.config,
        mail.link_mail(link.user.email, link.user.name, link.purpose, url, hours),
    )
    issued = IssuedView(link.user.name, link.user.email, link.purpose, url, mailed, link.expires_at)
    html, status = _course_page(course_id, issued=issued)
    return html, status


@bp.app_template_global()
def lms_link_offer(course_id: int) -> course_linking.LinkOffer | None:
    """For a fresh course an LMS launch made: the actor's other courses to link it to."""
    user = security.current_user()
    return course_linking.link_offer(db(), user, course_id) if user is not None else None


@bp.post("/courses/<int:course_id>/link-lms")
@login_required
def link_lms(course_id: int) -> Response:
    """Link the LMS course behind this (fresh, empty) course to another course instead."""
    next_url = security.safe_next(request.form.get("next"))
    try:
        target = course_linking.link_lms_course(db(), actor(), course_id, form_int("target_id"))
    except (BadRequest, Conflict) as exc:
        fail(exc.message)
        return redirect(next_url or url_for("instructor.course", course_id=course_id))  # type: ignore[return-value]
    flash(f"Your LMS course now uses {target.code}: {target.title}, with its quizzes.", "success")
    return redirect(next_url or url_for("instructor.course", course_id=target.id))  # type: ignore[return-value]


@bp.post("/courses/<int:course_id>/members/<int:enrolment_id>/role")
@login_required
def change_role(course_id: int, enrolment_id: int) -> Response:
    try:
        enrolment = enrolments.change_role(
            db(), actor(), course_id, enrolment_id, request.form.get("role", "")
        )
    except (BadRequest, Conflict) as exc:
        fail(exc.message)
    else:
        flash(f"{enrolment.user.email} is now {enrolment.role}.", "success")
    return back("instructor.course", "roster", course_id=course_id)


@bp.post("/courses/<int:course_id>/members/<int:enrolment_id>/remove")
@login_required
def remove_member(course_id: int, enrolment_id: int) -> Response:
    try:
        enrolments.remove_member(db(), actor(), course_id, enrolment_id)
    except (BadRequest, Conflict) as exc:
        fail(exc.message)
    else:
        flash("Removed from the course. Their submissions stay stored.", "success")
    return back("instructor.course", "roster", course_id=course_id)


@bp.post("/courses/<int:course_id>/roster")
@login_required
def upload_roster(course_id: int) -> Response | tuple[str, int]:
    """A CSV roster: all rows enrolled, or nothing and every bad line listed."""
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        fail("choose a CSV file to upload")
        return back("instructor.course", "upload", course_id=course_id)
    data = upload.stream.read(MAX_ROSTER_BYTES + 1)
    try:
        report = enrolments.import_roster(db(), actor(), course_id, data)
    except BadRequest as exc:
        fail(exc.message)
        return back("instructor.course", "upload", course_id=course_id)
    if not report.imported:
        return _course_page(course_id, 400, report)
    flash(
        f"Roster imported: {report.created} new accounts, {report.added} added, "
        f"{report.updated} roles changed, {report.unchanged} already enrolled.",
        "success",
    )
    return back("instructor.course", "roster", course_id=course_id)
