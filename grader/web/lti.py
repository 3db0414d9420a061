"""LTI 1.3 endpoints: OIDC login, launch, our JWKS, deep linking, link setup, status, admin.

Thin over ``grader.services.lti_*``. ``/lti/login`` and ``/lti/launch`` are cross-site
requests from the LMS, so they are exempt from CSRF tokens: the one-time state (bound to a
``SameSite=None; Secure; Partitioned`` cookie and a server row) and the nonce do that job.
A refused launch answers with a page saying why and creates no session; a valid one starts
a fresh session (nothing from before survives) and deletes its state cookie.

Per process: one platform JWKS client (it caches key sets) and one set of service clients
(they cache access tokens), kept in ``app.extensions``.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from grader.db import get_session
from grader.errors import Forbidden
from grader.errors import GraderError
from grader.lti import JwksClient
from grader.lti import canvas_developer_key_json
from grader.lti import clear_state_cookie
from grader.lti import paste_config
from grader.services import lti_keys
from grader.services import lti_launch
from grader.services import lti_links
from grader.services import lti_outbox
from grader.services import lti_registrations
from grader.services import lti_roster
from grader.services import permissions
from grader.web import security
from grader.web.security import csrf
from grader.web.security import login_required
from grader.web.security import require_user

bp = Blueprint("lti", __name__, url_prefix="/lti")

JWKS_CLIENT_KEY = "grader.lti.jwks_client"
SERVICE_CLIENTS_KEY = "grader.lti.service_clients"
_lock = threading.Lock()


def _jwks_client() -> Any:
    with _lock:
        client = current_app.extensions.get(JWKS_CLIENT_KEY)
        if client is None:
            client = JwksClient(allow_private_urls=_allow_private_urls())
            current_app.extensions[JWKS_CLIENT_KEY] = client
        return client


def _service_clients() -> lti_outbox.ServiceClients:
    with _lock:
        clients: lti_outbox.ServiceClients | None = current_app.extensions.get(SERVICE_CLIENTS_KEY)
        if clients is None:
            clients = lti_outbox.ServiceClients(
                _key_secret(), allow_private_urls=_allow_private_urls()
            )
            current_app.extensions[SERVICE_CLIENTS_KEY] = clients
        return clients


def _state_cookie_to_clear(state: object) -> dict[str, Any] | None:
    """``set_cookie`` arguments deleting a launch's state cookie (None without a state)."""
    if not isinstance(state, str) or not state or len(state) > 200:
        return None
    return clear_state_cookie(state).set_cookie_kwargs()


def _allow_private_urls() -> bool:
    """LMS URLs on private addresses: the webhooks' setting (development and tests only)."""
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS"))


def _key_secret() -> str:
    return lti_keys.key_secret(current_app.config)


def _tool() -> Any:
    return lti_launch.tool_config(current_app.config)


def _refused(exc: lti_launch.LtiRefused) -> Response:
    html = render_template("lti/error.html", code=exc.code, message=exc.message)
    response = Response(html, status=exc.status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _one_value_each(values: Any) -> dict[str, str]:
    return {k: v for k, v in values.items()}


# --------------------------------------------------------------------------- the protocol


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login() -> Response:
    """OIDC third-party initiated login: remember the state, send the browser to the LMS."""
    try:
        target = lti_launch.initiate_login(get_session(), _tool(), _one_value_each(request.values))
    except lti_launch.LtiRefused as exc:
        return _refused(exc)
    response = redirect(target.url, code=302)
    response.set_cookie(**target.cookie.set_cookie_kwargs())
    response.headers["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]


@bp.post("/launch")
@csrf.exempt
def launch() -> Response:
    """The id_token POST: validate it in full, map it, and sign the user in afresh."""
    try:
        outcome = lti_launch.handle_launch(
            get_session(), request.form, request.cookies, keys=_jwks_client()
        )
    except lti_launch.LtiRefused as exc:
        response = _refused(exc)
    else:
        security.sign_in(outcome.user)
        if outcome.kind == "quiz":
            response = redirect(url_for("student.quiz", quiz_id=outcome.quiz_id))  # type: ignore[assignment]
        elif outcome.kind == "deep_link":
            response = redirect(url_for("lti.deep_link", handle=outcome.handle))  # type: ignore[assignment]
        elif outcome.kind == "link":
            response = redirect(url_for("lti.link_page", handle=outcome.handle))  # type: ignore[assignment]
        else:
            response = Response(
                render_template("lti/not_ready.html"), status=200, mimetype="text/html"
            )
    cookie = _state_cookie_to_clear(request.form.get("state"))
    if cookie is not None:
        response.set_cookie(**cookie)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jwks")
def jwks() -> Response:
    """Our public keys (next, active, retired) for platforms to verify what we sign."""
    response = jsonify(lti_keys.public_jwks(get_session(), _key_secret()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/config/canvas.json")
def canvas_json() -> Response:
    """The Canvas developer-key configuration ("Enter URL" in Canvas)."""
    return jsonify(canvas_developer_key_json(_tool()))


# --------------------------------------------------------------------------- deep linking


def _auto_submit(form_html: str, action: str, nonce: str) -> Response:
    response = Response(form_html, status=200, mimetype="text/html")
    parts = urlsplit(action)
    origin = f"{parts.scheme}://{parts.netloc}"
    response.headers["Content-Security-Policy"] = (
        # The LMS's return endpoint may redirect within the LMS: allow https targets too.
        f"default-src 'none'; script-src 'nonce-{nonce}'; form-action {origin} https:; "
        "base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/deep-link/<handle>", methods=["GET", "POST"])
@login_required
def deep_link(handle: str) -> Response | tuple[str, int]:
    """The instructor picks quizzes; the signed answer goes back to the LMS."""
    session = get_session()
    user = require_user()
    view = lti_links.get_launch(session, user, handle)
    settings = lti_links.deep_link_settings(view)
    if not security_staff(view.course.id):
        raise _forbidden()
    error = None
    status = 200
    if request.method == "POST":
        cancel = request.form.get("action") == "cancel"
        try:
            ids = [] if cancel else [int(v) for v in request.form.getlist("quiz_id")]
        except ValueError:
            ids = []
        if not cancel and not ids:
            error, status = "Choose a quiz first.", 400
        else:
            nonce = secrets.token_urlsafe(16)
            try:
                answer = lti_links.deep_link_response(
                    session,
                    user,
                    handle,
                    ids,
                    tool=_tool(),
                    key_secret=_key_secret(),
                    script_nonce=nonce,
                )
            except GraderError as exc:
                error, status = exc.message[:1].upper() + exc.message[1:] + ".", exc.status
            else:
                return _auto_submit(answer.form_html, answer.return_url, nonce)
    quizzes = [
        (quiz, lti_outbox.quiz_total_points(quiz))
        for quiz in lti_links.course_quizzes(session, view.course.id)
    ]
    return (
        render_template(
            "lti/deep_link.html",
            view=view,
            settings=settings,
            quizzes=quizzes,
            error=error,
            instructor_quiz_url=_instructor_course_url(view.course.id),
        ),
        status,
    )


def security_staff(course_id: int) -> bool:
    return permissions.is_course_staff(get_session(), require_user(), course_id)


def _forbidden() -> GraderError:
    return Forbidden("only the course's instructors can do this")


def _instructor_course_url(course_id: int) -> str | None:
    if "instructor.course" in current_app.view_functions:
        return url_for("instructor.course", course_id=course_id)
    return None


def _instructor_quiz_url(quiz_id: int | None) -> str | None:
    if quiz_id is not None and "instructor.quiz" in current_app.view_functions:
        return url_for("instructor.quiz", quiz_id=quiz_id)
    return None


# --------------------------------------------------------------------------- a link's quiz


@bp.route("/links/<handle>", methods=["GET", "POST"])
@login_required
def link_page(handle: str) -> Response | tuple[str, int]:
    """An instructor's launch of a link: choose its quiz the first time, then see it."""
    session = get_session()
    user = require_user()
    view = lti_links.get_launch(session, user, handle)
    if view.link is None or not security_staff(view.course.id):
        raise _forbidden()
    status = 200
    if request.method == "POST":
        try:
            quiz_id = int(request.form.get("quiz_id", ""))
        except ValueError:
            flash("Choose a quiz.", "error")
            status = 400
        else:
            try:
                lti_links.choose_quiz(session, user, handle, quiz_id)
            except GraderError as exc:
                flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
                status = exc.status
            else:
                flash("This link now opens the quiz for your students.", "success")
                return redirect(url_for("lti.link_page", handle=handle))  # type: ignore[return-value]
        view = lti_links.get_launch(session, user, handle)
    link = view.link
    assert link is not None
    quiz = next(
        (q for q in lti_links.course_quizzes(session, view.course.id) if q.id == link.quiz_id),
        None,
    )
    return (
        render_template(
            "lti/link.html",
            view=view,
            link=link,
            quiz=quiz,
            quizzes=lti_links.course_quizzes(session, view.course.id),
            locked=link.quiz_id is not None and lti_links.link_has_scores(session, link.id),
            instructor_quiz_url=_instructor_quiz_url(link.quiz_id),
            instructor_course_url=_instructor_course_url(view.course.id),
        ),
        status,
    )


# --------------------------------------------------------------------------- status


@bp.get("/courses/<int:course_id>")
@login_required
def status(course_id: int) -> str:
    """The course's LMS links and grade sync: sent, waiting, and per-student errors."""
    report = lti_roster.course_status(get_session(), require_user(), course_id)
    return render_template(
        "lti/status.html",
        report=report,
        instructor_course_url=_instructor_course_url(course_id),
    )


@bp.post("/courses/<int:course_id>/roster")
@login_required
def sync_roster(course_id: int) -> Response:
    try:
        result = lti_roster.sync_roster(
            get_session(), require_user(), course_id, _service_clients()
        )
    except GraderError as exc:
        if exc.status in (401, 403, 404):
            raise
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
    else:
        flash(
            f"Roster synced: {result.members} members, {result.added} new, "
            f"{result.updated} updated, {result.inactive} inactive.",
            "success",
        )
        for message in result.errors:
            flash(f"Roster sync failed for {message}", "error")
    return redirect(url_for("lti.status", course_id=course_id))  # type: ignore[return-value]


@bp.post("/courses/<int:course_id>/scores/<int:score_id>/resend")
@login_required
def resend(course_id: int, score_id: int) -> Response:
    lti_roster.resend_score(get_session(), require_user(), course_id, score_id)
    flash("The score is queued to be sent again.", "success")
    return redirect(url_for("lti.status", course_id=course_id))  # type: ignore[return-value]


# --------------------------------------------------------------------------- admin


def _admin() -> None:
    lti_registrations.require_admin(security.current_user())


@bp.get("/admin")
@login_required
def admin() -> str:
    """LMS registrations, their deployments, what to paste into an LMS, and our keys."""
    _admin()
    session = get_session()
    tool = _tool()
    return render_template(
        "lti/admin.html",
        registrations=lti_registrations.list_registrations(session),
        pending=lti_registrations.pending_deployments(session),
        paste=paste_config(tool),
        canvas_url=tool.canvas_config_url,
        keys=lti_keys.key_rows(session),
        families=lti_registrations.platform_families(),
    )


@bp.post("/admin/registrations")
@login_required
def admin_add() -> Response:
    _admin()
    form = request.form
    data = lti_registrations.PlatformInput(
        issuer=form.get("issuer", ""),
        client_id=form.get("client_id", ""),
        auth_login_url=form.get("auth_login_url", ""),
        token_url=form.get("token_url", ""),
        jwks_url=form.get("jwks_url", ""),
        deployment_ids=tuple(form.get("deployment_ids", "").replace(",", "\n").splitlines()),
        name=form.get("name", ""),
        platform_family=form.get("platform_family", "generic"),
        auth_audience=form.get("auth_audience") or None,
    )
    try:
        row, created = lti_registrations.add_platform(get_session(), data)
    except GraderError as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
    else:
        flash(f"{'Registered' if created else 'Updated'} {row.name} ({row.client_id}).", "success")
    return redirect(url_for("lti.admin"))  # type: ignore[return-value]


@bp.post("/admin/registrations/<int:registration_id>/deployments")
@login_required
def admin_add_deployment(registration_id: int) -> Response:
    _admin()
    try:
        lti_registrations.add_deployment(
            get_session(), registration_id, request.form.get("deployment_id", "")
        )
    except GraderError as exc:
        if exc.status == 404:
            raise
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
    else:
        flash("Deployment approved.", "success")
    return redirect(url_for("lti.admin"))  # type: ignore[return-value]


@bp.post("/admin/registrations/<int:registration_id>/deployments/<int:deployment_pk>/remove")
@login_required
def admin_remove_deployment(registration_id: int, deployment_pk: int) -> Response:
    _admin()
    try:
        lti_registrations.remove_deployment(get_session(), registration_id, deployment_pk)
    except GraderError as exc:
        if exc.status == 404:
            raise
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
    else:
        flash("Deployment removed.", "success")
    return redirect(url_for("lti.admin"))  # type: ignore[return-value]


@bp.post("/admin/registrations/<int:registration_id>/active")
@login_required
def admin_set_active(registration_id: int) -> Response:
    _admin()
    active = request.form.get("active") == "1"
    row = lti_registrations.set_active(get_session(), registration_id, active)
    flash(f"{row.name} is {'active' if active else 'deactivated'}.", "success")
    return redirect(url_for("lti.admin"))  # type: ignore[return-value]


@bp.post("/admin/keys/rotate")
@login_required
def admin_rotate_keys() -> Response:
    _admin()
    key = lti_keys.rotate_keys(get_session(), _key_secret())
    flash(f"Keys rotated; the active key is now {key.kid}.", "success")
    return redirect(url_for("lti.admin"))  # type: ignore[return-value]
