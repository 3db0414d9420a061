"""``make loadtest``: a class on deadline night against gunicorn and PostgreSQL (see run.py)."""
