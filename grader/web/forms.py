"""Forms of the auth and student pages (Flask-WTF: each carries its CSRF token).

Answer boxes are plain form fields rendered per part (a page has many), checked by
CSRFProtect like every POST; their rules live in the submissions service.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length

from grader.services.accounts import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class RegisterForm(FlaskForm):
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


class JoinForm(FlaskForm):
    join_code = StringField("Course join code", validators=[DataRequired(), Length(max=32)])
