"""Personal data in the triage workspace: the runs a person started and the decisions
they made belong to their data export. On deletion they stay with the shared stand-in
account "gelöschtes Konto" (account.services), because they document the planning process."""
from sqlalchemy import select

from ..account.services import personal_data_exporter
from ..extensions import db
from ..models import isoformat
from .models import AnalysisRun, TriageDecision


@personal_data_exporter("triage_decisions", covers=["triage_decisions.actor_id"])
def _export_decisions(user):
    decisions = db.session.scalars(select(TriageDecision).where(TriageDecision.actor_id == user.id)
                                   .order_by(TriageDecision.id))
    return [{"id": d.id, "kind": d.kind, "run_id": d.run_id, "ideas": d.idea_ids, "decision": d.decision,
             "reason": d.reason, "created_at": isoformat(d.created_at)} for d in decisions]


@personal_data_exporter("analysis_runs", covers=["analysis_runs.started_by_id"])
def _export_runs(user):
    runs = db.session.scalars(select(AnalysisRun).where(AnalysisRun.started_by_id == user.id)
                              .order_by(AnalysisRun.id))
    return [{"id": run.id, "scope": run.scope, "created_at": isoformat(run.created_at)} for run in runs]
