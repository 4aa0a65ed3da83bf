from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/konto")

from . import routes  # noqa: E402,F401
from . import area_records  # noqa: E402,F401  (registers the export and deletion of bodies, events, plan)
