"""Staff pages for writing measure sheets: the list, one form per sheet, monitoring, linked ideas, deleting.

Every write goes through `services` (save_sheet, link_ideas) or, for the yearly
monitoring values, through `_store_values` here; each request commits once and
nothing is written when any input is wrong.
"""
import re
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from ..access import allow
from ..audit.services import record
from ..extensions import db
from ..forms import attach_error, page_number
from ..ideas import search
from ..ideas.models import Idea, Sector
from ..ideas.services import IdeaError, find_sector
from ..models import utcnow
from ..roles import STAFF
from . import services
from .forms import (NEW_SHEET, ConfirmDeleteForm, LinkIdeasForm, MeasureForm, MonitoringForm, monitoring_rows,
                    sheet_data)
from .models import (MEASURE_STATUS_LABELS, IdeaMeasure, IndicatorValue, Measure,
                     MeasureStatus)
from .sheet import FIELDS, SECTIONS, SheetError
from .staff import bp

PER_PAGE = 50
SEARCH_LIMIT = 30
MONITORING_BLANK_ROWS = 2
GROUPS = ("milestones", "energy", "indicators")
_ID_LIST = re.compile(r"^[\s#,;0-9]+$")


def _measure_or_404(measure_id):
    return db.session.get(Measure, measure_id) or abort(404)


# --- the list ------------------------------------------------------------------------------------

@bp.get("/")
@allow(STAFF)
def index():
    problems = []
    sector_code = (request.args.get("sector") or "").strip()
    sector = find_sector(sector_code) if sector_code else None
    if sector_code and sector is None:
        problems.append(_("Unbekanntes Handlungsfeld: %(value)s", value=sector_code[:80]))
    status = (request.args.get("status") or "").strip()
    if status and status not in {s.value for s in MeasureStatus}:
        problems.append(_("Unbekannter Status: %(value)s", value=status[:80]))
        status = ""
    # Numbers sort naturally within a field of action: M-2.9 before M-2.10.
    query = (select(Measure).join(Measure.sector).options(contains_eager(Measure.sector))
             .order_by(Sector.position, func.length(Measure.number), Measure.number))
    if sector is not None:
        query = query.where(Measure.sector_id == sector.id)
    if status:
        query = query.where(Measure.status == status)
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    args = {"sector": sector.code if sector else None, "status": status or None}
    return render_template("measure_staff/index.html", page=page, problems=problems, sector=sector, status=status,
                           args={k: v for k, v in args.items() if v},
                           sectors=db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)).all(),
                           statuses=MEASURE_STATUS_LABELS)


# --- one sheet -----------------------------------------------------------------------------------

@bp.route("/neu", methods=["GET", "POST"])
@allow(STAFF)
def new():
    return _sheet_page(None)


@bp.route("/<int:measure_id>/bearbeiten", methods=["GET", "POST"])
@allow(STAFF)
def edit(measure_id):
    return _sheet_page(_measure_or_404(measure_id))


def _sheet_page(measure):
    sector = measure.sector if measure is not None else None
    if request.method == "POST":
        form = MeasureForm(sector=sector)
    else:
        form = MeasureForm(formdata=None, data=sheet_data(measure) if measure else dict(NEW_SHEET), sector=sector)
        form.add_blank_rows()
    problems, group_errors, duplicate = [], {name: [] for name in GROUPS}, None
    if form.validate_on_submit():  # only CSRF: every field is checked by save_sheet
        saved, errors = _save_sheet(measure, form)
        if saved is not None:
            if measure is None:
                flash(_("Maßnahme %(number)s „%(title)s“ angelegt.", number=saved.number, title=saved.title),
                      "success")
            else:
                flash(_("Maßnahmenblatt %(number)s gespeichert.", number=saved.number), "success")
            return redirect(url_for("measures.detail", measure_id=saved.id))
        problems = _attach(form, errors, group_errors)
        if any(error.field == "title" for error in errors):
            duplicate = _same_title(form.title.data, measure)
    return render_template(
        "measure_staff/sheet.html", form=form, measure=measure, problems=problems, group_errors=group_errors,
        duplicate=duplicate, sections=[(key, label, [f for f in FIELDS if f.section == key])
                                       for key, label in SECTIONS.items()],
        explanation=(services.savings_explanation(measure) if measure is not None
                     else _("Die Einsparung ist noch nicht abgeschätzt.")),
        link_count=_link_count(measure) if measure is not None else 0,
    )


def _save_sheet(measure, form):
    """(saved measure, []) or (None, [SheetError]); with any error nothing stays written."""
    errors = []
    milestones = form.milestone_rows(errors)
    energy = form.energy_rows(errors)
    indicators = form.indicator_rows(measure, errors)
    saved = None
    try:
        saved = services.save_sheet(measure, current_user, form.raw_sheet(), milestones=milestones, energy=energy,
                                    indicators=indicators)
        if not errors:
            db.session.commit()
            return saved, []
    except services.SheetErrors as failure:
        errors += failure.errors
    except IntegrityError as conflict:
        # Two saves at the same moment: the first one won.
        if "number" in str(conflict.orig):
            errors.append(SheetError(_("Gleichzeitig wurde eine andere Maßnahme mit derselben Nummer gespeichert. "
                                       "Bitte prüfen Sie die Liste der Maßnahmen und speichern Sie erneut."),
                                     "number"))
        else:
            errors.append(SheetError(_("Das Maßnahmenblatt wurde gleichzeitig an anderer Stelle geändert. Bitte "
                                       "laden Sie es neu und speichern Sie erneut.")))
    db.session.rollback()
    return None, errors


def _attach(form, errors, group_errors):
    """Put each error at its field (or its group of rows); the summary lines in the order of the page."""
    order = {sheet_field.name: n for n, sheet_field in enumerate(FIELDS)}
    order.update({name: len(FIELDS) + n for n, name in enumerate(GROUPS)})
    problems = []
    for error in sorted(errors, key=lambda e: order.get(e.field, len(order))):
        if error.field in GROUPS:  # the messages name the row ("Meilenstein 2: …")
            group_errors[error.field].append(error.message)
            problems.append((f"{error.field}-gruppe", None, error.message))
        elif error.field in order:
            field = form[error.field]
            field.errors = list(field.errors) + [error.message]
            label = str(field.label.text)
            # Most sheet messages already name the field („Titel“ fehlt.); the others get it in front.
            problems.append((field.id, None if f"„{label}“" in error.message else label, error.message))
        else:
            problems.append((None, None, error.message))
    return problems


def _same_title(title, measure):
    """The other measure with this title (after a double submit: the one saved first)."""
    title = " ".join((title or "").split())
    if not title:
        return None
    query = select(Measure).where(func.lower(Measure.title) == title.lower())
    if measure is not None:
        query = query.where(Measure.id != measure.id)
    return db.session.scalars(query.limit(1)).first()


def _link_count(measure):
    return db.session.scalar(select(func.count(IdeaMeasure.id)).where(IdeaMeasure.measure_id == measure.id))


# --- monitoring ----------------------------------------------------------------------------------

@bp.route("/<int:measure_id>/monitoring", methods=["GET", "POST"])
@allow(STAFF)
def monitoring(measure_id):
    measure = _measure_or_404(measure_id)
    posted = request.form.get("indicator", type=int) if request.method == "POST" else None
    if request.method == "POST" and posted not in {indicator.id for indicator in measure.indicators}:
        flash(_("Diesen Indikator gibt es nicht mehr (das Maßnahmenblatt wurde inzwischen geändert). "
                "Bitte geben Sie die Werte erneut ein."), "error")
        return redirect(url_for("measure_staff.monitoring", measure_id=measure.id))
    forms, problems = [], []
    for indicator in measure.indicators:
        prefix = f"indikator-{indicator.id}"
        if indicator.id == posted:
            form = MonitoringForm(prefix=prefix)
            errors = []
            values = form.values(errors)
            if len(values) > services.MAX_VALUES:
                errors.append(SheetError(_("Höchstens %(max)d Ist-Werte je Indikator.", max=services.MAX_VALUES),
                                         None))
            if not errors:
                _store_values(measure, indicator, values)
                return redirect(url_for("measure_staff.monitoring", measure_id=measure.id) + "#" + prefix)
            problems = _attach_by_id(form, errors)
        else:
            form = MonitoringForm(formdata=None, prefix=prefix,
                                  data={"rows": monitoring_rows(indicator, MONITORING_BLANK_ROWS)})
        forms.append((indicator, form))
    return render_template("measure_staff/monitoring.html", measure=measure, forms=forms, problems=problems,
                           posted=posted)


def _attach_by_id(form, errors):
    inputs = {field.id: field for entry in form.rows for field in entry.form}
    problems = []
    for error in errors:
        field = inputs.get(error.field)
        if field is not None:
            field.errors = list(field.errors) + [error.message]
        problems.append((error.field if field is not None else None, error.message))
    return problems


def _store_values(measure, indicator, values):
    """Replace the yearly values of one indicator (audited); says so when nothing changed."""
    old = [(value.year, Decimal(value.value), value.note) for value in indicator.values]
    new = [(year, value.quantize(Decimal("0.001")), note) for year, (value, note) in sorted(values.items())]
    if sorted(old) == new:
        flash(_("Keine Änderung an den Ist-Werten von „%(name)s“.", name=indicator.name), "info")
        return False
    indicator.values.clear()
    db.session.flush()  # the old rows go first: a year may stay with a new value (unique per year)
    indicator.values.extend(IndicatorValue(year=year, value=value, note=note) for year, value, note in new)
    measure.updated_at = utcnow()
    record("measure.monitoring", measure, actor=current_user,
           old={"indicator": indicator.name, "values": [[y, str(v), n] for y, v, n in sorted(old)]},
           new={"indicator": indicator.name, "values": [[y, str(v), n] for y, v, n in new]})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("Die Ist-Werte wurden gleichzeitig an anderer Stelle geändert. Bitte prüfen Sie sie und speichern "
                "Sie erneut."), "error")
        return False
    flash(_("Ist-Werte von „%(name)s“ gespeichert.", name=indicator.name), "success")
    return True


# --- linked ideas --------------------------------------------------------------------------------

@bp.route("/<int:measure_id>/ideen", methods=["GET", "POST"])
@allow(STAFF)
def link_ideas(measure_id):
    measure = _measure_or_404(measure_id)
    query_text = (request.values.get("q") or "").strip()[:200]
    form = LinkIdeasForm()
    if form.validate_on_submit():
        if _link(measure, form):
            return redirect(url_for("measure_staff.link_ideas", measure_id=measure.id))
    linked = services.linked_ideas(measure)
    selected = set(form.ids.data or []) if request.method == "POST" else set()
    return render_template("measure_staff/link_ideas.html", measure=measure, form=form, q=query_text,
                           results=_search_ideas(query_text), linked=linked,
                           linked_ids=_linked_ids(measure),
                           selected=selected)


def _link(measure, form):
    ids, wrong = [], []
    for value in form.ids.data or []:
        (ids if value.strip().isdigit() else wrong).append(value.strip())
    if wrong or not ids:
        attach_error(form, IdeaError(_("Bitte wählen Sie mindestens eine Idee aus der Trefferliste aus.")
                                     if not wrong else _("Ungültige Auswahl; bitte suchen Sie die Ideen erneut."),
                                     "ids"))
        return False
    ids = sorted({int(value) for value in ids})
    ideas = db.session.scalars(select(Idea).where(Idea.id.in_(ids)).order_by(Idea.id)).all()
    missing = sorted(set(ids) - {idea.id for idea in ideas})
    if missing:
        attach_error(form, IdeaError(_("Diese Ideen gibt es nicht mehr: %(ids)s. Es wurde nichts zugeordnet.",
                                       ids=", ".join(map(str, missing))), "ids"))
        return False
    try:
        linked = services.link_ideas(measure, ideas, current_user, form.reason.data or "")
    except IdeaError as error:
        db.session.rollback()
        attach_error(form, error)
        return False
    db.session.commit()
    if linked:
        flash(ngettext("%(num)d Idee der Maßnahme zugeordnet; die Autorin oder der Autor wurde benachrichtigt.",
                       "%(num)d Ideen der Maßnahme zugeordnet; ihre Autorinnen und Autoren wurden benachrichtigt.",
                       len(linked)), "success")
    already = len(ideas) - len(linked)
    if already:
        flash(ngettext("%(num)d Idee war bereits zugeordnet und blieb unverändert.",
                       "%(num)d Ideen waren bereits zugeordnet und blieben unverändert.", already), "info")
    return True


def _search_ideas(text):
    """Visible ideas for a list of numbers ("12, 40") or the words of a text search, best first."""
    if not text:
        return []
    query = select(Idea).where(Idea.hidden_at.is_(None))
    if _ID_LIST.match(text):
        ids = sorted({int(number) for number in re.findall(r"\d+", text) if len(number) < 10})[:SEARCH_LIMIT]
        return db.session.scalars(query.where(Idea.id.in_(ids)).order_by(Idea.id)).all()
    query, rank = search.apply(query, db.session, Idea.id, text)
    if rank is None:
        return []
    return db.session.scalars(query.order_by(rank, Idea.id.desc()).limit(SEARCH_LIMIT)).all()


def _linked_ids(measure):
    """Every idea linked to the measure, hidden ones included (they cannot be linked twice either)."""
    return set(db.session.scalars(select(IdeaMeasure.idea_id).where(IdeaMeasure.measure_id == measure.id)))


# --- deleting ------------------------------------------------------------------------------------

@bp.post("/<int:measure_id>/loeschen")
@allow(STAFF)
def delete(measure_id):
    measure = _measure_or_404(measure_id)
    links = _link_count(measure)
    if links:
        flash(ngettext(
            "Die Maßnahme %(number)s kann nicht gelöscht werden: ihr ist %(num)d Idee zugeordnet. Die Zuordnung "
            "ist öffentlich begründet und die Person, die die Idee eingereicht hat, wurde benachrichtigt; mit dem "
            "Löschen verlöre die Idee diese Spur. Setzen Sie die Maßnahme stattdessen auf „zurückgestellt“.",
            "Die Maßnahme %(number)s kann nicht gelöscht werden: ihr sind %(num)d Ideen zugeordnet. Die "
            "Zuordnungen sind öffentlich begründet und die Personen, die die Ideen eingereicht haben, wurden "
            "benachrichtigt; mit dem Löschen verlören die Ideen diese Spur. Setzen Sie die Maßnahme stattdessen "
            "auf „zurückgestellt“.", links, number=measure.number), "error")
        return redirect(url_for("measure_staff.edit", measure_id=measure.id))
    form = ConfirmDeleteForm()
    if request.form.get("confirmed") != "1":
        return render_template("measure_staff/delete.html", measure=measure, form=form)
    record("measure.deleted", measure, actor=current_user,
           old={"number": measure.number, "title": measure.title, "sector": measure.sector.code})
    number, title = measure.number, measure.title
    db.session.delete(measure)
    db.session.commit()
    flash(_("Maßnahme %(number)s „%(title)s“ gelöscht.", number=number, title=title), "success")
    return redirect(url_for("measure_staff.index"))
