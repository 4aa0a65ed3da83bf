"""Measures of the climate action plan (Maßnahmenblätter) and where they came from.

A measure sheet says what a measure does, who leads it, what it costs and saves, and
how it is monitored. Its parts:

- `Measure`: the sheet itself (the fields are described once, in `sheet.FIELDS`);
- `MeasureMilestone`: the steps with dates;
- `MeasureEnergySaving`: final energy saved per energy carrier, from which the
  emissions are computed with the factors of the balance;
- `MeasureIndicator` and `IndicatorValue`: success indicators with baseline, target
  and the yearly actual values of the monitoring;
- `IdeaMeasure`: an idea fed into the measure, with its public reason and the triage
  decision that made the link;
- `PlanExport`: a generated file of the whole plan (PDF), built in the background.
"""
import enum

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, utcnow

TITLE_MAX = 200
NUMBER_MAX = 20
REASON_MAX = 2000
SHORT_MAX = 300  # lead unit, target group, one-line fields
CARRIER_MAX = 32  # = the carrier codes of the balance


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


class MeasureType(str, enum.Enum):
    TECHNICAL = "technical"
    REGULATORY = "regulatory"
    FUNDING = "funding"
    INFORMATION = "information"
    ORGANISATIONAL = "organisational"

    @property
    def label(self):
        return MEASURE_TYPE_LABELS[self]


MEASURE_TYPE_LABELS = {
    MeasureType.TECHNICAL: _l("technisch"),
    MeasureType.REGULATORY: _l("ordnungsrechtlich"),
    MeasureType.FUNDING: _l("Förderung"),
    MeasureType.INFORMATION: _l("Beratung/Information"),
    MeasureType.ORGANISATIONAL: _l("organisatorisch"),
}


class Priority(str, enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self):
        return PRIORITY_LABELS[self]


PRIORITY_LABELS = {Priority.HIGH: _l("hoch"), Priority.MEDIUM: _l("mittel"), Priority.LOW: _l("niedrig")}


class Duration(str, enum.Enum):
    """Duration class of a measure: short up to 3 years, medium 3 to 7, long more than 7."""
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"

    @property
    def label(self):
        return DURATION_LABELS[self]

    @classmethod
    def for_years(cls, years):
        if years <= 3:
            return cls.SHORT
        return cls.MEDIUM if years <= 7 else cls.LONG


DURATION_LABELS = {Duration.SHORT: _l("kurzfristig (bis 3 Jahre)"), Duration.MEDIUM: _l("mittelfristig (3–7 Jahre)"),
                   Duration.LONG: _l("langfristig (über 7 Jahre)")}


class SavingsMethod(str, enum.Enum):
    """How the emission savings of a sheet were obtained."""
    DIRECT = "direct"  # entered as t CO2e per year (with the basis in savings_note)
    CARRIERS = "carriers"  # computed from MeasureEnergySaving rows and the emission factors of the balance

    @property
    def label(self):
        return SAVINGS_METHOD_LABELS[self]


SAVINGS_METHOD_LABELS = {
    SavingsMethod.DIRECT: _l("direkt angegeben"),
    SavingsMethod.CARRIERS: _l("berechnet aus der eingesparten Energie je Energieträger"),
}


def _money():
    return db.Numeric(14, 2)


class Measure(TimestampMixin, db.Model):
    """One measure sheet (Maßnahmenblatt) of the plan."""

    __tablename__ = "measures"
    audit_type = "measure"

    id = db.Column(db.Integer, primary_key=True)
    number = db.Column(db.String(NUMBER_MAX), nullable=False, unique=True)  # e.g. M-4.2: field position.serial
    title = db.Column(db.String(TITLE_MAX), nullable=False)
    sector_id = db.Column(db.Integer, db.ForeignKey("sectors.id", ondelete="RESTRICT"), nullable=False, index=True)
    measure_type = db.Column(db.String(16), nullable=True, index=True)  # MeasureType
    goal = db.Column(db.Text, nullable=False, default="")  # Ziel
    starting_situation = db.Column(db.Text, nullable=False, default="")  # Ausgangslage
    description = db.Column(db.Text, nullable=False, default="")  # Beschreibung, plain text
    lead_unit = db.Column(db.String(SHORT_MAX), nullable=False, default="")  # federführend
    partners = db.Column(db.Text, nullable=False, default="")  # beteiligte Akteure
    target_group = db.Column(db.String(SHORT_MAX), nullable=False, default="")  # Zielgruppe
    start_year = db.Column(db.Integer, nullable=True)  # Beginn
    end_year = db.Column(db.Integer, nullable=True)  # Ende; empty = ongoing
    duration = db.Column(db.String(8), nullable=True)  # Duration; from the years when both are given
    ramp_up_years = db.Column(db.Integer, nullable=False, default=1)  # until the full savings are reached
    priority = db.Column(db.String(8), nullable=True, index=True)  # Priority
    cost_one_off_eur = db.Column(_money(), nullable=True)  # einmalige Kosten
    cost_per_year_eur = db.Column(_money(), nullable=True)  # laufende Kosten pro Jahr
    staff_fte = db.Column(db.Numeric(6, 2), nullable=True)  # Personal in Vollzeitäquivalenten
    funding = db.Column(db.Text, nullable=False, default="")  # Finanzierung und Fördermittel
    savings_method = db.Column(db.String(10), nullable=False, default=SavingsMethod.DIRECT.value)
    savings_mwh_per_year = db.Column(db.Numeric(14, 2), nullable=True)  # final energy saved
    savings_t_co2e_per_year = db.Column(db.Numeric(14, 2), nullable=True)  # entered or computed
    savings_factor_year = db.Column(db.Integer, nullable=True)  # year of the factors a computation used
    savings_note = db.Column(db.Text, nullable=False, default="")  # basis of the estimate
    co_benefits = db.Column(db.Text, nullable=False, default="")  # Zusatznutzen
    regional_value_added = db.Column(db.Text, nullable=False, default="")  # regionale Wertschöpfung
    obstacles = db.Column(db.Text, nullable=False, default="")  # Hemmnisse
    status = db.Column(db.String(16), nullable=False, default=MeasureStatus.PLANNED.value, index=True)
    progress = db.Column(db.Integer, nullable=False, default=0)  # percent, 0-100
    adopted_on = db.Column(db.Date, nullable=True)  # council decision; monitoring starts
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    idea_count = db.Column(db.Integer, nullable=False, default=0)  # = rows in idea_measures

    sector = db.relationship("Sector", lazy="joined", innerjoin=True)
    milestones = db.relationship("MeasureMilestone", order_by="(MeasureMilestone.due_on, MeasureMilestone.position)",
                                 cascade="all, delete-orphan", back_populates="measure")
    energy_savings = db.relationship("MeasureEnergySaving", order_by="MeasureEnergySaving.carrier",
                                     cascade="all, delete-orphan", back_populates="measure")
    indicators = db.relationship("MeasureIndicator", order_by="MeasureIndicator.position",
                                 cascade="all, delete-orphan", back_populates="measure")

    @property
    def status_enum(self):
        return MeasureStatus(self.status)

    @property
    def type_enum(self):
        return MeasureType(self.measure_type) if self.measure_type else None

    @property
    def priority_enum(self):
        return Priority(self.priority) if self.priority else None

    @property
    def duration_enum(self):
        return Duration(self.duration) if self.duration else None

    @property
    def savings_method_enum(self):
        return SavingsMethod(self.savings_method)


class MeasureMilestone(db.Model):
    """A step of a measure with its planned date and, once reached, the date it was done."""

    __tablename__ = "measure_milestones"

    id = db.Column(db.Integer, primary_key=True)
    measure_id = db.Column(db.Integer, db.ForeignKey("measures.id", ondelete="CASCADE"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    title = db.Column(db.String(SHORT_MAX), nullable=False)
    due_on = db.Column(db.Date, nullable=True)
    done_on = db.Column(db.Date, nullable=True)

    measure = db.relationship("Measure", back_populates="milestones")


class MeasureEnergySaving(db.Model):
    """Final energy a measure saves per year in one energy carrier (negative: more of it, e.g. heat-pump power)."""

    __tablename__ = "measure_energy_savings"
    __table_args__ = (db.UniqueConstraint("measure_id", "carrier", name="uq_measure_energy_savings_carrier"),)

    id = db.Column(db.Integer, primary_key=True)
    measure_id = db.Column(db.Integer, db.ForeignKey("measures.id", ondelete="CASCADE"), nullable=False, index=True)
    carrier = db.Column(db.String(CARRIER_MAX), nullable=False)  # carrier code of the balance, e.g. erdgas
    mwh_per_year = db.Column(db.Numeric(14, 2), nullable=False)

    measure = db.relationship("Measure", back_populates="energy_savings")


class MeasureIndicator(db.Model):
    """A success indicator of a measure: what is measured, from where to where, by when."""

    __tablename__ = "measure_indicators"

    id = db.Column(db.Integer, primary_key=True)
    measure_id = db.Column(db.Integer, db.ForeignKey("measures.id", ondelete="CASCADE"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    name = db.Column(db.String(SHORT_MAX), nullable=False)
    unit = db.Column(db.String(40), nullable=False, default="")
    baseline_value = db.Column(db.Numeric(16, 3), nullable=True)
    baseline_year = db.Column(db.Integer, nullable=True)
    target_value = db.Column(db.Numeric(16, 3), nullable=True)
    target_year = db.Column(db.Integer, nullable=True)

    measure = db.relationship("Measure", back_populates="indicators")
    values = db.relationship("IndicatorValue", order_by="IndicatorValue.year", cascade="all, delete-orphan",
                             back_populates="indicator")


class IndicatorValue(db.Model):
    """The actual value of an indicator in one year (monitoring)."""

    __tablename__ = "indicator_values"
    __table_args__ = (db.UniqueConstraint("indicator_id", "year", name="uq_indicator_values_year"),)

    id = db.Column(db.Integer, primary_key=True)
    indicator_id = db.Column(db.Integer, db.ForeignKey("measure_indicators.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    year = db.Column(db.Integer, nullable=False)
    value = db.Column(db.Numeric(16, 3), nullable=False)
    note = db.Column(db.String(SHORT_MAX), nullable=False, default="")  # source or remark

    indicator = db.relationship("MeasureIndicator", back_populates="values")


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


class PlanExport(db.Model):
    """A file of the whole plan generated in the background, with its progress (PDF export)."""

    __tablename__ = "plan_exports"

    id = db.Column(db.Integer, primary_key=True)
    fmt = db.Column(db.String(8), nullable=False)  # pdf
    state = db.Column(db.String(10), nullable=False, default="queued", index=True)  # queued/running/done/failed
    done = db.Column(db.Integer, nullable=False, default=0)  # sheets written
    total = db.Column(db.Integer, nullable=False, default=0)  # sheets to write
    error = db.Column(db.Text, nullable=False, default="")
    content = db.Column(db.LargeBinary, nullable=True)  # the finished file
    size = db.Column(db.Integer, nullable=False, default=0)
    requested_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    heartbeat_at = db.Column(UTCDateTime, nullable=True)  # last progress report
    finished_at = db.Column(UTCDateTime, nullable=True)
