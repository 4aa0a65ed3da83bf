"""Public pages of the workshops and events, registration and the waiting list, and the
results form for facilitators."""
import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from ..access import allow
from ..extensions import db
from ..ideas import services as idea_services
from ..ideas.forms import UNKNOWN_SECTOR
from ..ideas.transactions import retrying
from ..models import utcnow
from ..roles import EVERYONE, SIGNED_IN
from . import bp, services
from .forms import RESULT_ROWS, RESULT_ROWS_MAX, CancelRegistrationForm, RegisterForm, ResultsForm
from .models import Event, EventKind, Registration, RegistrationMode, RegistrationStatus
from .services import EventError

PAST_SHOWN = 50
KIND_FILTERS = {"werkstatt": EventKind.WORKSHOP.value, "buergerveranstaltung": EventKind.CITIZEN_EVENT.value}
STAFF_ROLES = ("staff", "admin")


@bp.app_template_filter("event_kind_label")
def _kind_label(value):
    return EventKind(value).label


@bp.app_template_filter("registration_label")
def _registration_label(value):
    return RegistrationMode(value).label


def _is_staff():
    return current_user.is_authenticated and current_user.role in STAFF_ROLES


def _event_or_404(event_id):
    """A published event; staff also see unpublished ones."""
    event = db.session.get(Event, event_id)
    if event is None or (not event.published and not _is_staff()):
        abort(404)
    return event


def _my_registrations(event_ids):
    if not current_user.is_authenticated or not event_ids:
        return {}
    rows = db.session.scalars(select(Registration).where(Registration.user_id == current_user.id,
                                                         Registration.event_id.in_(list(event_ids))))
    return {row.event_id: row for row in rows if row.status != RegistrationStatus.CANCELLED.value}


@bp.get("/")
@allow(EVERYONE)
def index():
    now = utcnow()
    kind_key = request.args.get("art", "")
    kind = KIND_FILTERS.get(kind_key)
    query = select(Event).where(Event.published)
    if kind:
        query = query.where(Event.kind == kind)
    upcoming = db.session.scalars(query.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)).all()
    past = db.session.scalars(query.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
                              .limit(PAST_SHOWN)).all()
    ids = [event.id for event in upcoming + past]
    return render_template("events/index.html", upcoming=upcoming, past=past, kind_key=kind_key if kind else "",
                           kinds=KIND_FILTERS, kind_labels={key: EventKind(value).label
                                                            for key, value in KIND_FILTERS.items()},
                           waiting=services.waiting_counts([event.id for event in upcoming]),
                           results=services.result_counts(ids), mine=_my_registrations(ids), now=now)


@bp.get("/<int:event_id>")
@allow(EVERYONE)
def detail(event_id):
    return _detail_page(_event_or_404(event_id))


def _detail_page(event, register_form=None):
    """The event page; `register_form` is a refused registration to show again with its note."""
    now = utcnow()
    registration = services.registration_of(event, current_user)
    if registration is not None and registration.status == RegistrationStatus.CANCELLED.value:
        registration = None
    return render_template(
        "events/detail.html", event=event, registration=registration,
        position=services.waiting_position(registration), open=services.registration_open(event, now),
        closes_at=services.registration_closes_at(event), waiting=services.waiting_counts([event.id]).get(event.id, 0),
        results=services.results_of(event), may_enter_results=services.may_enter_results(event, current_user),
        register_form=register_form or RegisterForm(), cancel_form=CancelRegistrationForm(), now=now,
        is_staff=_is_staff())


@bp.post("/<int:event_id>/anmelden")
@allow(SIGNED_IN)
def register(event_id):
    event = _event_or_404(event_id)
    form = RegisterForm()
    if not form.validate_on_submit():
        if form.bot_trapped:  # shown again with the note, so that a person can simply send it again
            flash(form.form_errors[0], "error")
            return _detail_page(event, register_form=form)
        for errors in form.errors.values():
            flash(errors[0], "error")
        return redirect(url_for("events.detail", event_id=event.id))
    note = form.note.data or ""
    try:
        registration, created = retrying(lambda: services.register(db.session.get(Event, event_id), current_user,
                                                                    note))
    except EventError as error:
        flash(error.message, "error")
        return redirect(url_for("events.detail", event_id=event_id))
    position = services.waiting_position(registration)
    if registration.status == RegistrationStatus.CONFIRMED.value:
        flash(_("Sie sind angemeldet. Eine Bestätigung finden Sie unter „Nachrichten“ und in Ihrem Postfach.")
              if created else _("Sie sind bereits angemeldet."), "success" if created else "info")
    elif created:
        flash(_("Die Veranstaltung ist ausgebucht. Sie stehen auf Platz %(position)d der Warteliste und rücken "
                "automatisch nach, sobald ein Platz frei wird.", position=position), "success")
    else:
        flash(_("Sie stehen bereits auf der Warteliste, derzeit auf Platz %(position)d.", position=position), "info")
    return redirect(url_for("events.detail", event_id=event_id) + "#anmeldung")


@bp.post("/<int:event_id>/abmelden")
@allow(SIGNED_IN)
def cancel(event_id):
    event = _event_or_404(event_id)
    if not CancelRegistrationForm().validate_on_submit():
        abort(400)
    registration = services.registration_of(event, current_user)
    if registration is None or registration.status == RegistrationStatus.CANCELLED.value:
        flash(_("Sie sind für diese Veranstaltung nicht angemeldet."), "info")
        return redirect(url_for("events.detail", event_id=event_id))
    if utcnow() >= event.starts_at:
        flash(_("Die Veranstaltung hat bereits begonnen; eine Abmeldung ist nicht mehr möglich."), "error")
        return redirect(url_for("events.detail", event_id=event_id))
    was_waiting = registration.status == RegistrationStatus.WAITING.value
    changed = retrying(lambda: services.cancel_registration(db.session.get(Registration, registration.id)))
    if changed:
        flash(_("Sie sind von der Warteliste abgemeldet.") if was_waiting
              else _("Sie sind abgemeldet. Ihr Platz geht an die nächste Person auf der Warteliste."), "success")
    else:
        flash(_("Sie waren bereits abgemeldet."), "info")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.get("/meine")
@allow(SIGNED_IN)
def mine():
    now = utcnow()
    rows = services.registrations_of(current_user)
    active = [row for row in rows if row.status != RegistrationStatus.CANCELLED.value]
    upcoming = sorted((row for row in active if row.event.ends_at >= now), key=lambda row: row.event.starts_at)
    past = [row for row in active if row.event.ends_at < now]
    positions = {row.id: services.waiting_position(row) for row in upcoming
                 if row.status == RegistrationStatus.WAITING.value}
    return render_template("events/mine.html", upcoming=upcoming, past=past, positions=positions)


# --- results ---------------------------------------------------------------------------------------

def _rows_wanted():
    wanted = request.args.get("zeilen", RESULT_ROWS, type=int) or RESULT_ROWS
    return max(1, min(wanted, RESULT_ROWS_MAX))


def _result_entries(form):
    """(row number, ResultEntry) for each filled row, or None after marking errors at the rows."""
    entries, ok = [], True
    for number, row in enumerate(form.entries):
        if row.is_empty:
            continue
        sector = None
        if row.sector.data and row.sector.data != UNKNOWN_SECTOR:
            sector = idea_services.find_sector(row.sector.data)
            if sector is None:
                row.sector.errors = list(row.sector.errors) + [_("Unbekanntes Handlungsfeld.")]
                ok = False
        for name, message in (("title", _("Bitte geben Sie einen Titel an.")),
                              ("text", _("Bitte geben Sie den Text der Karte an."))):
            if not getattr(row, name).data:
                getattr(row, name).errors = list(getattr(row, name).errors) + [message]
                ok = False
        entries.append((number, services.ResultEntry(title=row.title.data, text=row.text.data, sector=sector,
                                                     dot_votes=row.dot_votes.data or 0)))
    return entries if ok else None


def _show_error(form, error):
    prefix, _sep, rest = (error.field or "").partition("-")
    if prefix == "entries" and rest:
        number, _sep, name = rest.partition("-")
        if number.isdigit() and int(number) < len(form.entries):
            field = getattr(form.entries[int(number)], name, None)
            if field is not None:
                field.errors = list(field.errors) + [error.message]
                return
    if error.field == "district":
        form.district.errors = list(form.district.errors) + [error.message]
        return
    flash(error.message, "error")


@bp.route("/<int:event_id>/ergebnisse", methods=["GET", "POST"])
@allow(SIGNED_IN)
def results(event_id):
    event = _event_or_404(event_id)
    if not services.may_enter_results(event, current_user):
        flash(_("Ergebnisse tragen die Moderation der Veranstaltung und die Verwaltung ein."), "error")
        return redirect(url_for("events.detail", event_id=event.id))
    form = ResultsForm(rows=_rows_wanted())
    valid = form.validate_on_submit()
    entries = _result_entries(form) if form.is_submitted() else None  # row errors also beside other errors
    if valid:
        token = request.form.get("entry_token", "")
        if not _valid_token(token):
            flash(_("Das Formular wurde unvollständig übertragen. Bitte prüfen Sie die Angaben und speichern Sie "
                    "erneut."), "error")
        elif entries is None:
            pass
        elif not entries:
            flash(_("Bitte tragen Sie mindestens eine Idee ein (Titel und Text)."), "error")
        else:
            saved = _save_results(event, form, entries, token)
            if saved is not None:
                return saved
    elif request.method == "GET":
        form.district.data = form.district.data or _whole_city()
    return render_template("events/results.html", event=event, form=form, token=str(uuid.uuid4()),
                           results=services.results_of(event), more_rows=min(len(form.entries) + RESULT_ROWS,
                                                                            RESULT_ROWS_MAX))


def _save_results(event, form, entries, token):
    if services.results_saved_with_token(current_user, token) is not None:
        db.session.rollback()
        flash(_("Diese Ergebnisse sind bereits gespeichert; es wurden keine weiteren Ideen angelegt."), "info")
        return redirect(url_for("events.detail", event_id=event.id) + "#ergebnisse")
    try:
        ideas = services.add_results(event, entries, district=idea_services.find_district(form.district.data),
                                     actor=current_user._get_current_object(), form_token=token)
    except EventError as error:
        db.session.rollback()
        _show_error(form, error)
        return None
    db.session.commit()
    flash(ngettext("%(num)d Idee gespeichert.", "%(num)d Ideen gespeichert.", len(ideas)), "success")
    return redirect(url_for("events.detail", event_id=event.id) + "#ergebnisse")


def _valid_token(token):
    try:
        return str(uuid.UUID(token)) == token
    except (ValueError, TypeError, AttributeError):
        return False


def _whole_city():
    """The district for ideas about the whole town, if there is one ("Gesamtes Stadtgebiet")."""
    for district in idea_services.active_districts():
        if district.name.casefold().startswith(("gesamt", "ganze stadt", "stadtweit")):
            return district.code
    return ""
