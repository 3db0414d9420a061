"""WSGI entry point: ``gunicorn -w 4 'wsgi:app'``.

Start-up checks the database once, so a wrong ``GRADER_DATABASE_URL`` stops the
server with one clear line instead of failing on the first request.
"""

import sys

from grader import create_app
from grader.db import ENGINE_KEY
from grader.db import check_reachable
from grader.errors import ConfigError

try:
    app = create_app()
    check_reachable(app.extensions[ENGINE_KEY])
except ConfigError as exc:
    sys.stderr.write(f"grader: {exc.message}\n")
    raise SystemExit(2) from None
