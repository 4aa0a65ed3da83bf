"""Scheduled notices (beteiligung/notices.py), called directly with a chosen `now`."""
import threading
from datetime import date, timedelta
from types import SimpleNamespace

from beteiligung import notices
from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.meetings.models import AgendaItem, Body, Meeting
from beteiligung.notifications.models import NoticeLog

from .notice_data import BERLIN, local, mails, make_setup, sent, today_berlin


def run(app, now):
    with app.test_request_context("/"):
        try:
            return notices.send_due_notices(now)
        finally:
            db.session.remove()


def test_agenda_due_time_keeps_the_local_time_across_daylight_saving_and_zero_days():
    def meeting(day, hour, lead):
        return SimpleNamespace(starts_at=local(day, hour), body=SimpleNamespace(agenda_lead_days=lead))

    # 27 October 2026 is after the switch to winter time on 25 October.
    due = notices.agenda_due_at(meeting(date(2026, 10, 27), 17, 7))
    assert (due.date(), due.hour, due.minute) == (date(2026, 10, 20), 17, 0)
    assert due.utcoffset() == timedelta(hours=2)  # still summer time on the 20th
    due = notices.agenda_due_at(meeting(date(2026, 10, 27), 17, 0))
    assert (due.date(), due.hour) == (date(2026, 10, 27), 0)  # 0 days: on the morning of the meeting day
    reminder = notices.reminder_due_at(local(date(2026, 3, 30), 17))  # the day after the switch to summer time
    assert (reminder.date(), reminder.hour) == (date(2026, 3, 29), 17)


def test_running_start_times_follow_the_positions_of_the_accepted_items(app, make_user):
    day = today_berlin() + timedelta(days=20)
    data = make_setup(app, make_user, day)
    with app.app_context():
        # Reorder: the last item moves to the front.
        items = db.session.scalars(db.select(AgendaItem).where(AgendaItem.meeting_id == data.meeting_id)
                                   .order_by(AgendaItem.position)).all()
        items[-1].position = -1
        db.session.commit()
        rows, end = notices.agenda_schedule(db.session.get(Meeting, data.meeting_id))
    assert [(row["number"], row["starts"], row["title"], row["minutes"]) for row in rows] == [
        (1, "17:00", "Radverkehrskonzept", 30),
        (2, "17:30", "Begrüßung und Protokoll", 10),
        (3, "17:40", "Wärmeplanung: Zwischenstand", 45),
    ]
    assert end == "18:25"


def test_after_downtime_a_due_agenda_goes_out_once_but_nothing_for_a_meeting_that_started(app, make_user):
    day = today_berlin() + timedelta(days=20)
    make_setup(app, make_user, day, lead_days=14)
    # Down since long before the agenda was due; back three days before the meeting.
    counts = run(app, local(day - timedelta(days=3), 8))
    assert counts == {"meeting.agenda": 3}
    assert run(app, local(day - timedelta(days=3), 8, 5)) == {}
    # Back only after the start: neither the reminder nor anything else for this meeting.
    assert run(app, local(day, 17, 1)) == {}
    notes, _outbox = sent(app)
    assert {kind for kind, _person in notes} == {"meeting.agenda"}
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(NoticeLog.id))) == 3


def test_unpublished_agenda_sends_only_the_reminder_and_a_late_agenda_goes_out_at_once(app, make_user):
    day = today_berlin() + timedelta(days=20)
    data = make_setup(app, make_user, day, lead_days=7)
    with app.app_context():
        db.session.get(Meeting, data.meeting_id).agenda_published_at = None
        db.session.commit()
    assert run(app, local(day - timedelta(days=5), 9)) == {}
    assert run(app, local(day - timedelta(days=1), 17)) == {"meeting.reminder": 3}
    [reminder] = mails(app, "meeting.reminder")
    assert "Einzelheiten: http" in reminder.body_text
    with app.app_context():
        db.session.get(Meeting, data.meeting_id).agenda_published_at = local(day - timedelta(days=1), 18)
        db.session.commit()
    assert run(app, local(day - timedelta(days=1), 18, 5)) == {"meeting.agenda": 3}
    assert run(app, local(day - timedelta(days=1), 18, 10)) == {}


def test_members_without_an_active_membership_or_with_a_deleted_account_get_nothing(app, make_user):
    day = today_berlin() + timedelta(days=20)
    data = make_setup(app, make_user, day)
    from beteiligung.account.services import delete_account

    with app.app_context():
        delete_account(db.session.get(User, data.people["C"].id))
        db.session.commit()
    assert run(app, local(day - timedelta(days=1), 17)) == {"meeting.agenda": 2, "meeting.reminder": 2}
    notes, _outbox = sent(app)
    assert {person for _kind, person in notes} == {"A", "B"}


def test_a_cancelled_meeting_gets_nothing_even_when_cancelled_after_the_agenda(app, make_user):
    day = today_berlin() + timedelta(days=20)
    data = make_setup(app, make_user, day)
    assert run(app, local(day - timedelta(days=5), 9)) == {"meeting.agenda": 3}
    with app.app_context():
        db.session.get(Meeting, data.meeting_id).status = "cancelled"
        db.session.commit()
    assert run(app, local(day - timedelta(days=1), 17, 30)) == {}


def test_a_key_inserted_by_another_process_in_between_is_skipped_without_stopping_the_others(app, make_user,
                                                                                            monkeypatch):
    day = today_berlin() + timedelta(days=20)
    data = make_setup(app, make_user, day)
    start = local(day, 17)
    key = f"meeting:{data.meeting_id}:agenda:{notices._iso(start)}:user:{data.people['A'].id}"
    with app.app_context():
        db.session.add(NoticeLog(key=key))
        db.session.commit()
    # The other process commits its key after this run read the sent keys: the insert fails.
    monkeypatch.setattr(notices, "set", lambda rows: set(), raising=False)
    assert run(app, local(day - timedelta(days=5), 9)) == {"meeting.agenda": 2}
    notes, _outbox = sent(app)
    assert notes == {("meeting.agenda", "B"): 1, ("meeting.agenda", "C"): 1}


def test_two_processes_at_once_send_each_notice_once(app, make_user):
    day = today_berlin() + timedelta(days=20)
    make_setup(app, make_user, day)
    now = local(day - timedelta(days=1), 17, 30)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.test_request_context("/"):
                barrier.wait(timeout=10)
                results.append(notices.send_due_notices(now))
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    total = sum((counts for counts in results), start=type(results[0])())
    assert total == {"meeting.agenda": 3, "meeting.reminder": 3}
    notes, outbox = sent(app)
    assert set(notes.values()) == {1} and len(notes) == 6
    assert outbox == {("meeting.agenda", "A"): 1, ("meeting.reminder", "A"): 1}


def test_event_reminder_only_for_confirmed_registrations_of_events_that_take_place(app, make_user):
    day = today_berlin() + timedelta(days=20)
    data = make_setup(app, make_user, day + timedelta(days=30), event_day=day)
    assert run(app, local(day - timedelta(days=1), 9, 59)) == {}
    assert run(app, local(day - timedelta(days=1), 10)) == {"event.reminder": 1}
    assert run(app, local(day - timedelta(days=1), 10, 5)) == {}
    notes, outbox = sent(app)
    assert notes == {("event.reminder", "P"): 1} and outbox == {("event.reminder", "P"): 1}
    [mail] = mails(app, "event.reminder")
    assert f"/veranstaltungen/{data.event_id}" in mail.body_text  # the event's page (events.detail)


def test_each_body_has_its_own_lead_time(app, make_user):
    day = today_berlin() + timedelta(days=30)
    data = make_setup(app, make_user, day, lead_days=21)
    with app.app_context():
        assert db.session.get(Body, data.body_id).agenda_lead_days == 21
    assert run(app, local(day - timedelta(days=21), 16, 59)) == {}
    assert run(app, local(day - timedelta(days=21), 17)) == {"meeting.agenda": 3}
    agenda_local = local(day - timedelta(days=21), 17).astimezone(BERLIN)
    assert agenda_local.hour == 17
