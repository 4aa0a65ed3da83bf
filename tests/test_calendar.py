"""The calendar page and the iCalendar feeds: what they contain, that they parse with the
`icalendar` package, and that moved and cancelled dates and summer and winter time come out
right."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from beteiligung.auth.models import User
from beteiligung.events import services as event_services
from beteiligung.events.models import Event
from beteiligung.extensions import db
from beteiligung.meetings.models import AgendaItem, Body, BodyMember, Meeting, new_uid
from beteiligung.models import utcnow

from .conftest import login_as

BERLIN = ZoneInfo("Europe/Berlin")
NEXT_YEAR = utcnow().year + 1


def local(year, month, day, hour, minute=0):
    """A Europe/Berlin wall-clock time as aware UTC (as the database stores it)."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(timezone.utc)


@pytest.fixture
def dates(app, users, make_user):
    """A public working group with a winter, a summer, a moved and a cancelled meeting; an internal
    steering group with one meeting; a published workshop, an unpublished one and a citizen event."""
    with app.app_context():
        group = Body(slug="arbeitskreis", name="Arbeitskreis Klimaschutz", public=True)
        steering = Body(slug="lenkungskreis", name="Lenkungskreis", public=False, kind="steering_group")
        db.session.add_all([group, steering])
        db.session.flush()
        db.session.add_all([
            BodyMember(body_id=group.id, user_id=users["member"].id, name="Mira Mitglied", from_date=date(2024, 1, 1)),
            BodyMember(body_id=steering.id, user_id=users["member"].id, name="Mira Mitglied",
                       from_date=date(2024, 1, 1)),
            BodyMember(body_id=group.id, user_id=users["citizen"].id, name="Ehemalig", from_date=date(2020, 1, 1),
                       to_date=date(2021, 1, 1)),
        ])

        def meeting(body, title, start, **fields):
            row = Meeting(body_id=body.id, title=title, starts_at=start, ends_at=start + timedelta(hours=2),
                          place="Rathaus, Plenarsaal", uid=new_uid("meeting"), **fields)
            db.session.add(row)
            return row

        winter = meeting(group, "Sitzung im Januar", local(NEXT_YEAR, 1, 12, 17), agenda_published_at=utcnow())
        summer = meeting(group, "Sitzung im Juli", local(NEXT_YEAR, 7, 13, 17))
        moved = meeting(group, "Sitzung im März", local(NEXT_YEAR, 3, 16, 17),
                        original_start=local(NEXT_YEAR, 3, 9, 17), sequence=1)
        cancelled = meeting(group, "Sitzung im Mai", local(NEXT_YEAR, 5, 11, 17), status="cancelled",
                            cancel_reason="Feiertag", sequence=1)
        old = meeting(group, "Sitzung vor zwei Jahren", utcnow() - timedelta(days=800))
        internal = meeting(steering, "Lenkungskreis intern", local(NEXT_YEAR, 2, 2, 10),
                           online_url="https://meet.example/lk")
        db.session.flush()
        db.session.add(AgendaItem(meeting_id=winter.id, title="Bericht aus der Verwaltung", position=1))
        start = local(NEXT_YEAR, 6, 20, 14)
        workshop = Event(kind="workshop", title="Werkstatt Wärme", topic="Wärmenetze", starts_at=start,
                         ends_at=start + timedelta(hours=3), place="VHS, Raum 3", capacity=1,
                         facilitator="Kim Moderatorin",
                         uid=new_uid("event"))
        hidden = Event(kind="workshop", title="Entwurf Werkstatt", starts_at=start, ends_at=start + timedelta(hours=3),
                       place="VHS", published=False, uid=new_uid("event"))
        forum = Event(kind="citizen_event", title="Bürgerforum Lobeda", starts_at=local(NEXT_YEAR, 9, 5, 18),
                      ends_at=local(NEXT_YEAR, 9, 5, 20), online_url="https://meet.example/forum", registration="none",
                      uid=new_uid("event"))
        db.session.add_all([workshop, hidden, forum])
        db.session.commit()
        return SimpleNamespace(group=group.id, steering=steering.id, group_token=group.feed_token,
                               steering_token=steering.feed_token, winter=winter.id, summer=summer.id, moved=moved.id,
                               cancelled=cancelled.id, old=old.id, internal=internal.id, workshop=workshop.id,
                               hidden=hidden.id, forum=forum.id,
                               uids={row.id: row.uid for row in (winter, summer, moved, cancelled, internal)},
                               workshop_uid=workshop.uid)


def parse(response):
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def events_by_summary(calendar):
    return {str(item["SUMMARY"]): item for item in calendar.walk("VEVENT")}


REQUIRED = ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "LOCATION", "URL", "DESCRIPTION", "SEQUENCE", "STATUS")


def check_feed(calendar):
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Klima-Beteiligung//")
    assert str(calendar["CALSCALE"]) == "GREGORIAN" and str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin" and str(calendar["X-WR-CALNAME"])
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["TZID"]) for zone in zones] == ["Europe/Berlin"]
    for item in calendar.walk("VEVENT"):
        missing = [name for name in REQUIRED if name not in item]
        assert missing == [], (item["SUMMARY"], missing)
        assert item["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert item["DTEND"].params["TZID"] == "Europe/Berlin"
        assert str(item["STATUS"]) in ("CONFIRMED", "CANCELLED")
        assert str(item["URL"]).startswith("http://localhost/")


def test_public_feed_parses_and_has_the_public_dates(client, dates):
    response = client.get("/termine.ics")
    calendar = parse(response)
    check_feed(calendar)
    found = events_by_summary(calendar)
    assert set(found) == {"Sitzung im Januar", "Sitzung im Juli", "Sitzung im März", "Sitzung im Mai",
                          "Werkstatt Wärme", "Bürgerforum Lobeda"}  # no internal body, no draft, nothing too old
    january = found["Sitzung im Januar"]
    assert str(january["UID"]) == dates.uids[dates.winter]
    assert str(january["LOCATION"]) == "Rathaus, Plenarsaal"
    assert "Tagesordnung:\n1. Bericht aus der Verwaltung" in str(january["DESCRIPTION"])
    assert str(found["Bürgerforum Lobeda"]["LOCATION"]) == "https://meet.example/forum"  # online only
    assert str(found["Werkstatt Wärme"]["URL"]) == f"http://localhost/veranstaltungen/{dates.workshop}"
    assert "Moderation: Kim Moderatorin" in str(found["Werkstatt Wärme"]["DESCRIPTION"])
    assert response.headers["Cache-Control"].startswith("public")


def test_start_times_are_local_with_tzid_in_winter_and_summer(client, dates):
    raw = client.get("/termine.ics").get_data(as_text=True)
    assert f"DTSTART;TZID=Europe/Berlin:{NEXT_YEAR}0112T170000" in raw
    assert f"DTSTART;TZID=Europe/Berlin:{NEXT_YEAR}0713T170000" in raw
    found = events_by_summary(Calendar.from_ical(raw))
    winter, summer = found["Sitzung im Januar"].decoded("DTSTART"), found["Sitzung im Juli"].decoded("DTSTART")
    assert (winter.hour, winter.utcoffset()) == (17, timedelta(hours=1))
    assert (summer.hour, summer.utcoffset()) == (17, timedelta(hours=2))
    assert winter.astimezone(timezone.utc) == local(NEXT_YEAR, 1, 12, 17)
    # the VTIMEZONE in the feed says the same as the zone database
    zone = Calendar.from_ical(raw).walk("VTIMEZONE")[0].to_tz()
    for moment in (datetime(NEXT_YEAR, 1, 12, 17), datetime(NEXT_YEAR, 7, 13, 17), datetime(NEXT_YEAR, 3, 28, 12),
                   datetime(NEXT_YEAR, 10, 30, 12)):
        assert moment.replace(tzinfo=zone).utcoffset() == moment.replace(tzinfo=BERLIN).utcoffset(), moment


def test_moved_date_keeps_its_uid_with_a_higher_sequence_and_new_start(app, client, dates, users):
    before = events_by_summary(parse(client.get("/termine.ics")))["Werkstatt Wärme"]
    assert int(before["SEQUENCE"]) == 0
    with app.test_request_context():
        event = db.session.get(Event, dates.workshop)
        data = event_services.EventData(kind=event.kind, title=event.title, topic=event.topic, place=event.place,
                                        capacity=event.capacity, facilitator=event.facilitator,
                                        starts_at=local(NEXT_YEAR, 6, 27, 14), ends_at=local(NEXT_YEAR, 6, 27, 17))
        event_services.save_event(event, data, actor=db.session.get(User, users["staff"].id))
        db.session.commit()
    after = events_by_summary(parse(client.get("/termine.ics")))["Werkstatt Wärme"]
    assert str(after["UID"]) == str(before["UID"]) == dates.workshop_uid
    assert int(after["SEQUENCE"]) == 1
    assert after.decoded("DTSTART").replace(tzinfo=None) == datetime(NEXT_YEAR, 6, 27, 14)
    moved_meeting = events_by_summary(parse(client.get("/termine.ics")))["Sitzung im März"]
    assert int(moved_meeting["SEQUENCE"]) == 1
    assert "Verschoben, ursprünglich am 09.03." in str(moved_meeting["DESCRIPTION"])


def test_cancelled_dates_have_status_cancelled(app, client, dates, users):
    with app.test_request_context():
        event_services.cancel_event(db.session.get(Event, dates.workshop), "Zu wenige Anmeldungen",
                                    actor=db.session.get(User, users["staff"].id))
        db.session.commit()
    found = events_by_summary(parse(client.get("/termine.ics")))
    workshop, meeting = found["Werkstatt Wärme"], found["Sitzung im Mai"]
    assert str(workshop["STATUS"]) == "CANCELLED" and int(workshop["SEQUENCE"]) == 1
    assert "ABGESAGT: Zu wenige Anmeldungen" in str(workshop["DESCRIPTION"])
    assert str(meeting["STATUS"]) == "CANCELLED"
    assert str(found["Sitzung im Juli"]["STATUS"]) == "CONFIRMED"


def test_past_cancelled_dates_leave_the_feed_after_sixty_days(app, client, dates):
    with app.app_context():
        old = db.session.get(Meeting, dates.old)
        old.starts_at, old.ends_at = utcnow() - timedelta(days=100), utcnow() - timedelta(days=100, hours=-2)
        db.session.commit()
    assert "Sitzung vor zwei Jahren" in events_by_summary(parse(client.get("/termine.ics")))
    with app.app_context():
        db.session.execute(db.update(Meeting).where(Meeting.id == dates.old)
                           .values(status="cancelled", updated_at=utcnow() - timedelta(days=61)))
        db.session.commit()
    assert "Sitzung vor zwei Jahren" not in events_by_summary(parse(client.get("/termine.ics")))


def test_body_feed_has_the_internal_meetings_for_members(client, dates):
    response = client.get(f"/termine/gremium/{dates.steering_token}.ics")
    calendar = parse(response)
    check_feed(calendar)
    assert list(events_by_summary(calendar)) == ["Lenkungskreis intern"]
    assert str(calendar["X-WR-CALNAME"]) == "Termine – Lenkungskreis"
    assert response.headers["Cache-Control"].startswith("private")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    group = events_by_summary(parse(client.get(f"/termine/gremium/{dates.group_token}.ics")))
    assert "Sitzung im Mai" in group and "Lenkungskreis intern" not in group


def test_member_feed_has_their_meetings_and_registrations(app, client, dates, users, make_user):
    from beteiligung.calendar.dates import ensure_calendar_token

    other = make_user()
    with app.test_request_context():
        member = db.session.get(User, users["member"].id)
        token = ensure_calendar_token(member)
        event_services.register(db.session.get(Event, dates.workshop), db.session.get(User, other.id))
        event_services.register(db.session.get(Event, dates.workshop), member)  # full: waiting list
        db.session.commit()
    response = client.get(f"/termine/mein/{token}.ics")
    calendar = parse(response)
    check_feed(calendar)
    found = events_by_summary(calendar)
    assert set(found) == {"Sitzung im Januar", "Sitzung im Juli", "Sitzung im März", "Sitzung im Mai",
                          "Lenkungskreis intern", "Werkstatt Wärme"}
    assert "Warteliste" in str(found["Werkstatt Wärme"]["DESCRIPTION"])
    assert response.headers["Cache-Control"].startswith("private")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # a former member gets no meetings; a cancelled registration leaves the feed
    with app.test_request_context():
        citizen = db.session.get(User, users["citizen"].id)
        citizen_token = ensure_calendar_token(citizen)
        registration, _created = event_services.register(db.session.get(Event, dates.workshop), citizen)
        db.session.commit()
        registration_id = registration.id
    assert list(events_by_summary(parse(client.get(f"/termine/mein/{citizen_token}.ics")))) == ["Werkstatt Wärme"]
    with app.test_request_context():
        from beteiligung.events.models import Registration

        event_services.cancel_registration(db.session.get(Registration, registration_id))
        db.session.commit()
    assert list(events_by_summary(parse(client.get(f"/termine/mein/{citizen_token}.ics")))) == []


def test_unknown_tokens_answer_404(app, client, dates, users):
    assert client.get("/termine/gremium/unbekannt.ics").status_code == 404
    assert client.get("/termine/mein/unbekannt.ics").status_code == 404
    from beteiligung.account.services import delete_account
    from beteiligung.calendar.dates import ensure_calendar_token

    with app.test_request_context():
        citizen = db.session.get(User, users["citizen"].id)
        token = ensure_calendar_token(citizen)
        db.session.commit()
    assert client.get(f"/termine/mein/{token}.ics").status_code == 200
    with app.test_request_context():
        delete_account(db.session.get(User, users["citizen"].id))
        db.session.commit()
    assert client.get(f"/termine/mein/{token}.ics").status_code == 404


def test_calendar_page_groups_by_month_marks_changes_and_filters(app, client, dates):
    response = client.get("/termine/")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    page = response.get_data(as_text=True)
    for month in ("Januar", "März", "Mai", "Juni", "Juli", "September"):
        assert f">{month} {NEXT_YEAR}</h2>" in page, month
    assert page.index(f"Januar {NEXT_YEAR}") < page.index(f"Juli {NEXT_YEAR}")
    may = page.split(f"Mai {NEXT_YEAR}</h2>")[1].split("</section>")[0]
    assert "abgesagt" in may and "Feiertag" in may
    march = page.split(f"März {NEXT_YEAR}</h2>")[1].split("</section>")[0]
    assert "verschoben" in march and "09.03." in march
    assert "Lenkungskreis intern" not in page and "Entwurf Werkstatt" not in page
    assert "http://localhost/termine.ics" in page and "webcal://localhost/termine.ics" in page
    assert f'href="/veranstaltungen/{dates.workshop}"' in page
    if "working_group.meeting" in app.view_functions:
        with app.test_request_context():
            from flask import url_for

            assert f'href="{url_for("working_group.meeting", meeting_id=dates.winter)}"' in page
    workshops = client.get("/termine/?art=werkstaetten").get_data(as_text=True)
    assert "Werkstatt Wärme" in workshops and "Sitzung im Januar" not in workshops and "Bürgerforum" not in workshops
    meetings = client.get("/termine/?art=sitzungen").get_data(as_text=True)
    assert "Sitzung im Januar" in meetings and "Werkstatt Wärme" not in meetings


def test_calendar_page_shows_past_dates_on_request(app, client, dates):
    with app.app_context():
        past = db.session.get(Meeting, dates.old)
        past.starts_at, past.ends_at = utcnow() - timedelta(days=40), utcnow() - timedelta(days=40, hours=-2)
        db.session.commit()
    assert "Sitzung vor zwei Jahren" not in client.get("/termine/").get_data(as_text=True)
    assert "Sitzung vor zwei Jahren" in client.get("/termine/?zeitraum=vergangen").get_data(as_text=True)


def test_signed_in_users_see_the_same_public_calendar(client, dates, users):
    login_as(client, users["citizen"])
    page = client.get("/termine/").get_data(as_text=True)
    assert "Lenkungskreis intern" not in page and "Mein Konto" in page


def test_the_public_feed_keeps_the_online_link_of_meetings_for_the_members(app, client):
    from datetime import timedelta

    from beteiligung.extensions import db
    from beteiligung.meetings.models import Body, Meeting, new_uid
    from beteiligung.models import utcnow

    with app.app_context():
        body = Body(slug="ak-online", name="AK Online", public=True)
        db.session.add(body)
        db.session.flush()
        start = utcnow() + timedelta(days=3)
        db.session.add(Meeting(body_id=body.id, title="Sitzung online", starts_at=start,
                               ends_at=start + timedelta(hours=2), place="Rathaus",
                               online_url="https://konferenz.example.org/geheim", uid=new_uid("meeting")))
        db.session.commit()
        token = body.feed_token
    public = client.get("/termine.ics").get_data(as_text=True)
    assert "Sitzung online" in public and "konferenz.example.org" not in public
    members = client.get(f"/termine/gremium/{token}.ics").get_data(as_text=True)
    assert "konferenz.example.org" in members.replace("\r\n ", "")
