"""Personal data in the ideas area: what the data export contains and what account
deletion removes.

Ideas and comments are public contributions to a planning process; they stay, shown
as by "gelöschtes Konto" (account.services hands them to the shared stand-in account).
Supports say which ideas a person backs: they are deleted and the counters lowered by
the rows really deleted. Reports keep the moderation record without the reporter and
the reporter's words. Answers, moderation decisions and analog ideas typed in by staff
stay as records of the process.
"""
from collections import Counter

from sqlalchemy import select, update

from ..account.services import account_deletion_hook, personal_data_exporter
from ..extensions import db
from ..models import isoformat
from .models import Comment, Idea, Report, StatusChange, Support


@personal_data_exporter("ideas", covers=["ideas.author_id"])
def _export_ideas(user):
    ideas = db.session.scalars(select(Idea).where(Idea.author_id == user.id).order_by(Idea.id))
    return [{"id": idea.id, "title": idea.title, "text": idea.text, "sector": idea.sector.code if idea.sector else None,
             "district": idea.district.name, "latitude": idea.latitude, "longitude": idea.longitude,
             "status": idea.status, "created_at": isoformat(idea.created_at), "edited_at": isoformat(idea.edited_at),
             "hidden_reason": idea.hidden_reason} for idea in ideas]


@personal_data_exporter("comments", covers=["comments.author_id"])
def _export_comments(user):
    comments = db.session.scalars(select(Comment).where(Comment.author_id == user.id).order_by(Comment.id))
    return [{"id": c.id, "idea_id": c.idea_id, "reply_to": c.parent_id, "text": c.text,
             "created_at": isoformat(c.created_at), "hidden_reason": c.hidden_reason} for c in comments]


@personal_data_exporter("supports", covers=["supports.user_id"])
def _export_supports(user):
    rows = db.session.execute(select(Support.id, Support.idea_id, Support.created_at)
                              .where(Support.user_id == user.id).order_by(Support.id))
    return [{"id": row.id, "idea_id": row.idea_id, "created_at": isoformat(row.created_at)} for row in rows]


@personal_data_exporter("reports", covers=["reports.reporter_id"])
def _export_reports(user):
    reports = db.session.scalars(select(Report).where(Report.reporter_id == user.id).order_by(Report.id))
    return [{"id": r.id, "idea_id": r.idea_id, "comment_id": r.comment_id, "reason": r.reason, "note": r.note,
             "created_at": isoformat(r.created_at), "resolution": r.resolution} for r in reports]


@personal_data_exporter("ideas_entered", covers=["ideas.entered_by_id"])
def _export_entered(user):
    """Analog ideas (cards, letters, workshop results) the person typed in or imported as staff."""
    ideas = db.session.scalars(select(Idea).where(Idea.entered_by_id == user.id).order_by(Idea.id))
    return [{"id": idea.id, "title": idea.title, "source": idea.source, "event_name": idea.event_name,
             "facilitator": idea.facilitator, "created_at": isoformat(idea.created_at)} for idea in ideas]


@personal_data_exporter("idea_answers", covers=["idea_status_changes.actor_id"])
def _export_answers(user):
    changes = db.session.scalars(select(StatusChange).where(StatusChange.actor_id == user.id)
                                 .order_by(StatusChange.id))
    return [{"id": c.id, "idea_id": c.idea_id, "old_status": c.old_status, "new_status": c.new_status,
             "answer": c.answer, "created_at": isoformat(c.created_at)} for c in changes]


@personal_data_exporter("moderation_decisions", covers=["reports.resolved_by_id"])
def _export_moderation(user):
    reports = db.session.scalars(select(Report).where(Report.resolved_by_id == user.id).order_by(Report.id))
    return [{"id": r.id, "idea_id": r.idea_id, "comment_id": r.comment_id, "resolution": r.resolution,
             "resolved_at": isoformat(r.resolved_at)} for r in reports]


@account_deletion_hook
def _delete(user):
    supports = Support.__table__
    removed = db.session.scalars(supports.delete().where(supports.c.user_id == user.id)
                                 .returning(supports.c.idea_id)).all()
    for idea_id, count in Counter(removed).items():
        db.session.execute(update(Idea).where(Idea.id == idea_id)
                           .values(support_count=Idea.support_count - count)
                           .execution_options(synchronize_session=False))
    db.session.execute(update(Report).where(Report.reporter_id == user.id).values(reporter_id=None, note=None)
                       .execution_options(synchronize_session=False))
    # Ideas keep no map point that could lead back to the person's home.
    db.session.execute(update(Idea).where(Idea.author_id == user.id).values(latitude=None, longitude=None)
                       .execution_options(synchronize_session=False))
