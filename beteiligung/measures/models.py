"""Measures of the climate action plan and their links to the ideas they came from.

This is the core of a measure sheet: number, title, field of action, description,
status, and the traceable links to ideas. The measure plan area extends the sheet.
"""
import enum

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, utcnow

TITLE_MAX = 200
NUMBER_MAX = 20
REASON_MAX = 2000


class MeasureStatus(str, enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DEFERRED = "deferred"

    @property
    def label(self):
        return MEASURE_STATUS_LABELS[self]


MEASURE_STATUS_LABELS = {
    MeasureStatus.PLANNED: _l("geplant"),
    MeasureStatus.IN_PROGRESS: _l("in Umsetzung"),
    MeasureStatus.DONE: _l("umgesetzt"),
    MeasureStatus.DEFERRED: _l("zurückgestellt"),
}


class Measure(TimestampMixin, db.Model):
    """One measure sheet (Maßnahmenblatt) of the plan."""

    __tablename__ = "measures"
    audit_type = "measure"

    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(NUMBER_MAX), nullable=False, unique=True)  # e.g. M-4.2: field position.serial
    title = db.Column(db.String(TITLE_MAX), nullable=False)
    sector_id = db.Column(db.Integer, db.ForeignKey("sectors.id", ondelete="RESTRICT"), nullable=False, index=True)
    description = db.Column(db.Text, nullable=False, default="")  # plain text for now
    status = db.Column(db.String(16), nullable=False, default=MeasureStatus.PLANNED.value, index=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    idea_count = db.Column(db.Integer, nullable=False, default=0)  # = rows in idea_measures

    sector = db.relationship("Sector", lazy="joined", innerjoin=True)

    @property
    def status_enum(self):
        return MeasureStatus(self.status)


class IdeaMeasure(db.Model):
    """An idea fed into a measure: why, by whom, and which triage decision made the link."""

    __tablename__ = "idea_measures"
    __table_args__ = (db.UniqueConstraint("idea_id", "measure_id", name="uq_idea_measures_idea_measure"),)

    id = db.Column(db.Integer, primary_key=True)
    idea_id = db.Column(db.Integer, db.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=False, index=True)
    measure_id = db.Column(db.Integer, db.ForeignKey("measures.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    reason = db.Column(db.Text, nullable=False)  # public: why the idea belongs to this measure
    decision_id = db.Column(db.Integer, db.ForeignKey("triage_decisions.id", ondelete="SET NULL"), nullable=True)
    linked_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    idea = db.relationship("Idea")
    measure = db.relationship("Measure")
