from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..access import allow
from ..auth.models import User
from ..roles import ADMIN, EVERYONE, SIGNED_IN, Role
from . import bp
from .helpers import ApiValidationError, handle_validation_error, paginate
from .openapi import build_openapi, document

bp.register_error_handler(ApiValidationError, handle_validation_error)


def user_json(user, *, private=False):
    data = {"id": user.id, "display_name": user.public_name, "role": user.role,
            "created_at": user.created_at.isoformat()}
    if private:
        data["email"] = user.email
    return data


@bp.route("/")
@allow(EVERYONE)
@document("get", "/", summary="Einstieg: Version und Verweise", tag="Allgemein", auth=False)
def index():
    return jsonify({"name": "Klima-Beteiligung API", "version": "1",
                    "openapi": url_for("api.openapi", _external=True)})


@bp.route("/openapi.json")
@allow(EVERYONE)
@document("get", "/openapi.json", summary="Diese Beschreibung der API (OpenAPI 3.1)", tag="Allgemein", auth=False)
def openapi():
    return jsonify(build_openapi())


@bp.route("/me")
@allow(SIGNED_IN)
@document("get", "/me", summary="Das eigene Konto", tag="Konten", response="User")
def me():
    return jsonify(user_json(current_user, private=True))


@bp.route("/users")
@allow(ADMIN)
@document("get", "/users", summary="Alle Konten (nur Administration)", tag="Konten", response="User",
          paginated=True, parameters=[{"name": "role", "in": "query", "required": False,
                                       "schema": {"type": "string", "enum": [r.value for r in Role]}}])
def users():
    query = select(User).where(User.deleted_at.is_(None)).order_by(User.id)
    role = request.args.get("role")
    if role:
        if role not in {r.value for r in Role}:
            raise ApiValidationError(_("Unbekannte Rolle im Feld „role“."), "role")
        query = query.where(User.role == role)
    return jsonify(paginate(query, lambda user: user_json(user, private=True)))


from ..ideas import api as _ideas_api  # noqa: E402,F401  (registers the idea resources on bp)
from ..measures import api as _measures_api  # noqa: E402,F401  (registers the measure resources on bp)
from ..balance import api as _balance_api  # noqa: E402,F401  (registers the balance resources on bp)
from ..events import api as _events_api  # noqa: E402,F401  (registers meetings and workshops on bp)
