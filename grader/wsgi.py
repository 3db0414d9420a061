"""WSGI entry point: ``gunicorn -c gunicorn.conf.py`` (or ``gunicorn 'grader.wsgi:app'``).

It lives inside the package so an installed wheel has it; the checkout's top-level
``wsgi.py`` re-exports it, so ``gunicorn 'wsgi:app'`` keeps working from a source tree.

Start-up checks the database once, so a wrong ``GRADER_DATABASE_URL`` stops the
server with one clear line instead of failing on the first request. Then the start-up
heap is frozen: SymPy, NumPy, the templates and the app live as long as the worker, and
without this every full garbage collection walks them all (measured in one process:
pauses of up to 127 ms inside a request, 32 ms after freezing).
"""

import gc
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

gc.collect()
gc.freeze()
