"""Analysis runs: start one, execute it in the background, store its suggestions.

A run is a row in analysis_runs. Starting it only inserts that row and hands the id
to a worker thread (or, in tests, runs it inline), so the request returns at once.
The worker reports progress into the row; the progress page polls it. A worker that
stopped reporting for STALE_AFTER (process killed) counts as failed, so a new run can
start. The nightly job extends the latest run with the ideas that came in since.
"""
import logging
import threading
import time
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select
from werkzeug.datastructures import MultiDict

from ..audit.services import record
from ..extensions import db
from ..ideas.models import Idea, Sector, Status
from ..ideas.queries import build_query, parse_filters
from ..ideas.services import IdeaError, active_sectors
from ..measures.models import Measure
from ..models import utcnow
from .models import AnalysisCluster, AnalysisItem, AnalysisRun, DuplicateGroup, RunKind, RunStatus

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=30)
K_MAX = 200
MIN_IDEAS = 2
PROGRESS_INTERVAL = 0.5  # seconds between progress commits


class RunRefused(IdeaError):
    pass


# --- input -----------------------------------------------------------------------------------------

def scope_filters(scope):
    """The idea filters of a run scope (URL arguments); unknown values are errors."""
    filters = parse_filters(MultiDict(scope or {}), default_sort="newest")
    if filters.errors:
        raise RunRefused(next(iter(filters.errors.values())), "scope")
    return filters


def describe_scope(filters):
    parts = []
    if filters.q:
        parts.append(_("Suche „%(q)s“", q=filters.q))
    if filters.sector is not None:
        parts.append(filters.sector.name)
    elif filters.unassigned_sector:
        parts.append(_("ohne Handlungsfeld"))
    if filters.district is not None:
        parts.append(filters.district.name)
    if filters.status:
        parts.append(_("Status: %(status)s", status=Status(filters.status).label))
    if filters.source:
        parts.append(_("Herkunft: %(source)s", source=filters.source))
    return ", ".join(parts) or _("alle Ideen")


def _scope_ids(scope):
    """A select of the ids of the visible, not merged ideas in the scope."""
    return (build_query(scope_filters(scope)).with_only_columns(Idea.id).order_by(None)
            .where(Idea.status != Status.MERGED.value))


def count_ideas(scope):
    return db.session.scalar(select(func.count()).select_from(_scope_ids(scope).subquery()))


def documents_for(scope):
    """The visible, not merged ideas in the scope as analysis Documents, oldest first."""
    from analyse import Document

    rows = db.session.execute(
        select(Idea.id, Idea.title, Idea.text, Sector.code, Idea.sector_confirmed)
        .outerjoin(Sector, Sector.id == Idea.sector_id)
        .where(Idea.id.in_(_scope_ids(scope)))
        .order_by(Idea.id)
    )
    return [Document(id=row.id, title=row.title, text=row.text, sector=row.code if row.sector_confirmed else None)
            for row in rows]


def sector_specs():
    from analyse import SectorSpec

    return tuple(SectorSpec(code=sector.code, name=sector.name, description=sector.description or "",
                            seed_terms=tuple(term.strip() for term in (sector.seed_terms or "").split(",")
                                             if term.strip()))
                 for sector in active_sectors())


def measure_specs():
    from analyse import MeasureSpec

    return tuple(MeasureSpec(id=row.id, title=f"{row.title}", description=row.description or "")
                 for row in db.session.execute(select(Measure.id, Measure.title, Measure.description)
                                               .order_by(Measure.id)))


def parse_k(value):
    """'auto' or a whole number from 2 to K_MAX."""
    value = (value or "auto").strip().lower()
    if value == "auto":
        return value
    if not value.isdigit() or not 2 <= int(value) <= K_MAX:
        raise RunRefused(_("Die Zahl der Gruppen muss „auto“ oder eine ganze Zahl von 2 bis %(max)d sein.",
                           max=K_MAX), "k")
    return str(int(value))


# --- starting ---------------------------------------------------------------------------------------

def active_run():
    """The queued or running run, if any; a silent one counts as failed from now on."""
    run = db.session.scalar(select(AnalysisRun).where(
        AnalysisRun.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value])).order_by(AnalysisRun.id))
    if run is not None and utcnow() - (run.heartbeat_at or run.created_at) > STALE_AFTER:
        run.status = RunStatus.FAILED.value
        run.error = _("Der Lauf hat sich seit %(minutes)d Minuten nicht mehr gemeldet und gilt als abgebrochen.",
                      minutes=int(STALE_AFTER.total_seconds() // 60))
        run.finished_at = utcnow()
        db.session.commit()
        return active_run()
    return run


def create_run(actor, *, scope=None, k="auto", seed=0, kind=RunKind.FULL, based_on=None):
    """Insert a queued run (committed); refuse while another run is active."""
    import analyse

    scope = {key: value for key, value in (scope or {}).items() if value}
    filters = scope_filters(scope)
    k = parse_k(k)
    if not isinstance(seed, int) or not 0 <= seed <= 2**31 - 1:
        raise RunRefused(_("Der Startwert muss eine ganze Zahl von 0 bis 2147483647 sein."), "seed")
    if active_run() is not None:
        raise RunRefused(_("Es läuft bereits eine Analyse. Bitte warten Sie, bis sie fertig ist."))
    if count_ideas(scope) < MIN_IDEAS:
        raise RunRefused(_("Für eine Analyse braucht es mindestens %(min)d Ideen in der Auswahl.", min=MIN_IDEAS),
                         "scope")
    run = AnalysisRun(kind=RunKind(kind).value, scope=scope, scope_description=describe_scope(filters)[:400],
                      k_requested=k, seed=seed, code_version=analyse.__version__,
                      based_on_id=getattr(based_on, "id", None), started_by_id=getattr(actor, "id", None),
                      heartbeat_at=utcnow())
    db.session.add(run)
    db.session.flush()
    record("analysis.run_started", run, actor=actor,
           new={"kind": run.kind, "scope": scope, "k": k, "seed": seed, "based_on": run.based_on_id})
    db.session.commit()
    # Two requests at the same moment: the older run wins, the younger withdraws.
    first = db.session.scalar(select(AnalysisRun.id).where(
        AnalysisRun.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value])).order_by(AnalysisRun.id))
    if first != run.id:
        db.session.delete(run)
        db.session.commit()
        raise RunRefused(_("Es läuft bereits eine Analyse. Bitte warten Sie, bis sie fertig ist."))
    return run


def launch(run):
    """Execute the run in a worker thread (inline when ANALYSIS_IN_BACKGROUND is off)."""
    if not current_app.config.get("ANALYSIS_IN_BACKGROUND", True):
        execute(run.id)
        return
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                execute(run.id)
            finally:
                db.session.remove()

    threading.Thread(target=work, name=f"analysis-run-{run.id}", daemon=True).start()


# --- executing --------------------------------------------------------------------------------------

class _Progress:
    """Writes the analysis module's progress reports into the run row, at most twice a second."""

    def __init__(self, run):
        self.run = run
        self.last = 0.0

    def __call__(self, fraction, message):
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL and fraction < 1:
            return
        self.last = now
        self.run.progress = max(self.run.progress, min(99, int(round(fraction * 100))))
        self.run.progress_message = (message or "")[:200]
        self.run.heartbeat_at = utcnow()
        db.session.commit()


def execute(run_id):
    """Run the analysis for a queued run and store its results; failures are recorded on the run."""
    import analyse  # imported here: spaCy and scikit-learn load only when an analysis runs

    run = db.session.get(AnalysisRun, run_id)
    if run is None or run.status != RunStatus.QUEUED.value:
        return
    run.status, run.started_at, run.heartbeat_at = RunStatus.RUNNING.value, utcnow(), utcnow()
    run.progress_message = _("Ideen werden geladen")
    db.session.commit()
    try:
        documents = documents_for(run.scope)
        run.idea_count = len(documents)
        progress = _Progress(run)
        options = {"sectors": sector_specs(), "measures": measure_specs(), "seed": run.seed, "progress": progress}
        if run.kind == RunKind.INCREMENTAL.value and run.based_on is not None:
            assignments, labels = previous_clusters(run.based_on)
            result = analyse.extend(documents, assignments, labels, **options)
            known = set(assignments)
        else:
            k = run.k_requested if run.k_requested == "auto" else int(run.k_requested)
            result = analyse.analyse(documents, k=k, **options)
            known = None
        _store(run, result, known)
        run.status, run.progress, run.finished_at = RunStatus.DONE.value, 100, utcnow()
        run.progress_message = _("fertig")
        db.session.commit()
    except Exception as error:  # the run must end in a state staff can see, whatever went wrong
        log.exception("analysis run %s failed", run_id)
        db.session.rollback()
        run = db.session.get(AnalysisRun, run_id)
        run.status, run.finished_at = RunStatus.FAILED.value, utcnow()
        run.error = _("Die Analyse ist mit einem Fehler abgebrochen: %(error)s", error=str(error)[:500] or
                      type(error).__name__)
        db.session.commit()


def previous_clusters(run):
    """Cluster numbers per idea and labels of an earlier run, for an incremental run."""
    assignments = dict(db.session.execute(
        select(AnalysisItem.idea_id, AnalysisItem.cluster_number).where(AnalysisItem.run_id == run.id)).all())
    labels = dict(db.session.execute(
        select(AnalysisCluster.number, AnalysisCluster.label).where(AnalysisCluster.run_id == run.id)).all())
    return assignments, labels


def _store(run, result, known):
    for cluster in result.clusters:
        db.session.add(AnalysisCluster(
            run_id=run.id, number=cluster.number, label=cluster.label[:120], size=cluster.size,
            keywords=list(cluster.keywords), sector_code=cluster.sector,
            sector_confidence=float(cluster.sector_confidence),
            sector_distribution={code: int(count) for code, count in cluster.sector_distribution.items()},
            measure_matches=[{"id": match.id, "title": match.title, "score": round(float(match.score), 3)}
                             for match in cluster.measure_matches],
            suggested_measure_title=(cluster.suggested_measure_title or cluster.label)[:200]))
    ranks = {doc_id: rank for cluster in result.clusters for rank, doc_id in enumerate(cluster.member_ids)}
    rows = []
    for doc_id, number in result.assignments.items():
        suggestion = result.sector_suggestions.get(doc_id)
        rows.append({"run_id": run.id, "idea_id": doc_id, "cluster_number": int(number),
                     "rank": ranks.get(doc_id, 0),
                     "sector_code": getattr(suggestion, "code", None),
                     "sector_confidence": float(getattr(suggestion, "confidence", 0.0)),
                     "sector_method": getattr(suggestion, "method", "zero-shot"),
                     "is_new": known is not None and doc_id not in known})
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(AnalysisItem), rows[start:start + 1000])
    for group in result.duplicate_groups:
        db.session.add(DuplicateGroup(run_id=run.id, idea_ids=list(group.ids), score=round(float(group.score), 3)))
    report = result.classifier
    run.parameters = result.parameters
    run.code_version = result.version
    run.cluster_count = len(result.clusters)
    run.unassigned_count = sum(1 for number in result.assignments.values() if number < 0)
    run.duplicate_group_count = len(result.duplicate_groups)
    run.k_automatic = bool(result.k_automatic)
    run.classifier_trained = bool(report.trained)
    run.classifier_accuracy = report.cv_accuracy
    run.classifier_training_size = report.training_size
    run.classifier_note = (report.reason or "")[:400]
    run.timings = {step: round(float(seconds), 3) for step, seconds in result.timings.items()}


# --- nightly ------------------------------------------------------------------------------------------

def latest_full_scope_run():
    """The newest finished run over all ideas (the base for the nightly extension)."""
    runs = db.session.scalars(select(AnalysisRun).where(AnalysisRun.status == RunStatus.DONE.value)
                              .order_by(AnalysisRun.id.desc()).limit(50))
    return next((run for run in runs if not run.scope), None)


def analyse_new_ideas():
    """Nightly: extend the latest run over all ideas with the new ones (or make a first run).

    Returns the run it executed, or None when there was nothing to do.
    """
    if active_run() is not None:
        return None
    base = latest_full_scope_run()
    if base is None:
        if count_ideas({}) < MIN_IDEAS:
            return None
        run = create_run(None)
    else:
        analysed = select(AnalysisItem.idea_id).where(AnalysisItem.run_id == base.id)
        new = db.session.scalar(select(db.func.count(Idea.id)).where(
            Idea.hidden_at.is_(None), Idea.status != Status.MERGED.value, Idea.id.not_in(analysed)))
        if not new:
            return None
        run = create_run(None, kind=RunKind.INCREMENTAL, based_on=base, seed=base.seed)
    execute(run.id)
    return run
