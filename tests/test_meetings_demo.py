"""The demo bodies, meetings and events: the working group of about 36 members with its monthly
series (minutes, decisions, action items, one date moved, one cancelled), the steering group,
ten themed workshops (some full, with a waiting list) and the citizen events, all relative to
the day the demo is loaded and without a single notification or e-mail."""
from collections import Counter
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from beteiligung.auth.models import User
from beteiligung.demo import DEMO_LOGINS
from beteiligung.events import demo as events_demo
from beteiligung.events.demo import event_times, local_week_start, read_demo_events, replay
from beteiligung.events.models import Event, Registration, RegistrationStatus
from beteiligung.extensions import db
from beteiligung.ideas.demo import read_demo_ideas
from beteiligung.ideas.models import Idea
from beteiligung.meetings import demo as meetings_demo
from beteiligung.meetings.demo import (DEPUTY_ROLE, LOCAL, PAST_DATES, read_blocks, read_bodies, read_sessions,
                                       series_dates)
from beteiligung.meetings.models import (ActionItem, AgendaItem, Attendance, Body, BodyMember, Meeting,
                                         MeetingSeries)
from beteiligung.models import utcnow

MEMBER_LOGIN = DEMO_LOGINS[2][0]
CITIZEN_LOGIN = DEMO_LOGINS[3][0]
MESSAGE_TABLES = ("outbox_messages", "notifications", "notice_log")


def local(moment):
    return moment.astimezone(LOCAL)


# --- the files and the rules, without a database ------------------------------------------------

def test_the_files_parse_into_two_bodies_their_sessions_and_thirteen_events():
    bodies = read_bodies()
    assert [block.header.split("|")[0].strip() for block in bodies] == ["arbeitskreis", "lenkungskreis"]
    assert 40 <= len(bodies[0].values("Mitglied")) <= 46 and 6 <= len(bodies[1].values("Mitglied")) <= 10
    sessions = read_sessions("arbeitskreis.txt")
    assert [int(block.header.split("|")[0]) for block in sessions] == list(range(1, 12))
    minutes = [part.get("Diskussion") for block in sessions[:PAST_DATES] for part in block.parts
               if not part.get("Status")]  # a declined proposal has no minutes
    assert all(minutes) and len(set(minutes)) == len(minutes)  # written one by one
    assert len(read_sessions("lenkungskreis.txt")) >= 3
    events = read_demo_events()
    assert Counter(block.get("Art") for block in events) == {"Themen-Werkstatt": 10, "Bürgerveranstaltung": 3}
    assert len({block.get("Beschreibung") for block in events}) == len(events)


def test_every_event_name_of_the_demo_ideas_has_an_event_or_a_meeting():
    names = {idea.event[0] for idea in read_demo_ideas() if idea.event}
    events = {block.header for block in read_demo_events()}
    sessions = {part.get("Ideen aus") for block in read_sessions("arbeitskreis.txt") for part in block.parts}
    assert names <= events | sessions


@pytest.mark.parametrize("text, message", [
    ("=== 1 | A\n--- B\nDauer: 10\nDauer: 20\n", "x.txt:4: „Dauer“ steht doppelt"),
    ("=== 1 | A\n--- B\nRedner: X\n", "x.txt:3: „Schlüssel: Wert“ erwartet"),
    ("Dauer: 10\n", "x.txt:1: Text vor dem ersten Block"),
    ("=== 1 | A\n  weiter\n", "x.txt:2: eingerückte Zeile ohne Schlüssel davor"),
])
def test_format_errors_name_file_and_line(text, message):
    with pytest.raises(ValueError, match=message):
        read_blocks(text, "x.txt", marker="===", keys=meetings_demo.MEETING_KEYS, part_marker="---",
                    part_keys=meetings_demo.ITEM_KEYS)


def test_continuation_lines_and_paragraphs():
    block = read_blocks("=== 1 | A\n--- B\nBeschreibung: Eins\n  zwei.\n\n  Drei.\n", "x.txt", marker="===",
                        keys=set(), part_marker="---", part_keys={"Beschreibung"})[0]
    assert block.parts[0].get("Beschreibung") == "Eins zwei.\n\nDrei."


def test_the_series_has_nine_past_second_tuesdays_and_four_months_ahead():
    now = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
    dates = series_dates("FREQ=MONTHLY;BYDAY=2TU", time(17), timedelta(minutes=120), now)
    assert all(day.weekday() == 1 and 8 <= day.day <= 14 and day.time() == time(17) for day in dates)
    assert dates[0] == datetime(2026, 3, 10, 17) and dates[PAST_DATES] == datetime(2026, 12, 8, 17)
    assert dates[-1] <= datetime(2027, 3, 27) and len(dates) == PAST_DATES + 4
    # during a meeting it is not past yet: it is the next one
    during = datetime(2026, 11, 10, 16, 30, tzinfo=timezone.utc)  # 17:30 in Jena
    dates = series_dates("FREQ=MONTHLY;BYDAY=2TU", time(17), timedelta(minutes=120), during)
    assert dates[PAST_DATES] == datetime(2026, 11, 10, 17)


def test_no_event_between_christmas_and_epiphany():
    week = local_week_start(datetime(2026, 12, 2, 12, tzinfo=timezone.utc))
    starts, ends = event_times("+3 Mi 14:00-17:00", week)  # would be 23 December
    assert local(starts).date().isoformat() == "2027-01-13" and local(ends).hour == 17
    starts, _ends = event_times("-1 Sa 10:00-13:00", local_week_start(datetime(2027, 1, 4, tzinfo=timezone.utc)))
    assert local(starts).date().isoformat() == "2026-12-19"  # a past date stays past


def test_replay_gives_free_seats_first_then_waits_and_moves_up_in_order():
    t = [datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(hours=hour) for hour in range(10)]
    signups = [(t[0], "a"), (t[1], "b"), (t[2], "c"), (t[3], "d"), (t[4], "e")]
    state = replay(signups, {"a": t[5], "d": t[6]}, capacity=2)
    assert state["a"][0] is RegistrationStatus.CANCELLED
    assert state["c"] == (RegistrationStatus.CONFIRMED, t[5], None)  # the first waiting moves up ...
    assert state["d"][0] is RegistrationStatus.CANCELLED  # ... a waiting one may leave the list ...
    assert state["e"] == (RegistrationStatus.WAITING, None, None)  # ... and the next stays in line
    assert replay(signups, {"a": t[5]}, capacity=None)["e"][0] is RegistrationStatus.CONFIRMED


# --- the loaded demo (shared, read only) ----------------------------------------------------------

@pytest.fixture
def ak(app, demo):
    """The working group, its dates in time order and the moment of the load, in an app context."""
    with app.app_context():
        body = db.session.scalar(select(Body).where(Body.slug == "arbeitskreis"))
        meetings = db.session.scalars(select(Meeting).where(Meeting.body_id == body.id)
                                      .order_by(Meeting.starts_at)).all()
        yield body, meetings, utcnow()


def test_the_working_group_has_about_36_members_with_roles_and_changes(ak):
    body, _meetings, now = ak
    assert body.name == "Arbeitskreis Klimaschutz" and body.kind == "working_group" and body.public
    today = local(now).date()
    active = [member for member in body.members if member.active_on(today)]
    assert 32 <= sum(1 for member in active if member.role != DEPUTY_ROLE) <= 40
    assert {"Vorsitz", "stellvertretender Vorsitz", "Mitglied", DEPUTY_ROLE} <= {m.role for m in active}
    assert sum(1 for member in body.members if member.to_date is not None) >= 3  # people changed over time
    assert len({member.organisation for member in active}) >= 30
    login = [member for member in active if member.user is not None]
    assert [member.user.email for member in login] == [MEMBER_LOGIN] and login[0].user.role == "member"


def test_the_steering_group_is_internal_and_small(app, demo):
    with app.app_context():
        body = db.session.scalar(select(Body).where(Body.slug == "lenkungskreis"))
        assert body.kind == "steering_group" and not body.public and 6 <= len(body.members) <= 10
        meetings = db.session.scalars(select(Meeting).where(Meeting.body_id == body.id)).all()
        now = utcnow()
        assert len(meetings) >= 3 and all(m.series_id is None for m in meetings)
        assert sum(1 for m in meetings if m.ends_at < now and m.minutes_published_at) >= 2
        assert any(m.starts_at > now for m in meetings)


def test_monthly_on_the_second_tuesday_at_five_one_moved_and_one_cancelled(ak):
    body, meetings, now = ak
    series = db.session.scalar(select(MeetingSeries).where(MeetingSeries.body_id == body.id))
    assert series.rrule == "FREQ=MONTHLY;BYDAY=2TU" and series.duration_minutes == 120
    for meeting in meetings:
        original = local(meeting.original_start)
        assert meeting.series_id == series.id
        assert original.weekday() == 1 and 8 <= original.day <= 14 and original.time() == time(17)
        assert meeting.ends_at - meeting.starts_at == timedelta(hours=2)
    moved = [m for m in meetings if m.starts_at != m.original_start]
    assert len(moved) == 1 and moved[0].sequence == 1 and moved[0].ends_at < now
    assert local(moved[0].starts_at).date() != local(moved[0].original_start).date()
    assert local(moved[0].starts_at).time() == time(17) and moved[0].minutes_published_at
    cancelled = [m for m in meetings if m.cancelled]
    assert len(cancelled) == 1 and cancelled[0].starts_at > now and cancelled[0].sequence == 1
    assert cancelled[0].cancel_reason
    assert sum(1 for m in meetings if m.ends_at <= now) == PAST_DATES
    assert 90 <= (meetings[-1].starts_at - now).days <= 125  # about four months ahead
    assert len({m.uid for m in meetings}) == len(meetings)


def test_past_meetings_have_agendas_minutes_decisions_actions_and_attendance(ak):
    body, meetings, now = ak
    past = [m for m in meetings if m.ends_at <= now]
    actions = db.session.scalars(select(ActionItem).where(ActionItem.body_id == body.id)).all()
    for meeting in past:
        assert meeting.agenda_published_at < meeting.starts_at
        assert meeting.ends_at < meeting.minutes_published_at <= now
        assert meeting.items and all(item.presenter and item.duration_minutes for item in meeting.items)
        assert 100 <= sum(item.duration_minutes for item in meeting.items) <= 140
        assert any(item.decision for item in meeting.items)
        attendance = db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)).all()
        regular = [a for a in attendance if a.member.role != DEPUTY_ROLE]
        day = local(meeting.starts_at).date()
        assert {a.member_id for a in regular} == {m.id for m in body.members
                                                  if m.active_on(day) and m.role != DEPUTY_ROLE}
        statuses = Counter(a.status for a in regular)
        assert statuses["present"] >= 0.75 * len(regular)
        missing = {a.member.organisation for a in regular if a.status != "present"}
        assert all(a.member.organisation in missing for a in attendance if a.member.role == DEPUTY_ROLE)
    statuses = Counter(a.status for a in actions)
    assert statuses["done"] >= 10 and statuses["open"] >= 8
    assert all(a.meeting.ends_at <= now and a.assignee for a in actions)
    assert all(a.done_at and a.done_at <= now for a in actions if a.status == "done")
    assert any(a.due_on and a.due_on < local(now).date() for a in actions if a.status == "open")  # overdue
    assert any(a.assignee_user_id for a in actions)


def test_decisions_recommend_measures_to_the_council(ak):
    _body, meetings, now = ak
    items = [item for meeting in meetings if meeting.ends_at <= now for item in meeting.items]
    with_measures = [item for item in items if item.decision and item.measures]
    assert len(with_measures) >= 8
    assert sum(1 for item in with_measures if "empfiehlt dem Stadtrat" in item.decision) >= 5
    assert len({measure.id for item in with_measures for measure in item.measures}) >= 10


def test_the_next_meeting_has_its_agenda_with_a_members_proposal(ak):
    body, meetings, now = ak
    upcoming = [m for m in meetings if m.ends_at > now]
    following = upcoming[0]
    assert following.agenda_published_at <= now and not following.minutes_published_at
    assert not any(item.discussion or item.decision for item in following.items)
    proposed = [item for item in following.items if item.status == "proposed"]
    assert len(proposed) == 1 and proposed[0].proposed_by.email == MEMBER_LOGIN
    assert any(item.ideas for item in following.items) and any(item.measures for item in following.items)
    assert all(not m.items and m.agenda_published_at is None for m in upcoming[1:])
    open_before = db.session.scalars(select(ActionItem).where(
        ActionItem.body_id == body.id, ActionItem.status == "open")).all()
    assert len(open_before) >= 5 and all(a.meeting.starts_at < following.starts_at for a in open_before)


def test_agenda_items_link_ideas_that_existed_by_then(ak):
    _body, meetings, _now = ak
    linked = [(item, idea) for meeting in meetings for item in meeting.items for idea in item.ideas]
    assert len(linked) >= 10
    for item, idea in linked:
        assert idea.source == "working_group" or idea.created_at < item.meeting.starts_at


@pytest.fixture
def events(app, demo):
    with app.app_context():
        yield db.session.scalars(select(Event).order_by(Event.starts_at)).all(), utcnow()


def test_ten_workshops_over_the_fields_of_action(events):
    rows, now = events
    workshops = [event for event in rows if event.kind == "workshop"]
    assert len(workshops) == 10
    assert len({event.sector_id for event in workshops}) >= 5
    assert all(event.topic and event.place and event.facilitator and event.capacity for event in workshops)
    past = [event for event in workshops if event.ends_at < now]
    assert 3 <= len(past) <= 5 and all(event.results_note for event in past)
    assert all(event.registration == "required" for event in workshops)
    assert any(event.facilitator_user_id for event in past)  # staff can enter the results as the facilitator
    assert len({event.uid for event in rows}) == len(rows)


def test_registrations_never_exceed_capacity_and_full_workshops_have_a_waiting_list(events):
    rows, now = events
    for event in rows:
        registrations = db.session.scalars(select(Registration).where(Registration.event_id == event.id)).all()
        statuses = Counter(r.status for r in registrations)
        assert event.confirmed_count == statuses["confirmed"]
        assert event.capacity is None or event.confirmed_count <= event.capacity
        assert not statuses["waiting"] or event.confirmed_count == event.capacity
        assert all(r.created_at < min(event.starts_at, now) for r in registrations)
        for registration in registrations:
            if registration.status == "confirmed":
                assert registration.confirmed_at >= registration.created_at
            if registration.status == "waiting":
                assert registration.confirmed_at is None
            if registration.status == "cancelled":
                assert registration.created_at < registration.cancelled_at < now
    full = [event for event in rows if event.kind == "workshop" and event.starts_at > now
            and event.confirmed_count == event.capacity]
    assert len(full) >= 2
    for event in full:
        waiting = db.session.scalars(select(Registration).where(
            Registration.event_id == event.id, Registration.status == "waiting")).all()
        assert waiting


def test_the_demo_citizen_is_registered_once_and_waits_for_a_full_workshop(events):
    rows, now = events
    mine = db.session.scalars(select(Registration).join(Registration.user).where(User.email == CITIZEN_LOGIN)).all()
    by_status = {registration.status: registration.event for registration in mine}
    assert set(by_status) == {"confirmed", "waiting"} and len(mine) == 2
    assert by_status["confirmed"].starts_at > now and by_status["waiting"].starts_at > now
    full = by_status["waiting"]
    assert full.confirmed_count == full.capacity
    line = db.session.scalars(select(Registration).where(Registration.event_id == full.id,
                                                         Registration.status == "waiting")
                              .order_by(Registration.created_at, Registration.id)).all()
    assert line[-1].user.email == CITIZEN_LOGIN  # she signed up last


def test_citizen_events_past_with_their_cards_and_one_ahead(events):
    rows, now = events
    citizen = [event for event in rows if event.kind == "citizen_event"]
    past = [event for event in citizen if event.ends_at < now]
    names = {idea.event[0] for idea in read_demo_ideas() if idea.event and idea.event[2] == "event"}
    assert {event.title for event in past} == names and len(past) == 2
    ahead = [event for event in citizen if event.starts_at > now]
    assert len(ahead) == 1 and ahead[0].registration == "optional" and ahead[0].online_url


def test_workshop_and_event_ideas_are_linked_to_their_event(events):
    rows, _now = events
    by_id = {event.id: event for event in rows}
    analog = db.session.scalars(select(Idea).where(Idea.source.in_(["workshop", "event"]))).all()
    assert len(analog) >= 60
    for idea in analog:
        event = by_id[idea.event_id]
        assert event.title == idea.event_name and event.facilitator == idea.facilitator
        assert event.ends_at < idea.created_at  # the cards were entered after the event
        assert (event.kind == "workshop") == (idea.source == "workshop")


def test_the_demo_load_queues_no_mail_and_no_notification(demo):
    for step in (events_demo.load_demo_events, meetings_demo.load_demo_bodies):
        added = demo.added_by(step)
        assert all(added[table] == 0 for table in MESSAGE_TABLES)
        assert added["meetings"] if step is meetings_demo.load_demo_bodies else added["registrations"]
    assert all(demo.after[table] == demo.before[table] for table in MESSAGE_TABLES)


def test_accounts_in_bodies_are_the_planned_demo_logins_and_a_proposal_was_declined(app, demo):
    with app.app_context():
        members = db.session.scalars(select(BodyMember).where(BodyMember.user_id.isnot(None))).all()
        assert Counter(member.user.email for member in members) == {
            MEMBER_LOGIN: 1, DEMO_LOGINS[0][0]: 1, DEMO_LOGINS[1][0]: 1}
        declined = db.session.scalars(select(AgendaItem).where(AgendaItem.status == "rejected")).all()
        assert len(declined) == 1 and declined[0].status_reason and declined[0].proposed_by.email == MEMBER_LOGIN
