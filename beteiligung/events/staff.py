"""Staff pages of the workshops and events under /verwaltung/veranstaltungen."""
from flask import Blueprint

bp = Blueprint("event_staff", __name__, url_prefix="/verwaltung/veranstaltungen")

from . import staff_routes  # noqa: E402,F401
