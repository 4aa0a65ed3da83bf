"""Staff pages of the workshops and events: the list, writing and cancelling an event,
the participants with the waiting list (and their CSV download, personal data for staff
only), and cancelling a registration on someone's behalf."""
import csv
import io

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..access import allow
from ..audit.services import record
from ..extensions import db
from ..ideas.services import find_sector
from ..ideas.transactions import retrying
from ..models import utcnow
from ..roles import STAFF
from . import services
from .forms import NO_SECTOR, CancelEventForm, ConfirmForm, EventForm
from .models import Event, Registration, RegistrationStatus
from .services import EventData, EventError, NonexistentLocalTime
from .staff import bp

CSV_COLUMNS = ("Name", "E-Mail", "Status", "Platz auf der Warteliste", "Angemeldet am", "Bestätigt am",
               "Abgemeldet am", "Hinweis")


def _event_or_404(event_id):
    return db.session.get(Event, event_id) or abort(404)


@bp.get("/")
@allow(STAFF)
def index():
    now = utcnow()
    events = db.session.scalars(select(Event).order_by(Event.starts_at.desc(), Event.id.desc())).all()
    upcoming = sorted((event for event in events if event.ends_at >= now), key=lambda event: event.starts_at)
    past = [event for event in events if event.ends_at < now]
    ids = [event.id for event in events]
    return render_template("event_staff/index.html", upcoming=upcoming, past=past,
                           waiting=services.waiting_counts(ids), results=services.result_counts(ids))


# --- writing -------------------------------------------------------------------------------------------

def _add_error(field, message):
    field.errors = list(field.errors) + [message]


def _form_data(form):
    """EventData from a validated form, or None after marking the fields that cannot be read."""
    ok = True
    times = {}
    for name in ("starts_at", "ends_at", "registration_closes_at"):
        try:
            times[name] = services.to_utc(getattr(form, name).data)
        except NonexistentLocalTime:
            _add_error(getattr(form, name), _("Diese Uhrzeit gibt es wegen der Umstellung auf Sommerzeit nicht."))
            ok = False
    sector = None
    if form.sector.data and form.sector.data != NO_SECTOR:
        sector = find_sector(form.sector.data)
        if sector is None:
            _add_error(form.sector, _("Unbekanntes Handlungsfeld."))
            ok = False
    try:
        facilitator_user = services.facilitator_for(form.facilitator_email.data)
    except EventError as error:
        _add_error(form.facilitator_email, error.message)
        ok = False
        facilitator_user = None
    if not ok:
        return None
    return EventData(
        kind=form.kind.data, title=form.title.data or "", topic=form.topic.data or "", sector=sector,
        description=form.description.data or "", place=form.place.data or "", online_url=form.online_url.data or "",
        facilitator=form.facilitator.data or "", facilitator_user=facilitator_user,
        registration=form.registration.data, capacity=form.capacity.data, published=form.published.data,
        results_note=form.results_note.data or "", **times)


def _fill(form, event):
    form.kind.data = event.kind
    form.title.data = event.title
    form.topic.data = event.topic
    form.sector.data = event.sector.code if event.sector else NO_SECTOR
    form.description.data = event.description
    form.starts_at.data = services.to_local(event.starts_at)
    form.ends_at.data = services.to_local(event.ends_at)
    form.place.data = event.place
    form.online_url.data = event.online_url
    form.facilitator.data = event.facilitator
    if event.facilitator_user_id:
        from ..auth.models import User

        account = db.session.get(User, event.facilitator_user_id)
        form.facilitator_email.data = account.email if account is not None and account.email else ""
    form.registration.data = event.registration
    form.capacity.data = event.capacity
    form.registration_closes_at.data = services.to_local(event.registration_closes_at)
    form.published.data = event.published
    form.results_note.data = event.results_note


def _save(form, event):
    """Validate and save; returns the event, or None with the errors on the form."""
    if not form.validate_on_submit():
        return None
    data = _form_data(form)
    if data is None:
        return None
    try:
        saved = services.save_event(event, data, actor=current_user._get_current_object())
    except EventError as error:
        db.session.rollback()
        field = getattr(form, error.field, None) if error.field else None
        if field is not None:
            _add_error(field, error.message)
        else:
            flash(error.message, "error")
        return None
    db.session.commit()
    return saved


@bp.route("/neu", methods=["GET", "POST"])
@allow(STAFF)
def create():
    form = EventForm()
    saved = _save(form, None)
    if saved is not None:
        flash(_("Die Veranstaltung „%(title)s“ ist angelegt.", title=saved.title), "success")
        return redirect(url_for("event_staff.edit", event_id=saved.id))
    return render_template("event_staff/form.html", form=form, event=None)


@bp.route("/<int:event_id>", methods=["GET", "POST"])
@allow(STAFF)
def edit(event_id):
    event = _event_or_404(event_id)
    form = EventForm()
    if request.method == "GET":
        _fill(form, event)
    sequence = event.sequence
    saved = _save(form, event)
    if saved is not None:
        if saved.sequence != sequence:
            flash(_("Gespeichert. Zeit oder Ort haben sich geändert: Die Angemeldeten wurden benachrichtigt, "
                    "Kalender-Abonnements übernehmen die Änderung."), "success")
        else:
            flash(_("Gespeichert."), "success")
        return redirect(url_for("event_staff.edit", event_id=event.id))
    return render_template("event_staff/form.html", form=form, event=event, cancel_form=CancelEventForm(),
                           confirm_form=ConfirmForm(), waiting=services.waiting_counts([event.id]).get(event.id, 0))


@bp.post("/<int:event_id>/absagen")
@allow(STAFF)
def cancel(event_id):
    event = _event_or_404(event_id)
    form = CancelEventForm()
    if not form.validate_on_submit():
        flash(_("Bitte geben Sie einen Grund für die Absage an."), "error")
        return redirect(url_for("event_staff.edit", event_id=event.id) + "#absage")
    try:
        services.cancel_event(event, form.reason.data, actor=current_user._get_current_object())
    except EventError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("event_staff.edit", event_id=event.id))
    db.session.commit()
    flash(_("Die Veranstaltung ist abgesagt; alle Angemeldeten und die Warteliste wurden benachrichtigt."), "success")
    return redirect(url_for("event_staff.edit", event_id=event.id))


@bp.post("/<int:event_id>/reaktivieren")
@allow(STAFF)
def reinstate(event_id):
    event = _event_or_404(event_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.reinstate_event(event, actor=current_user._get_current_object())
    except EventError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("event_staff.edit", event_id=event.id))
    db.session.commit()
    flash(_("Die Absage ist zurückgenommen; die Angemeldeten wurden benachrichtigt."), "success")
    return redirect(url_for("event_staff.edit", event_id=event.id))


# --- participants ----------------------------------------------------------------------------------------

@bp.get("/<int:event_id>/teilnehmende")
@allow(STAFF)
def participants(event_id):
    event = _event_or_404(event_id)
    confirmed, waiting, cancelled = services.participants(event)
    return render_template("event_staff/participants.html", event=event, confirmed=confirmed, waiting=waiting,
                           cancelled=cancelled, confirm_form=ConfirmForm())


def _cell(value):
    """A spreadsheet-safe cell: no formula injection (=, +, -, @)."""
    if value is None:
        return ""
    value = str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _local(value):
    return services.to_local(value).strftime("%d.%m.%Y %H:%M") if value else ""


@bp.get("/<int:event_id>/teilnehmende.csv")
@allow(STAFF)
def participants_csv(event_id):
    event = _event_or_404(event_id)
    confirmed, waiting, cancelled = services.participants(event)
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = [(r, None) for r in confirmed] + [(r, n) for n, r in enumerate(waiting, start=1)] + \
           [(r, None) for r in cancelled]
    for registration, position in rows:
        user = registration.user
        status = RegistrationStatus(registration.status).label
        writer.writerow([_cell(user.public_name), _cell(user.email), _cell(status),
                         position or "", _local(registration.created_at), _local(registration.confirmed_at),
                         _local(registration.cancelled_at), _cell(registration.note)])
    record("event.participants_exported", event, actor=current_user._get_current_object())
    db.session.commit()
    response = current_app.response_class(stream.getvalue(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="teilnehmende-{event.id}.csv"'
    response.headers["Cache-Control"] = "no-store"  # personal data
    return response


@bp.post("/anmeldungen/<int:registration_id>/stornieren")
@allow(STAFF)
def remove_registration(registration_id):
    registration = db.session.get(Registration, registration_id) or abort(404)
    event_id = registration.event_id
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        retrying(lambda: services.remove_registration(db.session.get(Registration, registration_id),
                                                      actor=current_user._get_current_object()))
    except EventError as error:
        flash(error.message, "error")
    else:
        flash(_("Die Anmeldung ist storniert; die Person wurde benachrichtigt."), "success")
    return redirect(url_for("event_staff.participants", event_id=event_id))
