"""The staff side of ideas, part 2: the moderation queue, hidden content, blocking
accounts, and the process settings (phases, fields of action, districts).

The rules live in services.py; these views collect input, call the service, commit
or roll back, and tell the person what happened in German.
"""
from datetime import timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_sqlalchemy.pagination import SelectPagination
from flask_wtf import FlaskForm
from sqlalchemy import func, literal_column, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, DateTimeLocalField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import NumberRange, Optional

from ..access import allow, safe_next
from ..audit.models import AuditEntry
from ..auth.models import User
from ..extensions import db
from ..forms import attach_error, max_length, page_number, plain_text, required, strip
from ..models import utcnow
from ..roles import ADMIN, STAFF
from . import services
from .forms import ReasonForm
from .models import PHASE_LABELS, Comment, District, Idea, Phase, Report, ReportReason, Sector
from .services import REFERENCE_NAME_MAX, REFERENCE_TEXT_MAX, IdeaError
from .staff_routes import bp

PER_PAGE = 25
NOTES_PER_TARGET = 5
USER_ITEMS = 10
LOCAL_ZONE = ZoneInfo("Europe/Berlin")
KIND_FILTERS = {"ideen": "idea", "kommentare": "comment"}


# --- forms -------------------------------------------------------------------------------------

class KeepForm(FlaskForm):
    reason = TextAreaField(_l("Anmerkung (freiwillig, nur im Protokoll)"),
                           validators=[Optional(), max_length(2000), plain_text], filters=[strip])


def _datetime_field(label):
    return DateTimeLocalField(label, format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
                              validators=[Optional()])


class PhasesForm(FlaskForm):
    collection_starts_at = _datetime_field(_l("Beginn der Ideensammlung"))
    collection_ends_at = _datetime_field(_l("Ende der Ideensammlung"))
    support_starts_at = _datetime_field(_l("Beginn der Unterstützungsphase"))
    support_ends_at = _datetime_field(_l("Ende der Unterstützungsphase"))
    submit = SubmitField(_l("Zeiträume speichern"))


class SectorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), max_length(REFERENCE_NAME_MAX), plain_text],
                       filters=[strip], render_kw={"maxlength": REFERENCE_NAME_MAX})
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), max_length(REFERENCE_TEXT_MAX),
                                                                plain_text],
                                filters=[strip], render_kw={"rows": 3, "maxlength": REFERENCE_TEXT_MAX},
                                description=_l("Was gehört in dieses Handlungsfeld? Hilft bei der Zuordnung "
                                               "und der Auswertung."))
    seed_terms = TextAreaField(_l("Typische Begriffe"), validators=[Optional(), max_length(REFERENCE_TEXT_MAX),
                                                                   plain_text],
                               filters=[strip], render_kw={"rows": 2, "maxlength": REFERENCE_TEXT_MAX},
                               description=_l("Durch Kommas getrennt, zum Beispiel: Radweg, Bus, Parkplatz. "
                                              "Die Auswertung schlägt damit Handlungsfelder vor."))
    position = IntegerField(_l("Position in Listen"),
                            validators=[Optional(), NumberRange(0, 10000, _l("Bitte eine Zahl von 0 bis 10000."))],
                            render_kw={"inputmode": "numeric", "min": 0, "max": 10000},
                            description=_l("Kleinere Zahlen stehen weiter oben. Leer: ans Ende."))
    active = BooleanField(_l("Aktiv (wird beim Einreichen angeboten)"), default=True)
    submit = SubmitField(_l("Speichern"))


class DistrictForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), max_length(REFERENCE_NAME_MAX), plain_text],
                       filters=[strip], render_kw={"maxlength": REFERENCE_NAME_MAX})
    submit = SubmitField(_l("Stadtteil hinzufügen"))


class DistrictEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), max_length(REFERENCE_NAME_MAX), plain_text],
                       filters=[strip], render_kw={"maxlength": REFERENCE_NAME_MAX})
    active = BooleanField(_l("Aktiv (wird beim Einreichen angeboten)"))
    submit = SubmitField(_l("Speichern"))


# --- helpers ----------------------------------------------------------------------------------

class RowPagination(SelectPagination):
    """Like db.paginate, but the items are result rows (several columns), not scalars."""

    def _query_items(self):
        query = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(query).all())


def _paginate_rows(query):
    return RowPagination(select=query, session=db.session, page=page_number(), per_page=PER_PAGE, error_out=False)



def _kind_filter():
    value = request.args.get("art", "")
    return value if value in KIND_FILTERS else ""


def _first_error(form):
    for name, errors in form.errors.items():
        field = getattr(form, name, None)
        label = field.label.text if field is not None and name != "csrf_token" else None
        return f"{label}: {errors[0]}" if label else errors[0]
    return ""



def _back(fallback="idea_staff.moderation"):
    return redirect(safe_next(request.form.get("next", ""), fallback))


def _load_targets(idea_ids, comment_ids):
    """Ideas and comments by id, with authors and (for comments) their idea: two queries."""
    ideas = {}
    if idea_ids:
        ideas = {idea.id: idea for idea in db.session.scalars(select(Idea).where(Idea.id.in_(idea_ids))).unique()}
    comments = {}
    if comment_ids:
        comments = {comment.id: comment for comment in db.session.scalars(
            select(Comment).options(joinedload(Comment.idea)).where(Comment.id.in_(comment_ids))).unique()}
    return ideas, comments


def _target_row(kind, target):
    idea = target if kind == "idea" else target.idea
    return SimpleNamespace(
        kind=kind, target=target, idea=idea, author=target.author, author_name=target.author_name,
        hidden=target.is_hidden, hidden_reason=target.hidden_reason, hidden_at=target.hidden_at,
        waiting=target.is_hidden and target.report_count > 0,
        text=target.text, title=idea.title,
        url=url_for("ideas.detail", idea_id=idea.id, _anchor=None if kind == "idea" else f"kommentar-{target.id}"),
        prefix=f"{'idee' if kind == 'idea' else 'kommentar'}-{target.id}",
        hide_url=url_for(f"idea_staff.hide_{kind}", **{f"{kind}_id": target.id}),
        restore_url=url_for(f"idea_staff.restore_{kind}", **{f"{kind}_id": target.id}),
        keep_url=url_for(f"idea_staff.keep_{kind}", **{f"{kind}_id": target.id}),
    )


def _open_report_details(idea_ids, comment_ids):
    """Reasons with counts and the newest notes of the open reports of the given targets."""
    open_reports = Report.resolved_at.is_(None)
    of_targets = or_(Report.idea_id.in_(idea_ids), Report.comment_id.in_(comment_ids))
    reasons = {}
    for idea_id, comment_id, reason, count in db.session.execute(
        select(Report.idea_id, Report.comment_id, Report.reason, func.count(Report.id))
        .where(open_reports, of_targets).group_by(Report.idea_id, Report.comment_id, Report.reason)
    ):
        reasons.setdefault((idea_id, comment_id), []).append((ReportReason(reason).label, count))
    for entries in reasons.values():
        entries.sort(key=lambda entry: (-entry[1], str(entry[0])))
    numbered = (
        select(Report.idea_id, Report.comment_id, Report.note, Report.created_at,
               func.row_number().over(partition_by=(Report.idea_id, Report.comment_id),
                                      order_by=(Report.created_at.desc(), Report.id.desc())).label("number"))
        .where(open_reports, of_targets, Report.note.is_not(None))
        .subquery()
    )
    notes = {}
    for row in db.session.execute(select(numbered).where(numbered.c.number <= NOTES_PER_TARGET)
                                  .order_by(numbered.c.created_at.desc())):
        notes.setdefault((row.idea_id, row.comment_id), []).append((row.note, row.created_at))
    return reasons, notes


# --- moderation queue --------------------------------------------------------------------------

@bp.route("/moderation")
@allow(STAFF)
def moderation():
    """Open reports, one row per reported idea or comment, oldest first."""
    kind = _kind_filter()
    first_report = func.min(Report.created_at)
    query = (
        select(Report.idea_id, Report.comment_id, func.count(Report.id).label("open_count"),
               func.count(Report.note).label("note_count"), first_report.label("first_at"),
               func.max(Report.created_at).label("last_at"))
        .where(Report.resolved_at.is_(None))
        .group_by(Report.idea_id, Report.comment_id)
        .order_by(first_report, Report.idea_id, Report.comment_id)
    )
    if kind == "ideen":
        query = query.where(Report.idea_id.is_not(None))
    elif kind == "kommentare":
        query = query.where(Report.comment_id.is_not(None))
    page = _paginate_rows(query)
    idea_ids = [row.idea_id for row in page.items if row.idea_id is not None]
    comment_ids = [row.comment_id for row in page.items if row.comment_id is not None]
    ideas, comments = _load_targets(idea_ids, comment_ids)
    reasons, notes = _open_report_details(idea_ids, comment_ids) if page.items else ({}, {})
    rows = []
    for item in page.items:
        target = ideas.get(item.idea_id) if item.idea_id is not None else comments.get(item.comment_id)
        if target is None:  # deleted between the two queries
            continue
        row = _target_row("idea" if item.idea_id is not None else "comment", target)
        key = (item.idea_id, item.comment_id)
        row.open_count, row.first_at, row.last_at = item.open_count, item.first_at, item.last_at
        row.reasons, row.notes = reasons.get(key, []), notes.get(key, [])
        row.more_notes = item.note_count - len(row.notes)
        rows.append(row)
    return render_template("idea_staff/moderation.html", page=page, rows=rows, kind=kind,
                           keep_form=KeepForm(), reason_form=ReasonForm())


@bp.route("/moderation/ausgeblendet")
@allow(STAFF)
def moderation_hidden():
    """Hidden ideas and comments, most recently hidden first, with reason and who hid them."""
    kind = _kind_filter()
    parts = []
    if kind in ("", "ideen"):
        parts.append(select(literal_column("'idea'").label("kind"), Idea.id.label("id"),
                            Idea.hidden_at.label("hidden_at")).where(Idea.hidden_at.is_not(None)))
    if kind in ("", "kommentare"):
        parts.append(select(literal_column("'comment'").label("kind"), Comment.id.label("id"),
                            Comment.hidden_at.label("hidden_at")).where(Comment.hidden_at.is_not(None)))
    hidden = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    query = select(hidden.c.kind, hidden.c.id, hidden.c.hidden_at).order_by(
        hidden.c.hidden_at.desc(), hidden.c.kind, hidden.c.id.desc())
    page = _paginate_rows(query)
    idea_ids = [row.id for row in page.items if row.kind == "idea"]
    comment_ids = [row.id for row in page.items if row.kind == "comment"]
    ideas, comments = _load_targets(idea_ids, comment_ids)
    deciders = _hidden_by(idea_ids, comment_ids)
    rows = []
    for item in page.items:
        target = (ideas if item.kind == "idea" else comments).get(item.id)
        if target is None or not target.is_hidden:
            continue
        row = _target_row(item.kind, target)
        row.decision = deciders.get((item.kind, item.id))
        rows.append(row)
    return render_template("idea_staff/moderation_hidden.html", page=page, rows=rows, kind=kind,
                           reason_form=ReasonForm())


def _hidden_by(idea_ids, comment_ids):
    """The latest hiding decision (audit entry) per hidden idea and comment on the page."""
    conditions = []
    if idea_ids:
        conditions.append((AuditEntry.object_type == "idea")
                          & AuditEntry.object_id.in_([str(i) for i in idea_ids])
                          & AuditEntry.action.in_(["idea.hidden", "idea.hide_confirmed"]))
    if comment_ids:
        conditions.append((AuditEntry.object_type == "comment")
                          & AuditEntry.object_id.in_([str(i) for i in comment_ids])
                          & AuditEntry.action.in_(["comment.hidden", "comment.hide_confirmed"]))
    if not conditions:
        return {}
    decisions = {}
    for entry in db.session.scalars(select(AuditEntry).where(or_(*conditions))
                                    .order_by(AuditEntry.created_at, AuditEntry.id)):
        decisions[(entry.object_type, int(entry.object_id))] = entry  # the latest wins
    return decisions


def _moderate(target, what, action):
    """Run one moderation decision on an idea or comment and go back to the list."""
    form = KeepForm() if action == "keep" else ReasonForm()
    if not form.validate_on_submit():
        flash(_first_error(form) or _("Bitte geben Sie eine Begründung an."), "error")
        return _back()
    was_hidden = target.is_hidden
    try:
        if action == "hide":
            services.hide_or_confirm(target, current_user, form.reason.data)
        elif action == "restore":
            services.restore(target, current_user, form.reason.data)
        else:
            services.dismiss_reports(target, current_user, form.reason.data)
    except IdeaError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back()
    db.session.commit()
    if action == "hide" and was_hidden:
        message = _("Die Ausblendung (%(what)s Nr. %(id)d) ist bestätigt; die Autorin oder der Autor wurde "
                    "benachrichtigt.", what=what, id=target.id)
    elif action == "hide":
        message = _("%(what)s Nr. %(id)d ist ausgeblendet; die Autorin oder der Autor wurde benachrichtigt.",
                    what=what, id=target.id)
    elif action == "restore":
        message = _("%(what)s Nr. %(id)d ist wieder sichtbar; die Autorin oder der Autor wurde benachrichtigt.",
                    what=what, id=target.id)
    else:
        message = _("Die Meldungen zu %(what)s Nr. %(id)d sind geschlossen; der Beitrag bleibt sichtbar.",
                    what=what, id=target.id)
    flash(message, "success")
    return _back()


@bp.route("/moderation/ideen/<int:idea_id>/ausblenden", methods=["POST"])
@allow(STAFF)
def hide_idea(idea_id):
    return _moderate(db.get_or_404(Idea, idea_id), _("Idee"), "hide")


@bp.route("/moderation/ideen/<int:idea_id>/einblenden", methods=["POST"])
@allow(STAFF)
def restore_idea(idea_id):
    return _moderate(db.get_or_404(Idea, idea_id), _("Idee"), "restore")


@bp.route("/moderation/ideen/<int:idea_id>/behalten", methods=["POST"])
@allow(STAFF)
def keep_idea(idea_id):
    return _moderate(db.get_or_404(Idea, idea_id), _("Idee"), "keep")


@bp.route("/moderation/kommentare/<int:comment_id>/ausblenden", methods=["POST"])
@allow(STAFF)
def hide_comment(comment_id):
    return _moderate(db.get_or_404(Comment, comment_id), _("Kommentar"), "hide")


@bp.route("/moderation/kommentare/<int:comment_id>/einblenden", methods=["POST"])
@allow(STAFF)
def restore_comment(comment_id):
    return _moderate(db.get_or_404(Comment, comment_id), _("Kommentar"), "restore")


@bp.route("/moderation/kommentare/<int:comment_id>/behalten", methods=["POST"])
@allow(STAFF)
def keep_comment(comment_id):
    return _moderate(db.get_or_404(Comment, comment_id), _("Kommentar"), "keep")


# --- blocking accounts -------------------------------------------------------------------------

@bp.route("/moderation/benutzer/<int:user_id>", methods=["GET", "POST"])
@allow(STAFF)
def moderate_user(user_id):
    person = db.get_or_404(User, user_id)
    if person.is_deleted:
        abort(404)
    form = ReasonForm()
    if request.method == "POST":
        action = request.form.get("action")
        if form.validate_on_submit():
            try:
                if action == "block":
                    services.block_user(person, current_user, form.reason.data)
                elif action == "unblock":
                    services.unblock_user(person, current_user, form.reason.data)
                else:
                    raise IdeaError(_("Unbekannte Aktion."))
            except IdeaError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                db.session.commit()
                if action == "block":
                    flash(_("%(name)s ist für Beiträge gesperrt und wurde benachrichtigt.",
                            name=person.public_name), "success")
                else:
                    flash(_("%(name)s kann wieder Beiträge schreiben und wurde benachrichtigt.",
                            name=person.public_name), "success")
                return redirect(url_for("idea_staff.moderate_user", user_id=person.id))
    return render_template("idea_staff/moderation_user.html", person=person, form=form,
                           may_block=person.role not in ("staff", "admin") and person.id != current_user.id,
                           **_user_overview(person))


def _user_overview(person):
    """Counts, open reports and the flagged contributions of one person: a few bounded queries."""
    idea_count, hidden_ideas = db.session.execute(
        select(func.count(Idea.id), func.count(Idea.hidden_at)).where(Idea.author_id == person.id)).one()
    comment_count, hidden_comments = db.session.execute(
        select(func.count(Comment.id), func.count(Comment.hidden_at)).where(Comment.author_id == person.id)).one()
    open_reports = Report.resolved_at.is_(None)
    reports_on_ideas = db.session.scalar(
        select(func.count(Report.id)).join(Idea, Report.idea_id == Idea.id)
        .where(open_reports, Idea.author_id == person.id))
    reports_on_comments = db.session.scalar(
        select(func.count(Report.id)).join(Comment, Report.comment_id == Comment.id)
        .where(open_reports, Comment.author_id == person.id))
    flagged_ideas = db.session.scalars(
        select(Idea).where(Idea.author_id == person.id, or_(Idea.report_count > 0, Idea.hidden_at.is_not(None)))
        .order_by(Idea.updated_at.desc(), Idea.id.desc()).limit(USER_ITEMS)).unique().all()
    flagged_comments = db.session.scalars(
        select(Comment).options(joinedload(Comment.idea))
        .where(Comment.author_id == person.id, or_(Comment.report_count > 0, Comment.hidden_at.is_not(None)))
        .order_by(Comment.updated_at.desc(), Comment.id.desc()).limit(USER_ITEMS)).unique().all()
    flagged = [_target_row("idea", idea) for idea in flagged_ideas]
    flagged += [_target_row("comment", comment) for comment in flagged_comments]
    flagged.sort(key=lambda row: row.target.updated_at, reverse=True)
    for row in flagged:
        row.open_count = row.target.report_count
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "user", AuditEntry.object_id == str(person.id),
                                 AuditEntry.action.in_(["user.blocked", "user.unblocked"]))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(20)).all()
    return {
        "idea_count": idea_count, "hidden_ideas": hidden_ideas,
        "comment_count": comment_count, "hidden_comments": hidden_comments,
        "open_reports": (reports_on_ideas or 0) + (reports_on_comments or 0),
        "flagged": flagged, "history": history,
    }


# --- phases ------------------------------------------------------------------------------------

PHASE_KINDS = (Phase.COLLECTION, Phase.SUPPORT)


class NonexistentLocalTime(ValueError):
    pass


def to_utc(local):
    """A naive Europe/Berlin wall-clock time from a datetime-local input as aware UTC."""
    if local is None:
        return None
    aware = local.replace(tzinfo=LOCAL_ZONE)
    utc = aware.astimezone(timezone.utc)
    if utc.astimezone(LOCAL_ZONE).replace(tzinfo=None) != local:
        raise NonexistentLocalTime(local)
    return utc


def to_local(value):
    """Aware UTC as the naive Europe/Berlin time a datetime-local input shows."""
    return value.astimezone(LOCAL_ZONE).replace(tzinfo=None, second=0, microsecond=0) if value else None


def phase_state(phase, now):
    if phase is None or phase.starts_at is None:
        return "unset", _("nicht festgelegt")
    if phase.is_open(now):
        return "open", _("geöffnet")
    if now < phase.starts_at:
        return "upcoming", _("geschlossen – beginnt noch")
    return "ended", _("geschlossen – beendet")


@bp.route("/phasen", methods=["GET", "POST"])
@allow(ADMIN)
def phases():
    current = {kind: services.get_phase(kind) for kind in PHASE_KINDS}
    form = PhasesForm()
    if request.method == "GET":
        for kind, phase in current.items():
            form[f"{kind}_starts_at"].data = to_local(phase.starts_at) if phase else None
            form[f"{kind}_ends_at"].data = to_local(phase.ends_at) if phase else None
    if form.validate_on_submit():
        values, valid = {}, True
        for kind in PHASE_KINDS:
            dates = []
            for edge in ("starts_at", "ends_at"):
                field = form[f"{kind}_{edge}"]
                try:
                    dates.append(to_utc(field.data))
                except NonexistentLocalTime:
                    field.errors = list(field.errors) + [
                        _("Diese Uhrzeit gibt es wegen der Umstellung auf Sommerzeit nicht.")]
                    valid = False
            values[kind] = dates
        if valid:
            changed, failed = [], None
            for kind in PHASE_KINDS:
                try:
                    if services.set_phase(kind, *values[kind], actor=current_user):
                        changed.append(kind)
                except IdeaError as error:
                    failed = (kind, error)
                    break
            if failed:
                db.session.rollback()
                kind, error = failed
                attach_error(form, error, prefix=f"{kind}_")
            else:
                db.session.commit()
                if changed:
                    flash(_("Gespeichert: %(phases)s.", phases=", ".join(str(PHASE_LABELS[k]) for k in changed)),
                          "success")
                else:
                    flash(_("Die Zeiträume sind unverändert."), "info")
                return redirect(url_for("idea_staff.phases"))
        current = {kind: services.get_phase(kind) for kind in PHASE_KINDS}
    now = utcnow()
    rows = [SimpleNamespace(kind=kind, label=PHASE_LABELS[kind], phase=current[kind],
                            state=phase_state(current[kind], now)) for kind in PHASE_KINDS]
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "phase.changed")
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(20)).all()
    return render_template("idea_staff/phases.html", form=form, rows=rows, history=history)


# --- fields of action and districts ------------------------------------------------------------

def _idea_counts(column):
    return dict(db.session.execute(select(column, func.count(Idea.id)).group_by(column)).all())


def _move(entry, fallback):
    form = FlaskForm()
    direction = {"hoch": -1, "runter": 1}.get(request.form.get("richtung", ""))
    if form.validate_on_submit() and direction is not None:
        try:
            moved = services.move_reference(entry, current_user, direction)
        except IdeaError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            if moved:
                flash(_("„%(name)s“ steht jetzt an Position %(position)d.", name=entry.name,
                        position=entry.position), "success")
            else:
                flash(_("„%(name)s“ steht bereits am Rand der Liste.", name=entry.name), "info")
    else:
        flash(_("Unbekannte Richtung."), "error")
    return redirect(url_for(fallback, _anchor=f"eintrag-{entry.id}"))


def _save(work, form):
    """Run a reference-data change; on a broken rule (or a race on the unique name) show it."""
    try:
        result = work()
        db.session.commit()
        return result, True
    except IdeaError as error:
        db.session.rollback()
        attach_error(form, error)
    except IntegrityError:
        db.session.rollback()
        form.name.errors = list(form.name.errors) + [_("Dieser Name ist bereits vergeben.")]
    return None, False


@bp.route("/handlungsfelder", methods=["GET", "POST"])
@allow(ADMIN)
def sectors():
    form = SectorForm()
    if form.validate_on_submit():
        sector, saved = _save(lambda: services.create_sector(
            current_user, form.name.data, form.description.data, form.seed_terms.data, form.position.data,
            form.active.data), form)
        if saved:
            flash(_("Das Handlungsfeld „%(name)s“ ist angelegt.", name=sector.name), "success")
            return redirect(url_for("idea_staff.sectors"))
    entries = db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)).all()
    return render_template("idea_staff/sectors.html", form=form, entries=entries,
                           counts=_idea_counts(Idea.sector_id), move_form=FlaskForm())


@bp.route("/handlungsfelder/<int:sector_id>", methods=["GET", "POST"])
@allow(ADMIN)
def edit_sector(sector_id):
    sector = db.get_or_404(Sector, sector_id)
    form = SectorForm(obj=sector if request.method == "GET" else None)
    if form.validate_on_submit():
        changed, saved = _save(lambda: services.update_sector(
            sector, current_user, name=form.name.data, description=form.description.data,
            seed_terms=form.seed_terms.data, position=form.position.data, active=form.active.data), form)
        if saved:
            flash(_("Das Handlungsfeld „%(name)s“ ist gespeichert.", name=sector.name) if changed
                  else _("Keine Änderungen."), "success" if changed else "info")
            return redirect(url_for("idea_staff.sectors", _anchor=f"eintrag-{sector.id}"))
    count = db.session.scalar(select(func.count(Idea.id)).where(Idea.sector_id == sector.id))
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "sector", AuditEntry.object_id == str(sector.id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(20)).all()
    return render_template("idea_staff/sectors.html", form=form, entry=sector, idea_count=count, history=history)


@bp.route("/handlungsfelder/<int:sector_id>/verschieben", methods=["POST"])
@allow(ADMIN)
def move_sector(sector_id):
    return _move(db.get_or_404(Sector, sector_id), "idea_staff.sectors")


@bp.route("/stadtteile", methods=["GET", "POST"])
@allow(ADMIN)
def districts():
    form = DistrictForm()
    if form.validate_on_submit():
        district, saved = _save(lambda: services.create_district(current_user, form.name.data), form)
        if saved:
            flash(_("Der Stadtteil „%(name)s“ ist angelegt (Kürzel: %(code)s).", name=district.name,
                    code=district.code), "success")
            return redirect(url_for("idea_staff.districts"))
    entries = db.session.scalars(select(District).order_by(District.position, District.name)).all()
    return render_template("idea_staff/districts.html", form=form, entries=entries,
                           counts=_idea_counts(Idea.district_id), move_form=FlaskForm())


@bp.route("/stadtteile/<int:district_id>", methods=["GET", "POST"])
@allow(ADMIN)
def edit_district(district_id):
    district = db.get_or_404(District, district_id)
    form = DistrictEditForm(obj=district if request.method == "GET" else None)
    if form.validate_on_submit():
        changed, saved = _save(lambda: services.update_district(
            district, current_user, name=form.name.data, active=form.active.data), form)
        if saved:
            flash(_("Der Stadtteil „%(name)s“ ist gespeichert.", name=district.name) if changed
                  else _("Keine Änderungen."), "success" if changed else "info")
            return redirect(url_for("idea_staff.districts", _anchor=f"eintrag-{district.id}"))
    count = db.session.scalar(select(func.count(Idea.id)).where(Idea.district_id == district.id))
    history = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "district", AuditEntry.object_id == str(district.id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(20)).all()
    return render_template("idea_staff/districts.html", form=form, entry=district, idea_count=count,
                           history=history)


@bp.route("/stadtteile/<int:district_id>/verschieben", methods=["POST"])
@allow(ADMIN)
def move_district(district_id):
    return _move(db.get_or_404(District, district_id), "idea_staff.districts")
