"""Background jobs with APScheduler, persisted in the database.

Exactly one scheduler runs per installation (per database):

- `python run.py` (`make run`) starts one inside its process (SCHEDULER_ENABLED=1);
- with several gunicorn workers, keep SCHEDULER_ENABLED=0 for them and run
  `flask scheduler run` once beside them.

A second scheduler on the same database refuses to start: it needs the scheduler lock, a
PostgreSQL advisory lock (`pg_try_advisory_lock`, held by one connection for the life of the
scheduler) or, on SQLite, an exclusive `flock` on a file next to the database. The operating
system or the database server releases the lock when the process dies, so a crash never leaves
a stale lock behind.

The jobs are stored in the table `apscheduler_jobs` (created by migration 0006, never by the
scheduler): their next run time survives a restart. Every job runs with coalesce=True,
max_instances=1 and misfire_grace_time=None, so after downtime each missed job runs once, at
once. The jobs are idempotent themselves (NoticeLog keys, claims), so even a run that is
repeated after a crash sends nothing twice.
"""
import logging
import os
import signal
import socket
import threading
import zlib
from pathlib import Path

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from .models import utcnow

log = logging.getLogger(__name__)

TIMEZONE = "Europe/Berlin"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
JOB_TABLE = "apscheduler_jobs"
LOCK_KEY = zlib.crc32(b"beteiligung.scheduler")  # the PostgreSQL advisory lock of this platform
WATCH_SECONDS = 30  # how often the scheduler checks that it still holds the lock
APPLICATION_NAME = "beteiligung-scheduler"  # the lock connection on PostgreSQL

_jobs = []  # (function(app), trigger name, trigger fields)
_app = None  # the application the persisted jobs run in (set when a scheduler is built)


def clock():
    """The time the jobs work with; tests replace it to drive the jobs through days."""
    return utcnow()


def job(trigger="interval", **fields):
    """Register `function(app)` to run on an APScheduler trigger.

    @job(minutes=1) runs every minute; @job("cron", hour=2, minute=30) every night (Europe/Berlin).
    A field may be a function of the app config, e.g. hour=lambda config: config["NIGHTLY_HOUR"].
    """
    def register(function):
        _jobs.append((function, trigger, fields))
        return function
    return register


def run_job(name):
    """What the job store holds for every job: a reference by name (the app cannot be pickled)."""
    for function, _trigger, _fields in _jobs:
        if function.__name__ == name:
            if _app is None:
                raise RuntimeError("no application for the scheduled job " + name)
            return function(_app)
    raise LookupError(f"unknown scheduled job {name}")


# --- the jobs of the platform --------------------------------------------------------------------

@job(minutes=1)
def deliver_outbox(app):
    from .mail.services import deliver_pending, smtp_configured

    with app.app_context():
        if smtp_configured():
            deliver_pending()


@job(minutes=5)
def send_notices(app):
    """Agendas and reminders of meetings and events that are due (beteiligung/notices.py)."""
    from .extensions import db
    from .notices import send_due_notices

    with app.test_request_context("/"):
        try:
            send_due_notices(clock())
        finally:
            db.session.remove()


def _digest_hour(config):
    from .notifications.services import digest_hour

    return digest_hour(config)


@job("cron", hour=_digest_hour, minute=0)
def send_digests(app):
    """The daily e-mail for users who chose "täglich als Zusammenfassung"."""
    from .extensions import db
    from .notifications.services import send_digests as send

    with app.test_request_context("/"):
        try:
            send(clock())
        finally:
            db.session.remove()


# --- the job store ---------------------------------------------------------------------------------

class SchedulerError(Exception):
    """The scheduler cannot start; the message says why, in German, for the operator."""


class SchedulerBusy(SchedulerError):
    pass


class DatabaseJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store on the table the migration created.

    Unlike its parent it never creates the table: a missing table means the database is
    not migrated, and the scheduler refuses to start.
    """

    def start(self, scheduler, alias):
        BaseJobStore.start(self, scheduler, alias)
        if not inspect(self.engine).has_table(self.jobs_t.name):
            raise SchedulerError(f"Die Tabelle {self.jobs_t.name} fehlt. Bitte zuerst die Datenbank "
                                 "migrieren: flask db upgrade")


def _engine_for(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return create_engine(url, pool_pre_ping=True)


def _fields(fields, config):
    return {name: value(config) if callable(value) else value for name, value in fields.items()}


def _signature(trigger, fields):
    """A job's trigger as text; stored as the job's name to notice when the code changed it."""
    return f"{trigger} " + ", ".join(f"{name}={value}" for name, value in sorted(fields.items()))


def build_scheduler(app, *, scheduler_class=BackgroundScheduler, executors=None, add_jobs=True):
    """A scheduler on the database's job store, not started.

    With add_jobs the platform's jobs are added as pending jobs (to inspect them). To run
    the scheduler use SchedulerService, which keeps the stored run times instead.
    """
    global _app
    _app = app
    store = DatabaseJobStore(engine=_engine_for(app), tablename=JOB_TABLE)
    options = {"timezone": TIMEZONE, "jobstores": {"default": store}, "job_defaults": dict(JOB_DEFAULTS)}
    if executors is not None:
        options["executors"] = executors
    scheduler = scheduler_class(**options)
    if add_jobs:
        for function, trigger, fields in _jobs:
            fields = _fields(fields, app.config)
            scheduler.add_job(run_job, trigger, args=[function.__name__], id=function.__name__,
                              name=_signature(trigger, fields), replace_existing=True, **fields)
    return scheduler


def sync_jobs(scheduler, config):
    """Bring the stored jobs in line with the code, keeping the run times of unchanged jobs.

    A job whose trigger is unchanged keeps its stored next run time, so a run missed while
    the scheduler was down happens once right away. Jobs no longer in the code are removed.
    Returns the ids of the jobs that were added or replaced.
    """
    stored = {stored_job.id: stored_job for stored_job in scheduler.get_jobs()}
    changed = []
    for function, trigger, fields in _jobs:
        name = function.__name__
        fields = _fields(fields, config)
        signature = _signature(trigger, fields)
        existing = stored.pop(name, None)
        if (existing is not None and existing.name == signature and existing.func_ref == f"{__name__}:run_job"
                and list(existing.args) == [name]):
            defaults = {key: getattr(existing, key) for key in JOB_DEFAULTS}
            if defaults != JOB_DEFAULTS:
                scheduler.modify_job(name, **JOB_DEFAULTS)
            continue
        scheduler.add_job(run_job, trigger, args=[name], id=name, name=signature, replace_existing=True,
                          **JOB_DEFAULTS, **fields)
        changed.append(name)
    for leftover in stored:
        scheduler.remove_job(leftover)
    return changed


# --- one scheduler per database ----------------------------------------------------------------------

class SchedulerLock:
    """Held by the one running scheduler of a database."""

    def __init__(self, app):
        self.url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.app = app
        self._connection = None
        self._engine = None
        self._file = None
        self._thread_lock = None

    @property
    def kind(self):
        return self.url.get_backend_name()

    def acquire(self):
        """Take the lock or raise SchedulerBusy with a German message."""
        if self.kind == "postgresql":
            self._acquire_postgres()
        elif self.kind == "sqlite":
            self._acquire_sqlite()
        else:
            raise SchedulerError(f"Für die Datenbank {self.kind} gibt es keine Sperre gegen einen zweiten "
                                 "Scheduler; unterstützt sind PostgreSQL und SQLite.")
        return self

    def _busy(self, pid):
        who = f" (Prozess {pid})" if pid else ""
        return SchedulerBusy(
            f"Für diese Datenbank läuft bereits ein Scheduler{who}. Es darf nur einer laufen, sonst würden "
            "Aufgaben doppelt ausgeführt; dieser wird nicht gestartet. Beenden Sie den anderen (zum Beispiel "
            "„flask scheduler run“ oder „python run.py“) oder setzen Sie hier SCHEDULER_ENABLED=0.")

    def _acquire_postgres(self):
        # One connection, held while the scheduler runs; its name tells a refused second one who holds the lock.
        name = f"{APPLICATION_NAME} {os.getpid()} {socket.gethostname()}"[:63]
        self._engine = create_engine(self.url, poolclass=NullPool, connect_args={"application_name": name})
        connection = self._engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar()
        holder = None
        if not got:
            holder_name = connection.execute(
                text("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                     "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :objid "
                     "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                {"objid": LOCK_KEY},
            ).scalar() or ""
            parts = holder_name.split()
            if len(parts) >= 2 and holder_name.startswith(APPLICATION_NAME):
                holder = f"{parts[1]} auf {parts[2]}" if len(parts) > 2 else parts[1]
        connection.commit()  # the session-level lock outlives the transaction; no table stays locked
        if not got:
            connection.close()
            self._engine.dispose()
            self._engine = None
            raise self._busy(holder)
        self._connection = connection

    def _lock_path(self):
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database).resolve().with_name(Path(database).name + ".scheduler-lock")

    def _acquire_sqlite(self):
        path = self._lock_path()
        if path is None:  # an in-memory database lives in this process only
            self._thread_lock = _memory_locks.setdefault(str(self.url), threading.Lock())
            if not self._thread_lock.acquire(blocking=False):
                self._thread_lock = None
                raise self._busy(os.getpid())
            return
        import fcntl

        handle = open(path, "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or None
            handle.close()
            raise self._busy(holder)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def held(self):
        """Whether the lock is (still) held; on PostgreSQL a lost connection means the lock is gone."""
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1")).scalar()
                self._connection.commit()
                return True
            except Exception:  # the connection broke: the server released the lock
                log.exception("scheduler lock connection lost")
                self._drop_postgres()
                return False
        return self._file is not None or self._thread_lock is not None

    def reacquire(self):
        try:
            self.acquire()
            return True
        except Exception:  # taken by another process, or the database is unreachable
            log.exception("scheduler lock could not be taken again")
            return False

    def _drop_postgres(self):
        try:
            self._connection.close()
        except Exception:
            pass
        self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def release(self):
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                self._connection.commit()
            except Exception:
                pass
            self._drop_postgres()
        if self._file is not None:
            import fcntl

            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._thread_lock is not None:
            self._thread_lock.release()
            self._thread_lock = None


_memory_locks = {}


class SchedulerService:
    """The running scheduler of this process: lock, job store, jobs, and a watch on the lock."""

    def __init__(self, app, *, scheduler_class=BackgroundScheduler, executors=None, watch=True):
        self.app = app
        self.scheduler_class = scheduler_class
        self.executors = executors
        self.watch = watch
        self.lock = None
        self.scheduler = None
        self._stop_watch = threading.Event()
        self._watch_thread = None

    def start(self):
        self.lock = SchedulerLock(self.app).acquire()
        try:
            self.scheduler = build_scheduler(self.app, scheduler_class=self.scheduler_class,
                                             executors=self.executors, add_jobs=False)
            self.scheduler.start(paused=True)
            changed = sync_jobs(self.scheduler, self.app.config)
            self.scheduler.resume()
        except Exception:
            if self.scheduler is not None and self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            self.lock.release()
            raise
        log.info("scheduler started with %d jobs (%s new or changed)", len(_jobs), ", ".join(changed) or "none")
        if self.watch:
            self._watch_thread = threading.Thread(target=self._watch_lock, name="scheduler-lock-watch", daemon=True)
            self._watch_thread.start()
        return self

    def _watch_lock(self):
        while not self._stop_watch.wait(WATCH_SECONDS):
            if self.lock.held() or self.lock.reacquire():
                continue
            log.error("scheduler lock lost to another process; this scheduler stops")
            self.scheduler.shutdown(wait=False)
            return

    def stop(self, wait=True):
        self._stop_watch.set()
        if self._watch_thread is not None and self._watch_thread is not threading.current_thread():
            self._watch_thread.join(timeout=10)  # it uses the lock's connection; let it finish first
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def start_background(app):
    """Start this process's scheduler (run.py); None, with a message, if another one runs."""
    try:
        service = SchedulerService(app).start()
    except SchedulerError as error:
        log.warning("scheduler not started: %s", error)
        print(f"Hinweis: {error}", flush=True)
        return None
    return service


def run_forever(app):
    """`flask scheduler run`: the scheduler in the foreground until SIGINT or SIGTERM.

    Returns False if it stopped because another process took the lock, else True."""
    service = SchedulerService(app).start()  # SchedulerError propagates to the command line
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Scheduler läuft mit {len(_jobs)} Aufgaben. Beenden mit Strg+C.", flush=True)
    lost = False
    while not stop.wait(5):
        if not service.scheduler.running:  # stopped by the lock watch
            lost = True
            break
    service.stop()
    return not lost


# The jobs of the areas register themselves with @job when their module is imported.
from .ideas import jobs as _idea_jobs  # noqa: E402,F401
from .analysis import jobs as _analysis_jobs  # noqa: E402,F401
