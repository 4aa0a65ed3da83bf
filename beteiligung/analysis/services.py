"""Decisions on analysis suggestions. Each one is a TriageDecision plus an audit entry
with who, when, the suggestion that was shown and what was decided; the idea itself
changes only here, never because of a suggestion alone.
"""
from flask_babel import gettext as _
from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import aliased

from ..audit.services import record
from ..extensions import db
from ..ideas import services as idea_services
from ..ideas.models import Idea, Status, Support
from ..ideas.services import IdeaError
from ..measures import services as measure_services
from ..models import utcnow
from .models import AnalysisCluster, AnalysisItem, DecisionKind, TriageDecision


def _decide(kind, actor, *, run, idea_ids, suggestion, decision, reason=None, cluster_number=None, measure=None):
    entry = TriageDecision(kind=kind.value, run_id=getattr(run, "id", None), cluster_number=cluster_number,
                           idea_ids=list(idea_ids), measure_id=getattr(measure, "id", None), suggestion=suggestion,
                           decision=decision, reason=reason, actor_id=getattr(actor, "id", None))
    db.session.add(entry)
    db.session.flush()
    record(f"triage.{kind.value}", entry, actor=actor, reason=reason,
           details={"run_id": entry.run_id, "cluster": cluster_number, "ideas": list(idea_ids),
                    "suggestion": suggestion, "decision": decision})
    return entry


def ideas_by_id(ids):
    ideas = {idea.id: idea for idea in db.session.scalars(select(Idea).where(Idea.id.in_(list(ids))))}
    missing = [str(idea_id) for idea_id in ids if idea_id not in ideas]
    if missing:
        raise IdeaError(_("Diese Ideen gibt es nicht (mehr): %(ids)s", ids=", ".join(missing)), "ids")
    return [ideas[idea_id] for idea_id in ids]


def items_of(run, idea_ids):
    return {item.idea_id: item for item in db.session.scalars(
        select(AnalysisItem).where(AnalysisItem.run_id == run.id, AnalysisItem.idea_id.in_(list(idea_ids))))}


# --- fields of action ------------------------------------------------------------------------------

def decide_sectors(run, actor, choices):
    """Accept or override the suggested field of action: choices = [(idea, sector)]; all or nothing."""
    if not choices:
        raise IdeaError(_("Bitte wählen Sie mindestens eine Idee aus."), "ids")
    items = items_of(run, [idea.id for idea, _sector in choices])
    decisions = []
    for idea, sector in choices:
        if sector is None:
            raise IdeaError(_("Idee %(id)d: Bitte wählen Sie ein Handlungsfeld.", id=idea.id), "ids")
        item = items.get(idea.id)
        suggestion = None if item is None else {
            "sector": item.sector_code, "confidence": round(item.sector_confidence, 3), "method": item.sector_method}
        previous = idea.sector.code if idea.sector else None
        idea_services.assign_sector(idea, actor, sector)
        decisions.append(_decide(
            DecisionKind.SECTOR, actor, run=run, idea_ids=[idea.id], suggestion=suggestion,
            decision={"sector": sector.code, "previous": previous,
                      "accepted": suggestion is not None and suggestion["sector"] == sector.code},
            cluster_number=getattr(item, "cluster_number", None)))
    return decisions


# --- duplicates -------------------------------------------------------------------------------------

def _copy_supports(source, target):
    """Supporters of `source` also support `target` (each person once; not the target's author)."""
    other = aliased(Support)
    db.session.execute(insert(Support).from_select(
        ["idea_id", "user_id", "created_at"],
        select(db.literal(target.id), Support.user_id, Support.created_at)
        .where(Support.idea_id == source.id, Support.user_id != (target.author_id or 0),
               ~exists().where(other.idea_id == target.id, other.user_id == Support.user_id))))
    target.support_count = db.session.scalar(select(func.count(Support.id)).where(Support.idea_id == target.id))


def merge_duplicates(run, group, actor, target, others, answer):
    """Merge `others` into `target`: they get status "zusammengeführt" and point to it, their
    supporters are added to the target, and both stay visible."""
    answer = idea_services.clean_text(answer)
    if not others:
        raise IdeaError(_("Bitte wählen Sie mindestens eine Idee, die zusammengeführt wird."), "merge")
    if target in others:
        raise IdeaError(_("Die Zielidee kann nicht mit sich selbst zusammengeführt werden."), "merge")
    members = set(group.idea_ids)
    if target.id not in members or any(idea.id not in members for idea in others):
        raise IdeaError(_("Es können nur Ideen aus dieser Gruppe zusammengeführt werden."), "merge")
    if target.status == Status.MERGED.value:
        raise IdeaError(_("Die Zielidee ist bereits mit einer anderen zusammengeführt."), "target")
    decision = _decide(
        DecisionKind.MERGE, actor, run=run, idea_ids=[target.id] + [idea.id for idea in others],
        suggestion={"group": list(group.idea_ids), "score": group.score},
        decision={"target": target.id, "merged": [idea.id for idea in others]}, reason=answer)
    for idea in others:
        try:
            idea_services.change_status(idea, actor, Status.MERGED, answer, merged_into=target)
        except IdeaError as error:
            raise IdeaError(_("Idee %(id)d: %(message)s", id=idea.id, message=error.message), error.field)
        _copy_supports(idea, target)
    group.resolved_at = utcnow()
    return decision


def dismiss_duplicates(run, group, actor, reason=None):
    reason = idea_services.clean_text(reason) or None
    decision = _decide(DecisionKind.NOT_DUPLICATE, actor, run=run, idea_ids=list(group.idea_ids),
                       suggestion={"group": list(group.idea_ids), "score": group.score},
                       decision={"duplicates": False}, reason=reason)
    group.resolved_at = utcnow()
    return decision


# --- measures ---------------------------------------------------------------------------------------

def _cluster_suggestion(cluster):
    if cluster is None:
        return None
    return {"cluster": cluster.number, "label": cluster.label, "measure_matches": cluster.measure_matches,
            "suggested_title": cluster.suggested_measure_title, "sector": cluster.sector_code}


def assign_to_measure(run, cluster, actor, ideas, measure, reason):
    """Link ideas (a whole cluster or some of its members) to an existing measure."""
    reason = measure_services.check_reason(reason)
    if measure is None:
        raise IdeaError(_("Bitte wählen Sie eine Maßnahme."), "measure")
    decision = _decide(DecisionKind.MEASURE_LINK, actor, run=run, idea_ids=[idea.id for idea in ideas],
                       suggestion=_cluster_suggestion(cluster),
                       decision={"measure": measure.id, "number": measure.number}, reason=reason,
                       cluster_number=getattr(cluster, "number", None), measure=measure)
    measure_services.link_ideas(measure, ideas, actor, reason, decision=decision)
    return decision


def create_measure_from_cluster(run, cluster, actor, ideas, *, title, sector, description, reason):
    """A new measure for a cluster, linked to the chosen member ideas."""
    reason = measure_services.check_reason(reason)
    if not ideas:
        raise IdeaError(_("Bitte wählen Sie mindestens eine Idee aus."), "ids")
    measure = measure_services.create_measure(actor, title=title, sector=sector, description=description)
    decision = _decide(DecisionKind.MEASURE_CREATED, actor, run=run, idea_ids=[idea.id for idea in ideas],
                       suggestion=_cluster_suggestion(cluster),
                       decision={"measure": measure.id, "number": measure.number, "title": measure.title,
                                 "sector": sector.code}, reason=reason,
                       cluster_number=getattr(cluster, "number", None), measure=measure)
    measure_services.link_ideas(measure, ideas, actor, reason, decision=decision)
    return measure, decision


# --- comparing runs ---------------------------------------------------------------------------------

def compare_runs(first, second):
    """How far two runs agree on the ideas both analysed: NMI, ARI, and for every cluster of
    the first run the cluster of the second that shares most of its ideas."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    def assignments(run):
        return dict(db.session.execute(select(AnalysisItem.idea_id, AnalysisItem.cluster_number)
                                       .where(AnalysisItem.run_id == run.id)).all())

    def labels(run):
        return dict(db.session.execute(select(AnalysisCluster.number, AnalysisCluster.label)
                                       .where(AnalysisCluster.run_id == run.id)).all())

    left, right = assignments(first), assignments(second)
    common = sorted(set(left) & set(right))
    result = {"common": len(common), "only_first": len(set(left) - set(right)),
              "only_second": len(set(right) - set(left)), "nmi": None, "ari": None, "pairs": []}
    if len(common) < 2:
        return result
    a, b = [left[i] for i in common], [right[i] for i in common]
    result["nmi"] = round(float(normalized_mutual_info_score(a, b)), 3)
    result["ari"] = round(float(adjusted_rand_score(a, b)), 3)
    left_labels, right_labels = labels(first), labels(second)
    members_right = {}
    for idea_id in common:
        members_right.setdefault(right[idea_id], set()).add(idea_id)
    members_left = {}
    for idea_id in common:
        members_left.setdefault(left[idea_id], set()).add(idea_id)
    for number in sorted(n for n in members_left if n >= 0):
        members = members_left[number]
        best, overlap = max(((other, len(members & ids)) for other, ids in members_right.items()),
                            key=lambda pair: (pair[1], -pair[0]))
        union = len(members | members_right[best])
        result["pairs"].append({"first": number, "first_label": left_labels.get(number, ""), "size": len(members),
                                "second": best, "second_label": right_labels.get(best, ""),
                                "overlap": overlap, "jaccard": round(overlap / union, 2) if union else 0.0})
    return result
