"""The instructor blueprint, apart from the package so its route modules can import it
without importing the package that imports them (no import circle)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("instructor", __name__, url_prefix="/teach")
