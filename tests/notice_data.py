"""Test data for the scheduled notices: a body with members in every situation, a meeting with a
published agenda, events with registrations; and counters for what was sent."""
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from beteiligung.auth.models import User
from beteiligung.events.models import Event, Registration
from beteiligung.extensions import db
from beteiligung.mail.models import OutboxMessage
from beteiligung.meetings.models import AgendaItem, Body, BodyMember, Meeting, new_uid
from beteiligung.notifications.models import Notification

BERLIN = ZoneInfo("Europe/Berlin")


def local(day, hour, minute=0):
    """An aware UTC time from a Berlin date and wall-clock time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(timezone.utc)


def set_mode(app, user_id, mode):
    with app.app_context():
        db.session.get(User, user_id).notification_mode = mode
        db.session.commit()


def make_setup(app, make_user, meeting_day, *, lead_days=7, event_day=None):
    """A working group meeting on `meeting_day` 17:00-19:00 (Berlin) with a published agenda and
    members: A (immediate), B (daily), C (off), D (membership ended before the meeting), E (member
    from after the meeting), one member without an account, and A a second time (a second
    membership row). With `event_day`, a workshop at 10:00 with registrations of P (confirmed),
    Q (waiting), R (cancelled) and a cancelled event that P registered for."""
    people = {key: make_user(role="member" if key in "ABCDE" else "citizen", name=f"Person {key}")
              for key in "ABCDEPQR"}
    set_mode(app, people["B"].id, "daily")
    set_mode(app, people["C"].id, "off")
    with app.app_context():
        body = Body(slug="arbeitskreis", name="Arbeitskreis Klimaschutz", agenda_lead_days=lead_days)
        db.session.add(body)
        db.session.flush()
        long_ago = meeting_day - timedelta(days=400)

        def member(key, from_date=long_ago, to_date=None, name=None):
            user_id = people[key].id if key else None
            db.session.add(BodyMember(body_id=body.id, user_id=user_id, name=name or f"Person {key}",
                                      organisation="Stadtwerke Jena", from_date=from_date, to_date=to_date))

        member("A")
        member("A", from_date=long_ago - timedelta(days=10), to_date=long_ago - timedelta(days=1))  # earlier term
        member("A", from_date=meeting_day - timedelta(days=30))  # a second, current membership (another role)
        member("B")
        member("C")
        member("D", to_date=meeting_day - timedelta(days=1))
        member("E", from_date=meeting_day + timedelta(days=5))
        member(None, name="Ohne Konto")
        starts = local(meeting_day, 17)
        meeting = Meeting(body_id=body.id, title="Sitzung des Arbeitskreises", starts_at=starts,
                          ends_at=starts + timedelta(hours=2), place="Rathaus Jena, Raum 201",
                          online_url="https://konferenz.example/ak", uid=new_uid("meeting"),
                          agenda_published_at=starts - timedelta(days=20))
        db.session.add(meeting)
        db.session.flush()
        for position, (title, minutes, status) in enumerate([
            ("Begrüßung und Protokoll", 10, "accepted"),
            ("Wärmeplanung: Zwischenstand", 45, "accepted"),
            ("Vorschlag: Lastenradverleih", 20, "proposed"),  # not on the agenda
            ("Radverkehrskonzept", 30, "accepted"),
        ]):
            db.session.add(AgendaItem(meeting_id=meeting.id, position=position, title=title,
                                      duration_minutes=minutes, status=status, presenter="Klimaschutzmanagement"))
        cancelled = Meeting(body_id=body.id, title="Abgesagte Sondersitzung", starts_at=starts + timedelta(days=1),
                            ends_at=starts + timedelta(days=1, hours=2), uid=new_uid("meeting"), status="cancelled",
                            agenda_published_at=starts - timedelta(days=20))
        db.session.add(cancelled)
        event_id = cancelled_event_id = None
        if event_day is not None:
            event_start = local(event_day, 10)
            event = Event(title="Themenwerkstatt Wärme", starts_at=event_start,
                          ends_at=event_start + timedelta(hours=3), place="Volkshaus Jena", capacity=1,
                          confirmed_count=1, uid=new_uid("event"), facilitator="Dr. Muster")
            dropped = Event(title="Abgesagte Werkstatt", starts_at=event_start, ends_at=event_start + timedelta(hours=2),
                            uid=new_uid("event"), status="cancelled")
            db.session.add_all([event, dropped])
            db.session.flush()
            db.session.add_all([
                Registration(event_id=event.id, user_id=people["P"].id, status="confirmed"),
                Registration(event_id=event.id, user_id=people["Q"].id, status="waiting"),
                Registration(event_id=event.id, user_id=people["R"].id, status="cancelled"),
                Registration(event_id=dropped.id, user_id=people["P"].id, status="confirmed"),
            ])
            event_id, cancelled_event_id = event.id, dropped.id
        db.session.commit()
        return SimpleNamespace(people=people, body_id=body.id, meeting_id=meeting.id, cancelled_id=cancelled.id,
                               event_id=event_id, cancelled_event_id=cancelled_event_id)


def sent(app):
    """What has gone out so far: Counters of in-app notifications and of outbox mails,
    keyed by (kind, person letter)."""
    with app.app_context():
        names = {user.id: user.display_name.removeprefix("Person ")
                 for user in db.session.scalars(db.select(User)) if user.display_name}
        notes = Counter((n.kind, names[n.user_id]) for n in db.session.scalars(db.select(Notification)))
        mails = Counter((m.kind, names.get(m.user_id)) for m in db.session.scalars(db.select(OutboxMessage)))
        return notes, mails


def mails(app, kind):
    with app.app_context():
        return db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == kind)
                                  .order_by(OutboxMessage.id)).all()


def move_meeting(app, meeting_id, new_start):
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.starts_at, meeting.ends_at = new_start, new_start + timedelta(hours=2)
        meeting.sequence += 1
        db.session.commit()


def today_berlin():
    return datetime.now(BERLIN).date()

