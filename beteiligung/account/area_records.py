"""Personal data in areas without a privacy module of their own: bodies and meetings
(memberships, agenda proposals, action items, attendance), events a person facilitates,
and what staff recorded in the measure plan and the balance.

On deletion a membership stays as a line of the body's history, but anonymous: the
name becomes "gelöschtes Konto", organisation and role are emptied, an open membership
ends today, and the account link goes; the attendance in past minutes stays with that
anonymous line, so the minutes keep their counts. Action items and events lose the
account link (their names are replaced by account.services.replace_personal_strings).
Agenda proposals, measures, links and balance edits stay with the stand-in account.

The models are imported inside the functions: this module is loaded with the account
blueprint, before the areas it reads have finished importing.
"""
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..extensions import db
from ..models import isoformat
from .services import account_deletion_hook, personal_data_exporter


def _day(value):
    return value.isoformat() if value is not None else None


# --- bodies and meetings ----------------------------------------------------------------------------

@personal_data_exporter("body_memberships", covers=["body_members.user_id"])
def _export_memberships(user):
    from ..meetings.models import Body, BodyMember

    rows = db.session.execute(select(BodyMember, Body.name).join(Body, BodyMember.body_id == Body.id)
                              .where(BodyMember.user_id == user.id).order_by(BodyMember.id))
    return [{"id": member.id, "body": body, "name": member.name, "organisation": member.organisation,
             "role": member.role, "from_date": _day(member.from_date), "to_date": _day(member.to_date)}
            for member, body in rows]


@personal_data_exporter("meeting_attendance")
def _export_attendance(user):
    from ..meetings.models import Attendance, BodyMember, Meeting

    rows = db.session.execute(
        select(Attendance, Meeting).join(Meeting, Attendance.meeting_id == Meeting.id)
        .join(BodyMember, Attendance.member_id == BodyMember.id)
        .where(BodyMember.user_id == user.id).order_by(Meeting.starts_at, Attendance.id))
    return [{"id": attendance.id, "meeting_id": meeting.id, "meeting": meeting.title,
             "starts_at": isoformat(meeting.starts_at), "status": attendance.status}
            for attendance, meeting in rows]


@personal_data_exporter("agenda_proposals", covers=["agenda_items.proposed_by_id"])
def _export_proposals(user):
    from ..meetings.models import AgendaItem

    items = db.session.scalars(select(AgendaItem).where(AgendaItem.proposed_by_id == user.id)
                               .order_by(AgendaItem.id))
    return [{"id": item.id, "meeting_id": item.meeting_id, "title": item.title, "description": item.description,
             "presenter": item.presenter, "duration_minutes": item.duration_minutes, "status": item.status,
             "status_reason": item.status_reason, "created_at": isoformat(item.created_at)} for item in items]


@personal_data_exporter("action_items", covers=["action_items.assignee_user_id"])
def _export_actions(user):
    from ..meetings.models import ActionItem

    actions = db.session.scalars(select(ActionItem).where(ActionItem.assignee_user_id == user.id)
                                 .order_by(ActionItem.id))
    return [{"id": action.id, "meeting_id": action.meeting_id, "title": action.title, "assignee": action.assignee,
             "due_on": _day(action.due_on), "status": action.status, "done_at": isoformat(action.done_at)}
            for action in actions]


@account_deletion_hook
def _delete_meeting_records(user):
    from ..meetings.models import ActionItem, BodyMember
    from ..meetings.services import today_local

    members = db.session.scalars(select(BodyMember).where(BodyMember.user_id == user.id)).all()
    today = today_local()
    anonymous = _anonymous_name()
    for member in members:
        member.user_id = None
        member.name = anonymous
        member.organisation = ""
        member.role = ""
        if member.to_date is None or member.to_date > today:
            member.to_date = max(member.from_date, today)
    _anonymise_member_audit({member.id for member in members}, anonymous)
    db.session.execute(update(ActionItem).where(ActionItem.assignee_user_id == user.id)
                       .values(assignee_user_id=None).execution_options(synchronize_session=False))


def _anonymous_name():
    return _("gelöschtes Konto")


def _anonymise_member_audit(member_ids, anonymous):
    """The log of a body's membership changes names the member: keep the change, not the person."""
    from ..audit.models import AuditEntry
    from ..meetings.models import Body

    if not member_ids:
        return
    entries = db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == Body.audit_type,
        AuditEntry.action.in_(["body.member_added", "body.member_updated"]))).all()
    replacements = {"name": anonymous, "organisation": "", "role": ""}
    for entry in entries:
        values = [entry.old_values, entry.new_values]
        if not any(isinstance(v, dict) and v.get("member_id") in member_ids for v in values):
            continue
        entry.old_values, entry.new_values = (
            {key: (replacements[key] if key in replacements else item) for key, item in v.items()}
            if isinstance(v, dict) else v for v in values)


# --- events -----------------------------------------------------------------------------------------

@personal_data_exporter("events_facilitated", covers=["events.facilitator_user_id"])
def _export_facilitated(user):
    from ..events.models import Event

    events = db.session.scalars(select(Event).where(Event.facilitator_user_id == user.id).order_by(Event.id))
    return [{"id": event.id, "title": event.title, "starts_at": isoformat(event.starts_at),
             "facilitator": event.facilitator} for event in events]


@account_deletion_hook
def _delete_facilitation(user):
    from ..events.models import Event

    db.session.execute(update(Event).where(Event.facilitator_user_id == user.id)
                       .values(facilitator_user_id=None).execution_options(synchronize_session=False))


# --- what staff recorded: the measure plan and the balance ----------------------------------------

@personal_data_exporter("measures_created", covers=["measures.created_by_id"])
def _export_measures(user):
    from ..measures.models import Measure

    measures = db.session.scalars(select(Measure).where(Measure.created_by_id == user.id).order_by(Measure.id))
    return [{"id": m.id, "number": m.number, "title": m.title, "created_at": isoformat(m.created_at)}
            for m in measures]


@personal_data_exporter("idea_measure_links", covers=["idea_measures.linked_by_id"])
def _export_links(user):
    from ..measures.models import IdeaMeasure

    links = db.session.scalars(select(IdeaMeasure).where(IdeaMeasure.linked_by_id == user.id)
                               .order_by(IdeaMeasure.id))
    return [{"id": link.id, "idea_id": link.idea_id, "measure_id": link.measure_id, "reason": link.reason,
             "created_at": isoformat(link.created_at)} for link in links]


@personal_data_exporter("plan_exports", covers=["plan_exports.requested_by_id"])
def _export_plan_exports(user):
    from ..measures.models import PlanExport

    exports = db.session.scalars(select(PlanExport).where(PlanExport.requested_by_id == user.id)
                                 .order_by(PlanExport.id))
    return [{"id": e.id, "format": e.fmt, "state": e.state, "created_at": isoformat(e.created_at)} for e in exports]


@personal_data_exporter("balance_edits", covers=["balances.updated_by_id"])
def _export_balances(user):
    from ..balance.models import Balance

    balances = db.session.scalars(select(Balance).where(Balance.updated_by_id == user.id).order_by(Balance.id))
    return [{"id": b.id, "year": b.year, "updated_at": isoformat(b.updated_at)} for b in balances]


@personal_data_exporter("emission_factor_edits", covers=["emission_factors.updated_by_id"])
def _export_factors(user):
    from ..balance.models import EmissionFactor

    factors = db.session.scalars(select(EmissionFactor).where(EmissionFactor.updated_by_id == user.id)
                                 .order_by(EmissionFactor.id))
    return [{"id": f.id, "carrier": f.carrier, "valid_from": f.valid_from, "updated_at": isoformat(f.updated_at)}
            for f in factors]


@personal_data_exporter("scenario_edits", covers=["scenario_settings.updated_by_id"])
def _export_scenario(user):
    from ..balance.models import ScenarioSettings

    rows = db.session.scalars(select(ScenarioSettings).where(ScenarioSettings.updated_by_id == user.id)
                              .order_by(ScenarioSettings.id))
    return [{"id": s.id, "updated_at": isoformat(s.updated_at)} for s in rows]

