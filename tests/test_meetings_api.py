"""Dates in the JSON API: /api/v1/meetings and /api/v1/workshops."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from openapi_spec_validator import validate

from beteiligung.auth.models import User
from beteiligung.events import services as event_services
from beteiligung.events.models import Event
from beteiligung.extensions import db
from beteiligung.ideas.models import Idea, Sector
from beteiligung.measures.models import Measure
from beteiligung.meetings.models import AgendaItem, Body, Meeting, new_uid
from beteiligung.models import utcnow

BERLIN = ZoneInfo("Europe/Berlin")
YEAR = utcnow().year + 1
MEETING_KEYS = {"id", "body", "title", "starts_at", "ends_at", "place", "online", "status", "sequence", "url",
                "agenda"}
AGENDA_KEYS = {"position", "title", "presenter", "starts_at", "duration_minutes", "ideas", "measures"}
WORKSHOP_KEYS = {"id", "kind", "title", "topic", "field_of_action", "starts_at", "ends_at", "place", "capacity",
                 "registered", "free_places", "waiting_list", "registration", "status", "url"}


def local(month, day, hour, minute=0):
    return datetime(YEAR, month, day, hour, minute, tzinfo=BERLIN).astimezone(timezone.utc)


@pytest.fixture
def api_dates(app, make_idea, make_user):
    visible = make_idea(title="Radweg Saale")
    hidden = make_idea(title="Ausgeblendet")
    with app.app_context():
        db.session.get(Idea, hidden).hidden_at = utcnow()
        sector = db.session.scalar(db.select(Sector).where(Sector.code == "mobilitaet"))
        measure = Measure(number="M-4.2", title="Radverkehrsnetz", sector_id=sector.id)
        group = Body(slug="arbeitskreis", name="Arbeitskreis Klimaschutz")
        internal = Body(slug="lenkungskreis", name="Lenkungskreis", public=False)
        db.session.add_all([measure, group, internal])
        db.session.flush()

        def meeting(body, title, start, **fields):
            row = Meeting(body_id=body.id, title=title, starts_at=start, ends_at=start + timedelta(hours=2),
                          place="Rathaus", uid=new_uid("meeting"), **fields)
            db.session.add(row)
            return row

        january = meeting(group, "Sitzung Januar", local(1, 12, 17), agenda_published_at=utcnow())
        july = meeting(group, "Sitzung Juli", local(7, 13, 17), online_url="https://meet.example/ak",
                       original_start=local(7, 6, 17), sequence=1)
        meeting(internal, "Lenkungskreis", local(2, 2, 10))
        db.session.flush()
        first = AgendaItem(meeting_id=january.id, title="Begrüßung", presenter="Vorsitz", position=1,
                           duration_minutes=10)
        second = AgendaItem(meeting_id=january.id, title="Radverkehr", presenter="Amt für Mobilität", position=2,
                            duration_minutes=45)
        proposed = AgendaItem(meeting_id=january.id, title="Vorschlag", position=3, status="proposed")
        draft = AgendaItem(meeting_id=july.id, title="Noch nicht veröffentlicht", position=1)
        db.session.add_all([first, second, proposed, draft])
        db.session.flush()
        second.ideas = [db.session.get(Idea, visible), db.session.get(Idea, hidden)]
        second.measures = [measure]
        start = local(6, 20, 14)
        full = Event(kind="workshop", title="Werkstatt Wärme", topic="Wärmenetze", sector_id=sector.id, starts_at=start,
                     ends_at=start + timedelta(hours=3), place="VHS", capacity=1, uid=new_uid("event"))
        forum = Event(kind="citizen_event", title="Bürgerforum", starts_at=local(9, 5, 18), ends_at=local(9, 5, 20),
                      place="Volkshaus", registration="none", capacity=None, uid=new_uid("event"))
        draft_event = Event(kind="workshop", title="Entwurf", starts_at=start, ends_at=start + timedelta(hours=1),
                            place="VHS", published=False, uid=new_uid("event"))
        db.session.add_all([full, forum, draft_event])
        db.session.commit()
        ids = SimpleNamespace(january=january.id, july=july.id, visible=visible, full=full.id, forum=forum.id)
    for _ in range(2):
        with app.test_request_context():
            event_services.register(db.session.get(Event, ids.full), db.session.get(User, make_user().id))
            db.session.commit()
    return ids


def test_meetings_list_shape(client, api_dates):
    response = client.get("/api/v1/meetings")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 20)  # the internal body is not listed
    january, july = body["items"]
    assert MEETING_KEYS <= set(january)
    assert january["body"] == {"id": january["body"]["id"], "name": "Arbeitskreis Klimaschutz", "slug": "arbeitskreis"}
    assert january["starts_at"] == f"{YEAR}-01-12T17:00:00+01:00"
    assert july["starts_at"] == f"{YEAR}-07-13T17:00:00+02:00"
    assert july["original_start"] == f"{YEAR}-07-06T17:00:00+02:00"
    assert (january["online"], july["online"]) == (False, True)
    assert (july["status"], july["sequence"]) == ("scheduled", 1)
    assert july["agenda"] == []  # not published yet
    assert [set(item) >= AGENDA_KEYS for item in january["agenda"]] == [True, True]
    assert [(item["position"], item["title"], item["presenter"], item["starts_at"], item["duration_minutes"])
            for item in january["agenda"]] == [
        (1, "Begrüßung", "Vorsitz", f"{YEAR}-01-12T17:00:00+01:00", 10),
        (2, "Radverkehr", "Amt für Mobilität", f"{YEAR}-01-12T17:10:00+01:00", 45)]
    assert january["agenda"][1]["ideas"] == [api_dates.visible]  # the hidden idea is left out
    assert january["agenda"][1]["measures"] == ["M-4.2"]


def test_meetings_filters_and_errors(client, api_dates):
    only_july = client.get(f"/api/v1/meetings?from={YEAR}-07-13").json
    assert [item["title"] for item in only_july["items"]] == ["Sitzung Juli"]
    only_january = client.get(f"/api/v1/meetings?to={YEAR}-01-12").json
    assert [item["title"] for item in only_january["items"]] == ["Sitzung Januar"]
    assert client.get(f"/api/v1/meetings?from={YEAR}-01-13&to={YEAR}-07-12").json["total"] == 0
    paged = client.get("/api/v1/meetings?per_page=1&page=2").json
    assert (paged["total"], [item["title"] for item in paged["items"]]) == (2, ["Sitzung Juli"])
    bad = client.get("/api/v1/meetings?from=13.07.2030")
    assert bad.status_code == 422 and bad.json["field"] == "from" and "JJJJ-MM-TT" in bad.json["message"]
    reversed_range = client.get(f"/api/v1/meetings?from={YEAR}-07-01&to={YEAR}-01-01")
    assert reversed_range.status_code == 422 and reversed_range.json["field"] == "to"


def test_workshops_list_shape_and_kind_filter(client, api_dates):
    body = client.get("/api/v1/workshops").json
    assert body["total"] == 2  # the draft is not published
    full, forum = body["items"]
    assert WORKSHOP_KEYS <= set(full)
    assert (full["kind"], full["title"], full["topic"]) == ("workshop", "Werkstatt Wärme", "Wärmenetze")
    assert full["field_of_action"] == {"code": "mobilitaet", "name": "Mobilität"}
    assert full["starts_at"] == f"{YEAR}-06-20T14:00:00+02:00"
    assert (full["capacity"], full["registered"], full["free_places"], full["waiting_list"]) == (1, 1, 0, 1)
    assert (full["registration"], full["status"]) == ("required", "scheduled")
    assert full["url"] == f"http://localhost/veranstaltungen/{api_dates.full}"
    assert (forum["kind"], forum["capacity"], forum["free_places"], forum["registration"], forum["field_of_action"]) \
        == ("citizen_event", None, None, "none", None)
    only_forum = client.get("/api/v1/workshops?kind=citizen_event").json
    assert [item["id"] for item in only_forum["items"]] == [api_dates.forum]
    bad = client.get("/api/v1/workshops?kind=party")
    assert bad.status_code == 422 and bad.json["field"] == "kind"


def test_cancelled_workshop_shows_its_status(app, client, api_dates, users):
    with app.test_request_context():
        event_services.cancel_event(db.session.get(Event, api_dates.forum), "Hitze",
                                    actor=db.session.get(User, users["staff"].id))
        db.session.commit()
    forum = client.get("/api/v1/workshops?kind=citizen_event").json["items"][0]
    assert (forum["status"], forum["sequence"]) == ("cancelled", 1)


def test_openapi_describes_meetings_and_workshops(client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    assert "/meetings" in spec["paths"] and "/workshops" in spec["paths"]
    assert spec["paths"]["/meetings"]["get"]["security"] == []
    workshop = spec["components"]["schemas"]["Workshop"]
    assert WORKSHOP_KEYS <= set(workshop["required"])
    assert MEETING_KEYS <= set(spec["components"]["schemas"]["Meeting"]["required"])
    names = [parameter["name"] for parameter in spec["paths"]["/meetings"]["get"]["parameters"]]
    assert names == ["from", "to", "page", "per_page"]
