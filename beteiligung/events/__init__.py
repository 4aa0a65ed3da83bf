"""Themed workshops and citizen events: public pages and registration under /veranstaltungen."""
from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/veranstaltungen")

from . import routes  # noqa: E402,F401
from . import demo  # noqa: E402,F401  (registers the demo step)
