"""Bodies (Arbeitskreis, Lenkungskreis), their meetings, agendas and minutes.

- `Body` and `BodyMember`: who belongs to a body, from when to when, in which role;
- `MeetingSeries`: a recurrence rule (RFC 5545 RRULE, in local time Europe/Berlin) whose
  occurrences are stored as `Meeting` rows, so that each date has its own agenda and minutes
  and can be moved or cancelled on its own (`original_start` identifies the occurrence);
- `AgendaItem` with linked ideas and measures and `AgendaMaterial`; members propose items
  until the body's deadline, staff accept, order and publish them;
- the minutes: per item the discussion and the decision, `ActionItem`s and `Attendance`.

Times are stored in UTC (`UTCDateTime`) and shown and exported in Europe/Berlin. Every date
has a stable `uid` and a `sequence` that grows with each change (iCalendar, RFC 5545).
"""
import enum
import secrets

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, utcnow

NAME_MAX = 120
TITLE_MAX = 200
PLACE_MAX = 300
URL_MAX = 500
RRULE_MAX = 300


def new_uid(kind):
    """A stable, unique iCalendar UID, e.g. meeting-3f9c…@beteiligung."""
    return f"{kind}-{secrets.token_hex(12)}@beteiligung"


def new_feed_token():
    return secrets.token_urlsafe(24)


class BodyKind(str, enum.Enum):
    WORKING_GROUP = "working_group"
    STEERING_GROUP = "steering_group"
    OTHER = "other"

    @property
    def label(self):
        return BODY_KIND_LABELS[self]


BODY_KIND_LABELS = {BodyKind.WORKING_GROUP: _l("Arbeitskreis"), BodyKind.STEERING_GROUP: _l("Lenkungskreis"),
                    BodyKind.OTHER: _l("Gremium")}


class MeetingStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return {MeetingStatus.SCHEDULED: _l("geplant"), MeetingStatus.CANCELLED: _l("abgesagt")}[self]


class AgendaStatus(str, enum.Enum):
    PROPOSED = "proposed"  # by a member, not yet accepted
    ACCEPTED = "accepted"  # on the agenda
    REJECTED = "rejected"  # not taken up (with a reason)

    @property
    def label(self):
        return {AgendaStatus.PROPOSED: _l("vorgeschlagen"), AgendaStatus.ACCEPTED: _l("auf der Tagesordnung"),
                AgendaStatus.REJECTED: _l("nicht aufgenommen")}[self]


class ActionStatus(str, enum.Enum):
    OPEN = "open"
    DONE = "done"

    @property
    def label(self):
        return {ActionStatus.OPEN: _l("offen"), ActionStatus.DONE: _l("erledigt")}[self]


class AttendanceStatus(str, enum.Enum):
    PRESENT = "present"
    EXCUSED = "excused"
    ABSENT = "absent"

    @property
    def label(self):
        return {AttendanceStatus.PRESENT: _l("anwesend"), AttendanceStatus.EXCUSED: _l("entschuldigt"),
                AttendanceStatus.ABSENT: _l("abwesend")}[self]


def _check_in(column, enum_class):
    values = ", ".join(f"'{member.value}'" for member in enum_class)
    return db.CheckConstraint(f"{column} IN ({values})", name=f"{column}_known")


class Body(TimestampMixin, db.Model):
    __tablename__ = "bodies"
    audit_type = "body"

    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(64), nullable=False, unique=True)
    name = db.Column(db.String(NAME_MAX), nullable=False, unique=True)
    kind = db.Column(db.String(16), nullable=False, default=BodyKind.WORKING_GROUP.value)
    description = db.Column(db.Text, nullable=False, default="")
    public = db.Column(db.Boolean, nullable=False, default=True)  # dates, published agendas and minutes public
    agenda_lead_days = db.Column(db.Integer, nullable=False, default=7)  # agenda goes out N days before
    proposal_deadline_days = db.Column(db.Integer, nullable=False, default=10)  # proposals until N days before
    feed_token = db.Column(db.String(64), nullable=False, unique=True, default=new_feed_token)  # members' feed

    members = db.relationship("BodyMember", back_populates="body", cascade="all, delete-orphan",
                              order_by="(BodyMember.organisation, BodyMember.name)")

    __table_args__ = (
        _check_in("kind", BodyKind),
        db.CheckConstraint("agenda_lead_days BETWEEN 0 AND 60", name="agenda_lead_days_range"),
        db.CheckConstraint("proposal_deadline_days BETWEEN 0 AND 90", name="proposal_deadline_days_range"),
    )


class BodyMember(db.Model):
    """A person in a body; with an account (`user_id`) they get the agenda, reminders and the feed."""
    __tablename__ = "body_members"

    id = db.Column(db.Integer, primary_key=True)
    body_id = db.Column(db.Integer, db.ForeignKey("bodies.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    name = db.Column(db.String(NAME_MAX), nullable=False)
    organisation = db.Column(db.String(TITLE_MAX), nullable=False, default="")
    role = db.Column(db.String(80), nullable=False, default="")  # e.g. Vorsitz, Mitglied, Stellvertretung
    from_date = db.Column(db.Date, nullable=False)
    to_date = db.Column(db.Date, nullable=True)  # None: still a member

    body = db.relationship("Body", back_populates="members")
    user = db.relationship("User")

    __table_args__ = (db.CheckConstraint("to_date IS NULL OR to_date >= from_date", name="dates_in_order"),)

    def active_on(self, day):
        return self.from_date <= day and (self.to_date is None or day <= self.to_date)


class MeetingSeries(TimestampMixin, db.Model):
    """Regular meetings of a body, e.g. FREQ=MONTHLY;BYDAY=2TU from 17:00 for 120 minutes."""
    __tablename__ = "meeting_series"

    id = db.Column(db.Integer, primary_key=True)
    body_id = db.Column(db.Integer, db.ForeignKey("bodies.id", ondelete="CASCADE"), nullable=False, index=True)
    title = db.Column(db.String(TITLE_MAX), nullable=False)
    rrule = db.Column(db.String(RRULE_MAX), nullable=False)  # RFC 5545 RRULE value without DTSTART
    first_start_local = db.Column(db.DateTime, nullable=False)  # naive, Europe/Berlin: DTSTART
    duration_minutes = db.Column(db.Integer, nullable=False, default=120)
    place = db.Column(db.String(PLACE_MAX), nullable=False, default="")
    online_url = db.Column(db.String(URL_MAX), nullable=False, default="")

    body = db.relationship("Body")

    __table_args__ = (db.CheckConstraint("duration_minutes BETWEEN 5 AND 1440", name="duration_range"),)


class Meeting(TimestampMixin, db.Model):
    __tablename__ = "meetings"
    audit_type = "meeting"

    id = db.Column(db.Integer, primary_key=True)
    body_id = db.Column(db.Integer, db.ForeignKey("bodies.id", ondelete="CASCADE"), nullable=False, index=True)
    series_id = db.Column(db.Integer, db.ForeignKey("meeting_series.id", ondelete="SET NULL"), nullable=True)
    original_start = db.Column(UTCDateTime, nullable=True)  # the occurrence of the series this row is
    title = db.Column(db.String(TITLE_MAX), nullable=False)
    starts_at = db.Column(UTCDateTime, nullable=False, index=True)
    ends_at = db.Column(UTCDateTime, nullable=False)
    place = db.Column(db.String(PLACE_MAX), nullable=False, default="")
    online_url = db.Column(db.String(URL_MAX), nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default=MeetingStatus.SCHEDULED.value, index=True)
    cancel_reason = db.Column(db.String(PLACE_MAX), nullable=False, default="")
    uid = db.Column(db.String(120), nullable=False, unique=True)
    sequence = db.Column(db.Integer, nullable=False, default=0)  # grows with every change of date, place, status
    agenda_published_at = db.Column(UTCDateTime, nullable=True)
    minutes_published_at = db.Column(UTCDateTime, nullable=True)

    body = db.relationship("Body", lazy="joined", innerjoin=True)
    series = db.relationship("MeetingSeries")
    items = db.relationship("AgendaItem", back_populates="meeting", cascade="all, delete-orphan",
                            order_by="(AgendaItem.position, AgendaItem.id)")

    __table_args__ = (
        _check_in("status", MeetingStatus),
        db.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        db.UniqueConstraint("series_id", "original_start", name="uq_meetings_occurrence"),
    )

    @property
    def cancelled(self):
        return self.status == MeetingStatus.CANCELLED.value


class AgendaItem(TimestampMixin, db.Model):
    __tablename__ = "agenda_items"
    audit_type = "agenda_item"

    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    title = db.Column(db.String(TITLE_MAX), nullable=False)
    presenter = db.Column(db.String(NAME_MAX), nullable=False, default="")
    duration_minutes = db.Column(db.Integer, nullable=False, default=15)
    description = db.Column(db.Text, nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default=AgendaStatus.ACCEPTED.value, index=True)
    status_reason = db.Column(db.String(PLACE_MAX), nullable=False, default="")  # why not taken up
    proposed_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # the minutes of this item
    discussion = db.Column(db.Text, nullable=False, default="")
    decision = db.Column(db.Text, nullable=False, default="")  # empty: no decision

    meeting = db.relationship("Meeting", back_populates="items")
    proposed_by = db.relationship("User")
    materials = db.relationship("AgendaMaterial", cascade="all, delete-orphan", order_by="AgendaMaterial.id")
    actions = db.relationship("ActionItem", back_populates="agenda_item", order_by="ActionItem.id")
    ideas = db.relationship("Idea", secondary="agenda_item_ideas", order_by="Idea.id")
    measures = db.relationship("Measure", secondary="agenda_item_measures", order_by="Measure.number")

    __table_args__ = (
        _check_in("status", AgendaStatus),
        db.CheckConstraint("duration_minutes BETWEEN 0 AND 600", name="duration_range"),
    )


agenda_item_ideas = db.Table(
    "agenda_item_ideas",
    db.Column("agenda_item_id", db.Integer, db.ForeignKey("agenda_items.id", ondelete="CASCADE"), primary_key=True),
    db.Column("idea_id", db.Integer, db.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True, index=True),
)

agenda_item_measures = db.Table(
    "agenda_item_measures",
    db.Column("agenda_item_id", db.Integer, db.ForeignKey("agenda_items.id", ondelete="CASCADE"), primary_key=True),
    db.Column("measure_id", db.Integer, db.ForeignKey("measures.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class AgendaMaterial(db.Model):
    """A document for an agenda item: a link or an uploaded file (PDF, office document, image)."""
    __tablename__ = "agenda_materials"

    id = db.Column(db.Integer, primary_key=True)
    agenda_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id", ondelete="CASCADE"), nullable=False,
                               index=True)
    title = db.Column(db.String(TITLE_MAX), nullable=False)
    url = db.Column(db.String(URL_MAX), nullable=True)
    filename = db.Column(db.String(200), nullable=True)
    content_type = db.Column(db.String(100), nullable=True)
    content = db.Column(db.LargeBinary, nullable=True)
    size = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (db.CheckConstraint("(url IS NULL) <> (content IS NULL)", name="link_or_file"),)


class ActionItem(TimestampMixin, db.Model):
    """A task from the minutes; open ones appear on the body's next agenda."""
    __tablename__ = "action_items"
    audit_type = "action_item"

    id = db.Column(db.Integer, primary_key=True)
    body_id = db.Column(db.Integer, db.ForeignKey("bodies.id", ondelete="CASCADE"), nullable=False, index=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False, index=True)
    agenda_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id", ondelete="SET NULL"), nullable=True)
    title = db.Column(db.String(PLACE_MAX), nullable=False)
    assignee = db.Column(db.String(NAME_MAX), nullable=False, default="")
    assignee_user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    due_on = db.Column(db.Date, nullable=True)
    status = db.Column(db.String(8), nullable=False, default=ActionStatus.OPEN.value, index=True)
    done_at = db.Column(UTCDateTime, nullable=True)

    meeting = db.relationship("Meeting")
    agenda_item = db.relationship("AgendaItem", back_populates="actions")

    __table_args__ = (_check_in("status", ActionStatus),)


class Attendance(db.Model):
    __tablename__ = "attendances"

    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.Integer, db.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False, index=True)
    member_id = db.Column(db.Integer, db.ForeignKey("body_members.id", ondelete="CASCADE"), nullable=False,
                          index=True)
    status = db.Column(db.String(8), nullable=False, default=AttendanceStatus.PRESENT.value)

    member = db.relationship("BodyMember")

    __table_args__ = (
        db.UniqueConstraint("meeting_id", "member_id", name="uq_attendances_meeting_member"),
        _check_in("status", AttendanceStatus),
    )
