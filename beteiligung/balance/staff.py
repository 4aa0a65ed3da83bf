"""Staff pages of the balance under /verwaltung/bilanz: balance years, data entry and import,
emission factors, carriers, scenario settings and compensation options."""
from flask import Blueprint

bp = Blueprint("balance_staff", __name__, url_prefix="/verwaltung/bilanz")

from . import staff_routes  # noqa: E402,F401
