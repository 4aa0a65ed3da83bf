"""Demo: a finished analysis run over the demo ideas, so the triage workspace has a board to show."""
from flask import current_app

from ..demo import demo_step


@demo_step(90)
def _analyse_demo_ideas():
    """Runs last: it commits the demo loaded so far, because a run is stored in its own transactions."""
    if not current_app.config.get("DEMO_ANALYSIS", True):
        return
    from . import runner

    run = runner.create_run(None)
    runner.execute(run.id)
