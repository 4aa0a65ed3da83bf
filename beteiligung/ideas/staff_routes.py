"""The staff side of ideas: triage, answers, analog input, moderation, phases."""
import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..access import allow
from ..audit.services import entries_for, record
from ..extensions import db
from ..forms import attach_error, max_length, page_number, plain_text, required, strip
from ..roles import STAFF
from . import services
from .forms import UNKNOWN_SECTOR, AnalogIdeaForm, BulkStatusForm, IdeaStaffForm, ReasonForm, StatusForm
from .models import SOURCE_LABELS, STATUS_LABELS, TEXT_MAX, AnswerTemplate, Idea, Status
from .queries import SORT_LABELS, build_query, parse_filters
from .services import IdeaError

bp = Blueprint("idea_staff", __name__, url_prefix="/verwaltung")

PER_PAGE = 50
RECENT_ENTRIES = 10
ENTRY_KEY = "analog_entry"  # session: source, event, facilitator and district kept between entries
USED_TOKENS_KEY = "analog_entry_tokens"  # session: one-time form tokens already saved -> idea id
USED_TOKENS_KEPT = 20




def _add_error(field, message):
    field.errors = list(field.errors) + [message]


# --- answers: shared by the triage list and the single idea ---------------------------------

def _prepare_status_form(form, templates):
    """Offer the answer templates; each option carries its text for staff.js."""
    form.template.choices = [SelectChoice("", _("keine Vorlage"))] + [
        SelectChoice(str(template.id), template.title,
                     render_kw={"data-text": template.text, "data-status": template.status or ""})
        for template in templates
    ]
    form.template.render_kw = {"data-answer-template": "",
                               "data-replace-question": _("Den bereits geschriebenen Antworttext durch die "
                                                          "Vorlage ersetzen?")}
    form.template.description = _("Füllt das Antwortfeld mit dem Text der Vorlage; ohne JavaScript wird die "
                                  "Vorlage verwendet, wenn das Antwortfeld leer bleibt.")


def _answer_from(form, templates):
    """The answer text: as written, or the chosen template's text if the field was left empty.

    Returns None (and marks the form) if the chosen template does not exist any more.
    """
    answer = form.answer.data or ""
    choice = (form.template.data or "").strip()
    if choice:
        template = next((t for t in templates if str(t.id) == choice), None)
        if template is None:
            _add_error(form.template, _("Diese Vorlage gibt es nicht mehr; bitte wählen Sie eine andere."))
            return None
        if not answer.strip():
            answer = template.text
    return answer


def _merge_target(form):
    """(ok, idea): the idea named in `merged_into`, if any; marks the form if it does not exist."""
    number = form.merged_into.data
    if number is None:
        return True, None
    target = db.session.get(Idea, number)
    if target is None:
        _add_error(form.merged_into, _("Es gibt keine Idee mit der Nummer %(id)d.", id=number))
        return False, None
    return True, target


# --- triage list ---------------------------------------------------------------------------

def _triage_filters():
    filters = parse_filters(request.args, default_sort="newest")
    if request.args.get("unassigned") == "1":
        filters.unassigned_sector = True
        filters.sector = None
        filters.errors.pop("sector", None)
    hidden_only = request.args.get("hidden") == "1"
    return filters, hidden_only


def _list_args(filters, hidden_only):
    args = filters.as_args()
    if hidden_only:
        args["hidden"] = "1"
    return args


@bp.route("/ideen", methods=["GET", "POST"])
@allow(STAFF)
def ideas():
    from .routes import visitor_seed

    filters, hidden_only = _triage_filters()
    args = _list_args(filters, hidden_only)
    templates = services.answer_templates()
    form = BulkStatusForm()
    _prepare_status_form(form, templates)
    # No preselected status: a careless click must not answer a whole selection.
    form.status.choices = [SelectChoice("", _("Bitte wählen"))] + list(form.status.choices)
    if form.validate_on_submit():
        if _bulk_answer(form, templates):
            return redirect(url_for("idea_staff.ideas", **args))
    query = build_query(filters, include_hidden=True, seed=visitor_seed())
    if hidden_only:
        query = query.where(Idea.hidden_at.is_not(None))
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    selected = set(form.ids.data or []) if request.method == "POST" else set()
    return render_template(
        "idea_staff/ideas.html", page=page, filters=filters, hidden_only=hidden_only, args=args, form=form,
        selected=selected, sectors=services.active_sectors(), districts=services.active_districts(),
        statuses=STATUS_LABELS, sources=SOURCE_LABELS, sorts=SORT_LABELS,
    )


def _bulk_answer(form, templates):
    """Answer the checked ideas; True when saved. All or nothing."""
    ids = sorted(set(form.ids.data or []))
    if not ids:
        _add_error(form.ids, _("Bitte wählen Sie in der Tabelle mindestens eine Idee aus."))
        return False
    chosen = db.session.scalars(select(Idea).where(Idea.id.in_(ids)).order_by(Idea.id)).all()
    missing = sorted(set(ids) - {idea.id for idea in chosen})
    if missing:
        _add_error(form.ids, _("Diese Ideen gibt es nicht mehr: %(ids)s. Es wurde nichts geändert.",
                               ids=", ".join(str(number) for number in missing)))
        return False
    answer = _answer_from(form, templates)
    found, target = _merge_target(form)
    if answer is None or not found:
        return False
    try:
        changes = services.bulk_change_status(chosen, current_user, form.status.data, answer, merged_into=target)
    except IdeaError as error:
        db.session.rollback()
        field = getattr(form, error.field, None) if error.field else None
        _add_error(field if field is not None else form.ids,
                   _("%(message)s Es wurde keine Idee geändert.", message=error.message))
        return False
    db.session.commit()
    status = Status(form.status.data)
    if changes:
        flash(ngettext("%(num)d Idee beantwortet: Status „%(status)s“. Die Autorin oder der Autor und die "
                       "Unterstützenden wurden benachrichtigt.",
                       "%(num)d Ideen beantwortet: Status „%(status)s“. Autorinnen, Autoren und "
                       "Unterstützende wurden benachrichtigt.", len(changes), status=status.label), "success")
    unchanged = len(chosen) - len(changes)
    if unchanged:
        flash(ngettext("%(num)d Idee hatte diesen Status und diese Antwort bereits und blieb unverändert.",
                       "%(num)d Ideen hatten diesen Status und diese Antwort bereits und blieben unverändert.",
                       unchanged), "info")
    return True


# --- one idea ----------------------------------------------------------------------------------

def _status_form(idea, templates, submitted):
    if submitted:
        form = StatusForm()
    else:
        default = idea.status if idea.status != Status.SUBMITTED.value else Status.IN_REVIEW.value
        form = StatusForm(formdata=None, status=default, merged_into=idea.merged_into_id)
    _prepare_status_form(form, templates)
    return form


def _staff_form(idea, submitted):
    if submitted:
        form = IdeaStaffForm()
    else:
        form = IdeaStaffForm(formdata=None, sector=idea.sector.code if idea.sector else UNKNOWN_SECTOR,
                             dot_votes=idea.dot_votes)
    if idea.sector is not None and not idea.sector.active:
        form.sector.choices.append((idea.sector.code, _("%(name)s (nicht mehr aktiv)", name=idea.sector.name)))
    return form


@bp.route("/ideen/<int:idea_id>", methods=["GET", "POST"])
@allow(STAFF)
def idea(idea_id):
    idea = db.get_or_404(Idea, idea_id)
    which = request.form.get("form") if request.method == "POST" else None
    templates = services.answer_templates()
    status_form = _status_form(idea, templates, which == "status")
    staff_form = _staff_form(idea, which == "assign")
    if which == "status" and status_form.validate_on_submit():
        if _set_status(idea, status_form, templates):
            return redirect(url_for("idea_staff.idea", idea_id=idea.id))
    elif which == "assign" and staff_form.validate_on_submit():
        if _assign(idea, staff_form):
            return redirect(url_for("idea_staff.idea", idea_id=idea.id))
    elif request.method == "POST" and which not in ("status", "assign"):
        flash(_("Unbekanntes Formular; es wurde nichts geändert."), "error")
    merged = db.session.scalars(select(Idea).where(Idea.merged_into_id == idea.id).order_by(Idea.id)).all()
    return render_template(
        "idea_staff/idea.html", idea=idea, status_form=status_form, staff_form=staff_form,
        history=services.status_history(idea), entries=entries_for("idea", idea.id), merged=merged,
        reason_form=ReasonForm(formdata=None), status_label=_status_label,
    )


def _status_label(value):
    try:
        return Status(value).label
    except ValueError:
        return value


def _set_status(idea, form, templates):
    answer = _answer_from(form, templates)
    found, target = _merge_target(form)
    if answer is None or not found:
        return False
    try:
        change = services.change_status(idea, current_user, form.status.data, answer, merged_into=target)
    except IdeaError as error:
        db.session.rollback()
        attach_error(form, error)
        return False
    db.session.commit()
    if change is None:
        flash(_("Status und Antwort waren bereits so gespeichert; niemand wurde benachrichtigt."), "info")
    else:
        flash(_("Status „%(status)s“ gespeichert. Die Antwort ist öffentlich; die Autorin oder der Autor "
                "und die Unterstützenden wurden benachrichtigt.", status=idea.status_enum.label), "success")
    return True


def _assign(idea, form):
    code = form.sector.data
    sector = None if code == UNKNOWN_SECTOR else services.find_sector(code)
    if code != UNKNOWN_SECTOR and sector is None:
        _add_error(form.sector, _("Unbekanntes Handlungsfeld."))
        return False
    try:
        changed = services.assign_sector(idea, current_user, sector)
        if form.dot_votes.data is not None:
            changed = services.set_dot_votes(idea, current_user, form.dot_votes.data) or changed
    except IdeaError as error:
        db.session.rollback()
        attach_error(form, error)
        return False
    db.session.commit()
    flash(_("Zuordnung gespeichert.") if changed else _("Keine Änderung."), "success" if changed else "info")
    return True


# --- analog input ----------------------------------------------------------------------------------

def _valid_token(token):
    try:
        return str(uuid.UUID(token)) == token
    except (ValueError, TypeError, AttributeError):
        return False


def _remember_entry(form, token, idea):
    session[ENTRY_KEY] = {"source": form.source.data, "event_name": form.event_name.data or "",
                          "facilitator": form.facilitator.data or "", "district": form.district.data or ""}
    used = dict(session.get(USED_TOKENS_KEY) or {})
    used[token] = idea.id
    session[USED_TOKENS_KEY] = dict(list(used.items())[-USED_TOKENS_KEPT:])


def _already_saved(token):
    """The id of the idea saved with this form token, from the session or the database."""
    used = session.get(USED_TOKENS_KEY) or {}
    if token in used:
        return used[token]
    return services.idea_entered_with_token(current_user, token)


@bp.route("/ideen/erfassen", methods=["GET", "POST"])
@allow(STAFF)
def enter():
    remembered = session.get(ENTRY_KEY) or {}
    form = AnalogIdeaForm()
    if request.method == "GET":
        for name in ("source", "event_name", "facilitator", "district"):
            if remembered.get(name):
                getattr(form, name).data = remembered[name]
        form.dot_votes.data = 0
    if form.validate_on_submit():
        token = request.form.get("entry_token", "")
        if not _valid_token(token):
            flash(_("Das Formular wurde unvollständig übertragen. Bitte prüfen Sie die Angaben und speichern Sie "
                    "erneut."), "error")
        else:
            existing = _already_saved(token)
            if existing is not None:
                flash(_("Diese Karte ist bereits gespeichert (Idee Nr. %(id)d); es wurde keine zweite Idee "
                        "angelegt.", id=existing), "info")
                return redirect(url_for("idea_staff.enter"))
            saved = _save_entry(form, token)
            if saved is not None:
                _remember_entry(form, token, saved)
                flash(_("Gespeichert: Idee Nr. %(id)d „%(title)s“ mit %(dots)d Klebepunkten. "
                        "Die nächste Karte bitte.", id=saved.id, title=saved.title, dots=saved.dot_votes),
                      "success")
                return redirect(url_for("idea_staff.enter"))
    event_name = form.event_name.data or remembered.get("event_name") or ""
    recent, totals = [], (0, 0)
    if event_name:
        recent = db.session.scalars(select(Idea).where(Idea.event_name == event_name)
                                    .order_by(Idea.created_at.desc(), Idea.id.desc()).limit(RECENT_ENTRIES)).all()
        totals = db.session.execute(select(func.count(Idea.id), func.coalesce(func.sum(Idea.dot_votes), 0))
                                    .where(Idea.event_name == event_name)).one()
    if not form.errors:  # with errors, the error summary takes the focus
        first = form.title if form.event_name.data else form.event_name
        first.render_kw = {**(first.render_kw or {}), "autofocus": True}
    return render_template("idea_staff/enter.html", form=form, token=str(uuid.uuid4()), recent=recent,
                           event_name=event_name, totals=totals)


def _save_entry(form, token):
    sector = None if form.sector.data == UNKNOWN_SECTOR else services.find_sector(form.sector.data)
    if form.sector.data != UNKNOWN_SECTOR and sector is None:
        _add_error(form.sector, _("Unbekanntes Handlungsfeld."))
        return None
    try:
        idea = services.create_idea(
            None, form.title.data, form.text.data, sector=sector, district=services.find_district(form.district.data),
            source=form.source.data, entered_by=current_user._get_current_object(), event_name=form.event_name.data,
            facilitator=form.facilitator.data, dot_votes=form.dot_votes.data or 0, form_token=token,
        )
    except IdeaError as error:
        db.session.rollback()
        attach_error(form, error)
        return None
    db.session.commit()
    return idea


# --- full export ---------------------------------------------------------------------------------

@bp.route("/ideen/export.<fmt>")
@allow(STAFF)
def export(fmt):
    """Everything about the ideas matching the filters, with personal data, for the administration."""
    from .exporting import FORMATS, MIMETYPES, export as build_export
    from ..models import utcnow

    if fmt not in FORMATS:
        abort(404)
    filters, _hidden_only = _triage_filters()
    data = build_export(fmt, full=True, filters=filters)
    record("idea.exported", actor=current_user, object_type="idea",
           details={"format": fmt, "full": True, "filters": filters.as_args()})
    db.session.commit()
    response = current_app.response_class(data, mimetype=MIMETYPES[fmt])
    filename = f"ideen-vollstaendig-{utcnow():%Y-%m-%d}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # personal data
    return response


# --- answer templates -----------------------------------------------------------------------------

class AnswerTemplateForm(FlaskForm):
    title = StringField(_l("Titel der Vorlage"),
                        validators=[required(), max_length(services.ANSWER_TEMPLATE_TITLE_MAX), plain_text],
                        filters=[strip], render_kw={"maxlength": services.ANSWER_TEMPLATE_TITLE_MAX},
                        description=_l("Nur für die Verwaltung sichtbar, z. B. „Bundesrecht – nicht zuständig“."))
    status = SelectField(_l("Passt zum Status"),
                         choices=[SelectChoice("", _l("zu jedem Status"))]
                         + [SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()
                            if s is not Status.SUBMITTED],
                         description=_l("Beim Auswählen der Vorlage wird dieser Status vorgeschlagen."))
    text = TextAreaField(_l("Antworttext"), validators=[required(), max_length(TEXT_MAX), plain_text],
                         filters=[strip], render_kw={"rows": 8, "maxlength": TEXT_MAX},
                         description=_l("Öffentlich sichtbar als Antwort. Möglich sind **fett**, *kursiv*, "
                                        "Listen mit „- “ und Links."))
    submit = SubmitField(_l("Vorlage speichern"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Vorlage löschen"))


@bp.route("/antwortvorlagen", methods=["GET", "POST"])
@allow(STAFF)
def answer_templates():
    form = AnswerTemplateForm()
    if form.validate_on_submit():
        try:
            template = services.create_answer_template(current_user, form.title.data, form.text.data,
                                                       form.status.data or None)
        except IdeaError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Die Vorlage „%(title)s“ ist angelegt.", title=template.title), "success")
            return redirect(url_for("idea_staff.answer_templates"))
    return render_template("idea_staff/answer_templates.html", form=form, templates=services.answer_templates(),
                           status_label=_status_label)


@bp.route("/antwortvorlagen/<int:template_id>", methods=["GET", "POST"])
@allow(STAFF)
def answer_template(template_id):
    template = db.get_or_404(AnswerTemplate, template_id)
    form = AnswerTemplateForm(obj=template if request.method == "GET" else None)
    if request.method == "GET":
        form.status.data = template.status or ""
    if form.validate_on_submit():
        try:
            changed = services.update_answer_template(template, current_user, form.title.data, form.text.data,
                                                      form.status.data or None)
        except IdeaError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Die Vorlage ist gespeichert.") if changed else _("Keine Änderung."),
                  "success" if changed else "info")
            return redirect(url_for("idea_staff.answer_templates"))
    return render_template("idea_staff/answer_template.html", form=form, template=template,
                           delete_form=DeleteForm(formdata=None),
                           history=entries_for("answer_template", template.id))


@bp.route("/antwortvorlagen/<int:template_id>/loeschen", methods=["POST"])
@allow(STAFF)
def delete_answer_template(template_id):
    template = db.get_or_404(AnswerTemplate, template_id)
    title = template.title
    services.delete_answer_template(template, current_user)
    db.session.commit()
    flash(_("Die Vorlage „%(title)s“ ist gelöscht. Bereits gegebene Antworten bleiben unverändert.", title=title),
          "success")
    return redirect(url_for("idea_staff.answer_templates"))


from . import import_routes  # noqa: E402,F401  (the import pages, on this blueprint)
from . import moderation_routes  # noqa: E402,F401  (moderation and process settings, on this blueprint)
