"""Background jobs with APScheduler.

Exactly one scheduler must run per installation: `python run.py` starts one in its
own process (SCHEDULER_ENABLED=1); with several gunicorn workers, keep
SCHEDULER_ENABLED=0 for them and run `flask scheduler run` once beside them.
"""
import logging
import signal
import threading

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

_jobs = []  # (function(app), trigger kwargs)


def job(**trigger):
    """Register `function(app)` to run on an interval trigger, e.g. @job(minutes=1)."""
    def register(function):
        _jobs.append((function, trigger))
        return function
    return register


@job(minutes=1)
def deliver_outbox(app):
    from .mail.services import deliver_pending, smtp_configured

    with app.app_context():
        if smtp_configured():
            deliver_pending()


def build_scheduler(app):
    scheduler = BackgroundScheduler(timezone="Europe/Berlin")
    for function, trigger in _jobs:
        scheduler.add_job(function, "interval", args=[app], id=function.__name__, replace_existing=True,
                          coalesce=True, max_instances=1, **trigger)
    return scheduler


def start_background(app):
    scheduler = build_scheduler(app)
    scheduler.start()
    log.info("scheduler started with %d jobs", len(_jobs))
    return scheduler


def run_forever(app):
    scheduler = start_background(app)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Scheduler läuft mit {len(_jobs)} Aufgaben. Beenden mit Strg+C.", flush=True)
    stop.wait()
    scheduler.shutdown()


# The jobs of the areas register themselves with @job when their module is imported.
from .ideas import jobs as _idea_jobs  # noqa: E402,F401
