"""Ideas: collecting, supporting, discussing, moderating and answering citizen ideas."""
from flask import Blueprint

bp = Blueprint("ideas", __name__, url_prefix="/ideen")

from . import routes  # noqa: E402,F401
from . import privacy  # noqa: E402,F401  (registers the data export and deletion hooks)
from . import demo  # noqa: E402,F401  (registers the demo step)
