"""The public calendar (/termine) and the iCalendar feeds (RFC 5545): /termine.ics, a body's
feed for its members and each user's own feed, both at secret token URLs."""
from flask import Blueprint

bp = Blueprint("calendar", __name__)

from . import routes  # noqa: E402,F401
