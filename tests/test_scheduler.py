"""The scheduler, driven through days by a controlled clock.

The real APScheduler runs here: jobs persisted in the database (SQLAlchemyJobStore on the
table of migration 0006), coalescing, misfire handling and the run times it stores. Only two
things are the test's: the clock (APScheduler's `datetime.now` and `beteiligung.scheduler.clock`
read the same fake time) and the trigger, `step()`, which processes due jobs in the test's
thread instead of a timer thread (with APScheduler's DebugExecutor).
"""
from datetime import datetime, timedelta

import apscheduler.schedulers.base as aps_base
import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine

from beteiligung import scheduler as scheduler_module
from beteiligung.extensions import db
from beteiligung.models import scheduler_jobs
from beteiligung.scheduler import SchedulerBusy, SchedulerError, SchedulerService

from .notice_data import BERLIN, local, mails, make_setup, move_meeting, sent, today_berlin


class SteppedScheduler(BaseScheduler):
    """APScheduler's scheduler with the timer replaced by `step()`."""

    def shutdown(self, wait=True):
        super().shutdown(wait)

    def wakeup(self):
        pass

    def step(self):
        self._process_jobs()


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def clock(monkeypatch):
    """Tomorrow 12:00 in Berlin, ahead of the real time; move it by setting `clock.at`."""
    start = local(today_berlin() + timedelta(days=1), 12)
    fake = Clock(start)

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return fake.at.astimezone(tz) if tz else fake.at.astimezone(BERLIN).replace(tzinfo=None)

    monkeypatch.setattr(aps_base, "datetime", FakeDatetime)
    monkeypatch.setattr(scheduler_module, "clock", fake)
    return fake


@pytest.fixture
def start_scheduler(app):
    """Start a scheduler service on the test database; each runs jobs when stepped."""
    running, errors, runs = [], [], []

    def start():
        service = SchedulerService(app, scheduler_class=SteppedScheduler,
                                   executors={"default": DebugExecutor()}, watch=False)
        service.start()
        service.scheduler.add_listener(lambda e: errors.append((e.job_id, e.exception, e.traceback)), EVENT_JOB_ERROR)
        service.scheduler.add_listener(lambda e: runs.append(e.job_id), EVENT_JOB_EXECUTED)
        running.append(service)
        return service

    start.errors, start.runs = errors, runs
    yield start
    for service in running:
        service.stop()


def step(service, clock, at, start_scheduler):
    clock.at = at
    del start_scheduler.runs[:]
    service.scheduler.step()
    assert start_scheduler.errors == []
    return list(start_scheduler.runs)


def stored_next_runs(app):
    with app.app_context():
        return dict(db.session.execute(db.select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time)).all())


def test_agenda_and_reminder_go_out_once_each_also_across_restarts(app, make_user, clock, start_scheduler):
    day0 = clock.at.astimezone(BERLIN).date()
    meeting_day = day0 + timedelta(days=10)
    data = make_setup(app, make_user, meeting_day, lead_days=7, event_day=day0 + timedelta(days=12))

    def at(days, hour, minute=0):
        return local(day0 + timedelta(days=days), hour, minute)

    first = start_scheduler()
    assert {job.id for job in first.scheduler.get_jobs()} == {
        "deliver_outbox", "send_notices", "send_digests", "announce_phase_changes", "analyse_new_ideas"}
    assert all(job.coalesce and job.max_instances == 1 and job.misfire_grace_time is None
               for job in first.scheduler.get_jobs())
    assert "send_notices" in step(first, clock, at(0, 12, 10), start_scheduler)

    # Three days ahead, an hour before the agenda is due (7 days before 17:00): nothing yet.
    runs = step(first, clock, at(3, 16), start_scheduler)
    assert runs.count("send_notices") == 1  # the missed runs of three days run once (coalesced)
    assert sent(app) == ({}, {})

    # The agenda is due: once to each active member with an account; by e-mail as each chose.
    step(first, clock, at(3, 17, 1), start_scheduler)
    notes, outbox = sent(app)
    assert notes == {("meeting.agenda", "A"): 1, ("meeting.agenda", "B"): 1, ("meeting.agenda", "C"): 1}
    assert outbox == {("meeting.agenda", "A"): 1}  # B waits for the digest, C gets no e-mails
    [agenda] = mails(app, "meeting.agenda")
    assert agenda.subject == f"Tagesordnung: Sitzung des Arbeitskreises am {meeting_day:%d.%m.%Y}"
    for line in ("17:00 Uhr  TOP 1: Begrüßung und Protokoll (Klimaschutzmanagement), 10 Min.",
                 "17:10 Uhr  TOP 2: Wärmeplanung: Zwischenstand", "17:55 Uhr  TOP 3: Radverkehrskonzept",
                 "18:25 Uhr  voraussichtliches Ende", "Ort: Rathaus Jena, Raum 201"):
        assert line in agenda.body_text
    assert "Lastenradverleih" not in agenda.body_text  # only accepted items

    # The same moment again, and the next runs: nothing new.
    assert step(first, clock, at(3, 17, 1), start_scheduler) == []  # no job due
    assert "send_notices" in step(first, clock, at(3, 17, 10), start_scheduler)
    assert sent(app) == (notes, outbox)

    # 7:00 the next morning: B's digest, one e-mail; nobody else gets one.
    assert "send_digests" in step(first, clock, at(4, 7, 1), start_scheduler)
    notes, outbox = sent(app)
    assert outbox == {("meeting.agenda", "A"): 1, ("digest", "B"): 1}
    [digest] = mails(app, "digest")
    assert "Die Tagesordnung für „Sitzung des Arbeitskreises“" in digest.body_text

    # Stop the scheduler; a new one on the same job store keeps the stored run times.
    before = stored_next_runs(app)
    first.stop()
    second = start_scheduler()
    assert stored_next_runs(app) == before

    # A day before the meeting: the reminder, once.
    step(second, clock, at(9, 17, 1), start_scheduler)
    notes, outbox = sent(app)
    assert {key: n for key, n in notes.items() if key[0] == "meeting.reminder"} == {
        ("meeting.reminder", "A"): 1, ("meeting.reminder", "B"): 1, ("meeting.reminder", "C"): 1}
    assert outbox[("meeting.reminder", "A")] == 1 and ("meeting.reminder", "B") not in outbox
    step(second, clock, at(9, 17, 30), start_scheduler)
    assert sent(app) == (notes, outbox)

    # The scheduler is down over 7:00; started again at 9:30 the missed digest runs once, at once.
    second.stop()
    third = start_scheduler()
    runs = step(third, clock, at(10, 9, 30), start_scheduler)
    assert runs.count("send_digests") == 1
    notes, outbox = sent(app)
    assert outbox[("digest", "B")] == 2
    assert "send_digests" not in step(third, clock, at(10, 9, 31), start_scheduler)
    assert sent(app) == (notes, outbox)

    # The meeting is moved by a day: new date, new notices, each once.
    move_meeting(app, data.meeting_id, local(meeting_day + timedelta(days=1), 17))
    step(third, clock, at(10, 9, 40), start_scheduler)
    notes, outbox = sent(app)
    assert notes[("meeting.agenda", "A")] == 2  # the agenda with the new date (its lead time has passed)
    assert notes[("meeting.reminder", "A")] == 1  # the new reminder is not due yet
    step(third, clock, at(10, 17, 1), start_scheduler)
    step(third, clock, at(10, 17, 20), start_scheduler)
    notes, outbox = sent(app)
    assert notes[("meeting.reminder", "A")] == notes[("meeting.reminder", "B")] == 2
    assert notes[("meeting.reminder", "C")] == 2 and outbox[("meeting.reminder", "A")] == 2

    # The workshop the day after: a reminder for the confirmed registration only.
    step(third, clock, at(11, 10, 1), start_scheduler)
    step(third, clock, at(11, 10, 30), start_scheduler)
    notes, outbox = sent(app)
    assert {key: n for key, n in notes.items() if key[0] == "event.reminder"} == {("event.reminder", "P"): 1}
    [reminder] = mails(app, "event.reminder")
    assert "Themenwerkstatt Wärme" in reminder.body_text and "Warteliste" in reminder.body_text

    # Once the meeting has started nothing more; never anything for D, E, the cancelled meeting or event.
    step(third, clock, at(11, 17, 30), start_scheduler)
    step(third, clock, at(12, 12), start_scheduler)
    final_notes, final_outbox = sent(app)
    assert final_notes == notes
    people = {person for _kind, person in final_notes}
    assert people == {"A", "B", "C", "P"}
    assert sum(n for (kind, _p), n in final_outbox.items() if kind == "digest") == 3  # one a day with news


def test_a_second_scheduler_on_the_same_database_is_refused(app, clock, start_scheduler):
    start_scheduler()
    with pytest.raises(SchedulerBusy) as refused:
        SchedulerService(app, watch=False).start()
    assert "läuft bereits ein Scheduler" in str(refused.value)
    assert "nur einer" in str(refused.value)

    result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code == 2
    assert "Fehler: Für diese Datenbank läuft bereits ein Scheduler" in result.output


def test_the_lock_is_released_when_the_scheduler_stops(app, clock, start_scheduler):
    first = start_scheduler()
    first.stop()
    second = start_scheduler()  # no error
    assert second.lock is not None


def test_start_creates_no_table_and_refuses_without_the_migration(app, clock, start_scheduler):
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", remember)
    try:
        start_scheduler().stop()
    finally:
        event.remove(Engine, "before_cursor_execute", remember)
    assert statements and not [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER", "DROP"))]

    with app.app_context():
        scheduler_jobs.drop(db.engine)
    try:
        with pytest.raises(SchedulerError) as refused:
            SchedulerService(app, scheduler_class=SteppedScheduler, executors={"default": DebugExecutor()},
                             watch=False).start()
        assert "Die Tabelle apscheduler_jobs fehlt" in str(refused.value)
        with app.app_context():
            assert not inspect(db.engine).has_table("apscheduler_jobs")
        # The lock was given back: the next start (after the migration) works.
    finally:
        with app.app_context():
            scheduler_jobs.create(db.engine)
    start_scheduler()


def test_changed_trigger_replaces_the_stored_job_unchanged_ones_keep_their_times(app, clock, start_scheduler,
                                                                                  monkeypatch):
    start_scheduler().stop()
    before = stored_next_runs(app)
    monkeypatch.setitem(app.config, "DIGEST_HOUR", 6)
    start_scheduler().stop()
    after = stored_next_runs(app)
    assert after["send_notices"] == before["send_notices"]
    assert after["send_digests"] != before["send_digests"]
    next_digest = datetime.fromtimestamp(after["send_digests"], BERLIN)
    assert (next_digest.hour, next_digest.minute) == (6, 0)


def test_the_real_background_scheduler_starts_and_stops(app):
    from beteiligung.scheduler import start_background

    service = start_background(app)
    try:
        assert service is not None and service.scheduler.running
        assert start_background(app) is None  # a second one in the same process: refused, app keeps running
        result = app.test_cli_runner().invoke(args=["scheduler", "jobs"])
        assert "send_notices: nächste Ausführung" in result.output
    finally:
        service.stop()
    assert not service.scheduler.running
