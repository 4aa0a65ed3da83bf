"""In-app notifications, with an e-mail copy through the outbox."""
from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/konto/benachrichtigungen")

from . import routes  # noqa: E402,F401
