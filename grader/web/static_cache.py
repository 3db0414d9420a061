"""Static files a proxy or browser may cache: versioned URLs and ``Cache-Control``.

``url_for('static', filename=...)`` adds ``?v=<first 12 hex of the file's SHA-256>``, so a
changed file gets a new URL. A request carrying the file's current version is cacheable for
a year (``immutable``); any other (fonts KaTeX's CSS loads by relative URL, old or missing
versions) for an hour, and revalidates with the ETag Flask sends.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from flask import Response
from flask import request

LONG = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"


class _Versions:
    """File content hashes, computed once per file per process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.lock = threading.Lock()
        self.known: dict[str, str | None] = {}

    def of(self, filename: str) -> str | None:
        with self.lock:
            if filename in self.known:
                return self.known[filename]
        path = (self.folder / filename).resolve()
        version = None
        if path.is_relative_to(self.folder) and path.is_file():
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        with self.lock:
            self.known[filename] = version
        return version


def init_app(app: Flask) -> None:
    assert app.static_folder is not None
    versions = _Versions(Path(app.static_folder))

    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = versions.of(str(values["filename"]))
            if version is not None:
                values["v"] = version

    def cache_headers(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        offered = request.args.get("v")
        current = versions.of(str(filename))
        response.headers["Cache-Control"] = (
            LONG if offered is not None and offered == current else SHORT
        )
        return response

    app.url_defaults(add_version)
    app.after_request(cache_headers)
