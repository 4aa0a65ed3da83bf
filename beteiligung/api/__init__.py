"""The JSON API, version 1. Areas add their resources to `bp` and document them in openapi.py."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import routes  # noqa: E402,F401
