"""Dates in the JSON API: the meetings of the public bodies with their published agendas,
and the workshops and citizen events with their free places.

Times are ISO 8601 with the offset of Europe/Berlin. A list page runs a fixed number of
statements: the count, the page, and for meetings one query each for the agenda items,
their linked ideas and their linked measures.
"""
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..access import allow
from ..api import bp
from ..api.helpers import ApiValidationError, paginate
from ..api.openapi import add_schema, document
from ..calendar.dates import MEETING_PAGE
from ..extensions import db
from ..ideas.models import Idea
from ..measures.models import Measure
from ..meetings.models import (AgendaItem, AgendaStatus, Body, Meeting, MeetingStatus, agenda_item_ideas,
                               agenda_item_measures)
from ..roles import EVERYONE
from . import services
from .models import Event, EventKind, EventStatus, RegistrationMode

TAG = "Termine"

_date_time = {"type": "string", "format": "date-time", "description": "ISO 8601 mit Zeitzonen-Versatz (Europe/Berlin)"}
_string_or_null = {"type": ["string", "null"]}
_integer_or_null = {"type": ["integer", "null"]}

add_schema("AgendaEntry", {
    "type": "object",
    "required": ["position", "title", "presenter", "starts_at", "duration_minutes", "ideas", "measures"],
    "properties": {
        "position": {"type": "integer", "description": "Nummer des Tagesordnungspunkts, ab 1"},
        "title": {"type": "string"},
        "presenter": {"type": "string", "description": "Wer den Punkt vorstellt; leer: keine Angabe"},
        "starts_at": {**_date_time, "description": "Geplanter Beginn (Sitzungsbeginn plus vorherige Dauern)"},
        "duration_minutes": {"type": "integer"},
        "ideas": {"type": "array", "items": {"type": "integer"}, "description": "Kennungen verknüpfter Ideen"},
        "measures": {"type": "array", "items": {"type": "string"},
                     "description": "Nummern verknüpfter Maßnahmen, z. B. M-4.2"},
    },
})

add_schema("Meeting", {
    "type": "object",
    "required": ["id", "body", "title", "starts_at", "ends_at", "place", "online", "status", "sequence", "url",
                 "agenda"],
    "properties": {
        "id": {"type": "integer"},
        "body": {"type": "object", "required": ["id", "name", "slug"], "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "slug": {"type": "string"}}},
        "title": {"type": "string"},
        "starts_at": _date_time,
        "ends_at": _date_time,
        "original_start": {**_date_time, "type": ["string", "null"],
                           "description": "Ursprünglicher Termin laut Serie, wenn verschoben; sonst null"},
        "place": {"type": "string", "description": "Leer bei reinen Online-Sitzungen"},
        "online": {"type": "boolean", "description": "Mit Online-Teilnahme"},
        "status": {"type": "string", "enum": [status.value for status in MeetingStatus]},
        "cancel_reason": {"type": "string"},
        "sequence": {"type": "integer",
                     "description": "Steigt mit jeder Änderung von Zeit, Ort oder Stand (iCalendar)"},
        "url": {"type": ["string", "null"], "format": "uri", "description": "Die Seite der Sitzung"},
        "agenda": {"type": "array", "items": {"$ref": "#/components/schemas/AgendaEntry"},
                   "description": "Die veröffentlichte Tagesordnung; leer, solange sie nicht veröffentlicht ist"},
    },
})

add_schema("Workshop", {
    "type": "object",
    "required": ["id", "kind", "title", "topic", "field_of_action", "starts_at", "ends_at", "place", "capacity",
                 "registered", "free_places", "waiting_list", "registration", "status", "url"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": [kind.value for kind in EventKind],
                 "description": "workshop: Themenwerkstatt; citizen_event: Bürgerveranstaltung"},
        "title": {"type": "string"},
        "topic": {"type": "string"},
        "field_of_action": {"type": ["object", "null"], "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}}},
        "starts_at": _date_time,
        "ends_at": _date_time,
        "place": {"type": "string"},
        "online": {"type": "boolean"},
        "facilitator": {"type": "string"},
        "capacity": {**_integer_or_null, "description": "Plätze; null: unbegrenzt"},
        "registered": {"type": "integer", "description": "Fest angemeldete Personen"},
        "free_places": {**_integer_or_null, "description": "null: unbegrenzt oder ohne Anmeldung"},
        "waiting_list": {"type": "integer", "description": "Personen auf der Warteliste"},
        "registration": {"type": "string", "enum": [mode.value for mode in RegistrationMode],
                         "description": "required: nur mit Platz; optional: erwünscht; none: ohne Anmeldung"},
        "registration_closes_at": _date_time,
        "status": {"type": "string", "enum": [status.value for status in EventStatus]},
        "sequence": {"type": "integer"},
        "url": {"type": "string", "format": "uri"},
    },
})

RANGE_PARAMETERS = [
    {"name": "from", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
     "description": "Nur Termine, die an diesem Tag (Ortszeit) oder später enden"},
    {"name": "to", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
     "description": "Nur Termine, die spätestens an diesem Tag (Ortszeit) beginnen"},
]
KIND_PARAMETER = {"name": "kind", "in": "query", "required": False,
                  "schema": {"type": "string", "enum": [kind.value for kind in EventKind]}}


# --- parameters ----------------------------------------------------------------------------------------

def _day(name):
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiValidationError(_("Der Parameter „%(name)s“ muss ein Datum im Format JJJJ-MM-TT sein.", name=name),
                                 name)


def _range(model):
    """Conditions for the `from` and `to` parameters, in local days."""
    first, last = _day("from"), _day("to")
    if first and last and last < first:
        raise ApiValidationError(_("„to“ darf nicht vor „from“ liegen."), "to")
    conditions = []
    if first:
        conditions.append(model.ends_at >= _local_midnight(first))
    if last:
        conditions.append(model.starts_at < _local_midnight(last + timedelta(days=1)))
    return conditions


def _local_midnight(day):
    return datetime.combine(day, time(0), tzinfo=services.LOCAL_ZONE)


def _local_iso(value):
    return value.astimezone(services.LOCAL_ZONE).isoformat() if value is not None else None


# --- meetings --------------------------------------------------------------------------------------------

def _agendas(meetings):
    """{meeting id: [agenda entries]} for the meetings whose agenda is published (three queries)."""
    published = {meeting.id: meeting for meeting in meetings if meeting.agenda_published_at is not None}
    if not published:
        return {}
    items = db.session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id.in_(list(published)),
                                 AgendaItem.status == AgendaStatus.ACCEPTED.value)
        .order_by(AgendaItem.meeting_id, AgendaItem.position, AgendaItem.id)).all()
    item_ids = [item.id for item in items]
    ideas, measures = defaultdict(list), defaultdict(list)
    if item_ids:
        for item_id, idea_id in db.session.execute(
                select(agenda_item_ideas.c.agenda_item_id, Idea.id)
                .join(Idea, Idea.id == agenda_item_ideas.c.idea_id)
                .where(agenda_item_ideas.c.agenda_item_id.in_(item_ids), Idea.hidden_at.is_(None))
                .order_by(Idea.id)):
            ideas[item_id].append(idea_id)
        for item_id, number in db.session.execute(
                select(agenda_item_measures.c.agenda_item_id, Measure.number)
                .join(Measure, Measure.id == agenda_item_measures.c.measure_id)
                .where(agenda_item_measures.c.agenda_item_id.in_(item_ids)).order_by(Measure.number)):
            measures[item_id].append(number)
    agendas = defaultdict(list)
    for item in items:
        entries = agendas[item.meeting_id]
        meeting = published[item.meeting_id]
        start = meeting.starts_at + timedelta(minutes=sum(entry["duration_minutes"] for entry in entries))
        entries.append({"position": len(entries) + 1, "title": item.title, "presenter": item.presenter,
                        "starts_at": _local_iso(start), "duration_minutes": item.duration_minutes,
                        "ideas": ideas[item.id], "measures": measures[item.id]})
    return agendas


def meeting_json(meeting, agenda):
    from flask import current_app

    url = (url_for(MEETING_PAGE, meeting_id=meeting.id, _external=True)
           if MEETING_PAGE in current_app.view_functions else None)
    moved = meeting.original_start is not None and meeting.original_start != meeting.starts_at
    return {
        "id": meeting.id,
        "body": {"id": meeting.body.id, "name": meeting.body.name, "slug": meeting.body.slug},
        "title": meeting.title,
        "starts_at": _local_iso(meeting.starts_at),
        "ends_at": _local_iso(meeting.ends_at),
        "original_start": _local_iso(meeting.original_start) if moved else None,
        "place": meeting.place,
        "online": bool(meeting.online_url),
        "status": meeting.status,
        "cancel_reason": meeting.cancel_reason,
        "sequence": meeting.sequence,
        "url": url,
        "agenda": agenda,
    }


@bp.route("/meetings")
@allow(EVERYONE)
@document("get", "/meetings", summary="Sitzungen der öffentlichen Gremien mit veröffentlichter Tagesordnung",
          tag=TAG, response="Meeting", paginated=True, auth=False, parameters=RANGE_PARAMETERS)
def meetings():
    query = (select(Meeting).join(Meeting.body).where(Body.public, *_range(Meeting))
             .order_by(Meeting.starts_at, Meeting.id))
    page = paginate(query, lambda meeting: meeting)
    agendas = _agendas(page["items"])
    page["items"] = [meeting_json(meeting, agendas.get(meeting.id, [])) for meeting in page["items"]]
    return jsonify(page)


# --- workshops and events ------------------------------------------------------------------------------------

def workshop_json(event, waiting):
    return {
        "id": event.id,
        "kind": event.kind,
        "title": event.title,
        "topic": event.topic,
        "field_of_action": {"code": event.sector.code, "name": event.sector.name} if event.sector else None,
        "starts_at": _local_iso(event.starts_at),
        "ends_at": _local_iso(event.ends_at),
        "place": event.place,
        "online": bool(event.online_url),
        "facilitator": event.facilitator,
        "capacity": event.capacity,
        "registered": event.confirmed_count,
        "free_places": event.free_places,
        "waiting_list": waiting,
        "registration": event.registration,
        "registration_closes_at": _local_iso(services.registration_closes_at(event)),
        "status": event.status,
        "sequence": event.sequence,
        "url": url_for("events.detail", event_id=event.id, _external=True),
    }


@bp.route("/workshops")
@allow(EVERYONE)
@document("get", "/workshops", summary="Themenwerkstätten und Bürgerveranstaltungen mit freien Plätzen", tag=TAG,
          response="Workshop", paginated=True, auth=False, parameters=[KIND_PARAMETER] + RANGE_PARAMETERS)
def workshops():
    from sqlalchemy.orm import joinedload

    query = select(Event).where(Event.published, *_range(Event)).options(joinedload(Event.sector))
    kind = (request.args.get("kind") or "").strip()
    if kind:
        if kind not in {value.value for value in EventKind}:
            raise ApiValidationError(_("Unbekannte Art im Feld „kind“ (workshop oder citizen_event)."), "kind")
        query = query.where(Event.kind == kind)
    page = paginate(query.order_by(Event.starts_at, Event.id), lambda event: event)
    waiting = services.waiting_counts([event.id for event in page["items"]])
    page["items"] = [workshop_json(event, waiting.get(event.id, 0)) for event in page["items"]]
    return jsonify(page)
