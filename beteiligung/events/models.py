"""Themed workshops and citizen events with registration and a waiting list.

The seats are counted in `Event.confirmed_count`, which only a conditional UPDATE raises
(`confirmed_count < capacity`), so concurrent registrations can never exceed the capacity on
SQLite or PostgreSQL. The waiting list is the registrations with status `waiting`, in the
order they came in (`created_at`, `id`).
"""
import enum

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, utcnow

TITLE_MAX = 200
PLACE_MAX = 300
URL_MAX = 500
NAME_MAX = 120


class EventKind(str, enum.Enum):
    WORKSHOP = "workshop"
    CITIZEN_EVENT = "citizen_event"

    @property
    def label(self):
        return {EventKind.WORKSHOP: _l("Themenwerkstatt"), EventKind.CITIZEN_EVENT: _l("Bürgerveranstaltung")}[self]


class RegistrationMode(str, enum.Enum):
    REQUIRED = "required"  # only with a seat (waiting list when full)
    OPTIONAL = "optional"  # registration helps planning; everyone may come
    NONE = "none"  # no registration

    @property
    def label(self):
        return {RegistrationMode.REQUIRED: _l("Anmeldung erforderlich"),
                RegistrationMode.OPTIONAL: _l("Anmeldung erwünscht"),
                RegistrationMode.NONE: _l("ohne Anmeldung")}[self]


class EventStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RegistrationStatus(str, enum.Enum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {RegistrationStatus.CONFIRMED: _l("angemeldet"), RegistrationStatus.WAITING: _l("auf der Warteliste"),
                RegistrationStatus.CANCELLED: _l("abgemeldet")}[self]


def _check_in(column, enum_class):
    values = ", ".join(f"'{member.value}'" for member in enum_class)
    return db.CheckConstraint(f"{column} IN ({values})", name=f"{column}_known")


class Event(TimestampMixin, db.Model):
    __tablename__ = "events"
    audit_type = "event"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False, default=EventKind.WORKSHOP.value, index=True)
    title = db.Column(db.String(TITLE_MAX), nullable=False)
    topic = db.Column(db.String(TITLE_MAX), nullable=False, default="")
    sector_id = db.Column(db.Integer, db.ForeignKey("sectors.id", ondelete="SET NULL"), nullable=True, index=True)
    description = db.Column(db.Text, nullable=False, default="")
    starts_at = db.Column(UTCDateTime, nullable=False, index=True)
    ends_at = db.Column(UTCDateTime, nullable=False)
    place = db.Column(db.String(PLACE_MAX), nullable=False, default="")
    online_url = db.Column(db.String(URL_MAX), nullable=False, default="")
    facilitator = db.Column(db.String(NAME_MAX), nullable=False, default="")
    facilitator_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                    index=True)  # may enter the results as ideas
    registration = db.Column(db.String(10), nullable=False, default=RegistrationMode.REQUIRED.value)
    capacity = db.Column(db.Integer, nullable=True)  # seats; None: unlimited
    registration_closes_at = db.Column(UTCDateTime, nullable=True)  # None: at the start
    confirmed_count = db.Column(db.Integer, nullable=False, default=0)  # = confirmed registrations
    published = db.Column(db.Boolean, nullable=False, default=True)
    status = db.Column(db.String(10), nullable=False, default=EventStatus.SCHEDULED.value, index=True)
    cancel_reason = db.Column(db.String(PLACE_MAX), nullable=False, default="")
    uid = db.Column(db.String(120), nullable=False, unique=True)
    sequence = db.Column(db.Integer, nullable=False, default=0)
    results_note = db.Column(db.Text, nullable=False, default="")  # summary of the results, public

    sector = db.relationship("Sector")

    __table_args__ = (
        _check_in("kind", EventKind),
        _check_in("registration", RegistrationMode),
        _check_in("status", EventStatus),
        db.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        db.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        db.CheckConstraint("confirmed_count >= 0", name="confirmed_not_negative"),
        db.CheckConstraint("capacity IS NULL OR confirmed_count <= capacity", name="within_capacity"),
    )

    @property
    def cancelled(self):
        return self.status == EventStatus.CANCELLED.value

    @property
    def free_places(self):
        if self.capacity is None or self.registration == RegistrationMode.NONE.value:
            return None
        return max(self.capacity - self.confirmed_count, 0)


class Registration(db.Model):
    __tablename__ = "registrations"

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.Integer, db.ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    status = db.Column(db.String(10), nullable=False, default=RegistrationStatus.CONFIRMED.value)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)  # the place on the waiting list
    confirmed_at = db.Column(UTCDateTime, nullable=True)
    cancelled_at = db.Column(UTCDateTime, nullable=True)
    note = db.Column(db.String(PLACE_MAX), nullable=False, default="")  # e.g. accessibility needs

    event = db.relationship("Event")
    user = db.relationship("User")

    __table_args__ = (
        db.UniqueConstraint("event_id", "user_id", name="uq_registrations_event_user"),
        _check_in("status", RegistrationStatus),
        db.Index("ix_registrations_waiting", "event_id", "status", "created_at"),
    )
