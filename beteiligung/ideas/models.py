"""Ideas and everything hanging on them: fields of action, districts, supports,
comments, reports, status changes with public answers, answer templates, phases."""
from enum import Enum

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, utcnow

TITLE_MAX = 120
TEXT_MAX = 5000
COMMENT_MAX = 2000


class Source(str, Enum):
    """Where an idea came from (its provenance)."""
    ONLINE = "online"
    WORKSHOP = "workshop"
    EVENT = "event"
    WORKING_GROUP = "working_group"
    LETTER = "letter"

    @property
    def label(self):
        return SOURCE_LABELS[self]

    @property
    def is_analog(self):
        return self is not Source.ONLINE


SOURCE_LABELS = {
    Source.ONLINE: _l("Online"),
    Source.WORKSHOP: _l("Themen-Werkstatt"),
    Source.EVENT: _l("Bürgerveranstaltung"),
    Source.WORKING_GROUP: _l("Arbeitskreis"),
    Source.LETTER: _l("Brief oder E-Mail"),
}


class Status(str, Enum):
    """The public status of an idea; every change after the first review carries an answer."""
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    IN_MEASURE = "in_measure"
    MERGED = "merged"
    NOT_FEASIBLE = "not_feasible"
    OUT_OF_SCOPE = "out_of_scope"
    ALREADY_DONE = "already_done"

    @property
    def label(self):
        return STATUS_LABELS[self]

    @property
    def needs_answer(self):
        """Every status except the initial one and the start of the review needs a public answer."""
        return self not in (Status.SUBMITTED, Status.IN_REVIEW)


STATUS_LABELS = {
    Status.SUBMITTED: _l("eingereicht"),
    Status.IN_REVIEW: _l("in Prüfung"),
    Status.IN_MEASURE: _l("in Maßnahme aufgenommen"),
    Status.MERGED: _l("zusammengeführt"),
    Status.NOT_FEASIBLE: _l("nicht umsetzbar"),
    Status.OUT_OF_SCOPE: _l("außerhalb kommunaler Zuständigkeit"),
    Status.ALREADY_DONE: _l("bereits umgesetzt oder geplant"),
}


class ReportReason(str, Enum):
    INSULT = "insult"
    SPAM = "spam"
    OFF_TOPIC = "off_topic"
    PERSONAL_DATA = "personal_data"
    OTHER = "other"

    @property
    def label(self):
        return REPORT_REASON_LABELS[self]


REPORT_REASON_LABELS = {
    ReportReason.INSULT: _l("beleidigend oder diskriminierend"),
    ReportReason.SPAM: _l("Werbung oder Spam"),
    ReportReason.OFF_TOPIC: _l("gehört nicht zum Thema"),
    ReportReason.PERSONAL_DATA: _l("enthält persönliche Daten Dritter"),
    ReportReason.OTHER: _l("anderer Grund"),
}


def _check_in(column, enum):
    values = ", ".join(f"'{member.value}'" for member in enum)
    return db.CheckConstraint(f"{column} IN ({values})", name=f"{column}_known")


class Sector(db.Model):
    """A field of action (Handlungsfeld) of the climate action plan."""
    __tablename__ = "sectors"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(32), nullable=False, unique=True)  # stable slug used by the API and imports
    name = db.Column(db.String(80), nullable=False, unique=True)  # shown to users
    description = db.Column(db.Text, nullable=False, default="")  # what belongs here (also for the analysis)
    seed_terms = db.Column(db.Text, nullable=False, default="")  # comma-separated typical words (analysis)
    position = db.Column(db.Integer, nullable=False, default=0)  # order in lists
    active = db.Column(db.Boolean, nullable=False, default=True)  # inactive ones are not offered any more
    # The BISKO sector (balance.models.SECTOR_LABELS) the measures of this field save in; None:
    # spread over the sectors by their emissions (energy supply, cross-cutting fields).
    bisko_sector = db.Column(db.String(32), nullable=True)

    def __repr__(self):
        return f"<Sector {self.code}>"


class District(db.Model):
    """A district (Stadtteil) of the city; configurable by admins."""
    __tablename__ = "districts"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(64), nullable=False, unique=True)  # slug used by the API and imports
    name = db.Column(db.String(80), nullable=False, unique=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    active = db.Column(db.Boolean, nullable=False, default=True)

    def __repr__(self):
        return f"<District {self.code}>"


class Idea(TimestampMixin, db.Model):
    __tablename__ = "ideas"
    audit_type = "idea"
    __table_args__ = (
        _check_in("source", Source),
        _check_in("status", Status),
        db.CheckConstraint("dot_votes >= 0", name="dot_votes_not_negative"),
        db.CheckConstraint("support_count >= 0", name="support_count_not_negative"),
        db.CheckConstraint("comment_count >= 0", name="comment_count_not_negative"),
        db.Index("ix_ideas_visible_created", "hidden_at", "created_at"),
        db.Index("ix_ideas_support_count", "support_count", "id"),
        db.Index("ix_ideas_comment_count", "comment_count", "id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(TITLE_MAX), nullable=False)
    text = db.Column(db.Text, nullable=False)  # Markdown subset, rendered through the sanitiser
    sector_id = db.Column(db.Integer, db.ForeignKey("sectors.id", ondelete="SET NULL"), nullable=True,
                          index=True)  # NULL: "weiß ich nicht", staff assign it later
    sector_confirmed = db.Column(db.Boolean, nullable=False, default=False,
                                 server_default=db.false())  # staff set or confirmed the field (trains the analysis)
    district_id = db.Column(db.Integer, db.ForeignKey("districts.id", ondelete="RESTRICT"), nullable=False,
                            index=True)
    latitude = db.Column(db.Float, nullable=True)  # optional point on the map (WGS 84)
    longitude = db.Column(db.Float, nullable=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                          index=True)  # the citizen who wrote it; NULL for analog ideas
    entered_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                              index=True)  # staff member who typed in an analog idea or imported it
    source = db.Column(db.String(16), nullable=False, default=Source.ONLINE.value, index=True)
    event_name = db.Column(db.String(200), nullable=True)  # provenance of analog ideas: the event
    facilitator = db.Column(db.String(120), nullable=True)  # provenance: who moderated / wrote it down
    dot_votes = db.Column(db.Integer, nullable=False, default=0)  # counted sticky dots at the event
    event_id = db.Column(db.Integer, db.ForeignKey("events.id", ondelete="SET NULL"), nullable=True,
                         index=True)  # the workshop or event the idea was collected at
    status = db.Column(db.String(24), nullable=False, default=Status.SUBMITTED.value, index=True)
    answer = db.Column(db.Text, nullable=True)  # the latest public answer (history in idea_status_changes)
    answered_at = db.Column(UTCDateTime, nullable=True)
    merged_into_id = db.Column(db.Integer, db.ForeignKey("ideas.id", ondelete="SET NULL"), nullable=True,
                               index=True)  # status "merged": the idea it now lives on in
    support_count = db.Column(db.Integer, nullable=False, default=0)  # = rows in supports (kept atomically)
    comment_count = db.Column(db.Integer, nullable=False, default=0)  # visible comments
    report_count = db.Column(db.Integer, nullable=False, default=0)  # open reports
    hidden_at = db.Column(UTCDateTime, nullable=True)  # hidden by moderation (or automatically)
    hidden_reason = db.Column(db.Text, nullable=True)  # shown to the author
    edited_at = db.Column(UTCDateTime, nullable=True)  # last edit by the author

    sector = db.relationship("Sector", lazy="joined", innerjoin=False)
    district = db.relationship("District", lazy="joined", innerjoin=True)
    author = db.relationship("User", foreign_keys=[author_id], lazy="joined")
    entered_by = db.relationship("User", foreign_keys=[entered_by_id])
    merged_into = db.relationship("Idea", remote_side=[id], foreign_keys=[merged_into_id])

    @property
    def status_enum(self):
        return Status(self.status)

    @property
    def source_enum(self):
        return Source(self.source)

    @property
    def is_hidden(self):
        return self.hidden_at is not None

    @property
    def author_name(self):
        if self.author is not None:
            return self.author.public_name
        if self.source_enum.is_analog:
            return self.source_enum.label
        return _l("unbekannt")

    def editable_by(self, user):
        """Authors may edit until staff start the review."""
        return (getattr(user, "is_authenticated", False) and self.author_id == user.id
                and self.status == Status.SUBMITTED.value and not self.is_hidden)

    def visible_to(self, user):
        if not self.is_hidden:
            return True
        if not getattr(user, "is_authenticated", False):
            return False
        return self.author_id == user.id or user.role in ("staff", "admin")

    def __repr__(self):
        return f"<Idea {self.id}>"


class Support(db.Model):
    """One person supports one idea, once (the unique constraint makes it so)."""
    __tablename__ = "supports"
    __table_args__ = (db.UniqueConstraint("idea_id", "user_id", name="uq_supports_idea_user"),)

    id = db.Column(db.Integer, primary_key=True)
    idea_id = db.Column(db.Integer, db.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class Comment(TimestampMixin, db.Model):
    """A comment on an idea, or a reply to one (one level of replies)."""
    __tablename__ = "comments"
    audit_type = "comment"

    id = db.Column(db.Integer, primary_key=True)
    idea_id = db.Column(db.Integer, db.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=False, index=True)
    parent_id = db.Column(db.Integer, db.ForeignKey("comments.id", ondelete="CASCADE"), nullable=True,
                          index=True)  # the comment this replies to; replies have no replies
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    text = db.Column(db.Text, nullable=False)  # plain text, max COMMENT_MAX characters
    is_official = db.Column(db.Boolean, nullable=False, default=False)  # written by staff as the city
    report_count = db.Column(db.Integer, nullable=False, default=0)  # open reports
    hidden_at = db.Column(UTCDateTime, nullable=True)
    hidden_reason = db.Column(db.Text, nullable=True)
    edited_at = db.Column(UTCDateTime, nullable=True)

    idea = db.relationship("Idea")
    author = db.relationship("User", lazy="joined")
    parent = db.relationship("Comment", remote_side=[id])

    @property
    def is_hidden(self):
        return self.hidden_at is not None

    @property
    def author_name(self):
        return self.author.public_name if self.author is not None else _l("gelöschtes Konto")


class Report(db.Model):
    """A report of an idea or a comment, for the moderation queue."""
    __tablename__ = "reports"
    __table_args__ = (
        _check_in("reason", ReportReason),
        db.CheckConstraint("(idea_id IS NULL) <> (comment_id IS NULL)", name="one_target"),
        db.UniqueConstraint("idea_id", "reporter_id", name="uq_reports_idea_reporter"),
        db.UniqueConstraint("comment_id", "reporter_id", name="uq_reports_comment_reporter"),
        db.Index("ix_reports_open", "resolved_at", "created_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    idea_id = db.Column(db.Integer, db.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=True, index=True)
    comment_id = db.Column(db.Integer, db.ForeignKey("comments.id", ondelete="CASCADE"), nullable=True,
                           index=True)
    reporter_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                            index=True)
    reason = db.Column(db.String(16), nullable=False)
    note = db.Column(db.String(500), nullable=True)  # optional words of the reporter
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    resolved_at = db.Column(UTCDateTime, nullable=True)  # set when a moderator decided
    resolved_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    resolution = db.Column(db.String(16), nullable=True)  # "kept" or "hidden"

    idea = db.relationship("Idea")
    comment = db.relationship("Comment")
    reporter = db.relationship("User", foreign_keys=[reporter_id])

    @property
    def reason_enum(self):
        return ReportReason(self.reason)


class StatusChange(db.Model):
    """One public status change of an idea with its answer: the idea's public history."""
    __tablename__ = "idea_status_changes"
    __table_args__ = (_check_in("new_status", Status),)

    id = db.Column(db.Integer, primary_key=True)
    idea_id = db.Column(db.Integer, db.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=False, index=True)
    old_status = db.Column(db.String(24), nullable=False)
    new_status = db.Column(db.String(24), nullable=False)
    answer = db.Column(db.Text, nullable=True)  # public answer (Markdown subset)
    merged_into_id = db.Column(db.Integer, db.ForeignKey("ideas.id", ondelete="SET NULL"), nullable=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    actor = db.relationship("User")

    @property
    def status_enum(self):
        return Status(self.new_status)


class AnswerTemplate(TimestampMixin, db.Model):
    """A reusable answer text for staff, optionally tied to a status."""
    __tablename__ = "answer_templates"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(120), nullable=False, unique=True)
    status = db.Column(db.String(24), nullable=True)  # the status it is meant for, or NULL
    text = db.Column(db.Text, nullable=False)


class Phase(db.Model):
    """A phase of the process with its dates; open or closed is derived at request time."""
    __tablename__ = "phases"
    __table_args__ = (db.CheckConstraint("kind IN ('collection', 'support')", name="kind_known"),)

    COLLECTION = "collection"
    SUPPORT = "support"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False, unique=True)
    starts_at = db.Column(UTCDateTime, nullable=True)
    ends_at = db.Column(UTCDateTime, nullable=True)
    start_notified_at = db.Column(UTCDateTime, nullable=True)  # set by the job that announced the start
    end_notified_at = db.Column(UTCDateTime, nullable=True)  # set by the job that announced the end

    def is_open(self, now=None):
        now = now or utcnow()
        return (self.starts_at is not None and self.ends_at is not None
                and self.starts_at <= now < self.ends_at)

    @property
    def label(self):
        return PHASE_LABELS[self.kind]


PHASE_LABELS = {
    Phase.COLLECTION: _l("Ideensammlung"),
    Phase.SUPPORT: _l("Unterstützungsphase"),
}


from .search import attach as _attach_search  # noqa: E402

_attach_search(Idea.__table__, Idea)
