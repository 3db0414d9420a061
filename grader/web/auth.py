"""Sign in, register with a course join code, forgot / set password, sign out.

Registration and forgot-password answer the same whether or not the email has an
account (nobody learns who is registered) and are rate-limited per client address with
the login limiter's rules (``DatabaseLoginLimiter`` under their own keys).
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from grader.db import get_session
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import TooManyRequests
from grader.errors import Unauthorized
from grader.models import User
from grader.services import account_links
from grader.services import auth as auth_service
from grader.services import courses as course_service
from grader.services import mail
from grader.web import security
from grader.web.forms import ForgotPasswordForm
from grader.web.forms import LoginForm
from grader.web.forms import RegisterForm
from grader.web.forms import SetPasswordForm

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: registrations and forgot-password requests per client address per 15 minutes (a
#: classroom behind one NAT address registers together, so more than sign-in failures)
REGISTER_LIMIT = 40
FORGOT_LIMIT = 10
TOO_MANY = "Too many requests from your network just now: wait a few minutes and try again."


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
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:320]
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
            return redirect(next_url or _landing(user))  # type: ignore[return-value]
    elif request.method == "POST":
        status = 400
    return _page("auth/login.html", status, form=form, next_url=next_url)


def _landing(user: User) -> str:
    """Where a sign-in without a destination goes: the instructor pages for staff."""
    if course_service.is_staff_anywhere(get_session(), user):
        return security.instructor_url() or url_for("student.dashboard")
    return url_for("student.dashboard")


def _limited(kind: str, limit: int) -> auth_service.DatabaseLoginLimiter | None:
    """This client's limiter for ``kind`` (register, forgot); None when it is used up
    (the caller shows the form with the error and a 429)."""
    limiter = auth_service.DatabaseLoginLimiter(get_session(), max_failures=limit)
    key = f"{kind}|{request.remote_addr or '-'}"
    try:
        limiter.check(key)
    except TooManyRequests:
        return None
    limiter.record_failure(key)
    return limiter


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response:
    """Create a student account with a course join code; then the student signs in.

    A new email and a registered one get the same answer (the owner of a registered one
    is mailed a link instead), so the form tells nobody who has an account.
    """
    form = RegisterForm()
    if request.method == "GET" and request.args.get("code"):
        form.join_code.data = request.args["code"]
    if not form.validate_on_submit():
        return _page("auth/register.html", 400 if request.method == "POST" else 200, form=form)
    if _limited("register", REGISTER_LIMIT) is None:
        form.email.errors = [TOO_MANY]
        return _page("auth/register.html", 429, form=form)
    email = form.email.data or ""
    try:
        auth_service.register_with_join_code(
            get_session(),
            email=email,
            name=form.name.data or "",
            password=form.password.data or "",
            join_code=form.join_code.data or "",
        )
    except Conflict:
        get_session().rollback()
        _mail_link_later(account_links.request_reset(get_session(), email))
    except BadRequest as exc:
        field = form.join_code if "join code" in exc.message else form.email
        if "characters" in exc.message:
            field = form.password
        field.errors = [exc.message[:1].upper() + exc.message[1:] + "."]
        return _page("auth/register.html", exc.status, form=form)
    return _registered(email)


def _registered(email: str) -> Response:
    flash(
        "Registration received. Sign in with this email and the password you chose. If the "
        "email already had an account, nothing changed: use its password, or "
        "\u201cForgot your password?\u201d.",
        "success",
    )
    return redirect(url_for("auth.login", email=email.strip()))  # type: ignore[return-value]


def link_url(token: str) -> str:
    """The set-password link, on the public URL (never the request's Host header)."""
    base = str(current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")
    return base + url_for("auth.set_password", token=token)


def _link_mail(link: account_links.IssuedLink) -> mail.Mail:
    hours = account_links.LIFETIMES[link.purpose].total_seconds() / 3600
    return mail.link_mail(
        link.user.email, link.user.name, link.purpose, link_url(link.token), hours
    )


def _mail_link_later(link: account_links.IssuedLink | None) -> None:
    """Mail a link off the request thread: pages anyone can use answer in the same time
    whether the email has an account or not."""
    if link is not None:
        mail.send_later(current_app.config, _link_mail(link))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password() -> Response:
    """Ask for a set-password link by email; the answer never says whether it exists."""
    form = ForgotPasswordForm()
    status = 200
    if form.validate_on_submit():
        if _limited("forgot", FORGOT_LIMIT) is None:
            form.email.errors = [TOO_MANY]
            status = 429
        else:
            _mail_link_later(account_links.request_reset(get_session(), form.email.data or ""))
            flash(
                "If an account has this email, a link to set its password is on its way "
                "(it works once, for 2 hours). No mail? Ask your instructor for a link.",
                "success",
            )
            return redirect(url_for("auth.login"))  # type: ignore[return-value]
    elif request.method == "POST":
        status = 400
    return _page("auth/forgot.html", status, form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response:
    """Choose a password through an invitation or reset link (single use), then sign in."""
    session = get_session()
    link = account_links.find_valid(session, token)
    if link is None:
        return _page("auth/link_expired.html", 410)
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = account_links.redeem(session, token, form.password.data or "")
        except BadRequest as exc:
            form.password.errors = [exc.message[:1].upper() + exc.message[1:] + "."]
            status = 400
        else:
            security.sign_in(user)
            flash("Your password is set and you are signed in.", "success")
            return redirect(_landing(user))  # type: ignore[return-value]
    elif request.method == "POST":
        status = 400
    owner = session.get(User, link.user_id)
    response = _page("auth/set_password.html", status, form=form, user=owner, link=link)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response


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
