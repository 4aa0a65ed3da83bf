"""Ideas in the JSON API: list and read them, write one, support and withdraw.

The rules live in services.py and the filters in queries.py, shared with the HTML
pages; this module only translates between JSON and them. Hidden ideas do not
exist here (404), whoever asks. Support and withdrawal are idempotent and run
through transactions.retrying, so many people can press at the same moment.
"""
from types import SimpleNamespace

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.validators import ValidationError

from ..access import allow
from ..api import bp
from ..api.helpers import ApiValidationError, paginate
from ..api.openapi import add_schema, document
from ..errors import api_error
from ..extensions import account_or_address, config_limit, db, limiter
from ..forms import plain_text
from ..models import isoformat
from ..roles import EVERYONE, SIGNED_IN
from . import services
from .models import TEXT_MAX, TITLE_MAX, Idea, Source, Status
from .queries import SORTS, build_query, parse_filters
from .serialise import public_fields
from .services import IdeaError, NotPermitted, PhaseClosed
from .transactions import retrying

TAG = "Ideen"
UNASSIGNED_SECTOR = ("unbekannt", "none")
FILTER_ORDER = ("sector", "district", "status", "source", "sort")

# --- OpenAPI schemas ------------------------------------------------------------------

_nullable_string = {"type": ["string", "null"]}
add_schema("Idea", {
    "type": "object",
    "required": ["id", "title", "text", "sector", "district", "status", "source", "supports", "dot_votes",
                 "comments", "created_at", "url", "measures"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string", "maxLength": TITLE_MAX},
        "text": {"type": "string", "maxLength": TEXT_MAX,
                 "description": "Markdown-Teilmenge, unverändert wie eingegeben (vor der Anzeige bereinigen)"},
        "sector": {**_nullable_string, "description": "Kürzel des Handlungsfelds; null: noch nicht zugeordnet"},
        "sector_name": _nullable_string,
        "district": {"type": "string", "description": "Kürzel des Stadtteils"},
        "district_name": {"type": "string"},
        "status": {"type": "string", "enum": [status.value for status in Status]},
        "status_label": {"type": "string"},
        "source": {"type": "string", "enum": [source.value for source in Source]},
        "source_label": {"type": "string"},
        "event_name": {**_nullable_string, "description": "Veranstaltung, bei der die Idee gesammelt wurde"},
        "author_name": {"type": "string", "description": "Angezeigter Name oder die Herkunft analoger Ideen"},
        "supports": {"type": "integer", "minimum": 0, "description": "Zahl der Online-Unterstützungen"},
        "dot_votes": {"type": "integer", "minimum": 0, "description": "Klebepunkte bei Veranstaltungen"},
        "comments": {"type": "integer", "minimum": 0, "description": "Zahl der sichtbaren Kommentare"},
        "supported": {"type": "boolean", "description": "Ob das angemeldete Konto die Idee unterstützt"},
        "answer": {**_nullable_string, "description": "Die letzte öffentliche Antwort der Verwaltung"},
        "answered_at": {"type": ["string", "null"], "format": "date-time"},
        "merged_into": {"type": ["integer", "null"], "description": "Bei „zusammengeführt“: die Ziel-Idee"},
        "latitude": {"type": ["number", "null"]},
        "longitude": {"type": ["number", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "edited_at": {"type": ["string", "null"], "format": "date-time"},
        "url": {"type": "string", "format": "uri", "description": "Die Seite der Idee"},
        "measures": {"type": "array", "items": {"type": "integer"},
                     "description": "Kennungen der Maßnahmen, in die die Idee eingeflossen ist"},
        "history": {
            "type": "array", "description": "Statusverlauf mit Antworten (nur in der Einzelansicht)",
            "items": {"type": "object", "properties": {
                "status": {"type": "string"}, "status_label": {"type": "string"},
                "answer": _nullable_string, "created_at": {"type": "string", "format": "date-time"}}},
        },
    },
})
add_schema("IdeaInput", {
    "type": "object",
    "required": ["title", "text", "district"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
        "text": {"type": "string", "minLength": 1, "maxLength": TEXT_MAX},
        "sector": {**_nullable_string,
                   "description": "Kürzel oder Name des Handlungsfelds; weglassen oder null: weiß ich nicht"},
        "district": {"type": "string", "description": "Kürzel oder Name des Stadtteils"},
        "latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
    },
})
add_schema("SupportState", {
    "type": "object",
    "required": ["supported", "supports"],
    "properties": {"supported": {"type": "boolean"}, "supports": {"type": "integer", "minimum": 0}},
})

ID_PARAMETER = {"name": "idea_id", "in": "path", "required": True, "schema": {"type": "integer"}}
LIST_PARAMETERS = [
    {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200},
     "description": "Volltextsuche in Titel und Text (jedes Wort als Wortanfang)"},
    {"name": "sector", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Kürzel oder Name des Handlungsfelds; „unbekannt“: noch nicht zugeordnet"},
    {"name": "district", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Kürzel oder Name des Stadtteils"},
    {"name": "status", "in": "query", "required": False,
     "schema": {"type": "string", "enum": [status.value for status in Status]}},
    {"name": "source", "in": "query", "required": False,
     "schema": {"type": "string", "enum": [source.value for source in Source]}},
    {"name": "sort", "in": "query", "required": False, "schema": {"type": "string", "enum": list(SORTS)},
     "description": "Standard: „relevance“ bei einer Suche, sonst „newest“"},
    {"name": "seed", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
     "description": "Bei sort=random: dieselbe Zahl ergibt dieselbe Reihenfolge über alle Seiten"},
]


# --- JSON -----------------------------------------------------------------------------------

def idea_json(idea, measures=(), supported=False):
    data = public_fields(idea)
    data.update({
        "author_name": str(idea.author_name),
        "supported": supported,
        "edited_at": isoformat(idea.edited_at),
        "measures": [measure["id"] for measure in measures],
    })
    return data


def _serialise_many(ideas):
    """JSON for a page of ideas with a fixed number of queries (measures, own supports)."""
    ids = [idea.id for idea in ideas]
    links = services.measures_for(ids) if ids else {}
    supported = services.supported_ids(current_user, ids)
    return [idea_json(idea, links.get(idea.id, []), idea.id in supported) for idea in ideas]


def _visible_idea(idea_id):
    """The idea, if it exists and is not hidden; else a JSON 404 (hidden ideas do not exist here)."""
    idea = db.session.get(Idea, idea_id)
    if idea is None or idea.is_hidden:
        return None
    return idea


def _not_found():
    return api_error(404, _("Diese Idee gibt es nicht oder sie ist ausgeblendet."))


def _idea_error(error):
    """Translate a broken rule into an API answer: 403, 409 or 422."""
    if isinstance(error, NotPermitted):
        return api_error(403, error.message)
    if isinstance(error, PhaseClosed):
        return api_error(409, error.message)
    if error.field:
        return api_error(422, error.message, field=error.field)
    return api_error(409, error.message)


# --- reading ----------------------------------------------------------------------------------

def _seed():
    raw = request.args.get("seed")
    if raw in (None, ""):
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise ApiValidationError(_("Der Parameter „%(name)s“ muss eine ganze Zahl sein.", name="seed"), "seed")
    if value < 1:
        raise ApiValidationError(_("Der Parameter „%(name)s“ muss mindestens 1 sein.", name="seed"), "seed")
    return value % (2**31)


@bp.route("/ideas")
@allow(EVERYONE)
@document("get", "/ideas", summary="Ideen suchen und filtern (ausgeblendete Ideen erscheinen nie)", tag=TAG,
          response="Idea", paginated=True, auth=False, parameters=LIST_PARAMETERS)
def ideas():
    default_sort = "relevance" if (request.args.get("q") or "").strip() else "newest"
    filters = parse_filters(request.args, default_sort=default_sort)
    if filters.errors:
        field = next(name for name in FILTER_ORDER + tuple(filters.errors) if name in filters.errors)
        return api_error(422, filters.errors[field], field=field, errors=dict(filters.errors))
    page = paginate(build_query(filters, seed=_seed()), lambda idea: idea)
    page["items"] = _serialise_many(page["items"])
    return jsonify(page)


@bp.route("/ideas/<int:idea_id>")
@allow(EVERYONE)
@document("get", "/ideas/{idea_id}", summary="Eine Idee mit Statusverlauf", tag=TAG, response="Idea",
          auth=False, parameters=[ID_PARAMETER], responses={404: "Idee nicht gefunden oder ausgeblendet"})
def idea(idea_id):
    found = _visible_idea(idea_id)
    if found is None:
        return _not_found()
    data = _serialise_many([found])[0]
    data["history"] = [
        {"status": change.new_status, "status_label": str(change.status_enum.label), "answer": change.answer,
         "created_at": isoformat(change.created_at)}
        for change in services.status_history(found)
    ]
    return jsonify(data)


# --- writing ------------------------------------------------------------------------------------

def _json_object():
    body = request.get_json(silent=True)
    if body is None:
        return None, api_error(400, _("Der Inhalt der Anfrage muss JSON sein (Content-Type: application/json)."))
    if not isinstance(body, dict):
        return None, api_error(422, _("Der Inhalt der Anfrage muss ein JSON-Objekt mit den Feldern der Idee sein."))
    return body, None


def _text_field(body, name, label):
    value = body.get(name)
    if value is None:
        return ""  # the service names the missing field
    if not isinstance(value, str):
        raise ApiValidationError(_("Das Feld „%(name)s“ (%(label)s) muss Text sein.", name=name, label=label), name)
    try:
        plain_text(None, SimpleNamespace(data=value))
    except ValidationError as error:
        raise ApiValidationError(_("Feld „%(name)s“: %(message)s", name=name, message=str(error)), name)
    return value


def _number_field(body, name):
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiValidationError(_("Das Feld „%(name)s“ muss eine Zahl sein.", name=name), name)
    return float(value)


def _sector(body):
    value = body.get("sector")
    if value is None or (isinstance(value, str) and value.strip().lower() in ("",) + UNASSIGNED_SECTOR):
        return None
    if not isinstance(value, str):
        raise ApiValidationError(_("Das Feld „sector“ muss Text (Kürzel oder Name) oder null sein."), "sector")
    sector = services.find_sector(value)
    if sector is None or not sector.active:
        raise ApiValidationError(_("Unbekanntes Handlungsfeld im Feld „sector“: %(value)s", value=value.strip()[:80]),
                                 "sector")
    return sector


def _district(body):
    value = body.get("district")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ApiValidationError(_("Bitte geben Sie im Feld „district“ einen Stadtteil an."), "district")
    if not isinstance(value, str):
        raise ApiValidationError(_("Das Feld „district“ muss Text (Kürzel oder Name) sein."), "district")
    district = services.find_district(value)
    if district is None or not district.active:
        raise ApiValidationError(_("Unbekannter Stadtteil im Feld „district“: %(value)s", value=value.strip()[:80]),
                                 "district")
    return district



@bp.route("/ideas", methods=["POST"])
@allow(SIGNED_IN)
@limiter.limit(config_limit("IDEA_RATE_LIMIT"), key_func=account_or_address,
               error_message="Zu viele neue Ideen in kurzer Zeit. Bitte versuchen Sie es später noch einmal.")
@document("post", "/ideas", summary="Eine Idee einreichen (während der Ideensammlung)", tag=TAG,
          response="Idea", status=201, request_body={"$ref": "#/components/schemas/IdeaInput"},
          responses={409: "Die Ideensammlung ist geschlossen"})
def create_idea():
    body, problem = _json_object()
    if problem is not None:
        return problem
    title = _text_field(body, "title", _("Titel"))
    text = _text_field(body, "text", _("Text"))
    latitude, longitude = _number_field(body, "latitude"), _number_field(body, "longitude")
    sector, district = _sector(body), _district(body)
    try:
        created = services.create_idea(current_user, title, text, sector=sector, district=district,
                                       latitude=latitude, longitude=longitude)
        db.session.commit()
    except IdeaError as error:
        db.session.rollback()
        return _idea_error(error)
    response = jsonify(_serialise_many([created])[0])
    response.status_code = 201
    response.headers["Location"] = url_for("api.idea", idea_id=created.id, _external=True)
    return response


def _support_state(idea_id, supported):
    count = db.session.scalar(select(Idea.support_count).where(Idea.id == idea_id))
    return {"supported": supported, "supports": count}


@bp.route("/ideas/<int:idea_id>/support", methods=["POST"])
@allow(SIGNED_IN)
@document("post", "/ideas/{idea_id}/support", summary="Eine Idee unterstützen (wiederholbar: einmal zählt)",
          tag=TAG, response="SupportState", status=201, parameters=[ID_PARAMETER],
          responses={200: ("Unterstützung bestand bereits", "SupportState"),
                     404: "Idee nicht gefunden oder ausgeblendet",
                     409: "Unterstützungsphase geschlossen oder Idee zusammengeführt"})
def support_idea(idea_id):
    if _visible_idea(idea_id) is None:
        return _not_found()
    try:
        created = retrying(lambda: services.add_support(db.session.get(Idea, idea_id), current_user))
    except IdeaError as error:
        return _idea_error(error)
    return jsonify(_support_state(idea_id, True)), 201 if created else 200


@bp.route("/ideas/<int:idea_id>/support", methods=["DELETE"])
@allow(SIGNED_IN)
@document("delete", "/ideas/{idea_id}/support", summary="Die eigene Unterstützung zurückziehen (wiederholbar)",
          tag=TAG, response="SupportState", parameters=[ID_PARAMETER],
          responses={404: "Idee nicht gefunden oder ausgeblendet", 409: "Unterstützungsphase geschlossen"})
def withdraw_support(idea_id):
    if _visible_idea(idea_id) is None:
        return _not_found()
    try:
        retrying(lambda: services.remove_support(db.session.get(Idea, idea_id), current_user))
    except IdeaError as error:
        return _idea_error(error)
    return jsonify(_support_state(idea_id, False)), 200
