"""The triage workspace (staff only): analysis runs, the cluster board, fields of action,
duplicates and the assignment of ideas to measures."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from ..access import allow
from ..extensions import db
from ..forms import attach_error, page_number
from ..ideas.forms import district_choices
from ..ideas.models import SOURCE_LABELS, STATUS_LABELS, Idea, Sector
from ..ideas.services import IdeaError, active_sectors, find_sector, measures_for
from ..measures.models import Measure
from ..roles import STAFF
from . import runner, services
from .forms import MergeForm, StartForm, TriageForm
from .models import AnalysisCluster, AnalysisItem, AnalysisRun, DuplicateGroup, RunStatus, TriageDecision

bp = Blueprint("analysis", __name__, url_prefix="/verwaltung/analyse")

RUNS_PER_PAGE = 20
ITEMS_PER_PAGE = 100
DECISIONS_PER_PAGE = 50
SCOPE_FIELDS = ("q", "sector", "district", "status", "source")


def _run_or_404(run_id):
    return db.session.get(AnalysisRun, run_id) or abort(404)


def _done_run_or_redirect(run_id):
    run = _run_or_404(run_id)
    if run.status != RunStatus.DONE.value:
        return run, redirect(url_for("analysis.run", run_id=run.id))
    return run, None


# --- runs -------------------------------------------------------------------------------------------

def _prepare_start_form(form):
    everything = SelectChoice("", _("alle"))
    form.sector.choices = [everything] + [SelectChoice(s.code, s.name) for s in active_sectors()] + [
        SelectChoice("unbekannt", _("noch nicht zugeordnet"))]
    form.district.choices = [everything] + district_choices()
    form.status.choices = [everything] + [SelectChoice(k.value, v) for k, v in STATUS_LABELS.items()]
    form.source.choices = [everything] + [SelectChoice(k.value, v) for k, v in SOURCE_LABELS.items()]


@bp.get("/")
@allow(STAFF)
def index():
    form = StartForm()
    _prepare_start_form(form)
    return _index_page(form)


def _index_page(form):
    runner.active_run()  # marks a silent run as failed
    page = db.paginate(select(AnalysisRun).order_by(AnalysisRun.id.desc()), page=page_number(),
                       per_page=RUNS_PER_PAGE, error_out=False)
    return render_template("analysis/index.html", form=form, page=page)


@bp.post("/starten")
@allow(STAFF)
def start():
    form = StartForm()
    _prepare_start_form(form)
    if not form.validate():
        return _index_page(form), 400
    scope = {name: getattr(form, name).data for name in SCOPE_FIELDS if getattr(form, name).data}
    try:
        run = runner.create_run(current_user, scope=scope, k=form.k.data, seed=form.seed.data or 0)
    except IdeaError as error:
        field = error.field if error.field in ("k", "seed") else None
        attach_error(form, IdeaError(error.message, field))
        return _index_page(form), 409 if error.field is None else 400
    runner.launch(run)
    return redirect(url_for("analysis.run", run_id=run.id))


@bp.get("/laeufe/<int:run_id>")
@allow(STAFF)
def run(run_id):
    run = _run_or_404(run_id)
    if run.active:
        runner.active_run()
        db.session.refresh(run)
    if run.status != RunStatus.DONE.value:
        return render_template("analysis/progress.html", run=run)
    clusters = db.session.scalars(select(AnalysisCluster).where(AnalysisCluster.run_id == run.id)
                                  .order_by(AnalysisCluster.number)).all()
    representatives = _representatives(run)
    open_groups = db.session.scalar(select(db.func.count(DuplicateGroup.id)).where(
        DuplicateGroup.run_id == run.id, DuplicateGroup.resolved_at.is_(None)))
    return render_template("analysis/board.html", run=run, clusters=clusters, representatives=representatives,
                           sectors={s.code: s for s in db.session.scalars(select(Sector))},
                           measures=_measures_by_id(clusters), open_groups=open_groups)


def _representatives(run):
    """The three most representative ideas of every cluster: {number: [Idea]} in one query."""
    rows = db.session.execute(
        select(AnalysisItem.cluster_number, Idea).join(Idea, Idea.id == AnalysisItem.idea_id)
        .where(AnalysisItem.run_id == run.id, AnalysisItem.cluster_number >= 0, AnalysisItem.rank < 3)
        .order_by(AnalysisItem.cluster_number, AnalysisItem.rank)).all()
    grouped = {}
    for number, idea in rows:
        grouped.setdefault(number, []).append(idea)
    return grouped


def _measures_by_id(clusters):
    ids = {match["id"] for cluster in clusters for match in cluster.measure_matches}
    if not ids:
        return {}
    return {measure.id: measure for measure in db.session.scalars(select(Measure).where(Measure.id.in_(ids)))}


@bp.get("/laeufe/<int:run_id>/fortschritt")
@allow(STAFF)
def progress(run_id):
    run = _run_or_404(run_id)
    if run.active:
        runner.active_run()
        db.session.refresh(run)
    return jsonify(status=run.status, status_label=str(run.status_enum.label), progress=run.progress,
                   message=run.progress_message, error=run.error, url=url_for("analysis.run", run_id=run.id))


# --- one cluster: fields of action and measures --------------------------------------------------------

def _sector_choices_from_form(ideas):
    """[(idea, Sector)] for the checked ideas, from their per-row selects; errors name the idea."""
    sectors = {sector.code: sector for sector in active_sectors()}
    choices = []
    for idea in ideas:
        code = (request.form.get(f"sector-{idea.id}") or "").strip()
        if code not in sectors:
            raise IdeaError(_("Idee %(id)d: Bitte wählen Sie ein gültiges Handlungsfeld.", id=idea.id), "ids")
        choices.append((idea, sectors[code]))
    return choices


def _checked_ideas(form, allowed_ids):
    ids = list(dict.fromkeys(form.ids.data or []))
    if not ids:
        raise IdeaError(_("Bitte wählen Sie in der Tabelle mindestens eine Idee aus."), "ids")
    foreign = [str(idea_id) for idea_id in ids if idea_id not in allowed_ids]
    if foreign:
        raise IdeaError(_("Diese Ideen gehören nicht zu dieser Auswahl: %(ids)s", ids=", ".join(foreign)), "ids")
    return services.ideas_by_id(ids)


def _prepare_triage_form(form, cluster):
    matches = [match["id"] for match in (cluster.measure_matches if cluster else [])]
    measures = db.session.scalars(select(Measure).order_by(Measure.number)).all()
    ordered = sorted(measures, key=lambda m: (m.id not in matches, matches.index(m.id) if m.id in matches else 0))
    form.measure.choices = [SelectChoice("", _("Bitte wählen"))] + [
        SelectChoice(str(m.id), f"{m.number} {m.title}" + (" – " + _("Vorschlag") if m.id in matches else ""))
        for m in ordered]
    if request.method == "GET" and cluster is not None:
        form.title.data = cluster.suggested_measure_title
        form.sector.data = cluster.sector_code
        if matches:
            form.measure.data = str(matches[0])


def _handle_triage(form, run, cluster, allowed_ids):
    """Apply the submitted action; True when something was saved (then redirect)."""
    try:
        ideas = _checked_ideas(form, allowed_ids)
        if form.save_sectors.data:
            decisions = services.decide_sectors(run, current_user, _sector_choices_from_form(ideas))
            message = ngettext("Handlungsfeld für %(num)d Idee gespeichert.",
                               "Handlungsfelder für %(num)d Ideen gespeichert.", len(decisions))
        elif form.assign.data:
            measure = db.session.get(Measure, int(form.measure.data)) if (form.measure.data or "").isdigit() else None
            services.assign_to_measure(run, cluster, current_user, ideas, measure, form.reason.data)
            message = ngettext("%(num)d Idee der Maßnahme %(measure)s zugeordnet.",
                               "%(num)d Ideen der Maßnahme %(measure)s zugeordnet.", len(ideas),
                               measure=measure.number)
        elif form.create.data:
            measure, _decision = services.create_measure_from_cluster(
                run, cluster, current_user, ideas, title=form.title.data, sector=find_sector(form.sector.data or ""),
                description=form.description.data, reason=form.reason.data)
            message = ngettext("Maßnahme %(measure)s angelegt und %(num)d Idee zugeordnet.",
                               "Maßnahme %(measure)s angelegt und %(num)d Ideen zugeordnet.", len(ideas),
                               measure=measure.number)
        else:
            return False
    except IdeaError as error:
        db.session.rollback()
        attach_error(form, error)
        return False
    db.session.commit()
    flash(message, "success")
    return True


def _member_rows(run, query):
    """Rows of (AnalysisItem, Idea) for a member table."""
    return db.session.execute(query.join(Idea, Idea.id == AnalysisItem.idea_id)
                              .where(AnalysisItem.run_id == run.id)).all()


@bp.route("/laeufe/<int:run_id>/gruppen/<int(signed=True):number>", methods=["GET", "POST"])
@allow(STAFF)
def cluster(run_id, number):
    run, redirect_response = _done_run_or_redirect(run_id)
    if redirect_response:
        return redirect_response
    cluster = db.session.scalar(select(AnalysisCluster).where(AnalysisCluster.run_id == run.id,
                                                              AnalysisCluster.number == number))
    if cluster is None and number != -1:
        abort(404)
    rows = _member_rows(run, select(AnalysisItem, Idea).where(AnalysisItem.cluster_number == number)
                        .order_by(AnalysisItem.rank, AnalysisItem.idea_id).limit(2000))
    form = TriageForm()
    _prepare_triage_form(form, cluster)
    status = 200
    if request.method == "POST":
        if form.validate() and _handle_triage(form, run, cluster, {idea.id for _item, idea in rows}):
            return redirect(url_for("analysis.cluster", run_id=run.id, number=number))
        status = 400
    links = measures_for([idea.id for _item, idea in rows])
    return render_template("analysis/cluster.html", run=run, cluster=cluster, number=number, rows=rows, form=form,
                           sectors=active_sectors(), sector_names=_sector_names(), links=links,
                           checked=set(form.ids.data or []) if request.method == "POST" else set()), status


def _sector_names():
    return {code: name for code, name in db.session.execute(select(Sector.code, Sector.name))}


@bp.route("/laeufe/<int:run_id>/handlungsfelder", methods=["GET", "POST"])
@allow(STAFF)
def sectors(run_id):
    """The field-of-action suggestions, most confident first; by default only the open ones
    (idea without a confirmed field, or a field that differs from the suggestion)."""
    run, redirect_response = _done_run_or_redirect(run_id)
    if redirect_response:
        return redirect_response
    show = "alle" if request.args.get("zeigen") == "alle" else "offen"
    query = (select(AnalysisItem).join(Idea, Idea.id == AnalysisItem.idea_id)
             .outerjoin(Sector, Sector.id == Idea.sector_id).where(AnalysisItem.run_id == run.id))
    if show == "offen":
        query = query.where(AnalysisItem.sector_code.is_not(None), or_(
            Idea.sector_id.is_(None), Idea.sector_confirmed.is_(False), Sector.code != AnalysisItem.sector_code))
    page = db.paginate(query.order_by(AnalysisItem.sector_confidence.desc(), AnalysisItem.idea_id),
                       page=page_number(), per_page=ITEMS_PER_PAGE, error_out=False)
    ideas = {idea.id: idea for idea in db.session.scalars(
        select(Idea).where(Idea.id.in_([item.idea_id for item in page.items])))}
    rows = [(item, ideas[item.idea_id]) for item in page.items if item.idea_id in ideas]
    form = TriageForm()
    status = 200
    if request.method == "POST":
        posted = list(form.ids.data or [])
        in_run = set(db.session.scalars(select(AnalysisItem.idea_id).where(
            AnalysisItem.run_id == run.id, AnalysisItem.idea_id.in_(posted)))) if posted else set()
        if form.validate() and form.save_sectors.data and _handle_triage(form, run, None, in_run):
            return redirect(url_for("analysis.sectors", run_id=run.id, zeigen=show, page=page.page))
        status = 400
    return render_template("analysis/sectors.html", run=run, rows=rows, page=page, form=form, show=show,
                           sectors=active_sectors(), sector_names=_sector_names(),
                           checked=set(form.ids.data or []) if request.method == "POST" else set()), status


# --- duplicates ---------------------------------------------------------------------------------------

@bp.get("/laeufe/<int:run_id>/duplikate")
@allow(STAFF)
def duplicates(run_id):
    run, redirect_response = _done_run_or_redirect(run_id)
    if redirect_response:
        return redirect_response
    return _duplicates_page(run, {})


def _duplicates_page(run, forms, status=200):
    groups = db.session.scalars(select(DuplicateGroup).where(DuplicateGroup.run_id == run.id)
                                .order_by(DuplicateGroup.resolved_at.is_not(None), DuplicateGroup.score.desc(),
                                          DuplicateGroup.id)).all()
    ids = {idea_id for group in groups for idea_id in group.idea_ids}
    ideas = {idea.id: idea for idea in db.session.scalars(select(Idea).where(Idea.id.in_(ids)))} if ids else {}
    for group in groups:
        if group.id not in forms:
            forms[group.id] = _merge_form(group, ideas, submitted=False)
    return render_template("analysis/duplicates.html", run=run, groups=groups, ideas=ideas, forms=forms), status


def _merge_form(group, ideas, submitted=True):
    """The merge form of one group; unsubmitted, it proposes the most supported idea as target."""
    prefix = f"g{group.id}-"
    form = MergeForm(prefix=prefix) if submitted else MergeForm(prefix=prefix, formdata=None)
    members = [ideas[idea_id] for idea_id in group.idea_ids if idea_id in ideas]
    choices = [SelectChoice(idea.id, f"{idea.id}: {idea.title}") for idea in members]
    form.target.choices = choices
    form.merge.choices = choices
    if not submitted:
        target = max(members, key=lambda idea: (idea.support_count + idea.dot_votes, -idea.id), default=None)
        form.target.data = getattr(target, "id", None)
        form.merge.data = [idea.id for idea in members if idea is not target and idea.status != "merged"]
        if target is not None:
            form.answer.data = _("Diese Idee schlägt dasselbe vor wie „%(title)s“ und wurde deshalb mit ihr "
                                 "zusammengeführt. Ihre Unterstützung zählt dort weiter.", title=target.title)
    return form


@bp.post("/laeufe/<int:run_id>/duplikate/<int:group_id>")
@allow(STAFF)
def merge(run_id, group_id):
    run, redirect_response = _done_run_or_redirect(run_id)
    if redirect_response:
        return redirect_response
    group = db.session.get(DuplicateGroup, group_id)
    if group is None or group.run_id != run.id:
        abort(404)
    ideas = {idea.id: idea for idea in db.session.scalars(select(Idea).where(Idea.id.in_(group.idea_ids)))}
    form = _merge_form(group, ideas)
    if form.validate():
        if group.resolved_at is not None:
            flash(_("Über diese Gruppe wurde bereits entschieden."), "error")
            return redirect(url_for("analysis.duplicates", run_id=run.id))
        try:
            if form.dismiss.data:
                services.dismiss_duplicates(run, group, current_user, form.answer.data)
                message = _("Die Gruppe ist als „keine Duplikate“ vermerkt.")
            else:
                target = ideas.get(form.target.data)
                if target is None:
                    raise IdeaError(_("Bitte wählen Sie die Zielidee."), "target")
                others = [ideas[idea_id] for idea_id in dict.fromkeys(form.merge.data or []) if idea_id in ideas]
                services.merge_duplicates(run, group, current_user, target, others, form.answer.data)
                message = ngettext("%(num)d Idee zusammengeführt.", "%(num)d Ideen zusammengeführt.", len(others))
        except IdeaError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("analysis.duplicates", run_id=run.id))
    return _duplicates_page(run, {group.id: form}, status=400)


# --- decisions and comparison --------------------------------------------------------------------------

@bp.get("/entscheidungen")
@allow(STAFF)
def decisions():
    page = db.paginate(select(TriageDecision).order_by(TriageDecision.id.desc()), page=page_number(),
                       per_page=DECISIONS_PER_PAGE, error_out=False)
    return render_template("analysis/decisions.html", page=page)


def _run_or_none(run_id):
    """The run with this id; None for a missing id or one beyond the database's integers."""
    return db.session.get(AnalysisRun, run_id) if run_id and 0 < run_id < 2 ** 31 else None


@bp.get("/vergleich")
@allow(STAFF)
def compare():
    runs = db.session.scalars(select(AnalysisRun).where(AnalysisRun.status == RunStatus.DONE.value)
                              .order_by(AnalysisRun.id.desc()).limit(100)).all()
    first, second = (_run_or_none(request.args.get(name, type=int)) for name in ("a", "b"))
    comparison = None
    if first is not None and second is not None and first.id != second.id and \
            first.status == second.status == RunStatus.DONE.value:
        comparison = services.compare_runs(first, second)
    return render_template("analysis/compare.html", runs=runs, first=first, second=second, comparison=comparison)
