"""Scheduled notices for meetings and events, sent by the scheduler every few minutes.

- The agenda of a meeting goes to the body's members `Body.agenda_lead_days` days before the
  meeting (at the same local time; with 0 days on the morning of the meeting day), once the
  staff have published it (`Meeting.agenda_published_at`). Published later, it goes out at once.
- A reminder goes out one day before (at the same local time the day before) to the members
  and to everyone with a confirmed registration for an event.
- Nothing goes out for a meeting or event that has started or is cancelled: after downtime a
  notice whose date has passed is dropped, one whose date is still ahead is sent once.

Recipients of a meeting are the members active on the meeting day (`from_date`..`to_date`)
with an account that is not deleted. Every notice to every recipient has a key in `NoticeLog`
("meeting:<id>:agenda:<start>:user:<id>", "meeting:<id>:reminder:<start>:user:<id>",
"event:<id>:reminder:<start>:user:<id>"); the key and the notification (with its e-mail in the
outbox) are committed together, so a second run, a restarted scheduler or a second process
never sends one twice. A moved meeting has a new start and so gets its notices again.
"""
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from .auth.models import User
from .events.models import Event, EventStatus, Registration, RegistrationStatus
from .extensions import db
from .meetings.models import AgendaItem, AgendaStatus, BodyMember, Meeting, MeetingStatus
from .models import utcnow
from .notifications.models import NoticeLog
from .notifications.services import notify

log = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")
REMINDER_BEFORE = timedelta(days=1)
LOOK_AHEAD = timedelta(days=62)  # the longest agenda lead (60 days) and a margin

# Where the notices link to: the first endpoint of each list that exists (others build the pages).
MEETING_ENDPOINTS = (("working_group.meeting", "meeting_id"), ("working_group.meeting_detail", "meeting_id"),
                     ("working_group.index", None), ("calendar.index", None))
EVENT_ENDPOINTS = (("events.detail", "event_id"), ("events.event", "event_id"), ("events.show", "event_id"),
                   ("events.index", None), ("calendar.index", None))


@dataclass
class Notice:
    """One notice to a group of people, with everything its messages need (plain data, so that
    it survives the commit after each recipient)."""
    key_prefix: str  # the NoticeLog key without the user id
    kind: str  # notification kind
    recipients: list  # user ids
    message: str
    subject: str
    template: str
    url: str | None
    context: dict = field(default_factory=dict)


def _iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def _local(moment):
    return moment.astimezone(BERLIN)


def _date_text(moment):
    return format_date(_local(moment).date(), "EEEE, dd.MM.yyyy", locale="de")


def _time_text(moment):
    return _local(moment).strftime("%H:%M")


def _short(text, limit=120):
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _url(endpoints, object_id):
    for endpoint, arg in endpoints:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, **({arg: object_id} if arg else {}))
    return None


def agenda_due_at(meeting):
    """When the agenda of `meeting` is due: N days before at the same local time; 0 days: 0:00 that day."""
    start = _local(meeting.starts_at)
    lead = meeting.body.agenda_lead_days or 0
    if lead <= 0:
        return start.replace(hour=0, minute=0, second=0, microsecond=0)
    return start - timedelta(days=lead)  # wall-clock arithmetic: the same local time, also across DST


def reminder_due_at(starts_at):
    return _local(starts_at) - REMINDER_BEFORE


def agenda_schedule(meeting):
    """The accepted items in order, each with its running start time (local) and duration."""
    items = db.session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id, AgendaItem.status == AgendaStatus.ACCEPTED.value)
        .order_by(AgendaItem.position, AgendaItem.id)
    ).all()
    at = _local(meeting.starts_at)
    rows = []
    for number, item in enumerate(items, start=1):
        rows.append({"number": number, "title": item.title, "presenter": item.presenter,
                     "minutes": item.duration_minutes, "starts": at.strftime("%H:%M")})
        at = at + timedelta(minutes=item.duration_minutes)
    return rows, at.strftime("%H:%M")


def meeting_recipients(meeting):
    """Ids of the members active on the meeting day who have an account that is not deleted."""
    day = _local(meeting.starts_at).date()
    return list(db.session.scalars(
        select(User.id).join(BodyMember, BodyMember.user_id == User.id)
        .where(BodyMember.body_id == meeting.body_id, BodyMember.from_date <= day,
               or_(BodyMember.to_date.is_(None), BodyMember.to_date >= day), User.deleted_at.is_(None))
        .distinct().order_by(User.id)
    ))


def event_recipients(event):
    return list(db.session.scalars(
        select(User.id).join(Registration, Registration.user_id == User.id)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED.value,
               User.deleted_at.is_(None))
        .order_by(User.id)
    ))


def _meeting_context(meeting, url):
    return {
        "title": meeting.title, "body": meeting.body.name, "date": _date_text(meeting.starts_at),
        "start": _time_text(meeting.starts_at), "end": _time_text(meeting.ends_at),
        "place": meeting.place, "online_url": meeting.online_url, "page": url,
    }


def _meeting_notices(meeting, now):
    notices = []
    start_key = _iso(meeting.starts_at)
    url = _url(MEETING_ENDPOINTS, meeting.id)
    when = _("%(date)s, %(time)s Uhr", date=_date_text(meeting.starts_at), time=_time_text(meeting.starts_at))
    title = _short(meeting.title)
    recipients = None
    if meeting.agenda_published_at is not None and now >= agenda_due_at(meeting):
        recipients = meeting_recipients(meeting)
        items, ends = agenda_schedule(meeting)
        notices.append(Notice(
            key_prefix=f"meeting:{meeting.id}:agenda:{start_key}:user:", kind="meeting.agenda", recipients=recipients,
            message=_("Die Tagesordnung für „%(title)s“ am %(when)s ist da.", title=title, when=when),
            subject=_("Tagesordnung: %(title)s am %(date)s", title=title,
                      date=_local(meeting.starts_at).strftime("%d.%m.%Y")),
            template="mail/meeting_agenda.txt", url=url,
            context={"meeting": _meeting_context(meeting, url), "items": items, "items_end": ends},
        ))
    if now >= reminder_due_at(meeting.starts_at):
        recipients = recipients if recipients is not None else meeting_recipients(meeting)
        notices.append(Notice(
            key_prefix=f"meeting:{meeting.id}:reminder:{start_key}:user:", kind="meeting.reminder",
            recipients=recipients,
            message=_("Erinnerung an die Sitzung „%(title)s“ am %(when)s.", title=title, when=when),
            subject=_("Erinnerung: %(title)s am %(date)s", title=title,
                      date=_local(meeting.starts_at).strftime("%d.%m.%Y")),
            template="mail/meeting_reminder.txt", url=url,
            context={"meeting": _meeting_context(meeting, url),
                     "agenda_published": meeting.agenda_published_at is not None},
        ))
    return notices


def _event_notice(event):
    url = _url(EVENT_ENDPOINTS, event.id)
    title = _short(event.title)
    when = _("%(date)s, %(time)s Uhr", date=_date_text(event.starts_at), time=_time_text(event.starts_at))
    return Notice(
        key_prefix=f"event:{event.id}:reminder:{_iso(event.starts_at)}:user:", kind="event.reminder",
        recipients=event_recipients(event),
        message=_("Erinnerung: Sie sind für „%(title)s“ am %(when)s angemeldet.", title=title, when=when),
        subject=_("Erinnerung: %(title)s am %(date)s", title=title, date=_local(event.starts_at).strftime("%d.%m.%Y")),
        template="mail/event_reminder.txt", url=url,
        context={"event": {"title": event.title, "date": _date_text(event.starts_at),
                           "start": _time_text(event.starts_at), "end": _time_text(event.ends_at),
                           "place": event.place, "online_url": event.online_url,
                           "facilitator": event.facilitator, "page": url,
                           "waiting_list": event.capacity is not None}},
    )


def due_notices(now=None):
    """Every notice whose time has come and whose date is still ahead (not yet filtered by NoticeLog)."""
    now = now or utcnow()
    notices = []
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.status == MeetingStatus.SCHEDULED.value, Meeting.starts_at > now,
                              Meeting.starts_at <= now + LOOK_AHEAD)
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    for meeting in meetings:
        notices.extend(_meeting_notices(meeting, now))
    events = db.session.scalars(
        select(Event).where(Event.status == EventStatus.SCHEDULED.value, Event.starts_at > now,
                            Event.starts_at <= now + REMINDER_BEFORE + timedelta(hours=2))
        .order_by(Event.starts_at, Event.id)
    ).all()
    for event in events:
        if now >= reminder_due_at(event.starts_at):
            notices.append(_event_notice(event))
    return notices


def _deliver(notice):
    """Send `notice` to each recipient that has not had it; one transaction per recipient."""
    existing = set(db.session.scalars(select(NoticeLog.key).where(NoticeLog.key.like(notice.key_prefix + "%"))))
    db.session.rollback()  # end the read; each recipient gets a transaction of its own
    sent = 0
    for user_id in notice.recipients:
        key = f"{notice.key_prefix}{user_id}"
        if key in existing:
            continue
        try:
            db.session.add(NoticeLog(key=key, sent_at=utcnow()))
            db.session.flush()  # a concurrent run that inserted the key first makes this fail
            user = db.session.get(User, user_id)
            notify(user, notice.kind, notice.message, notice.url, subject=notice.subject,
                   mail_template=notice.template, **notice.context)
            db.session.commit()
            sent += 1
        except IntegrityError:
            db.session.rollback()
            log.info("notice %s was sent by another process", key)
    return sent


def send_due_notices(now=None):
    """Send every due agenda and reminder exactly once; returns a Counter of notifications by kind.

    Needs a request context (links in the messages and e-mails).
    """
    now = now or utcnow()
    counts = Counter()
    try:
        notices = due_notices(now)
        db.session.rollback()
        for notice in notices:
            count = _deliver(notice)
            if count:
                counts[notice.kind] += count
    except Exception:
        db.session.rollback()
        raise
    if counts:
        log.info("notices sent: %s", dict(counts))
    return counts
