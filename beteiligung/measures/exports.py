"""The plan as PDF, built in the background with its progress in a PlanExport row.

Starting an export inserts the row (committed) and hands its id to a worker thread, or
builds it inline when PLAN_EXPORT_IN_BACKGROUND (default: ANALYSIS_IN_BACKGROUND) is off,
as in the tests. The worker reports the sheets written into the row at most twice a
second, through its own short transactions, so the page can poll them. Only one export
runs at a time: starting another returns the running one. An export that stopped
reporting for STALE_AFTER (process killed) counts as failed. The newest finished PDF is
the one the public download serves; older ones are removed.
"""
import logging
import threading
import time
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..audit.services import record
from ..extensions import db
from ..ideas import importing
from ..models import utcnow
from .models import Measure, PlanExport

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=30)
PROGRESS_INTERVAL = 0.5  # seconds between progress reports
KEEP_FINISHED = 3  # finished PDFs kept (the newest is public)
KEEP_FAILED = 10
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ACTIVE = (QUEUED, RUNNING)
STATE_LABELS = {QUEUED: _l("wartet"), RUNNING: _l("läuft"), DONE: _l("fertig"), FAILED: _l("fehlgeschlagen")}


def state_label(export):
    return str(STATE_LABELS.get(export.state, export.state))


def active_export():
    """The queued or running export, if any; a silent one counts as failed from now on."""
    export = db.session.scalar(select(PlanExport).where(PlanExport.state.in_(ACTIVE)).order_by(PlanExport.id))
    if export is not None and utcnow() - (export.heartbeat_at or export.created_at) > STALE_AFTER:
        export.state, export.finished_at = FAILED, utcnow()
        export.error = _("Der Export hat sich seit %(minutes)d Minuten nicht mehr gemeldet und gilt als "
                         "abgebrochen.", minutes=int(STALE_AFTER.total_seconds() // 60))
        db.session.commit()
        return active_export()
    return export


def start_pdf_export(actor):
    """Start building the plan as PDF (committed) and return its PlanExport; a running one is returned instead."""
    running = active_export()
    if running is not None:
        return running
    total = db.session.scalar(select(func.count(Measure.id)))
    export = PlanExport(fmt="pdf", state=QUEUED, done=0, total=total, requested_by_id=getattr(actor, "id", None),
                        heartbeat_at=utcnow())
    db.session.add(export)
    db.session.flush()
    record("measures.export_started", actor=actor, object_type="plan_export", object_id=export.id,
           new={"format": "pdf", "measures": total})
    db.session.commit()
    # Two requests at the same moment: the older export wins, the younger withdraws.
    first = db.session.scalar(select(PlanExport.id).where(PlanExport.state.in_(ACTIVE)).order_by(PlanExport.id))
    if first is not None and first != export.id:
        db.session.delete(export)
        db.session.commit()
        return db.session.get(PlanExport, first)
    launch(export.id)
    return export


def in_background():
    config = current_app.config
    return bool(config.get("PLAN_EXPORT_IN_BACKGROUND", config.get("ANALYSIS_IN_BACKGROUND", True)))


def launch(export_id):
    """Build the export in a worker thread (inline when the background is switched off)."""
    if not in_background():
        execute(export_id)
        return
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                execute(export_id)
            finally:
                db.session.remove()

    threading.Thread(target=work, name=f"plan-export-{export_id}", daemon=True).start()


class _Progress:
    """Writes the sheets done into the row in a transaction of its own (the worker's session keeps its objects)."""

    def __init__(self, export_id):
        self.export_id = export_id
        self.last = 0.0

    def __call__(self, done, total):
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL and done < total:
            return
        self.last = now
        with db.engine.begin() as connection:
            connection.execute(update(PlanExport).where(PlanExport.id == self.export_id)
                               .values(done=done, total=total, heartbeat_at=utcnow()))


def execute(export_id):
    """Build a queued export; failures are recorded on the row."""
    from .pdf import build_plan_pdf

    export = db.session.get(PlanExport, export_id)
    if export is None or export.state != QUEUED:
        return
    export.state, export.heartbeat_at = RUNNING, utcnow()
    db.session.commit()
    try:
        data = build_plan_pdf(progress=_Progress(export_id))
        export = db.session.get(PlanExport, export_id)
        db.session.refresh(export)
        export.content, export.size = data, len(data)
        export.done = export.total
        export.state, export.finished_at, export.heartbeat_at = DONE, utcnow(), utcnow()
        db.session.commit()
        prune()
    except Exception as error:  # the export must end in a state staff can see, whatever went wrong
        log.exception("plan export %s failed", export_id)
        db.session.rollback()
        export = db.session.get(PlanExport, export_id)
        export.state, export.finished_at = FAILED, utcnow()
        export.error = _("Der Export ist mit einem Fehler abgebrochen: %(error)s",
                         error=str(error)[:500] or type(error).__name__)
        db.session.commit()


def prune():
    """Remove finished exports beyond the newest KEEP_FINISHED and failed ones beyond KEEP_FAILED."""
    for state, keep in ((DONE, KEEP_FINISHED), (FAILED, KEEP_FAILED)):
        old = db.session.scalars(select(PlanExport.id).where(PlanExport.state == state)
                                 .order_by(PlanExport.id.desc()).offset(keep)).all()
        if old:
            db.session.execute(PlanExport.__table__.delete().where(PlanExport.id.in_(old)))
    db.session.commit()


def latest_pdf():
    """The newest finished PDF of the plan, or None."""
    return db.session.scalar(select(PlanExport).where(PlanExport.fmt == "pdf", PlanExport.state == DONE,
                                                      PlanExport.content.is_not(None))
                             .order_by(PlanExport.id.desc()).limit(1))


def recent_exports(limit=10):
    """The latest exports without their content (for the staff page)."""
    from sqlalchemy.orm import defer

    return db.session.scalars(select(PlanExport).options(defer(PlanExport.content))
                              .order_by(PlanExport.id.desc()).limit(limit)).all()


def pdf_filename(export):
    moment = export.finished_at or export.created_at or utcnow()
    day = moment.astimezone(importing.local_zone()).date()
    return f"klimaschutzplan-massnahmen-{day.isoformat()}.pdf"


def progress_message(export):
    """"läuft: 12 von 80 Maßnahmenblättern" (the page and the polling script show it)."""
    return _("%(state)s: %(done)d von %(total)d Maßnahmenblättern", state=state_label(export), done=export.done,
             total=export.total)


def percent(export):
    if export.state == DONE:
        return 100
    return int(100 * export.done / export.total) if export.total else 0


__all__ = ["start_pdf_export", "active_export", "execute", "latest_pdf", "recent_exports", "pdf_filename",
           "state_label", "progress_message", "percent", "STATE_LABELS", "STALE_AFTER"]
