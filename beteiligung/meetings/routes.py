"""Pages of the bodies for the public and their members.

Public bodies show their members, dates, published agendas and minutes to everyone;
internal bodies answer 404 to everybody but their members and staff. Members also see
the online link, their own proposals, the names in the attendance list, and a form to
propose agenda items until the deadline.
"""
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import allow
from ..extensions import db
from ..models import utcnow
from ..roles import EVERYONE, SIGNED_IN
from . import bp, services
from .forms import ProposalForm
from .models import BODY_KIND_LABELS, AgendaItem, AgendaMaterial, AgendaStatus, Body, Meeting
from .services import MEMBER_VIEW, STAFF_VIEW, MeetingError

PAST_LIMIT = 24


@bp.context_processor
def _labels():
    return {"kind_labels": {kind.value: label for kind, label in BODY_KIND_LABELS.items()}}


def _member_feed_url(body, level):
    """The members' calendar feed, once the calendar area provides it."""
    if level not in (MEMBER_VIEW, STAFF_VIEW) or "calendar.body_feed" not in current_app.view_functions:
        return None
    return url_for("calendar.body_feed", token=body.feed_token, _external=True)


def _body_or_404(slug):
    body = db.session.scalar(select(Body).where(Body.slug == slug))
    if body is None:
        abort(404)
    level = services.access_level(body, current_user)
    if level is None:
        abort(404)  # an internal body does not exist for outsiders
    return body, level


@bp.get("/")
@allow(EVERYONE)
def index():
    now = utcnow()
    bodies = services.visible_bodies(current_user)
    entries = [{"body": body, "next": services.upcoming_meetings(body, now, limit=1),
                "member": services.membership(body, current_user) is not None} for body in bodies]
    return render_template("working_group/index.html", entries=entries)


@bp.get("/<slug>/")
@allow(EVERYONE)
def body(slug):
    body, level = _body_or_404(slug)
    now = utcnow()
    return render_template(
        "working_group/body.html", body=body, level=level, members=services.active_members(body),
        upcoming=services.upcoming_meetings(body, now), past=services.past_meetings(body, now, limit=PAST_LIMIT),
        feed_url=_member_feed_url(body, level), was_moved=services.was_moved)


def _meeting_or_404(meeting_id):
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.id == meeting_id)
        .options(selectinload(Meeting.items).selectinload(AgendaItem.materials),
                 selectinload(Meeting.items).selectinload(AgendaItem.ideas),
                 selectinload(Meeting.items).selectinload(AgendaItem.measures),
                 selectinload(Meeting.items).selectinload(AgendaItem.actions)))
    if meeting is None:
        abort(404)
    level = services.access_level(meeting.body, current_user)
    if level is None:
        abort(404)
    return meeting, level


@bp.get("/sitzung/<int:meeting_id>")
@allow(EVERYONE)
def meeting(meeting_id):
    meeting, level = _meeting_or_404(meeting_id)
    return _meeting_page(meeting, level, ProposalForm(formdata=None))


def _meeting_page(meeting, level, form):
    show_agenda = services.agenda_visible(meeting, level)
    show_minutes = services.minutes_visible(meeting, level) and not meeting.cancelled
    own = []
    if level == MEMBER_VIEW:
        own = [item for item in meeting.items if item.proposed_by_id == current_user.id
               and not (show_agenda and item.status == AgendaStatus.ACCEPTED.value)]
    may_propose = level == MEMBER_VIEW and not meeting.cancelled
    attendance = services.attendance_summary(meeting) if show_minutes else None
    return render_template(
        "working_group/meeting.html", meeting=meeting, body=meeting.body, level=level,
        times=services.running_times(meeting) if show_agenda else None,
        open_actions=(services.open_actions_before(meeting, published_only=level not in (MEMBER_VIEW, STAFF_VIEW))
                      if show_agenda and not meeting.cancelled else []),
        show_agenda=show_agenda, show_minutes=show_minutes, own_proposals=own, attendance=attendance,
        meeting_actions=[action for item in services.accepted_items(meeting) for action in item.actions]
        if show_minutes else [],
        form=form, may_propose=may_propose, proposals_open=services.proposals_open(meeting),
        deadline=services.proposal_deadline(meeting), moved=services.was_moved(meeting),
        feed_url=_member_feed_url(meeting.body, level), past=meeting.ends_at < utcnow())


@bp.post("/sitzung/<int:meeting_id>/vorschlag")
@allow(SIGNED_IN)
def propose(meeting_id):
    """A member proposes an agenda item; others are sent back to the page with a message."""
    meeting, level = _meeting_or_404(meeting_id)
    url = url_for("working_group.meeting", meeting_id=meeting.id)
    if level != MEMBER_VIEW and level != STAFF_VIEW:
        flash(_("Nur Mitglieder des Gremiums können Tagesordnungspunkte vorschlagen."), "error")
        return redirect(url)
    form = ProposalForm()
    if not form.validate_on_submit():
        return _meeting_page(meeting, level, form)
    try:
        item = services.propose_item(meeting, current_user, form.title.data, form.description.data or "",
                                     form.duration_minutes.data)
    except MeetingError as error:
        db.session.rollback()
        if error.field and hasattr(form, error.field):
            getattr(form, error.field).errors = list(getattr(form, error.field).errors) + [error.message]
            return _meeting_page(meeting, level, form)
        flash(error.message, "error")
        return redirect(url)
    db.session.commit()
    flash(_("Ihr Vorschlag „%(title)s“ ist eingegangen. Die Geschäftsstelle entscheidet, ob er auf die "
            "Tagesordnung kommt; Sie werden benachrichtigt.", title=item.title), "success")
    return redirect(url + "#eigene-vorschlaege")


@bp.get("/material/<int:material_id>")
@allow(EVERYONE)
def material(material_id):
    """A material of an agenda item: a file as download, a link as redirect; visible as its item is."""
    material = db.session.get(AgendaMaterial, material_id) or abort(404)
    item = db.session.get(AgendaItem, material.agenda_item_id)
    level = services.access_level(item.meeting.body, current_user)
    if not services.item_visible(item, level, current_user):
        abort(404)
    if material.content is None:
        return redirect(material.url)
    response = current_app.response_class(material.content, mimetype=material.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=material.filename or "material")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response

