"""Analysis runs, their suggestions, and the triage decisions staff make on them.

A run stores what the analysis module suggested (clusters, a field of action per
idea, duplicate groups, candidate measures) together with its parameters and code
version, so runs can be compared. Suggestions never change an idea: only a
TriageDecision, made by a person, does.
"""
import enum

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import UTCDateTime, utcnow

LABEL_MAX = 120


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self):
        return RUN_STATUS_LABELS[self]


RUN_STATUS_LABELS = {
    RunStatus.QUEUED: _l("wartet"),
    RunStatus.RUNNING: _l("läuft"),
    RunStatus.DONE: _l("fertig"),
    RunStatus.FAILED: _l("fehlgeschlagen"),
}


class RunKind(str, enum.Enum):
    FULL = "full"
    INCREMENTAL = "incremental"

    @property
    def label(self):
        return {RunKind.FULL: _l("vollständig"), RunKind.INCREMENTAL: _l("nur neue Ideen")}[self]


class AnalysisRun(db.Model):
    __tablename__ = "analysis_runs"
    audit_type = "analysis_run"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False, default=RunKind.FULL.value)
    status = db.Column(db.String(16), nullable=False, default=RunStatus.QUEUED.value, index=True)
    scope = db.Column(db.JSON, nullable=False, default=dict)  # idea filters as URL arguments; {} = all ideas
    scope_description = db.Column(db.String(400), nullable=False, default="")
    k_requested = db.Column(db.String(8), nullable=False, default="auto")  # "auto" or a number
    seed = db.Column(db.Integer, nullable=False, default=0)
    parameters = db.Column(db.JSON, nullable=True)  # as reported by the analysis module
    code_version = db.Column(db.String(40), nullable=False)
    based_on_id = db.Column(db.Integer, db.ForeignKey("analysis_runs.id", ondelete="SET NULL"), nullable=True)
    started_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    progress = db.Column(db.Integer, nullable=False, default=0)  # percent
    progress_message = db.Column(db.String(200), nullable=False, default="")
    error = db.Column(db.Text, nullable=True)
    idea_count = db.Column(db.Integer, nullable=False, default=0)
    cluster_count = db.Column(db.Integer, nullable=False, default=0)
    unassigned_count = db.Column(db.Integer, nullable=False, default=0)  # empty or (incremental) no fitting cluster
    duplicate_group_count = db.Column(db.Integer, nullable=False, default=0)
    k_automatic = db.Column(db.Boolean, nullable=False, default=True)
    classifier_trained = db.Column(db.Boolean, nullable=False, default=False)
    classifier_accuracy = db.Column(db.Float, nullable=True)  # cross-validated
    classifier_training_size = db.Column(db.Integer, nullable=False, default=0)
    classifier_note = db.Column(db.String(400), nullable=False, default="")
    timings = db.Column(db.JSON, nullable=True)  # step -> seconds
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    started_at = db.Column(UTCDateTime, nullable=True)
    heartbeat_at = db.Column(UTCDateTime, nullable=True)  # last sign of life of the worker
    finished_at = db.Column(UTCDateTime, nullable=True)

    started_by = db.relationship("User")
    based_on = db.relationship("AnalysisRun", remote_side=[id])

    @property
    def status_enum(self):
        return RunStatus(self.status)

    @property
    def kind_enum(self):
        return RunKind(self.kind)

    @property
    def active(self):
        return self.status in (RunStatus.QUEUED.value, RunStatus.RUNNING.value)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class AnalysisCluster(db.Model):
    __tablename__ = "analysis_clusters"
    __table_args__ = (db.UniqueConstraint("run_id", "number", name="uq_analysis_clusters_run_number"),)

    id = db.Column(db.Integer, primary_key=True)
    run_id = db.Column(db.Integer, db.ForeignKey("analysis_runs.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.Integer, nullable=False)
    label = db.Column(db.String(LABEL_MAX), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    keywords = db.Column(db.JSON, nullable=False, default=list)
    sector_code = db.Column(db.String(40), nullable=True)  # suggested field of action
    sector_confidence = db.Column(db.Float, nullable=False, default=0.0)
    sector_distribution = db.Column(db.JSON, nullable=False, default=dict)  # code -> number of members
    measure_matches = db.Column(db.JSON, nullable=False, default=list)  # [{"id", "title", "score"}]
    suggested_measure_title = db.Column(db.String(200), nullable=False, default="")


class AnalysisItem(db.Model):
    """What a run suggested for one idea."""

    __tablename__ = "analysis_items"
    __table_args__ = (db.Index("ix_analysis_items_run_cluster", "run_id", "cluster_number", "rank"),)

    run_id = db.Column(db.Integer, db.ForeignKey("analysis_runs.id", ondelete="CASCADE"), primary_key=True)
    idea_id = db.Column(db.Integer, db.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True, index=True)
    cluster_number = db.Column(db.Integer, nullable=False)  # -1: no cluster (no usable words, or no fit)
    rank = db.Column(db.Integer, nullable=False, default=0)  # 0 = most representative of its cluster
    sector_code = db.Column(db.String(40), nullable=True)
    sector_confidence = db.Column(db.Float, nullable=False, default=0.0)
    sector_method = db.Column(db.String(16), nullable=False, default="zero-shot")
    is_new = db.Column(db.Boolean, nullable=False, default=False)  # incremental run: not in the run it extends

    idea = db.relationship("Idea")


class DuplicateGroup(db.Model):
    __tablename__ = "analysis_duplicate_groups"

    id = db.Column(db.Integer, primary_key=True)
    run_id = db.Column(db.Integer, db.ForeignKey("analysis_runs.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    idea_ids = db.Column(db.JSON, nullable=False)  # the suggested group, representative first
    score = db.Column(db.Float, nullable=False)
    resolved_at = db.Column(UTCDateTime, nullable=True)  # merged or dismissed by staff


class DecisionKind(str, enum.Enum):
    SECTOR = "sector"
    MERGE = "merge"
    NOT_DUPLICATE = "not_duplicate"
    MEASURE_LINK = "measure_link"
    MEASURE_CREATED = "measure_created"

    @property
    def label(self):
        return DECISION_LABELS[self]


DECISION_LABELS = {
    DecisionKind.SECTOR: _l("Handlungsfeld festgelegt"),
    DecisionKind.MERGE: _l("Duplikate zusammengeführt"),
    DecisionKind.NOT_DUPLICATE: _l("keine Duplikate"),
    DecisionKind.MEASURE_LINK: _l("einer Maßnahme zugeordnet"),
    DecisionKind.MEASURE_CREATED: _l("neue Maßnahme aus einer Gruppe"),
}


class TriageDecision(db.Model):
    """A decision a staff member made with an analysis suggestion in view."""

    __tablename__ = "triage_decisions"
    audit_type = "triage_decision"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(24), nullable=False, index=True)
    run_id = db.Column(db.Integer, db.ForeignKey("analysis_runs.id", ondelete="SET NULL"), nullable=True,
                       index=True)
    cluster_number = db.Column(db.Integer, nullable=True)
    idea_ids = db.Column(db.JSON, nullable=False, default=list)  # the ideas the decision is about
    measure_id = db.Column(db.Integer, db.ForeignKey("measures.id", ondelete="SET NULL"), nullable=True)
    suggestion = db.Column(db.JSON, nullable=True)  # what the analysis showed at the time
    decision = db.Column(db.JSON, nullable=False)  # what the person decided
    reason = db.Column(db.Text, nullable=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    actor = db.relationship("User")

    @property
    def kind_enum(self):
        return DecisionKind(self.kind)
