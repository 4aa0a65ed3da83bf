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

_jobs = []  # (function(app), trigger name, trigger fields)


def job(trigger="interval", **fields):
    """Register `function(app)` to run on an APScheduler trigger.

    @job(minutes=1) runs every minute; @job("cron", hour=2, minute=30) every night.
    A field may be a function of the app config, e.g. hour=lambda config: config["NIGHTLY_HOUR"].
    """
    def register(function):
        _jobs.append((function, trigger, fields))
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
    for function, trigger, fields in _jobs:
        fields = {name: value(app.config) if callable(value) else value for name, value in fields.items()}
        scheduler.add_job(function, trigger, args=[app], id=function.__name__, replace_existing=True,
                          coalesce=True, max_instances=1, **fields)
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
from .analysis import jobs as _analysis_jobs  # noqa: E402,F401
