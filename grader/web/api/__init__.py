"""The JSON API ``/api/v1``: bearer tokens, problem+json errors, pagination, rate limits.

Layout: ``blueprint`` (the object, id range check), ``auth`` (bearer tokens, scope, rate
limit), ``pagination``, ``body`` (request validation), ``serialize`` (rows -> JSON), one
module per resource group (``courses``, ``exercises``, ``quizzes``, ``attempts``,
``grades``, ``analysis``, ``webhooks``) and ``openapi`` (the document served at
``/api/v1/openapi.json``, tested to match the routes). Business rules stay in
``grader.services``; the views parse, call a service, serialize.

Requests are authenticated by ``Authorization: Bearer grd_...`` only; cookies are never
read, so the blueprint is exempt from CSRF (a cross-site page cannot attach a bearer
token).
"""

from __future__ import annotations

from grader.web.api import analysis
from grader.web.api import attempts
from grader.web.api import auth
from grader.web.api import courses
from grader.web.api import exercises
from grader.web.api import grades
from grader.web.api import openapi
from grader.web.api import quizzes
from grader.web.api import webhooks
from grader.web.api.blueprint import bp
from grader.web.security import csrf

csrf.exempt(bp)

__all__ = [
    "analysis",
    "attempts",
    "auth",
    "bp",
    "courses",
    "exercises",
    "grades",
    "openapi",
    "quizzes",
    "webhooks",
]
