"""The energy and greenhouse-gas balance (BISKO), the trend and climate-neutrality scenarios to the
target year and the compensation of the residual emissions: public pages under /bilanz."""
from flask import Blueprint

bp = Blueprint("balance", __name__, url_prefix="/bilanz")

from . import services  # noqa: E402,F401  (registers the emission factors for the measure sheets)
from . import routes  # noqa: E402,F401
from . import demo  # noqa: E402,F401  (registers the demo step)
