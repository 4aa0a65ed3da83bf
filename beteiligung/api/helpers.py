"""Conventions shared by every API resource: pagination and validation errors."""
from flask import current_app, request
from flask_babel import gettext as _

from ..errors import api_error
from ..extensions import db


class ApiValidationError(Exception):
    """Raised by a resource for invalid input; answered with 422 and a German message."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


def handle_validation_error(error):
    extra = {"field": error.field} if error.field else {}
    return api_error(422, error.message, **extra)


def _positive_int(name, default):
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiValidationError(_("Der Parameter „%(name)s“ muss eine ganze Zahl sein.", name=name), name)
    if value < 1:
        raise ApiValidationError(_("Der Parameter „%(name)s“ muss mindestens 1 sein.", name=name), name)
    if value > MAX_INT:
        raise ApiValidationError(_("Der Parameter „%(name)s“ ist zu groß.", name=name), name)
    return value


MAX_INT = 100_000  # pages and ids beyond this would overflow the database's integers


def paginate(query, serialise):
    """Run `query` one page at a time: {items, total, page, per_page}.

    `page` starts at 1; `per_page` defaults to API_DEFAULT_PER_PAGE and is capped at
    API_MAX_PER_PAGE, so no request reads an unbounded number of rows.
    """
    config = current_app.config
    page = _positive_int("page", 1)
    per_page = min(_positive_int("per_page", config["API_DEFAULT_PER_PAGE"]), config["API_MAX_PER_PAGE"])
    result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    return {
        "items": [serialise(item) for item in result.items],
        "total": result.total,
        "page": page,
        "per_page": per_page,
    }
