"""``gunicorn 'wsgi:app'`` from a source checkout; an installed wheel uses ``grader.wsgi:app``."""

from grader.wsgi import app

__all__ = ["app"]
