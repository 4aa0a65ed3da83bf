"""Measures of the climate action plan, traceable to the ideas they came from."""
from flask import Blueprint

bp = Blueprint("measures", __name__, url_prefix="/massnahmen")

from . import routes  # noqa: E402,F401
from . import download_routes  # noqa: E402,F401
from . import demo  # noqa: E402,F401  (registers the demo step)
