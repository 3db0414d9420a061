"""gunicorn reads this file from the working directory: ``gunicorn`` alone serves grader.

The settings live in the package (:mod:`grader.gunicorn_conf`) so an installed wheel has
them too: ``gunicorn -c python:grader.gunicorn_conf``.
"""

from grader.gunicorn_conf import *  # noqa: F403
