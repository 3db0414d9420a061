"""Forms of the auth and student pages (Flask-WTF: each carries its CSRF token).

Answer boxes are plain form fields rendered per part (a page has many), checked by
CSRFProtect like every POST; their rules live in the submissions service.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from grader.services.accounts import MIN_PASSWORD_LENGTH


class HtmlForm(FlaskForm):
    """A form read from an HTML form post only.

    Flask-WTF would also read a JSON body as the form, where a list or a nested value
    reaches the fields and breaks them (a 500). Our pages post forms; JSON has its own
    endpoints.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if request.is_json and not request.form and not request.files:
                # A JSON body is not this form: read it as an empty form post.
                return request.form if request.method in {"POST", "PUT", "PATCH"} else None
            return super().wrap_formdata(form, formdata)


class LoginForm(HtmlForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class RegisterForm(HtmlForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1000)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    join_code = StringField(
        "Course join code",
        validators=[DataRequired(), Length(max=32)],
        description="Your instructor gives you this code.",
    )


class JoinForm(HtmlForm):
    join_code = StringField("Course join code", validators=[DataRequired(), Length(max=32)])


class ForgotPasswordForm(HtmlForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])


class SetPasswordForm(HtmlForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1000)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
