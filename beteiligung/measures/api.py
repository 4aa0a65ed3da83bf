"""The measure plan in the JSON API: the list with filters, and one measure sheet.

Filters and ordering are those of the public catalogue (queries.py); a list page runs
a fixed number of statements: the count, the page of measures with their field of
action, and one query for the visible ideas linked to the page.
"""
from decimal import Decimal

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import allow
from ..api import bp
from ..api.helpers import paginate
from ..api.openapi import add_schema, document
from ..errors import api_error
from ..extensions import db
from ..models import isoformat
from ..roles import EVERYONE
from . import queries, savings
from .models import (Duration, Measure, MeasureIndicator, MeasureStatus, MeasureType, Priority, SavingsMethod,
                     TITLE_MAX)
from .services import linked_ideas, savings_explanation

TAG = "Maßnahmen"

# --- OpenAPI schemas ------------------------------------------------------------------------------

_number_or_null = {"type": ["number", "null"]}
_integer_or_null = {"type": ["integer", "null"]}
_string_or_null = {"type": ["string", "null"]}
_text = {"type": "string", "description": "Markdown-Teilmenge, unverändert wie eingegeben; leer: keine Angabe"}


def _choice(enum, description=None):
    schema = {"type": ["string", "null"], "enum": [member.value for member in enum] + [None]}
    if description:
        schema["description"] = description
    return schema


add_schema("Measure", {
    "type": "object",
    "required": ["id", "number", "title", "sector", "sector_name", "status", "progress", "savings_t_co2e_per_year",
                 "savings_mwh_per_year", "costs", "ideas", "url"],
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string", "description": "Nummer im Plan, z. B. M-4.2"},
        "title": {"type": "string", "maxLength": TITLE_MAX},
        "sector": {"type": "string", "description": "Kürzel des Handlungsfelds"},
        "sector_name": {"type": "string"},
        "type": _choice(MeasureType, "Maßnahmentyp"),
        "type_label": _string_or_null,
        "priority": _choice(Priority),
        "priority_label": _string_or_null,
        "status": {"type": "string", "enum": [status.value for status in MeasureStatus]},
        "status_label": {"type": "string"},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100, "description": "Fortschritt in Prozent"},
        "goal": _text,
        "starting_situation": _text,
        "description": _text,
        "target_group": {"type": "string"},
        "lead_unit": {"type": "string", "description": "Federführende Stelle"},
        "partners": _text,
        "start_year": _integer_or_null,
        "end_year": {**_integer_or_null, "description": "null: Daueraufgabe oder offen"},
        "duration": _choice(Duration, "short: bis 3 Jahre, medium: 3–7 Jahre, long: über 7 Jahre"),
        "ramp_up_years": {"type": "integer", "minimum": 1, "description": "Jahre bis zur vollen Einsparung"},
        "savings_method": {"type": "string", "enum": [method.value for method in SavingsMethod],
                           "description": "direct: direkt angegeben; carriers: aus Energie je Energieträger berechnet"},
        "savings_t_co2e_per_year": {**_number_or_null, "description": "THG-Einsparung in t CO2e pro Jahr"},
        "savings_mwh_per_year": {**_number_or_null, "description": "Endenergieeinsparung in MWh pro Jahr"},
        "savings_factor_year": {**_integer_or_null, "description": "Bilanzjahr der Emissionsfaktoren"},
        "savings_note": _text,
        "costs": {
            "type": "object", "required": ["one_off_eur", "per_year_eur", "staff_fte"],
            "properties": {"one_off_eur": _number_or_null, "per_year_eur": _number_or_null,
                           "staff_fte": {**_number_or_null, "description": "Personal in Vollzeitstellen"}},
        },
        "funding": _text,
        "co_benefits": _text,
        "regional_value_added": _text,
        "obstacles": _text,
        "adopted_on": {"type": ["string", "null"], "format": "date"},
        "ideas": {"type": "array", "items": {"type": "integer"},
                  "description": "Kennungen der sichtbaren Ideen, die in die Maßnahme eingeflossen sind"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "format": "uri", "description": "Die öffentliche Seite der Maßnahme"},
        "savings_explanation": {"type": "string", "description": "Wie die Einsparung ermittelt wurde (Einzelansicht)"},
        "energy_savings": {
            "type": "array", "description": "Eingesparte Endenergie je Energieträger (Einzelansicht)",
            "items": {"type": "object", "properties": {
                "carrier": {"type": "string"}, "carrier_name": {"type": "string"},
                "mwh_per_year": {"type": "number"}}}},
        "milestones": {
            "type": "array", "description": "Meilensteine (Einzelansicht)",
            "items": {"type": "object", "properties": {
                "title": {"type": "string"}, "due_on": {"type": ["string", "null"], "format": "date"},
                "done_on": {"type": ["string", "null"], "format": "date"}, "done": {"type": "boolean"}}}},
        "indicators": {
            "type": "array", "description": "Indikatoren mit den jährlichen Ist-Werten (Einzelansicht)",
            "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "unit": {"type": "string"},
                "baseline_value": _number_or_null, "baseline_year": _integer_or_null,
                "target_value": _number_or_null, "target_year": _integer_or_null,
                "values": {"type": "array", "items": {"type": "object", "properties": {
                    "year": {"type": "integer"}, "value": {"type": "number"}, "note": {"type": "string"}}}}}}},
        "events": {
            "type": "array",
            "description": "Werkstätten und Veranstaltungen, aus denen die Ideen stammen (Einzelansicht)",
            "items": {"type": "object", "properties": {
                "source": {"type": "string"}, "source_label": {"type": "string"}, "event_name": _string_or_null,
                "ideas": {"type": "integer"}, "dot_votes": {"type": "integer"}}}},
    },
})

ID_PARAMETER = {"name": "measure_id", "in": "path", "required": True, "schema": {"type": "integer"}}
LIST_PARAMETERS = [
    {"name": "sector", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "Kürzel oder Name des Handlungsfelds"},
    {"name": "status", "in": "query", "required": False,
     "schema": {"type": "string", "enum": [status.value for status in MeasureStatus]}},
    {"name": "priority", "in": "query", "required": False,
     "schema": {"type": "string", "enum": [priority.value for priority in Priority]}},
    {"name": "type", "in": "query", "required": False,
     "schema": {"type": "string", "enum": [kind.value for kind in MeasureType]}, "description": "Maßnahmentyp"},
]


# --- JSON -------------------------------------------------------------------------------------------

def _number(value):
    return float(value) if isinstance(value, Decimal) else value


def _label(enum_value):
    return str(enum_value.label) if enum_value is not None else None


def measure_json(measure, idea_ids):
    """The public fields of a measure sheet as JSON-ready values."""
    return {
        "id": measure.id,
        "number": measure.number,
        "title": measure.title,
        "sector": measure.sector.code,
        "sector_name": measure.sector.name,
        "type": measure.measure_type,
        "type_label": _label(measure.type_enum),
        "priority": measure.priority,
        "priority_label": _label(measure.priority_enum),
        "status": measure.status,
        "status_label": str(measure.status_enum.label),
        "progress": measure.progress,
        "goal": measure.goal,
        "starting_situation": measure.starting_situation,
        "description": measure.description,
        "target_group": measure.target_group,
        "lead_unit": measure.lead_unit,
        "partners": measure.partners,
        "start_year": measure.start_year,
        "end_year": measure.end_year,
        "duration": measure.duration,
        "ramp_up_years": measure.ramp_up_years,
        "savings_method": measure.savings_method,
        "savings_t_co2e_per_year": _number(measure.savings_t_co2e_per_year),
        "savings_mwh_per_year": _number(measure.savings_mwh_per_year),
        "savings_factor_year": measure.savings_factor_year,
        "savings_note": measure.savings_note,
        "costs": {
            "one_off_eur": _number(measure.cost_one_off_eur),
            "per_year_eur": _number(measure.cost_per_year_eur),
            "staff_fte": _number(measure.staff_fte),
        },
        "funding": measure.funding,
        "co_benefits": measure.co_benefits,
        "regional_value_added": measure.regional_value_added,
        "obstacles": measure.obstacles,
        "adopted_on": isoformat(measure.adopted_on),
        "ideas": list(idea_ids),
        "created_at": isoformat(measure.created_at),
        "updated_at": isoformat(measure.updated_at),
        "url": url_for("measures.detail", measure_id=measure.id, _external=True),
    }


def _detail_json(measure):
    ideas = [idea for idea, _link in linked_ideas(measure)]
    data = measure_json(measure, sorted(idea.id for idea in ideas))
    names = savings.carriers()
    data["savings_explanation"] = savings_explanation(measure)
    data["energy_savings"] = [{"carrier": row.carrier, "carrier_name": str(names.get(row.carrier, row.carrier)),
                               "mwh_per_year": _number(row.mwh_per_year)} for row in measure.energy_savings]
    data["milestones"] = [{"title": m.title, "due_on": isoformat(m.due_on), "done_on": isoformat(m.done_on),
                           "done": m.done_on is not None} for m in measure.milestones]
    data["indicators"] = [{
        "name": indicator.name, "unit": indicator.unit,
        "baseline_value": _number(indicator.baseline_value), "baseline_year": indicator.baseline_year,
        "target_value": _number(indicator.target_value), "target_year": indicator.target_year,
        "values": [{"year": v.year, "value": _number(v.value), "note": v.note} for v in indicator.values],
    } for indicator in measure.indicators]
    data["events"] = [{"source": group.source.value, "source_label": str(group.source.label),
                       "event_name": group.event_name, "ideas": group.ideas, "dot_votes": group.dot_votes}
                      for group in queries.events_of(ideas)]
    return data


# --- routes -------------------------------------------------------------------------------------------

@bp.route("/measures")
@allow(EVERYONE)
@document("get", "/measures", summary="Maßnahmen des Klima-Aktionsplans, gefiltert und seitenweise", tag=TAG,
          response="Measure", paginated=True, auth=False, parameters=LIST_PARAMETERS)
def measures():
    filters = queries.parse_filters(request.args)
    if filters.errors:
        field = next(name for name in queries.FILTER_ORDER if name in filters.errors)
        return api_error(422, filters.errors[field], field=field, errors=dict(filters.errors))
    page = paginate(queries.catalogue_query(filters), lambda measure: measure)
    links = queries.visible_idea_ids([measure.id for measure in page["items"]])
    page["items"] = [measure_json(measure, links[measure.id]) for measure in page["items"]]
    return jsonify(page)


@bp.route("/measures/<int:measure_id>")
@allow(EVERYONE)
@document("get", "/measures/{measure_id}",
          summary="Ein Maßnahmenblatt mit Meilensteinen, Energieträgern, Indikatoren und Herkunft", tag=TAG,
          response="Measure", auth=False, parameters=[ID_PARAMETER], responses={404: "Maßnahme nicht gefunden"})
def measure(measure_id):
    found = db.session.scalar(
        select(Measure).where(Measure.id == measure_id)
        .options(selectinload(Measure.milestones), selectinload(Measure.energy_savings),
                 selectinload(Measure.indicators).selectinload(MeasureIndicator.values)))
    if found is None:
        return api_error(404, _("Diese Maßnahme gibt es nicht."))
    return jsonify(_detail_json(found))
