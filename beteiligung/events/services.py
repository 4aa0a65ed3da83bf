"""What can happen to workshops and citizen events: registration with a waiting list,
cancelling and moving up, staff writing and cancelling events, and the results entered
as ideas. Functions raise EventError with a German message and leave committing to the
caller (routes wrap register/cancel in `ideas.transactions.retrying`).

Concurrency. A seat is taken only by one conditional UPDATE
(`confirmed_count = confirmed_count + 1 WHERE status = 'scheduled' AND (capacity IS NULL
OR confirmed_count < capacity)`), whose row count says whether the seat was won, so two
requests can never both take the last seat, on SQLite or PostgreSQL. Everything that
touches the seats or the waiting list of an event first locks the event row (SELECT …
FOR UPDATE on PostgreSQL; SQLite holds its single write lock from the first write on),
so a registration that lands on the waiting list is never overtaken by a cancellation
that frees a seat at the same moment, and locks are always taken in the same order
(event, then registrations), which rules out deadlocks.
"""
from dataclasses import dataclass
from datetime import timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..account.services import account_deletion_hook, personal_data_exporter
from ..audit.services import record
from ..extensions import db
from ..models import isoformat, utcnow
from ..notifications.services import notify
from .models import (NAME_MAX, PLACE_MAX, TITLE_MAX, URL_MAX, Event, EventKind, EventStatus, Registration,
                     RegistrationMode, RegistrationStatus)

LOCAL_ZONE = ZoneInfo("Europe/Berlin")
MAIL_TEMPLATE = "events/mail.txt"
NOTE_MAX = PLACE_MAX

CONFIRMED = RegistrationStatus.CONFIRMED.value
WAITING = RegistrationStatus.WAITING.value
CANCELLED = RegistrationStatus.CANCELLED.value
ACTIVE = (CONFIRMED, WAITING)


class EventError(Exception):
    """A rule was broken; `message` is German and safe to show, `field` names the input."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- local time ------------------------------------------------------------------------------

class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped when the clocks go forward (e.g. 02:30 on the last Sunday in March)."""


def to_utc(local):
    """A naive Europe/Berlin wall-clock time (from a datetime-local input) as aware UTC."""
    if local is None:
        return None
    utc = local.replace(tzinfo=LOCAL_ZONE).astimezone(timezone.utc)
    if utc.astimezone(LOCAL_ZONE).replace(tzinfo=None) != local:
        raise NonexistentLocalTime(local)
    return utc


def to_local(value):
    """Aware UTC as naive Europe/Berlin wall-clock time (for datetime-local inputs)."""
    return value.astimezone(LOCAL_ZONE).replace(tzinfo=None, second=0, microsecond=0) if value else None


def local_text(value):
    """'Di., 14.04.2026, 17:00 Uhr' style text for messages and mails (no request needed)."""
    weekdays = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")
    local = value.astimezone(LOCAL_ZONE)
    return f"{weekdays[local.weekday()]}, {local:%d.%m.%Y, %H:%M} Uhr"


def event_path(event):
    """The path of the event's public page, also outside a request (CLI, scheduler)."""
    if has_request_context():
        return url_for("events.detail", event_id=event.id)
    return current_app.url_map.bind("localhost").build("events.detail", {"event_id": event.id})


# --- state ---------------------------------------------------------------------------------------

def registration_closes_at(event):
    """When registration ends: the set closing time, at the latest the start."""
    if event.registration_closes_at is not None and event.registration_closes_at < event.starts_at:
        return event.registration_closes_at
    return event.starts_at


def registration_open(event, now=None):
    now = now or utcnow()
    return (event.published and not event.cancelled and event.registration != RegistrationMode.NONE.value
            and now < registration_closes_at(event))


def registration_of(event, user):
    """The user's registration row for the event (any status), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                        Registration.user_id == user.id))


def waiting_position(registration):
    """1 for the first on the waiting list; None if the registration is not waiting."""
    if registration is None or registration.status != WAITING:
        return None
    ahead = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == registration.event_id, Registration.status == WAITING,
            or_(Registration.created_at < registration.created_at,
                (Registration.created_at == registration.created_at) & (Registration.id < registration.id))))
    return ahead + 1


def waiting_counts(event_ids):
    """{event id: people on the waiting list} in one query."""
    if not event_ids:
        return {}
    rows = db.session.execute(select(Registration.event_id, func.count(Registration.id))
                              .where(Registration.event_id.in_(list(event_ids)), Registration.status == WAITING)
                              .group_by(Registration.event_id))
    return dict(rows.all())


def waiting_list(event):
    """The waiting registrations in the order they move up."""
    return db.session.scalars(select(Registration).where(Registration.event_id == event.id,
                                                         Registration.status == WAITING)
                              .order_by(Registration.created_at, Registration.id)).all()


# --- seats ------------------------------------------------------------------------------------------

def _lock_event(event_id):
    """Serialise seat and waiting-list changes of one event (no-op statement on SQLite, see above)."""
    return db.session.execute(select(Event.status).where(Event.id == event_id).with_for_update()).scalar()


def _claim_seat(event_id):
    """Take one seat if there is one: the only way `confirmed_count` ever grows."""
    result = db.session.execute(
        update(Event)
        .where(Event.id == event_id, Event.status == EventStatus.SCHEDULED.value,
               or_(Event.capacity.is_(None), Event.confirmed_count < Event.capacity))
        .values(confirmed_count=Event.confirmed_count + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _release_seat(event_id):
    db.session.execute(update(Event).where(Event.id == event_id, Event.confirmed_count > 0)
                       .values(confirmed_count=Event.confirmed_count - 1)
                       .execution_options(synchronize_session=False))


def _insert_registration(values):
    """Insert unless the person is registered already (unique constraint); True if inserted."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(Registration.__table__).values(**values)
                 .on_conflict_do_nothing(index_elements=["event_id", "user_id"])
                 .returning(Registration.__table__.c.id))  # rowcount is not reliable for INSERT on every driver
    return len(db.session.execute(statement).all()) == 1


def _fresh_registration(event_id, user_id):
    return db.session.scalar(select(Registration).where(Registration.event_id == event_id,
                                                        Registration.user_id == user_id)
                             .execution_options(populate_existing=True))


def _refresh(event):
    db.session.refresh(event, ["confirmed_count", "status", "sequence", "updated_at"])


# --- registering and cancelling -------------------------------------------------------------------

def check_may_register(event, user, now=None):
    """Raise EventError if `user` cannot register for `event` now."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise EventError(_("Bitte melden Sie sich an, um sich für die Veranstaltung anzumelden."))
    if not event.published:
        raise EventError(_("Diese Veranstaltung ist nicht veröffentlicht."))
    if event.cancelled:
        raise EventError(_("Diese Veranstaltung ist abgesagt; eine Anmeldung ist nicht mehr möglich."))
    if event.registration == RegistrationMode.NONE.value:
        raise EventError(_("Für diese Veranstaltung ist keine Anmeldung nötig. Kommen Sie einfach vorbei."))
    if (now or utcnow()) >= registration_closes_at(event):
        raise EventError(_("Die Anmeldung für diese Veranstaltung ist geschlossen."))


def register(event, user, note="", *, now=None):
    """Register `user` for `event`: a seat if one is free, else a place on the waiting list.

    Returns `(registration, created)`; a second registration of the same person returns
    the existing one with `created=False` (also when both arrive at the same moment: the
    unique constraint decides and the loser gives back the seat it took). A cancelled
    registration is taken up again, at the end of the waiting list if the event is full.
    The person gets a confirmation (in the app and by mail) with the waiting-list place.
    """
    check_may_register(event, user, now)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise EventError(_("Der Hinweis darf höchstens %(max)d Zeichen lang sein.", max=NOTE_MAX), "note")
    existing = registration_of(event, user)
    if existing is not None and existing.status in ACTIVE:
        return existing, False
    if _lock_event(event.id) == EventStatus.CANCELLED.value:
        raise EventError(_("Diese Veranstaltung ist abgesagt; eine Anmeldung ist nicht mehr möglich."))
    claimed = _claim_seat(event.id)
    if not claimed and db.session.scalar(select(Event.status).where(Event.id == event.id)) \
            == EventStatus.CANCELLED.value:  # cancelled by staff a moment ago
        raise EventError(_("Diese Veranstaltung ist abgesagt; eine Anmeldung ist nicht mehr möglich."))
    stamp = utcnow()  # taken under the lock, so the waiting list follows the order of the writes
    values = {"status": CONFIRMED if claimed else WAITING, "created_at": stamp,
              "confirmed_at": stamp if claimed else None, "cancelled_at": None, "note": note}
    if existing is None:
        written = _insert_registration({"event_id": event.id, "user_id": user.id, **values})
    else:
        written = db.session.execute(
            update(Registration).where(Registration.id == existing.id, Registration.status == CANCELLED)
            .values(**values).execution_options(synchronize_session=False)).rowcount == 1
    if not written:  # the same person registered at the same moment in another request
        if claimed:
            _release_seat(event.id)
        _refresh(event)
        return _fresh_registration(event.id, user.id), False
    registration = _fresh_registration(event.id, user.id)
    _refresh(event)
    _confirm(registration, event, user)
    return registration, True


def _confirm(registration, event, user):
    when, title = local_text(event.starts_at), event.title
    if registration.status == CONFIRMED:
        notify(user, "event.registered",
               _("Sie sind für „%(title)s“ am %(when)s angemeldet.", title=title, when=when),
               event_path(event), subject=_("Anmeldung bestätigt: %(title)s", title=title),
               mail_template=MAIL_TEMPLATE, event=event, place=_place_text(event))
    else:
        position = waiting_position(registration)
        notify(user, "event.waiting",
               _("„%(title)s“ am %(when)s ist ausgebucht. Sie stehen auf Platz %(position)d der Warteliste "
                 "und rücken automatisch nach, sobald ein Platz frei wird.",
                 title=title, when=when, position=position),
               event_path(event), subject=_("Warteliste: %(title)s", title=title),
               mail_template=MAIL_TEMPLATE, event=event, place=_place_text(event))


def cancel_registration(registration, *, now=None):
    """Cancel a registration. A freed seat goes to the first on the waiting list, who is
    notified. Returns False if it was cancelled already (a repeated click changes nothing)."""
    event = registration.event
    _lock_event(event.id)
    stamp = now or utcnow()
    was_confirmed = db.session.execute(
        update(Registration).where(Registration.id == registration.id, Registration.status == CONFIRMED)
        .values(status=CANCELLED, cancelled_at=stamp).execution_options(synchronize_session=False)).rowcount == 1
    if was_confirmed:
        _release_seat(event.id)
        _refresh(event)
        fill_free_seats(event, now=now)
    else:
        was_waiting = db.session.execute(
            update(Registration).where(Registration.id == registration.id, Registration.status == WAITING)
            .values(status=CANCELLED, cancelled_at=stamp).execution_options(synchronize_session=False)
        ).rowcount == 1
        if not was_waiting:
            db.session.refresh(registration)
            return False
    db.session.refresh(registration)
    _refresh(event)
    return True


def fill_free_seats(event, *, now=None):
    """Move people up from the waiting list, first come first served, while seats are free
    and the event has not started. Each gets the seat by the conditional UPDATE and is
    notified. Returns the registrations that moved up."""
    if (now or utcnow()) >= event.starts_at:
        return []
    moved = []
    skipped = set()
    while True:
        query = (select(Registration.id, Registration.user_id)
                 .where(Registration.event_id == event.id, Registration.status == WAITING)
                 .order_by(Registration.created_at, Registration.id).limit(1))
        if skipped:
            query = query.where(Registration.id.not_in(skipped))
        candidate = db.session.execute(query).first()
        if candidate is None or not _claim_seat(event.id):
            break
        stamp = utcnow()
        promoted = db.session.execute(
            update(Registration).where(Registration.id == candidate.id, Registration.status == WAITING)
            .values(status=CONFIRMED, confirmed_at=stamp).execution_options(synchronize_session=False)
        ).rowcount == 1
        if not promoted:  # the person left the list at this moment; the seat goes to the next one
            _release_seat(event.id)
            skipped.add(candidate.id)
            continue
        registration = db.session.get(Registration, candidate.id, populate_existing=True)
        moved.append(registration)
        notify(registration.user, "event.moved_up",
               _("Sie sind von der Warteliste nachgerückt: Ihr Platz für „%(title)s“ am %(when)s ist bestätigt. "
                 "Wenn Sie nicht kommen können, melden Sie sich bitte ab.",
                 title=event.title, when=local_text(event.starts_at)),
               event_path(event), subject=_("Nachgerückt: Ihr Platz für %(title)s", title=event.title),
               mail_template=MAIL_TEMPLATE, event=event, place=_place_text(event))
    _refresh(event)
    return moved


# --- lists ---------------------------------------------------------------------------------------------

def participants(event):
    """(confirmed, waiting, cancelled) registrations, each in a sensible order, users loaded."""
    from sqlalchemy.orm import joinedload

    rows = db.session.scalars(select(Registration).where(Registration.event_id == event.id)
                              .options(joinedload(Registration.user))
                              .order_by(Registration.created_at, Registration.id)).all()
    confirmed = sorted((r for r in rows if r.status == CONFIRMED), key=lambda r: (r.confirmed_at or r.created_at, r.id))
    waiting = [r for r in rows if r.status == WAITING]
    cancelled = [r for r in rows if r.status == CANCELLED]
    return confirmed, waiting, cancelled


def registrations_of(user):
    """The user's registrations with their events, the next event first, past ones last."""
    from sqlalchemy.orm import contains_eager

    return db.session.scalars(
        select(Registration).join(Registration.event).options(contains_eager(Registration.event))
        .where(Registration.user_id == user.id, Event.published)
        .order_by(Event.starts_at.desc())).all()


def results_of(event):
    """The ideas collected at the event (visible ones), most dot-votes first."""
    from ..ideas.models import Idea

    return db.session.scalars(select(Idea).where(Idea.event_id == event.id, Idea.hidden_at.is_(None))
                              .order_by(Idea.dot_votes.desc(), Idea.id)).all()


def result_counts(event_ids):
    """{event id: visible ideas collected there} in one query."""
    from ..ideas.models import Idea

    if not event_ids:
        return {}
    rows = db.session.execute(select(Idea.event_id, func.count(Idea.id))
                              .where(Idea.event_id.in_(list(event_ids)), Idea.hidden_at.is_(None))
                              .group_by(Idea.event_id))
    return dict(rows.all())


# --- staff: writing events --------------------------------------------------------------------------------

@dataclass
class EventData:
    """The fields of the staff form, times as aware UTC, sector and facilitator account as rows."""
    kind: str
    title: str
    starts_at: object
    ends_at: object
    topic: str = ""
    sector: object = None
    description: str = ""
    place: str = ""
    online_url: str = ""
    facilitator: str = ""
    facilitator_user: object = None
    registration: str = RegistrationMode.REQUIRED.value
    capacity: object = None
    registration_closes_at: object = None
    published: bool = True
    results_note: str = ""


TRACKED = ("kind", "title", "topic", "sector_id", "description", "starts_at", "ends_at", "place", "online_url",
           "facilitator", "facilitator_user_id", "registration", "capacity", "registration_closes_at", "published",
           "results_note")
SIGNIFICANT = ("starts_at", "ends_at", "place", "online_url")  # changes that raise the iCalendar SEQUENCE


def _check(data, event):
    if data.kind not in {kind.value for kind in EventKind}:
        raise EventError(_("Unbekannte Art der Veranstaltung."), "kind")
    if data.registration not in {mode.value for mode in RegistrationMode}:
        raise EventError(_("Unbekannte Art der Anmeldung."), "registration")
    title = (data.title or "").strip()
    if not title:
        raise EventError(_("Bitte geben Sie einen Titel an."), "title")
    for name, limit in (("title", TITLE_MAX), ("topic", TITLE_MAX), ("place", PLACE_MAX), ("online_url", URL_MAX),
                        ("facilitator", NAME_MAX)):
        if len(getattr(data, name) or "") > limit:
            raise EventError(_("Höchstens %(max)d Zeichen.", max=limit), name)
    if data.online_url and not data.online_url.startswith(("https://", "http://")):
        raise EventError(_("Der Online-Link muss mit https:// beginnen."), "online_url")
    if data.starts_at is None:
        raise EventError(_("Bitte geben Sie den Beginn an."), "starts_at")
    if data.ends_at is None:
        raise EventError(_("Bitte geben Sie das Ende an."), "ends_at")
    if data.ends_at <= data.starts_at:
        raise EventError(_("Das Ende muss nach dem Beginn liegen."), "ends_at")
    if not (data.place or "").strip() and not (data.online_url or "").strip():
        raise EventError(_("Bitte geben Sie einen Ort oder einen Online-Link an."), "place")
    if data.capacity is not None and data.capacity < 0:
        raise EventError(_("Die Zahl der Plätze darf nicht negativ sein."), "capacity")
    if data.registration == RegistrationMode.REQUIRED.value and data.capacity is None:
        pass  # unlimited seats with registration: allowed (e.g. to know who comes)
    confirmed = event.confirmed_count if event is not None else 0
    if data.capacity is not None and data.capacity < confirmed:
        raise EventError(_("Es sind bereits %(count)d Personen fest angemeldet; die Zahl der Plätze kann nicht "
                           "darunter liegen. Melden Sie zuerst Personen ab.", count=confirmed), "capacity")
    if data.registration_closes_at is not None and data.registration_closes_at > data.starts_at:
        raise EventError(_("Der Anmeldeschluss muss vor dem Beginn liegen."), "registration_closes_at")


def _values(data):
    return {
        "kind": data.kind, "title": data.title.strip(), "topic": (data.topic or "").strip(),
        "sector_id": getattr(data.sector, "id", None), "description": (data.description or "").strip(),
        "starts_at": data.starts_at, "ends_at": data.ends_at, "place": (data.place or "").strip(),
        "online_url": (data.online_url or "").strip(), "facilitator": (data.facilitator or "").strip(),
        "facilitator_user_id": getattr(data.facilitator_user, "id", None), "registration": data.registration,
        "capacity": data.capacity, "registration_closes_at": data.registration_closes_at,
        "published": bool(data.published), "results_note": (data.results_note or "").strip(),
    }


def _audit_value(value):
    return isoformat(value) if hasattr(value, "isoformat") else value


def save_event(event, data, *, actor=None, now=None):
    """Create (`event=None`) or change an event from `EventData`.

    A new date, end or place raises `sequence` (calendar programs then update the entry)
    and notifies the registered people; more seats move people up from the waiting list.
    Returns the event.
    """
    from ..meetings.models import new_uid

    _check(data, event)
    values = _values(data)
    if event is None:
        event = Event(uid=new_uid("event"), sequence=0, confirmed_count=0, status=EventStatus.SCHEDULED.value,
                      **values)
        db.session.add(event)
        db.session.flush()
        record("event.created", event, actor=actor, new={key: _audit_value(values[key]) for key in TRACKED})
        return event
    _lock_event(event.id)
    db.session.refresh(event)
    _check(data, event)  # again under the lock: the seats may have changed meanwhile
    changed = {key: (getattr(event, key), value) for key, value in values.items() if getattr(event, key) != value}
    if not changed:
        return event
    significant = any(key in changed for key in SIGNIFICANT)
    more_seats = "capacity" in changed and (values["capacity"] is None or (event.capacity is not None
                                                                           and values["capacity"] > event.capacity))
    for key, (_old, value) in changed.items():
        setattr(event, key, value)
    if significant:
        event.sequence = (event.sequence or 0) + 1
    db.session.flush()
    record("event.changed", event, actor=actor, old={key: _audit_value(old) for key, (old, _new) in changed.items()},
           new={key: _audit_value(new) for key, (_old, new) in changed.items()})
    if significant and not event.cancelled:
        _tell_registered(event, "event.changed",
                         _("„%(title)s“ wurde geändert: Die Veranstaltung ist jetzt am %(when)s, %(place)s.",
                           title=event.title, when=local_text(event.starts_at), place=_place_text(event)),
                         _("Geändert: %(title)s", title=event.title))
    if more_seats and not event.cancelled:
        fill_free_seats(event, now=now)
    return event


def cancel_event(event, reason, *, actor=None):
    """Cancel the event; registered and waiting people are notified. Registrations stay,
    so their calendar feeds show the date as cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise EventError(_("Bitte geben Sie einen Grund für die Absage an."), "reason")
    if len(reason) > PLACE_MAX:
        raise EventError(_("Höchstens %(max)d Zeichen.", max=PLACE_MAX), "reason")
    _lock_event(event.id)
    cancelled = db.session.execute(
        update(Event).where(Event.id == event.id, Event.status == EventStatus.SCHEDULED.value)
        .values(status=EventStatus.CANCELLED.value, cancel_reason=reason, sequence=Event.sequence + 1)
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.refresh(event)
    if not cancelled:
        raise EventError(_("Diese Veranstaltung ist bereits abgesagt."))
    record("event.cancelled", event, actor=actor, reason=reason)
    _tell_registered(event, "event.cancelled",
                     _("„%(title)s“ am %(when)s ist abgesagt. Grund: %(reason)s",
                       title=event.title, when=local_text(event.starts_at), reason=reason),
                     _("Abgesagt: %(title)s", title=event.title))
    return event


def reinstate_event(event, *, actor=None, now=None):
    """Take a cancellation back; registered people are told, free seats are filled."""
    _lock_event(event.id)
    reinstated = db.session.execute(
        update(Event).where(Event.id == event.id, Event.status == EventStatus.CANCELLED.value)
        .values(status=EventStatus.SCHEDULED.value, cancel_reason="", sequence=Event.sequence + 1)
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.refresh(event)
    if not reinstated:
        raise EventError(_("Diese Veranstaltung ist nicht abgesagt."))
    record("event.reinstated", event, actor=actor)
    _tell_registered(event, "event.changed",
                     _("„%(title)s“ am %(when)s findet nun doch statt. Ihre Anmeldung gilt weiter.",
                       title=event.title, when=local_text(event.starts_at)),
                     _("Findet statt: %(title)s", title=event.title))
    fill_free_seats(event, now=now)
    return event


def remove_registration(registration, *, actor=None, now=None):
    """Staff cancel someone's registration (e.g. on request by phone); the person is told."""
    if not cancel_registration(registration, now=now):
        raise EventError(_("Diese Anmeldung ist bereits storniert."))
    event = registration.event
    record("event.registration_cancelled", event, actor=actor, details={"registration_id": registration.id})
    notify(registration.user, "event.unregistered",
           _("Ihre Anmeldung für „%(title)s“ am %(when)s wurde von der Verwaltung storniert.",
             title=event.title, when=local_text(event.starts_at)),
           event_path(event), subject=_("Anmeldung storniert: %(title)s", title=event.title),
           mail_template=MAIL_TEMPLATE, event=event, place=_place_text(event))
    return registration


def _place_text(event):
    parts = [part for part in (event.place, event.online_url) if part]
    return " / ".join(parts) if parts else _("Ort wird noch bekannt gegeben")


def _tell_registered(event, kind, message, subject):
    rows = db.session.scalars(select(Registration).where(Registration.event_id == event.id,
                                                         Registration.status.in_(ACTIVE))).all()
    for registration in rows:
        notify(registration.user, kind, message, event_path(event), subject=subject, mail_template=MAIL_TEMPLATE,
               event=event, place=_place_text(event))
    return len(rows)


def facilitator_for(email):
    """The account for a facilitator's e-mail address; EventError if there is none."""
    from ..auth.models import User

    email = (email or "").strip().lower()
    if not email:
        return None
    user = db.session.scalar(select(User).where(func.lower(User.email) == email, User.deleted_at.is_(None)))
    if user is None:
        raise EventError(_("Zu dieser E-Mail-Adresse gibt es kein Konto. Die Person muss sich zuerst registrieren."),
                         "facilitator_email")
    return user


# --- results as ideas ------------------------------------------------------------------------------------------

def may_enter_results(event, user):
    """The event's facilitator account and staff enter the results."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.role in ("staff", "admin") or (event.facilitator_user_id is not None
                                                and event.facilitator_user_id == user.id)


@dataclass
class ResultEntry:
    title: str
    text: str
    sector: object = None  # Sector or None ("noch offen")
    dot_votes: int = 0


def add_results(event, entries, *, district, actor, form_token=None):
    """Save the results of the event as ideas with provenance, through the same service as the
    analog entry (`ideas.services.create_idea`): source workshop or citizen event, the event's
    title and facilitator, the dot-votes, and `Idea.event_id`. All or nothing: a wrong entry
    raises `EventError` with `field` = "entries-<n>-<field>". Returns the ideas."""
    from ..ideas import services as idea_services
    from ..ideas.models import Source

    if not may_enter_results(event, actor):
        raise EventError(_("Ergebnisse tragen die Moderation der Veranstaltung und die Verwaltung ein."))
    if not entries:
        raise EventError(_("Bitte tragen Sie mindestens eine Idee ein."))
    source = Source.WORKSHOP if event.kind == EventKind.WORKSHOP.value else Source.EVENT
    facilitator = event.facilitator or actor.public_name
    ideas = []
    for number, entry in entries:
        try:
            idea = idea_services.create_idea(
                None, entry.title, entry.text, sector=entry.sector, district=district, source=source,
                entered_by=actor, event_name=event.title[:200], facilitator=facilitator[:120],
                dot_votes=entry.dot_votes or 0, form_token=form_token)
        except idea_services.IdeaError as error:
            field = "district" if error.field == "district" else f"entries-{number}-{error.field or 'title'}"
            raise EventError(error.message, field) from error
        idea.event_id = event.id
        ideas.append(idea)
    db.session.flush()
    record("event.results_entered", event, actor=actor, details={"ideas": [idea.id for idea in ideas]})
    return ideas


def results_saved_with_token(actor, token):
    """The id of an idea this actor already saved with the one-time form token (a resubmitted form)."""
    from ..ideas.services import idea_entered_with_token

    return idea_entered_with_token(actor, token)


# --- personal data --------------------------------------------------------------------------------------------

@personal_data_exporter("event_registrations", covers=["registrations.user_id"])
def _export(user):
    rows = db.session.execute(select(Registration, Event).join(Event, Registration.event_id == Event.id)
                              .where(Registration.user_id == user.id).order_by(Registration.id))
    return [{"id": registration.id, "event_id": event.id, "event": event.title, "starts_at": isoformat(event.starts_at),
             "status": registration.status, "registered_at": isoformat(registration.created_at),
             "cancelled_at": isoformat(registration.cancelled_at), "note": registration.note}
            for registration, event in rows]


@account_deletion_hook
def _delete(user):
    """A deleted account gives its seats back (the waiting list moves up) and its registrations go."""
    rows = db.session.scalars(select(Registration).where(Registration.user_id == user.id,
                                                         Registration.status.in_(ACTIVE))).all()
    for registration in rows:
        cancel_registration(registration)
    db.session.execute(Registration.__table__.delete().where(Registration.user_id == user.id))
