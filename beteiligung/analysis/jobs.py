"""The nightly analysis of new ideas (see runner.analyse_new_ideas)."""
import logging

from ..scheduler import job

log = logging.getLogger(__name__)


@job("cron", hour=lambda config: config["ANALYSIS_NIGHTLY_HOUR"], minute=30)
def analyse_new_ideas(app):
    from .runner import analyse_new_ideas as run_nightly

    with app.app_context():
        run = run_nightly()
        if run is not None:
            log.info("nightly analysis run %s: %s", run.id, run.status)
