"""The working group and the other bodies: members, meeting dates, agendas and minutes.
Public pages (for public bodies) and the members' area under /arbeitskreis."""
from flask import Blueprint

bp = Blueprint("working_group", __name__, url_prefix="/arbeitskreis")

from . import routes  # noqa: E402,F401
from . import demo  # noqa: E402,F401  (registers the demo step)
