"""Staff pages of the bodies under /verwaltung/gremien: members, series and dates, agendas, minutes."""
from flask import Blueprint

bp = Blueprint("meeting_staff", __name__, url_prefix="/verwaltung/gremien")

from . import staff_routes  # noqa: E402,F401
