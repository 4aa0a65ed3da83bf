"""Staff pages of the measure plan under /verwaltung/massnahmen: editing sheets, exports and imports."""
from flask import Blueprint

bp = Blueprint("measure_staff", __name__, url_prefix="/verwaltung/massnahmen")

from . import staff_routes  # noqa: E402,F401
from . import exchange_routes  # noqa: E402,F401
