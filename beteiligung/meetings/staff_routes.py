"""Staff pages of the bodies under /verwaltung/gremien: bodies and members, series and single
dates, the agenda editor, materials, the minutes and the action items.

Each handler loads its object (404), reads its form, calls one service function and
commits once; a `MeetingError` is shown at its field and nothing is written. CSRF is
checked for every POST in `access.enforce_access`.
"""
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..access import allow, safe_next
from ..extensions import db
from ..forms import attach_error
from ..models import utcnow
from ..roles import STAFF
from . import services
from .forms import (ATTENDANCE_CHOICES, ActionForm, BodyForm, CancelForm, ExpandForm, ItemForm, LinksForm,
                    MaterialForm, MeetingDetailsForm, MeetingForm, MemberForm, MoveForm, OrderForm, RejectForm,
                    SeriesForm, minutes_form)
from .models import (BODY_KIND_LABELS, ActionItem, ActionStatus, AgendaItem, AgendaMaterial, AgendaStatus, Body,
                     BodyMember, Meeting, MeetingSeries)
from .services import MeetingError
from .staff import bp

PAST_LIMIT = 50
ACTION_FILTERS = {"offen": ActionStatus.OPEN.value, "erledigt": ActionStatus.DONE.value, "alle": None}


@bp.context_processor
def _labels():
    return {"kind_labels": {kind.value: label for kind, label in BODY_KIND_LABELS.items()},
            "describe_rule": services.describe_rule, "was_moved": services.was_moved}


def _get_or_404(model, object_id):
    return db.session.get(model, object_id) or abort(404)


def _meeting_or_404(meeting_id):
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.id == meeting_id)
        .options(selectinload(Meeting.items).selectinload(AgendaItem.materials),
                 selectinload(Meeting.items).selectinload(AgendaItem.proposed_by),
                 selectinload(Meeting.items).selectinload(AgendaItem.actions)))
    return meeting or abort(404)


def _fail(form, error):
    db.session.rollback()
    attach_error(form, error)


def _commit_or_conflict():
    """Commit; on a unique-key clash (two requests at once) roll back and say so. Returns success."""
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        flash(_("Die Daten wurden gleichzeitig an anderer Stelle geändert. Bitte prüfen Sie sie und versuchen Sie "
                "es erneut."), "error")
        return False


def _feed_url(body):
    if "calendar.body_feed" not in current_app.view_functions:
        return None
    return url_for("calendar.body_feed", token=body.feed_token, _external=True)


# --- bodies --------------------------------------------------------------------------------------

@bp.get("/")
@allow(STAFF)
def index():
    bodies = db.session.scalars(select(Body).order_by(Body.name)).all()
    today = services.today_local()
    members = dict(db.session.execute(
        select(BodyMember.body_id, func.count(BodyMember.id))
        .where(BodyMember.from_date <= today, (BodyMember.to_date.is_(None)) | (BodyMember.to_date >= today))
        .group_by(BodyMember.body_id)).all())
    open_actions = dict(db.session.execute(
        select(ActionItem.body_id, func.count(ActionItem.id)).where(ActionItem.status == ActionStatus.OPEN.value)
        .group_by(ActionItem.body_id)).all())
    now = utcnow()
    rows = [{"body": body, "members": members.get(body.id, 0), "open_actions": open_actions.get(body.id, 0),
             "next": services.upcoming_meetings(body, now, limit=1)} for body in bodies]
    return render_template("meeting_staff/index.html", rows=rows)


@bp.route("/neu", methods=["GET", "POST"])
@allow(STAFF)
def body_new():
    return _body_form(None)


@bp.route("/<int:body_id>/bearbeiten", methods=["GET", "POST"])
@allow(STAFF)
def body_edit(body_id):
    return _body_form(_get_or_404(Body, body_id))


def _body_form(body):
    form = BodyForm(obj=body)
    if form.validate_on_submit():
        try:
            saved = services.save_body(
                body, current_user, name=form.name.data, slug=form.slug.data, kind=form.kind.data,
                description=form.description.data or "", public=form.public.data,
                agenda_lead_days=form.agenda_lead_days.data, proposal_deadline_days=form.proposal_deadline_days.data)
        except MeetingError as error:
            _fail(form, error)
        else:
            if _commit_or_conflict():
                flash(_("Gremium „%(name)s“ gespeichert.", name=saved.name), "success")
                return redirect(url_for("meeting_staff.body", body_id=saved.id))
    return render_template("meeting_staff/body_form.html", form=form, body=body)


@bp.post("/<int:body_id>/kalender-adresse")
@allow(STAFF)
def feed_token(body_id):
    body = _get_or_404(Body, body_id)
    services.regenerate_feed_token(body, current_user)
    db.session.commit()
    flash(_("Die Kalender-Adresse der Mitglieder ist erneuert; die alte Adresse gilt nicht mehr."), "success")
    return redirect(url_for("meeting_staff.body", body_id=body.id) + "#kalender")


@bp.get("/<int:body_id>/")
@allow(STAFF)
def body(body_id):
    body = _get_or_404(Body, body_id)
    now = utcnow()
    members = db.session.scalars(select(BodyMember).where(BodyMember.body_id == body.id)
                                 .options(selectinload(BodyMember.user))
                                 .order_by(BodyMember.organisation, BodyMember.name, BodyMember.id)).all()
    series = db.session.scalars(select(MeetingSeries).where(MeetingSeries.body_id == body.id)
                                .order_by(MeetingSeries.first_start_local)).all()
    return render_template(
        "meeting_staff/body.html", body=body, members=members, today=services.today_local(), series=series,
        upcoming=services.upcoming_meetings(body, now), past=services.past_meetings(body, now, limit=PAST_LIMIT),
        feed_url=_feed_url(body))


# --- members -------------------------------------------------------------------------------------

@bp.route("/<int:body_id>/mitglieder/neu", methods=["GET", "POST"])
@allow(STAFF)
def member_new(body_id):
    body = _get_or_404(Body, body_id)
    form = MemberForm()
    if request.method == "GET":
        form.from_date.data = services.today_local()
    if form.validate_on_submit():
        try:
            member = services.add_member(body, current_user, name=form.name.data,
                                         organisation=form.organisation.data or "", role=form.role.data or "",
                                         from_date=form.from_date.data, to_date=form.to_date.data,
                                         email=form.email.data or "")
        except MeetingError as error:
            _fail(form, error)
        else:
            if _commit_or_conflict():
                flash(_("%(name)s ist als Mitglied eingetragen.", name=member.name), "success")
                return redirect(url_for("meeting_staff.body", body_id=body.id) + "#mitglieder")
    return render_template("meeting_staff/member_form.html", form=form, body=body, member=None)


@bp.route("/mitglied/<int:member_id>", methods=["GET", "POST"])
@allow(STAFF)
def member_edit(member_id):
    member = _get_or_404(BodyMember, member_id)
    body = member.body
    form = MemberForm(obj=member)
    if request.method == "GET":
        form.email.data = ""
    if form.validate_on_submit():
        try:
            services.update_member(member, current_user, name=form.name.data,
                                   organisation=form.organisation.data or "", role=form.role.data or "",
                                   from_date=form.from_date.data, to_date=form.to_date.data,
                                   email=form.email.data or "", unlink=form.unlink.data)
        except MeetingError as error:
            _fail(form, error)
        else:
            if _commit_or_conflict():
                flash(_("Mitgliedschaft von %(name)s gespeichert.", name=member.name), "success")
                return redirect(url_for("meeting_staff.body", body_id=body.id) + "#mitglieder")
    return render_template("meeting_staff/member_form.html", form=form, body=body, member=member)


# --- series --------------------------------------------------------------------------------------

def _series_rule(form):
    """The RRULE of the series form (builder or expert field); MeetingError when it is wrong."""
    if form.mode.data == "expert":
        return services.normalise_rule(form.rule.data)
    try:
        ordinal, interval = int(form.ordinal.data), int(form.interval.data)
    except (TypeError, ValueError):
        raise MeetingError(_("Bitte wählen Sie, am wievielten Wochentag des Monats."), "ordinal") from None
    return services.builder_rule(form.frequency.data, form.weekday.data, ordinal=ordinal, interval=interval)


def _check_until(form, first_start_local):
    until = form.until.data
    today = services.today_local()
    if until < first_start_local.date():
        raise MeetingError(_("Das Datum muss nach dem ersten Termin liegen."), "until")
    if until > today + timedelta(days=services.MAX_HORIZON_DAYS):
        raise MeetingError(_("Höchstens drei Jahre im Voraus."), "until")
    return until


@bp.route("/<int:body_id>/reihe/neu", methods=["GET", "POST"])
@allow(STAFF)
def series_new(body_id):
    body = _get_or_404(Body, body_id)
    form = SeriesForm()
    if request.method == "GET":
        form.title.data = _("Sitzung %(name)s", name=body.name)[:200]
        form.start_date.data = services.today_local()
        form.until.data = services.today_local() + timedelta(days=services.HORIZON_DAYS)
    preview, rule = None, None
    if form.validate_on_submit():
        try:
            rule = _series_rule(form)
            first = form.first_start_local()
            until = _check_until(form, first)
            preview = services.preview_starts(rule, first)
            if not preview:
                raise MeetingError(_("Die Regel ergibt ab diesem Datum keinen Termin."), "rule")
            if form.submit.data:
                series = services.create_series(body, current_user, title=form.title.data, rule=rule,
                                                first_start_local=first, duration_minutes=form.duration_minutes.data,
                                                place=form.place.data or "", online_url=form.online_url.data or "")
                created = services.expand_series(series, until, actor=current_user)
                if _commit_or_conflict():
                    flash(ngettext("Sitzungsreihe gespeichert, %(num)d Termin angelegt.",
                                   "Sitzungsreihe gespeichert, %(num)d Termine angelegt.", len(created)), "success")
                    return redirect(url_for("meeting_staff.series", series_id=series.id))
        except MeetingError as error:
            preview = None
            _fail(form, error)
    return render_template("meeting_staff/series_form.html", form=form, body=body, preview=preview, rule=rule,
                           duration=form.duration_minutes.data or 0)


@bp.get("/reihe/<int:series_id>")
@allow(STAFF)
def series(series_id):
    series = _get_or_404(MeetingSeries, series_id)
    form = ExpandForm(formdata=None, data={"until": services.today_local() + timedelta(days=services.HORIZON_DAYS)})
    return _series_page(series, form)


def _series_page(series, form):
    meetings = db.session.scalars(select(Meeting).where(Meeting.series_id == series.id)
                                  .order_by(Meeting.original_start)).all()
    try:
        upcoming = services.preview_starts(series.rrule, series.first_start_local, count=5)
    except MeetingError:
        upcoming = []
    return render_template("meeting_staff/series.html", series=series, body=series.body, form=form,
                           meetings=meetings, upcoming=upcoming, start=services.to_utc(series.first_start_local))


@bp.post("/reihe/<int:series_id>/termine")
@allow(STAFF)
def series_expand(series_id):
    series = _get_or_404(MeetingSeries, series_id)
    form = ExpandForm()
    if form.validate_on_submit():
        try:
            if form.until.data > services.today_local() + timedelta(days=services.MAX_HORIZON_DAYS):
                raise MeetingError(_("Höchstens drei Jahre im Voraus."), "until")
            created = services.expand_series(series, form.until.data, actor=current_user)
        except MeetingError as error:
            _fail(form, error)
        else:
            if _commit_or_conflict():
                if created:
                    flash(ngettext("%(num)d Termin angelegt.", "%(num)d Termine angelegt.", len(created)), "success")
                else:
                    flash(_("Bis zu diesem Datum sind alle Termine schon angelegt."), "info")
            return redirect(url_for("meeting_staff.series", series_id=series.id))
    return _series_page(series, form)


# --- single dates --------------------------------------------------------------------------------

@bp.route("/<int:body_id>/sitzung/neu", methods=["GET", "POST"])
@allow(STAFF)
def meeting_new(body_id):
    body = _get_or_404(Body, body_id)
    form = MeetingForm()
    if request.method == "GET":
        form.title.data = _("Sitzung %(name)s", name=body.name)[:200]
    if form.validate_on_submit():
        try:
            starts_at, ends_at = form.times()
            meeting = services.create_meeting(body, current_user, title=form.title.data, starts_at=starts_at,
                                              ends_at=ends_at, place=form.place.data or "",
                                              online_url=form.online_url.data or "")
        except MeetingError as error:
            _fail(form, error)
        else:
            if _commit_or_conflict():
                flash(_("Termin angelegt."), "success")
                return redirect(url_for("meeting_staff.meeting", meeting_id=meeting.id))
    return render_template("meeting_staff/meeting_form.html", form=form, body=body)


def _meeting_page(meeting, **forms):
    local_start, local_end = services.to_local(meeting.starts_at), services.to_local(meeting.ends_at)
    forms.setdefault("details_form", MeetingDetailsForm(formdata=None, obj=meeting))
    forms.setdefault("move_form", MoveForm(formdata=None, data={"date": local_start.date(),
                                                                "start_time": local_start.time(),
                                                                "end_time": local_end.time()}))
    forms.setdefault("cancel_form", CancelForm(formdata=None))
    forms.setdefault("item_form", ItemForm(formdata=None, prefix="neu"))
    reject_forms = {item.id: RejectForm(formdata=None, prefix=f"ablehnen-{item.id}") for item in meeting.items
                    if item.status == AgendaStatus.PROPOSED.value}
    reject_forms.update(forms.pop("reject_forms", {}))
    items = sorted(meeting.items, key=lambda item: (item.position, item.id))
    return render_template(
        "meeting_staff/meeting.html", meeting=meeting, body=meeting.body, times=services.running_times(meeting),
        proposals=[item for item in items if item.status == AgendaStatus.PROPOSED.value],
        rejected=[item for item in items if item.status == AgendaStatus.REJECTED.value],
        open_actions=services.open_actions_before(meeting), reject_forms=reject_forms, order_form=OrderForm(),
        deadline=services.proposal_deadline(meeting), moved=services.was_moved(meeting), **forms)


@bp.get("/sitzung/<int:meeting_id>/")
@allow(STAFF)
def meeting(meeting_id):
    return _meeting_page(_meeting_or_404(meeting_id))


def _back_to_meeting(meeting, anchor=""):
    return redirect(url_for("meeting_staff.meeting", meeting_id=meeting.id) + anchor)


@bp.post("/sitzung/<int:meeting_id>/angaben")
@allow(STAFF)
def meeting_details(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    form = MeetingDetailsForm()
    if form.validate_on_submit():
        try:
            changed = services.update_meeting(meeting, current_user, title=form.title.data,
                                              place=form.place.data or "", online_url=form.online_url.data or "")
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Angaben gespeichert; Kalender erhalten die Änderung.") if changed
                  else _("Keine Änderung."), "success" if changed else "info")
            return _back_to_meeting(meeting)
    return _meeting_page(meeting, details_form=form)


@bp.post("/sitzung/<int:meeting_id>/verschieben")
@allow(STAFF)
def meeting_move(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    form = MoveForm()
    if form.validate_on_submit():
        try:
            starts_at, ends_at = form.times()
            moved = services.move_meeting(meeting, starts_at, ends_at, current_user)
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Termin verschoben.") if moved else _("Keine Änderung: Der Termin liegt schon dort."),
                  "success" if moved else "info")
            return _back_to_meeting(meeting)
    return _meeting_page(meeting, move_form=form)


@bp.post("/sitzung/<int:meeting_id>/absagen")
@allow(STAFF)
def meeting_cancel(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_meeting(meeting, form.reason.data, current_user)
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Sitzung abgesagt."), "success")
            return _back_to_meeting(meeting)
    return _meeting_page(meeting, cancel_form=form)


def _simple(meeting, action, success, anchor=""):
    """Run a service call without form fields; a MeetingError becomes a message."""
    try:
        action()
    except MeetingError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return _back_to_meeting(meeting, anchor)


@bp.post("/sitzung/<int:meeting_id>/wiederherstellen")
@allow(STAFF)
def meeting_restore(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    return _simple(meeting, lambda: services.restore_meeting(meeting, current_user),
                   _("Die Absage ist zurückgenommen; die Sitzung findet statt."))


@bp.post("/sitzung/<int:meeting_id>/tagesordnung-veroeffentlichen")
@allow(STAFF)
def agenda_publish(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    return _simple(meeting, lambda: services.publish_agenda(meeting, current_user),
                   _("Die Tagesordnung ist veröffentlicht. Die Mitglieder erhalten sie %(days)d Tage vor der Sitzung "
                     "(oder sofort, wenn dieser Zeitpunkt vorbei ist).", days=meeting.body.agenda_lead_days),
                   "#tagesordnung")


@bp.post("/sitzung/<int:meeting_id>/reihenfolge")
@allow(STAFF)
def agenda_order(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    move = request.form.get("move", "")
    direction, _sep, item_id = move.partition("-")
    if direction in ("up", "down") and item_id.isdigit():
        item = next((entry for entry in meeting.items if entry.id == int(item_id)), None)
        if item is None:
            flash(_("Diesen Punkt gibt es nicht mehr."), "error")
            return _back_to_meeting(meeting, "#tagesordnung")
        try:
            services.move_item(item, -1 if direction == "up" else 1, current_user)
        except MeetingError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _back_to_meeting(meeting, "#tagesordnung")
        db.session.commit()
        return _back_to_meeting(meeting, f"#punkt-{item.id}")
    positions, wrong = {}, False
    for item in meeting.items:
        raw = (request.form.get(f"position-{item.id}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or not 0 < int(raw) < 1000:
            wrong = True
            continue
        positions[item.id] = int(raw)
    if wrong:
        flash(_("Bitte geben Sie als Position ganze Zahlen von 1 bis 999 an. Die Reihenfolge ist unverändert."),
              "error")
        return _back_to_meeting(meeting, "#tagesordnung")
    changed = services.set_positions(meeting, positions, current_user)
    db.session.commit()
    flash(_("Reihenfolge gespeichert.") if changed else _("Die Reihenfolge ist unverändert."),
          "success" if changed else "info")
    return _back_to_meeting(meeting, "#tagesordnung")


@bp.post("/sitzung/<int:meeting_id>/punkt")
@allow(STAFF)
def item_add(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    form = ItemForm(prefix="neu")
    if form.validate_on_submit():
        try:
            item = services.add_item(meeting, current_user, title=form.title.data, presenter=form.presenter.data or "",
                                     duration_minutes=form.duration_minutes.data,
                                     description=form.description.data or "")
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Punkt „%(title)s“ hinzugefügt.", title=item.title), "success")
            return _back_to_meeting(meeting, "#tagesordnung")
    return _meeting_page(meeting, item_form=form)


# --- one agenda item -----------------------------------------------------------------------------

def _item_or_404(item_id):
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.id == item_id)
                             .options(selectinload(AgendaItem.materials), selectinload(AgendaItem.ideas),
                                      selectinload(AgendaItem.measures)))
    return item or abort(404)


def _item_page(item, **forms):
    forms.setdefault("form", ItemForm(formdata=None, obj=item))
    forms.setdefault("links_form", LinksForm(formdata=None, data={
        "ideas": ", ".join(str(idea.id) for idea in item.ideas),
        "measures": ", ".join(measure.number for measure in item.measures)}))
    forms.setdefault("material_form", MaterialForm(formdata=None, prefix="material"))
    forms.setdefault("reject_form", RejectForm(formdata=None, prefix=f"ablehnen-{item.id}"))
    return render_template("meeting_staff/item.html", item=item, meeting=item.meeting, body=item.meeting.body,
                           number=services.top_numbers(item.meeting).get(item.id), **forms)


@bp.route("/punkt/<int:item_id>", methods=["GET", "POST"])
@allow(STAFF)
def item(item_id):
    item = _item_or_404(item_id)
    form = ItemForm(obj=item)
    if form.validate_on_submit():
        try:
            changed = services.edit_item(item, current_user, title=form.title.data,
                                         presenter=form.presenter.data or "",
                                         duration_minutes=form.duration_minutes.data,
                                         description=form.description.data or "")
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Punkt gespeichert.") if changed else _("Keine Änderung."), "success" if changed else "info")
            return redirect(url_for("meeting_staff.item", item_id=item.id))
    return _item_page(item, form=form)


@bp.post("/punkt/<int:item_id>/verknuepfungen")
@allow(STAFF)
def item_links(item_id):
    item = _item_or_404(item_id)
    form = LinksForm()
    if form.validate_on_submit():
        try:
            changed = services.set_item_links(item, current_user, idea_text=form.ideas.data or "",
                                              measure_text=form.measures.data or "")
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Verknüpfungen gespeichert.") if changed else _("Keine Änderung."),
                  "success" if changed else "info")
            return redirect(url_for("meeting_staff.item", item_id=item.id) + "#verknuepfungen")
    return _item_page(item, links_form=form)


def _back(item, fallback_anchor="#vorschlaege"):
    target = request.form.get("next", "")
    if target:
        return redirect(safe_next(target))
    return redirect(url_for("meeting_staff.meeting", meeting_id=item.meeting_id) + fallback_anchor)


@bp.post("/punkt/<int:item_id>/annehmen")
@allow(STAFF)
def item_accept(item_id):
    item = _item_or_404(item_id)
    try:
        services.accept_item(item, current_user)
    except MeetingError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("„%(title)s“ steht auf der Tagesordnung.", title=item.title), "success")
    return _back(item)


@bp.post("/punkt/<int:item_id>/ablehnen")
@allow(STAFF)
def item_reject(item_id):
    item = _item_or_404(item_id)
    form = RejectForm(prefix=f"ablehnen-{item.id}")
    if form.validate_on_submit():
        try:
            services.reject_item(item, form.reason.data, current_user)
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("„%(title)s“ wird nicht aufgenommen.", title=item.title), "success")
            return _back(item)
    if request.form.get("next", "").startswith(url_for("meeting_staff.item", item_id=item.id)):
        return _item_page(item, reject_form=form)
    return _meeting_page(_meeting_or_404(item.meeting_id), reject_forms={item.id: form})


@bp.post("/punkt/<int:item_id>/loeschen")
@allow(STAFF)
def item_delete(item_id):
    item = _item_or_404(item_id)
    meeting_id, title = item.meeting_id, item.title
    try:
        services.delete_item(item, current_user)
    except MeetingError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("meeting_staff.item", item_id=item_id))
    db.session.commit()
    flash(_("Punkt „%(title)s“ gelöscht.", title=title), "success")
    return redirect(url_for("meeting_staff.meeting", meeting_id=meeting_id) + "#tagesordnung")


@bp.post("/punkt/<int:item_id>/material")
@allow(STAFF)
def material_add(item_id):
    item = _item_or_404(item_id)
    form = MaterialForm(prefix="material")
    if form.validate_on_submit():
        try:
            if form.url.data:
                services.add_link_material(item, current_user, title=form.title.data or "", url=form.url.data)
            else:
                storage = form.file.data
                data = storage.stream.read(services.MATERIAL_MAX_BYTES + 1)
                services.add_file_material(item, current_user, title=form.title.data or "",
                                           filename=storage.filename, data=data)
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Material hinzugefügt."), "success")
            return redirect(url_for("meeting_staff.item", item_id=item.id) + "#material")
    return _item_page(item, material_form=form)


@bp.post("/material/<int:material_id>/loeschen")
@allow(STAFF)
def material_delete(material_id):
    material = _get_or_404(AgendaMaterial, material_id)
    item_id, title = material.agenda_item_id, material.title
    services.delete_material(material, current_user)
    db.session.commit()
    flash(_("Material „%(title)s“ gelöscht.", title=title), "success")
    return redirect(url_for("meeting_staff.item", item_id=item_id) + "#material")


# --- minutes -------------------------------------------------------------------------------------

def _minutes_parts(meeting):
    items = services.accepted_items(meeting)
    members = services.active_members(meeting.body, services.local_date(meeting.starts_at))
    return items, members


def _action_form(meeting, items, members, formdata=True):
    kwargs = {} if formdata else {"formdata": None}
    form = ActionForm(prefix="aufgabe", **kwargs)
    numbers = services.top_numbers(meeting)
    form.item.choices = [SelectChoice("", _("– allgemein –"))] + [
        SelectChoice(str(item.id), _("TOP %(number)d: %(title)s", number=numbers[item.id], title=item.title))
        for item in items]
    form.member.choices = [SelectChoice("", _("– niemand aus dem Gremium –"))] + [
        SelectChoice(str(member.id), f"{member.name} ({member.organisation})" if member.organisation else member.name)
        for member in members]
    return form


def _minutes_page(meeting, form=None, action_form=None):
    items, members = _minutes_parts(meeting)
    if form is None:
        attendance = services.attendance_of(meeting)
        data = {}
        for item in items:
            data[f"discussion_{item.id}"], data[f"decision_{item.id}"] = item.discussion, item.decision
        for member in members:
            data[f"attendance_{member.id}"] = attendance.get(member.id)
        form = minutes_form(items, members, formdata=None, data=data)
    actions = db.session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting.id)
                                 .options(selectinload(ActionItem.agenda_item)).order_by(ActionItem.id)).all()
    return render_template("meeting_staff/minutes.html", meeting=meeting, body=meeting.body, form=form,
                           slots=services.running_times(meeting).slots, members=members, actions=actions,
                           action_form=action_form or _action_form(meeting, items, members, formdata=False),
                           open_actions=services.open_actions_before(meeting), attendance_choices=ATTENDANCE_CHOICES)


@bp.route("/sitzung/<int:meeting_id>/protokoll", methods=["GET", "POST"])
@allow(STAFF)
def minutes(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if request.method == "GET":
        return _minutes_page(meeting)
    items, members = _minutes_parts(meeting)
    form = minutes_form(items, members)
    if form.validate_on_submit():
        try:
            changed = services.save_minutes(
                meeting, current_user,
                items={item.id: (form[f"discussion_{item.id}"].data or "", form[f"decision_{item.id}"].data or "")
                       for item in items},
                attendance={member.id: form[f"attendance_{member.id}"].data for member in members
                            if form[f"attendance_{member.id}"].data})
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Protokoll gespeichert.") if changed else _("Keine Änderung."), "success" if changed else "info")
            return redirect(url_for("meeting_staff.minutes", meeting_id=meeting.id))
    return _minutes_page(meeting, form=form)


@bp.post("/sitzung/<int:meeting_id>/aufgabe")
@allow(STAFF)
def action_add(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    items, members = _minutes_parts(meeting)
    form = _action_form(meeting, items, members)
    if form.validate_on_submit():
        item = next((entry for entry in items if str(entry.id) == form.item.data), None)
        member = next((entry for entry in members if str(entry.id) == form.member.data), None)
        try:
            if form.item.data and item is None:
                raise MeetingError(_("Diesen Tagesordnungspunkt gibt es nicht mehr."), "item")
            if form.member.data and member is None:
                raise MeetingError(_("Diese Person ist nicht mehr Mitglied."), "member")
            services.add_action(meeting, current_user, title=form.title.data, agenda_item=item,
                                assignee=form.assignee.data or "", member=member, due_on=form.due_on.data)
        except MeetingError as error:
            _fail(form, error)
        else:
            db.session.commit()
            flash(_("Aufgabe hinzugefügt."), "success")
            return redirect(url_for("meeting_staff.minutes", meeting_id=meeting.id) + "#aufgaben")
    return _minutes_page(meeting, action_form=form)


@bp.post("/sitzung/<int:meeting_id>/protokoll-veroeffentlichen")
@allow(STAFF)
def minutes_publish(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    try:
        services.publish_minutes(meeting, current_user)
    except MeetingError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Das Protokoll ist veröffentlicht."), "success")
    return redirect(url_for("meeting_staff.minutes", meeting_id=meeting.id))


# --- action items --------------------------------------------------------------------------------

@bp.get("/<int:body_id>/aufgaben")
@allow(STAFF)
def actions(body_id):
    body = _get_or_404(Body, body_id)
    choice = request.args.get("status", "offen")
    if choice not in ACTION_FILTERS:
        choice = "offen"
    return render_template("meeting_staff/actions.html", body=body, choice=choice, filters=ACTION_FILTERS,
                           actions=services.actions_of_body(body, ACTION_FILTERS[choice]))


@bp.post("/aufgabe/<int:action_id>/status")
@allow(STAFF)
def action_status(action_id):
    action = _get_or_404(ActionItem, action_id)
    try:
        changed = services.set_action_status(action, request.form.get("status", ""), current_user)
    except MeetingError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        if changed:
            flash(_("„%(title)s“ ist erledigt.", title=action.title) if action.status == ActionStatus.DONE.value
                  else _("„%(title)s“ ist wieder offen.", title=action.title), "success")
    return redirect(safe_next(request.form.get("next", ""), "meeting_staff.index")
                    if request.form.get("next") else url_for("meeting_staff.actions", body_id=action.body_id))


@bp.post("/aufgabe/<int:action_id>/loeschen")
@allow(STAFF)
def action_delete(action_id):
    action = _get_or_404(ActionItem, action_id)
    meeting_id, title = action.meeting_id, action.title
    services.delete_action(action, current_user)
    db.session.commit()
    flash(_("Aufgabe „%(title)s“ gelöscht.", title=title), "success")
    return redirect(url_for("meeting_staff.minutes", meeting_id=meeting_id) + "#aufgaben")
