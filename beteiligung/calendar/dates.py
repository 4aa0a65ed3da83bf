"""The dates of the calendar page and the feeds, read from the meetings and the events.

A `CalendarDate` is one row (a meeting or an event) in the form both the page and the
iCalendar feeds use; the three audiences are `public_dates` (meetings of public bodies and
published events), `body_dates` (all meetings of one body, also internal ones) and
`user_dates` (a person's registrations and the meetings of the bodies they belong to).
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import selectinload

from ..events.models import Event, EventKind, Registration, RegistrationStatus
from ..extensions import db
from ..meetings.models import AgendaStatus, Body, BodyMember, Meeting
from ..models import utcnow

LOCAL_ZONE = ZoneInfo("Europe/Berlin")
FEED_PAST_DAYS = 365  # feeds keep the dates of the last twelve months
CANCELLED_KEPT_DAYS = 60  # a cancelled date stays in the feeds this long after the change (and while ahead)
MEETING = "meeting"
KINDS = (MEETING, EventKind.WORKSHOP.value, EventKind.CITIZEN_EVENT.value)
MEETING_PAGE = "working_group.meeting"  # the meeting page of the working-group area, if installed


@dataclass
class CalendarDate:
    kind: str  # "meeting", "workshop" or "citizen_event"
    id: int
    uid: str
    sequence: int
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    online_url: str = ""
    cancelled: bool = False
    cancel_reason: str = ""
    moved_from: datetime = None  # a meeting of a series at another time than the rule says
    changed: bool = False  # time, place or status changed since publication
    organiser: str = ""  # the body of a meeting
    topic: str = ""
    facilitator: str = ""
    summary: str = ""  # the description (plain text / Markdown as entered)
    agenda: list = field(default_factory=list)  # titles of the published agenda, in order
    free_places: int = None
    capacity: int = None
    registration: str = None
    registration_status: str = None  # in a person's own feed: confirmed or waiting

    @property
    def kind_label(self):
        if self.kind == MEETING:
            return _("Sitzung")
        return str(EventKind(self.kind).label)

    @property
    def local_start(self):
        return self.starts_at.astimezone(LOCAL_ZONE)

    @property
    def local_end(self):
        return self.ends_at.astimezone(LOCAL_ZONE)

    @property
    def page(self):
        """(endpoint, values) of the date's page, or None when the area has no page for it."""
        if self.kind == MEETING:
            if MEETING_PAGE in current_app.view_functions:
                return MEETING_PAGE, {"meeting_id": self.id}
            return None
        return "events.detail", {"event_id": self.id}

    def url(self, external=False):
        page = self.page
        return url_for(page[0], _external=external, **page[1]) if page else None

    @property
    def anchor(self):
        return f"termin-{self.kind}-{self.id}"


def local_day_start(day):
    """Midnight at the start of a local calendar day, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_ZONE).astimezone(timezone.utc)


# --- rows -> dates ---------------------------------------------------------------------------------

def _published_agenda(meeting):
    if meeting.agenda_published_at is None:
        return []
    return [item.title for item in meeting.items if item.status == AgendaStatus.ACCEPTED.value]


def meeting_date(meeting):
    moved = (meeting.original_start is not None and meeting.original_start != meeting.starts_at
             and not meeting.cancelled)
    return CalendarDate(
        kind=MEETING, id=meeting.id, uid=meeting.uid, sequence=meeting.sequence or 0, title=meeting.title,
        starts_at=meeting.starts_at, ends_at=meeting.ends_at, place=meeting.place, online_url=meeting.online_url,
        cancelled=meeting.cancelled, cancel_reason=meeting.cancel_reason,
        moved_from=meeting.original_start if moved else None, changed=moved or (meeting.sequence or 0) > 0,
        organiser=meeting.body.name, agenda=_published_agenda(meeting))


def event_date(event):
    return CalendarDate(
        kind=event.kind, id=event.id, uid=event.uid, sequence=event.sequence or 0, title=event.title,
        starts_at=event.starts_at, ends_at=event.ends_at, place=event.place, online_url=event.online_url,
        cancelled=event.cancelled, cancel_reason=event.cancel_reason, changed=(event.sequence or 0) > 0,
        topic=event.topic, facilitator=event.facilitator, summary=event.description,
        free_places=event.free_places, capacity=event.capacity, registration=event.registration)


def _sorted(dates):
    return sorted(dates, key=lambda item: (item.starts_at, item.kind != MEETING, item.id))


# --- windows -----------------------------------------------------------------------------------------

def _feed_filter(model, now):
    """Dates of the last twelve months and all ahead; cancelled ones while ahead or recently cancelled."""
    return and_(model.starts_at >= now - timedelta(days=FEED_PAST_DAYS),
                or_(model.status != "cancelled", model.starts_at >= now,
                    model.updated_at >= now - timedelta(days=CANCELLED_KEPT_DAYS)))


def _range_filter(model, since, until):
    conditions = []
    if since is not None:
        conditions.append(model.ends_at >= since)
    if until is not None:
        conditions.append(model.starts_at < until)
    return and_(true(), *conditions)


def _meetings(*conditions):
    query = (select(Meeting).join(Meeting.body).where(*conditions)
             .options(selectinload(Meeting.items))
             .order_by(Meeting.starts_at, Meeting.id))
    return [meeting_date(meeting) for meeting in db.session.scalars(query)]


def _events(*conditions):
    query = select(Event).where(Event.published, *conditions).order_by(Event.starts_at, Event.id)
    return [event_date(event) for event in db.session.scalars(query)]


# --- audiences -------------------------------------------------------------------------------------------

def public_dates(*, since=None, until=None, kinds=KINDS, now=None, feed=False):
    """Meetings of public bodies and published workshops and events; `feed=True` uses the feed window."""
    now = now or utcnow()
    dates = []
    if MEETING in kinds:
        window = _feed_filter(Meeting, now) if feed else _range_filter(Meeting, since, until)
        dates += _meetings(Body.public, window)
    event_kinds = [kind for kind in kinds if kind != MEETING]
    if event_kinds:
        window = _feed_filter(Event, now) if feed else _range_filter(Event, since, until)
        dates += _events(Event.kind.in_(event_kinds), window)
    return _sorted(dates)


def body_dates(body, *, now=None):
    """All meetings of one body, public or internal, in the feed window."""
    now = now or utcnow()
    return _sorted(_meetings(Meeting.body_id == body.id, _feed_filter(Meeting, now)))


def member_body_ids(user, today=None):
    """The bodies in which the account is an active member today."""
    today = today or datetime.now(LOCAL_ZONE).date()
    return list(db.session.scalars(
        select(BodyMember.body_id).where(BodyMember.user_id == user.id, BodyMember.from_date <= today,
                                         or_(BodyMember.to_date.is_(None), BodyMember.to_date >= today))
        .distinct()))


def user_dates(user, *, now=None):
    """A person's confirmed and waiting registrations and the meetings of their bodies."""
    now = now or utcnow()
    dates = []
    body_ids = member_body_ids(user)
    if body_ids:
        dates += _meetings(Meeting.body_id.in_(body_ids), _feed_filter(Meeting, now))
    rows = db.session.execute(
        select(Event, Registration.status).join(Registration, Registration.event_id == Event.id)
        .where(Registration.user_id == user.id,
               Registration.status.in_((RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITING.value)),
               Event.published, _feed_filter(Event, now))
        .order_by(Event.starts_at, Event.id))
    for event, status in rows:
        item = event_date(event)
        item.registration_status = status
        dates.append(item)
    return _sorted(dates)


def ensure_calendar_token(user):
    """The user's feed token, created on first use (callers commit)."""
    from ..meetings.models import new_feed_token

    if not user.calendar_token:
        user.calendar_token = new_feed_token()
    return user.calendar_token


def month_groups(dates):
    """[(first day of the month, [dates])] in order, by local time."""
    groups = []
    for item in dates:
        month = date(item.local_start.year, item.local_start.month, 1)
        if not groups or groups[-1][0] != month:
            groups.append((month, []))
        groups[-1][1].append(item)
    return groups
