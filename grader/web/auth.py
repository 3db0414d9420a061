"""Sign in, register with a course join code, sign out."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from grader.db import get_session
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Unauthorized
from grader.services import auth as auth_service
from grader.web import security
from grader.web.forms import LoginForm
from grader.web.forms import RegisterForm

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _page(template: str, status: int = 200, **context: object) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    # The sign-in pages are what clickjacking would frame; they refuse to be framed.
    response.headers["Content-Security-Policy"] = security.CSP + "; frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """The sign-in form; on success a fresh session and back to where the user was going."""
    next_url = security.safe_next(request.args.get("next"))
    if security.current_user() is not None and request.method == "GET":
        return redirect(next_url or url_for("student.dashboard"))  # type: ignore[return-value]
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = auth_service.authenticate(
                get_session(),
                form.email.data or "",
                form.password.data or "",
                ip=request.remote_addr,
                limiter=security.login_limiter(),
            )
        except Unauthorized as exc:
            form.password.errors = [str(exc.message).capitalize() + "."]
            status = 401
        else:
            security.sign_in(user)
            return redirect(next_url or url_for("student.dashboard"))  # type: ignore[return-value]
    elif request.method == "POST":
        status = 400
    return _page("auth/login.html", status, form=form, next_url=next_url)


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response:
    """Create a student account with a course join code, then sign in."""
    form = RegisterForm()
    if request.method == "GET" and request.args.get("code"):
        form.join_code.data = request.args["code"]
    status = 200
    if form.validate_on_submit():
        try:
            user = auth_service.register_with_join_code(
                get_session(),
                email=form.email.data or "",
                name=form.name.data or "",
                password=form.password.data or "",
                join_code=form.join_code.data or "",
            )
        except (BadRequest, Conflict) as exc:
            field = form.join_code if "join code" in exc.message else form.email
            if "characters" in exc.message:
                field = form.password
            field.errors = [exc.message[:1].upper() + exc.message[1:] + "."]
            status = exc.status
        else:
            security.sign_in(user)
            flash("Welcome! Your account is ready and you are enrolled.", "success")
            return redirect(url_for("student.dashboard"))  # type: ignore[return-value]
    elif request.method == "POST":
        status = 400
    return _page("auth/register.html", status, form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out (POST, so another site cannot sign you out with a link)."""
    security.sign_out()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


@bp.post("/logout-everywhere")
@security.login_required
def logout_everywhere() -> Response:
    """End every sign-in of this account (a shared or lost computer), this one included."""
    ended = security.sign_out_everywhere()
    flash(
        f"You are signed out everywhere ({ended} sign-in{'s' if ended != 1 else ''} ended).",
        "success",
    )
    return redirect(url_for("auth.login"))  # type: ignore[return-value]
