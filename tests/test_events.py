"""Workshops and citizen events: registration, the waiting list, cancelling and moving up,
the public pages, the staff pages and the results entered as ideas."""
import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from beteiligung.auth.models import User
from beteiligung.events import services
from beteiligung.events.models import Event, Registration
from beteiligung.extensions import db
from beteiligung.ideas.models import Idea
from beteiligung.mail.models import OutboxMessage
from beteiligung.meetings.models import new_uid
from beteiligung.models import utcnow
from beteiligung.notifications.models import Notification

from .conftest import login_as, post_form


# --- helpers ----------------------------------------------------------------------------------------

@pytest.fixture
def make_event(app):
    """An event row (upcoming in two weeks, 2 seats, registration required); returns its id."""

    def make(**fields):
        with app.app_context():
            start = fields.pop("starts_at", utcnow().replace(microsecond=0) + timedelta(days=14))
            values = {"kind": "workshop", "title": "Werkstatt Wärmewende", "starts_at": start,
                      "ends_at": start + timedelta(hours=3), "place": "Volkshochschule, Raum 3", "capacity": 2,
                      "registration": "required", "uid": new_uid("event")}
            values.update(fields)
            event = Event(**values)
            db.session.add(event)
            db.session.commit()
            return event.id

    return make


def register(app, event_id, user):
    """Register through the service; (status, created, waiting position)."""
    with app.test_request_context():
        registration, created = services.register(db.session.get(Event, event_id), db.session.get(User, user.id))
        db.session.commit()
        return registration.status, created, services.waiting_position(registration)


def cancel(app, event_id, user):
    with app.test_request_context():
        registration = db.session.scalar(select(Registration).where(Registration.event_id == event_id,
                                                                    Registration.user_id == user.id))
        changed = services.cancel_registration(registration)
        db.session.commit()
        return changed


def statuses(app, event_id):
    """({user id: status}, confirmed_count, [waiting user ids in order])."""
    with app.app_context():
        rows = db.session.scalars(select(Registration).where(Registration.event_id == event_id)).all()
        event = db.session.get(Event, event_id)
        waiting = [r.user_id for r in services.waiting_list(event)]
        return {r.user_id: r.status for r in rows}, event.confirmed_count, waiting


def notifications(app, user, kind=None):
    with app.app_context():
        query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        if kind:
            query = query.where(Notification.kind == kind)
        return [(n.kind, n.message) for n in db.session.scalars(query)]


def mails_to(app, user):
    with app.app_context():
        return [m.subject for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == user.email)
                                                      .order_by(OutboxMessage.id))]


def flashes(response):
    return re.findall(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>', response.get_data(as_text=True))


# --- registration and the waiting list -----------------------------------------------------------------

def test_seats_are_filled_then_the_waiting_list_in_order(app, make_event, make_user):
    event_id = make_event(capacity=2)
    people = [make_user() for _ in range(4)]
    results = [register(app, event_id, person) for person in people]
    assert results == [("confirmed", True, None), ("confirmed", True, None), ("waiting", True, 1),
                       ("waiting", True, 2)]
    by_user, confirmed_count, waiting = statuses(app, event_id)
    assert confirmed_count == 2
    assert waiting == [people[2].id, people[3].id]
    assert notifications(app, people[0])[0][0] == "event.registered"
    assert "Platz 2 der Warteliste" in notifications(app, people[3])[0][1]
    assert mails_to(app, people[0]) == ["Anmeldung bestätigt: Werkstatt Wärmewende"]
    assert mails_to(app, people[2]) == ["Warteliste: Werkstatt Wärmewende"]


def test_double_registration_returns_the_existing_one(app, make_event, make_user):
    event_id = make_event(capacity=1)
    person, other = make_user(), make_user()
    assert register(app, event_id, person) == ("confirmed", True, None)
    assert register(app, event_id, person) == ("confirmed", False, None)
    assert register(app, event_id, other) == ("waiting", True, 1)
    assert register(app, event_id, other) == ("waiting", False, 1)
    with app.app_context():
        assert db.session.scalar(select(func.count(Registration.id))) == 2
    assert statuses(app, event_id)[1] == 1
    assert len(notifications(app, person)) == 1  # one confirmation, not two


def test_cancelling_moves_the_first_on_the_waiting_list_up_and_tells_them(app, make_event, make_user):
    event_id = make_event(capacity=1)
    first, second, third = make_user(), make_user(), make_user()
    for person in (first, second, third):
        register(app, event_id, person)
    assert cancel(app, event_id, first) is True
    by_user, confirmed_count, waiting = statuses(app, event_id)
    assert (by_user[first.id], by_user[second.id], by_user[third.id]) == ("cancelled", "confirmed", "waiting")
    assert confirmed_count == 1 and waiting == [third.id]
    moved = notifications(app, second, "event.moved_up")
    assert len(moved) == 1 and "nachgerückt" in moved[0][1]
    assert mails_to(app, second)[-1] == "Nachgerückt: Ihr Platz für Werkstatt Wärmewende"
    assert notifications(app, third, "event.moved_up") == []

    assert cancel(app, event_id, second) is True
    by_user, confirmed_count, waiting = statuses(app, event_id)
    assert by_user[third.id] == "confirmed" and confirmed_count == 1 and waiting == []
    assert cancel(app, event_id, second) is False  # a repeated click changes nothing
    assert statuses(app, event_id)[1] == 1


def test_leaving_the_waiting_list_frees_no_seat_and_moves_the_others_forward(app, make_event, make_user):
    event_id = make_event(capacity=1)
    people = [make_user() for _ in range(4)]
    for person in people:
        register(app, event_id, person)
    cancel(app, event_id, people[1])
    by_user, confirmed_count, waiting = statuses(app, event_id)
    assert confirmed_count == 1 and by_user[people[0].id] == "confirmed"
    assert waiting == [people[2].id, people[3].id]
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(Registration.user_id == people[3].id))
        assert services.waiting_position(registration) == 2


def test_registering_again_after_cancelling_goes_to_the_end_of_the_list(app, make_event, make_user):
    event_id = make_event(capacity=1)
    first, second = make_user(), make_user()
    register(app, event_id, first)
    register(app, event_id, second)
    cancel(app, event_id, first)  # second moves up
    assert register(app, event_id, first) == ("waiting", True, 1)
    with app.app_context():
        assert db.session.scalar(select(func.count(Registration.id))) == 2  # the same row again


def test_unlimited_seats_confirm_everybody(app, make_event, make_user):
    event_id = make_event(capacity=None, registration="optional", kind="citizen_event")
    for _ in range(5):
        assert register(app, event_id, make_user())[0] == "confirmed"
    assert statuses(app, event_id)[1] == 5


@pytest.mark.parametrize("fields, message", [
    ({"status": "cancelled", "cancel_reason": "Krankheit"}, "Diese Veranstaltung ist abgesagt"),
    ({"registration_closes_at": utcnow() - timedelta(hours=1)},
     "Die Anmeldung für diese Veranstaltung ist geschlossen."),
    ({"starts_at": utcnow() - timedelta(hours=1)}, "Die Anmeldung für diese Veranstaltung ist geschlossen."),
    ({"registration": "none"}, "Für diese Veranstaltung ist keine Anmeldung nötig."),
])
def test_closed_and_cancelled_events_refuse_with_a_message(app, client, make_event, users, fields, message):
    event_id = make_event(**fields)
    login_as(client, users["citizen"])
    response = post_form(client, f"/veranstaltungen/{event_id}/anmelden", follow_redirects=True)
    assert response.status_code == 200
    assert any(category == "error" and text.startswith(message) for category, text in flashes(response)), \
        flashes(response)
    with app.app_context():
        assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_registration_through_the_page_shows_status_and_waiting_position(app, client, make_event, users, make_user):
    event_id = make_event(capacity=1)
    register(app, event_id, make_user())
    login_as(client, users["citizen"])
    page = client.get(f"/veranstaltungen/{event_id}").get_data(as_text=True)
    assert "ausgebucht – Warteliste" in page and "Auf die Warteliste setzen" in page
    response = post_form(client, f"/veranstaltungen/{event_id}/anmelden", {"note": "Rollstuhl"},
                         follow_redirects=True)
    assert ("success", "Die Veranstaltung ist ausgebucht. Sie stehen auf Platz 1 der Warteliste und rücken "
                       "automatisch nach, sobald ein Platz frei wird.") in flashes(response)
    assert "Sie stehen auf Platz 1 der Warteliste" in response.get_data(as_text=True)
    again = post_form(client, f"/veranstaltungen/{event_id}/anmelden", follow_redirects=True)
    assert ("info", "Sie stehen bereits auf der Warteliste, derzeit auf Platz 1.") in flashes(again)
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(Registration.user_id == users["citizen"].id))
        assert registration.note == "Rollstuhl"
    left = post_form(client, f"/veranstaltungen/{event_id}/abmelden", follow_redirects=True)
    assert ("success", "Sie sind von der Warteliste abgemeldet.") in flashes(left)


def test_anonymous_visitors_get_a_login_link_back_to_the_event(client, make_event):
    event_id = make_event()
    page = client.get(f"/veranstaltungen/{event_id}").get_data(as_text=True)
    assert f'/anmelden?next=/veranstaltungen/{event_id}' in page
    assert "Verbindlich anmelden" not in page
    response = client.post(f"/veranstaltungen/{event_id}/anmelden")
    assert response.status_code in (302, 400)  # no CSRF token: refused; with one: redirect to the login


def test_unpublished_events_are_hidden_from_everyone_but_staff(client, app, make_event, users):
    event_id = make_event(published=False, title="Geheime Planung")
    assert client.get(f"/veranstaltungen/{event_id}").status_code == 404
    assert "Geheime Planung" not in client.get("/veranstaltungen/").get_data(as_text=True)
    login_as(client, users["staff"])
    assert client.get(f"/veranstaltungen/{event_id}").status_code == 200


def test_list_shows_free_places_full_events_and_past_results(app, client, make_event, make_user, make_idea):
    open_id = make_event(title="Werkstatt Mobilität", capacity=10)
    full_id = make_event(title="Werkstatt Wärme", capacity=1)
    register(app, full_id, make_user())
    register(app, full_id, make_user())
    past_start = utcnow() - timedelta(days=30)
    past_id = make_event(title="Werkstatt Energie", starts_at=past_start)
    idea_id = make_idea(source="workshop", event_name="Werkstatt Energie", dot_votes=7)
    with app.app_context():
        db.session.get(Idea, idea_id).event_id = past_id
        db.session.commit()
    page = client.get("/veranstaltungen/").get_data(as_text=True)
    upcoming, past = page.split("Vergangene Termine und ihre Ergebnisse")
    assert "Werkstatt Mobilität" in upcoming and "10 von 10 Plätzen frei" in upcoming
    assert "ausgebucht – Warteliste" in upcoming and "1 Person wartet" in upcoming
    assert "Werkstatt Energie" in past and f'/veranstaltungen/{past_id}#ergebnisse">1</a>' in past
    assert client.get("/veranstaltungen/?art=buergerveranstaltung").get_data(as_text=True).count("idea-card") == 0
    assert open_id


def test_my_registrations(app, client, make_event, users):
    first = make_event(title="Werkstatt A", capacity=0)
    second = make_event(title="Werkstatt B")
    register(app, first, users["citizen"])
    register(app, second, users["citizen"])
    login_as(client, users["citizen"])
    page = client.get("/veranstaltungen/meine").get_data(as_text=True)
    assert "Werkstatt A" in page and "Warteliste, Platz 1" in page
    assert "Werkstatt B" in page and "angemeldet" in page


# --- staff -------------------------------------------------------------------------------------------------

STAFF_PAGES = ["/verwaltung/veranstaltungen/", "/verwaltung/veranstaltungen/neu", "/verwaltung/veranstaltungen/{id}",
               "/verwaltung/veranstaltungen/{id}/teilnehmende", "/verwaltung/veranstaltungen/{id}/teilnehmende.csv"]


@pytest.mark.parametrize("role", ["citizen", "member"])
def test_staff_pages_are_403_for_citizens_and_members(client, make_event, users, role):
    event_id = make_event()
    login_as(client, users[role])
    for path in STAFF_PAGES:
        assert client.get(path.format(id=event_id)).status_code == 403, path
    assert post_form(client, f"/verwaltung/veranstaltungen/{event_id}/absagen", {"reason": "x"}).status_code == 403


def _event_form(**overrides):
    data = {"kind": "workshop", "title": "Werkstatt Quartierswärme", "topic": "Wärmenetze im Bestand",
            "sector": "wohngebaeude", "description": "Wir sammeln Ideen.", "starts_at": "2035-01-16T17:00",
            "ends_at": "2035-01-16T20:00", "place": "Stadtteilzentrum Lobeda", "online_url": "",
            "facilitator": "Dr. Maria Beispiel", "facilitator_email": "", "registration": "required",
            "capacity": "20", "registration_closes_at": "", "published": "y", "results_note": ""}
    data.update(overrides)
    return data


def test_staff_create_an_event_in_local_time(app, client, users, idea_setup):
    login_as(client, users["staff"])
    response = post_form(client, "/verwaltung/veranstaltungen/neu", _event_form())
    assert response.status_code == 302
    summer = post_form(client, "/verwaltung/veranstaltungen/neu",
                       _event_form(title="Sommerwerkstatt", starts_at="2035-07-17T17:00", ends_at="2035-07-17T20:00"))
    assert summer.status_code == 302
    with app.app_context():
        winter_event, summer_event = db.session.scalars(select(Event).order_by(Event.id)).all()
        assert winter_event.starts_at == datetime(2035, 1, 16, 16, 0, tzinfo=timezone.utc)  # CET = UTC+1
        assert summer_event.starts_at == datetime(2035, 7, 17, 15, 0, tzinfo=timezone.utc)  # CEST = UTC+2
        assert winter_event.sector.code == "wohngebaeude" and winter_event.uid.startswith("event-")
        assert (winter_event.sequence, winter_event.capacity, winter_event.facilitator) == (0, 20, "Dr. Maria Beispiel")


@pytest.mark.parametrize("overrides, field_message", [
    ({"ends_at": "2035-01-16T16:00"}, "Das Ende muss nach dem Beginn liegen."),
    ({"starts_at": "2035-03-25T02:30", "ends_at": "2035-03-25T05:00"},
     "Diese Uhrzeit gibt es wegen der Umstellung auf Sommerzeit nicht."),
    ({"place": "", "online_url": ""}, "Bitte geben Sie einen Ort oder einen Online-Link an."),
    ({"facilitator_email": "niemand@example.org"}, "Zu dieser E-Mail-Adresse gibt es kein Konto."),
    ({"registration_closes_at": "2035-01-17T10:00"}, "Der Anmeldeschluss muss vor dem Beginn liegen."),
])
def test_bad_event_input_gets_a_german_message_and_saves_nothing(app, client, users, idea_setup, overrides,
                                                                 field_message):
    login_as(client, users["staff"])
    response = post_form(client, "/verwaltung/veranstaltungen/neu", _event_form(**overrides))
    assert response.status_code == 200
    assert field_message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Event.id))) == 0


def test_changing_time_raises_sequence_and_tells_the_registered(app, client, users, make_event, make_user,
                                                                  idea_setup):
    event_id = make_event(starts_at=datetime(2035, 1, 16, 16, tzinfo=timezone.utc), capacity=5)
    person = make_user()
    register(app, event_id, person)
    login_as(client, users["staff"])
    form = _event_form(sector="", capacity="5", place="Volkshochschule, Raum 3", title="Werkstatt Wärmewende",
                       topic="", description="", facilitator="")
    response = post_form(client, f"/verwaltung/veranstaltungen/{event_id}",
                         {**form, "starts_at": "2035-01-16T17:00", "ends_at": "2035-01-16T20:00"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Event, event_id).sequence == 0  # same time as before: nothing significant changed
    response = post_form(client, f"/verwaltung/veranstaltungen/{event_id}",
                         {**form, "starts_at": "2035-01-23T17:00", "ends_at": "2035-01-23T20:00"})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.sequence == 1 and event.starts_at == datetime(2035, 1, 23, 16, tzinfo=timezone.utc)
    changed = notifications(app, person, "event.changed")
    assert len(changed) == 1 and "23.01.2035, 17:00 Uhr" in changed[0][1]
    post_form(client, f"/verwaltung/veranstaltungen/{event_id}",
              {**form, "title": "Werkstatt Wärmewende (neu)", "starts_at": "2035-01-23T17:00",
               "ends_at": "2035-01-23T20:00"})
    with app.app_context():
        assert db.session.get(Event, event_id).sequence == 1  # a new title is not a new date


def test_more_seats_move_people_up_fewer_than_taken_is_refused(app, make_event, make_user, users):
    event_id = make_event(capacity=1)
    people = [make_user() for _ in range(3)]
    for person in people:
        register(app, event_id, person)
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        staff = db.session.get(User, users["staff"].id)
        data = services.EventData(kind=event.kind, title=event.title, starts_at=event.starts_at,
                                  ends_at=event.ends_at, place=event.place, capacity=2)
        services.save_event(event, data, actor=staff)
        db.session.commit()
    by_user, confirmed_count, waiting = statuses(app, event_id)
    assert confirmed_count == 2 and by_user[people[1].id] == "confirmed" and waiting == [people[2].id]
    assert len(notifications(app, people[1], "event.moved_up")) == 1
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        data.capacity = 1
        with pytest.raises(services.EventError, match="bereits 2 Personen"):
            services.save_event(event, data, actor=None)
        db.session.rollback()


def test_cancelling_an_event_tells_everyone_and_can_be_taken_back(app, client, users, make_event, make_user):
    event_id = make_event(capacity=1)
    confirmed, waiting = make_user(), make_user()
    register(app, event_id, confirmed)
    register(app, event_id, waiting)
    login_as(client, users["staff"])
    assert post_form(client, f"/verwaltung/veranstaltungen/{event_id}/absagen", {"reason": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(Event, event_id).status == "scheduled"  # no reason, no cancellation
    post_form(client, f"/verwaltung/veranstaltungen/{event_id}/absagen", {"reason": "Referentin erkrankt"})
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert (event.status, event.cancel_reason, event.sequence) == ("cancelled", "Referentin erkrankt", 1)
    for person in (confirmed, waiting):
        told = notifications(app, person, "event.cancelled")
        assert len(told) == 1 and "Referentin erkrankt" in told[0][1]
        assert mails_to(app, person)[-1] == "Abgesagt: Werkstatt Wärmewende"
    page = client.get(f"/veranstaltungen/{event_id}").get_data(as_text=True)
    assert "Diese Veranstaltung ist abgesagt" in page and "Referentin erkrankt" in page
    again = post_form(client, f"/verwaltung/veranstaltungen/{event_id}/absagen", {"reason": "doppelt"},
                      follow_redirects=True)
    assert ("error", "Diese Veranstaltung ist bereits abgesagt.") in flashes(again)
    post_form(client, f"/verwaltung/veranstaltungen/{event_id}/reaktivieren")
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert (event.status, event.sequence, event.confirmed_count) == ("scheduled", 2, 1)


def test_participants_page_and_csv_are_for_staff(app, client, users, make_event, make_user):
    event_id = make_event(capacity=1)
    first = make_user(name="Anna Beispiel")
    second = make_user(name="=HYPERLINK(1)")
    register(app, event_id, first)
    register(app, event_id, second)
    login_as(client, users["staff"])
    page = client.get(f"/verwaltung/veranstaltungen/{event_id}/teilnehmende").get_data(as_text=True)
    assert "Anna Beispiel" in page and first.email in page
    response = client.get(f"/verwaltung/veranstaltungen/{event_id}/teilnehmende.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["Name", "E-Mail", "Status", "Platz auf der Warteliste", "Angemeldet am"]
    assert rows[1][:4] == ["Anna Beispiel", first.email, "angemeldet", ""]
    assert rows[2][:4] == ["'=HYPERLINK(1)", second.email, "auf der Warteliste", "1"]
    # the public page shows no personal data of others
    public = client.get(f"/veranstaltungen/{event_id}").get_data(as_text=True)
    assert first.email not in public and second.email not in public


def test_staff_cancel_a_registration_and_the_person_is_told(app, client, users, make_event, make_user):
    event_id = make_event(capacity=1)
    first, second = make_user(), make_user()
    register(app, event_id, first)
    register(app, event_id, second)
    with app.app_context():
        registration_id = db.session.scalar(select(Registration.id).where(Registration.user_id == first.id))
    login_as(client, users["staff"])
    response = post_form(client, f"/verwaltung/veranstaltungen/anmeldungen/{registration_id}/stornieren")
    assert response.status_code == 302
    by_user, confirmed_count, _waiting = statuses(app, event_id)
    assert by_user == {first.id: "cancelled", second.id: "confirmed"} and confirmed_count == 1
    assert len(notifications(app, first, "event.unregistered")) == 1
    assert len(notifications(app, second, "event.moved_up")) == 1


def test_deleting_an_account_gives_the_seat_back(app, make_event, make_user):
    from beteiligung.account.services import delete_account, export_personal_data

    event_id = make_event(capacity=1)
    first, second = make_user(), make_user()
    register(app, event_id, first)
    register(app, event_id, second)
    with app.test_request_context():
        user = db.session.get(User, first.id)
        exported = export_personal_data(user)["event_registrations"]
        assert exported[0]["status"] == "confirmed" and exported[0]["event"] == "Werkstatt Wärmewende"
        delete_account(user)
        db.session.commit()
    by_user, confirmed_count, _waiting = statuses(app, event_id)
    assert by_user == {second.id: "confirmed"} and confirmed_count == 1


# --- results as ideas -----------------------------------------------------------------------------------------

def _results_form(**rows):
    data = {"district": "jena-zentrum", "entry_token": "3f1c1b3e-8e0a-4c7e-9d55-1a2b3c4d5e6f"}
    data.update(rows)
    return data


def test_facilitator_enters_results_as_ideas_with_provenance(app, client, make_event, make_user, idea_setup):
    facilitator = make_user(name="Moderatorin Kim")
    event_id = make_event(title="Werkstatt Radverkehr", facilitator="Kim Moderatorin",
                          starts_at=utcnow() - timedelta(days=1))
    with app.app_context():
        db.session.get(Event, event_id).facilitator_user_id = facilitator.id
        db.session.commit()
    login_as(client, facilitator)
    assert client.get(f"/veranstaltungen/{event_id}/ergebnisse").status_code == 200
    data = _results_form(**{
        "entries-0-title": "Fahrradstraße Löbdergraben", "entries-0-text": "Vorrang für Räder.",
        "entries-0-sector": "mobilitaet", "entries-0-dot_votes": "12",
        "entries-1-title": "", "entries-1-text": "", "entries-1-sector": "unbekannt", "entries-1-dot_votes": "0",
        "entries-2-title": "Bügel an jeder Haltestelle", "entries-2-text": "Mehr Abstellplätze.",
        "entries-2-sector": "unbekannt", "entries-2-dot_votes": "4"})
    response = post_form(client, f"/veranstaltungen/{event_id}/ergebnisse", data)
    assert response.status_code == 302 and response.headers["Location"].endswith("#ergebnisse")
    with app.app_context():
        ideas = db.session.scalars(select(Idea).order_by(Idea.id)).all()
        assert [(i.title, i.source, i.event_name, i.facilitator, i.dot_votes, i.event_id, i.entered_by_id,
                 i.author_id) for i in ideas] == [
            ("Fahrradstraße Löbdergraben", "workshop", "Werkstatt Radverkehr", "Kim Moderatorin", 12, event_id,
             facilitator.id, None),
            ("Bügel an jeder Haltestelle", "workshop", "Werkstatt Radverkehr", "Kim Moderatorin", 4, event_id,
             facilitator.id, None)]
        assert ideas[0].sector.code == "mobilitaet" and ideas[1].sector is None
        assert ideas[0].district.code == "jena-zentrum"
        ids = [idea.id for idea in ideas]
    again = post_form(client, f"/veranstaltungen/{event_id}/ergebnisse", data, follow_redirects=True)
    assert ("info", "Diese Ergebnisse sind bereits gespeichert; es wurden keine weiteren Ideen angelegt.") \
        in flashes(again)
    with app.app_context():
        assert db.session.scalar(select(func.count(Idea.id))) == 2
    page = client.get(f"/veranstaltungen/{event_id}").get_data(as_text=True)
    section = page.split('id="ergebnisse"')[1]
    assert section.index("Fahrradstraße Löbdergraben") < section.index("Bügel an jeder Haltestelle")
    assert f'/ideen/{ids[0]}"' in section and ">12<" in section


def test_citizen_event_results_have_source_event(app, client, make_event, users, idea_setup):
    event_id = make_event(kind="citizen_event", title="Bürgerforum Winzerla", facilitator="")
    login_as(client, users["staff"])
    post_form(client, f"/veranstaltungen/{event_id}/ergebnisse", _results_form(**{
        "entries-0-title": "Mehr Bäume", "entries-0-text": "Schatten im Sommer.", "entries-0-sector": "unbekannt",
        "entries-0-dot_votes": "3"}))
    with app.app_context():
        idea = db.session.scalar(select(Idea))
        assert (idea.source, idea.event_name, idea.facilitator, idea.event_id) == (
            "event", "Bürgerforum Winzerla", "Staff Muster", event_id)


def test_results_form_checks_rows_and_saves_all_or_nothing(app, client, make_event, users, idea_setup):
    event_id = make_event()
    login_as(client, users["staff"])
    response = post_form(client, f"/veranstaltungen/{event_id}/ergebnisse", _results_form(**{
        "entries-0-title": "Gute Idee", "entries-0-text": "Mit Text.", "entries-0-sector": "energie",
        "entries-1-title": "Ohne Text", "entries-1-text": "", "entries-1-sector": "energie",
        "entries-1-dot_votes": "-2"}))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Bitte geben Sie den Text der Karte an." in text and "Bitte eine Zahl ab 0." in text
    with app.app_context():
        assert db.session.scalar(select(func.count(Idea.id))) == 0


def test_only_facilitators_and_staff_enter_results(app, client, make_event, users, idea_setup):
    event_id = make_event()
    login_as(client, users["citizen"])
    response = client.get(f"/veranstaltungen/{event_id}/ergebnisse", follow_redirects=True)
    assert ("error", "Ergebnisse tragen die Moderation der Veranstaltung und die Verwaltung ein.") \
        in flashes(response)
    post_form(client, f"/veranstaltungen/{event_id}/ergebnisse", _results_form(**{
        "entries-0-title": "Idee", "entries-0-text": "Text", "entries-0-sector": "energie"}))
    with app.app_context():
        assert db.session.scalar(select(func.count(Idea.id))) == 0
