"""Personal data in the ideas area: what the data export contains and what account
deletion removes.

Ideas and comments are public contributions to a planning process; they stay, shown
as by "gelöschtes Konto". Supports say which ideas a person backs: they are deleted
and the counters lowered. Reports keep the moderation record without the reporter.
"""
from sqlalchemy import select, update

from ..account.services import account_deletion_hook, personal_data_exporter
from ..extensions import db
from ..models import isoformat
from .models import Comment, Idea, Report, Support



@personal_data_exporter("ideas")
def _export_ideas(user):
    ideas = db.session.scalars(select(Idea).where(Idea.author_id == user.id).order_by(Idea.id))
    return [{"id": idea.id, "title": idea.title, "text": idea.text, "sector": idea.sector.code if idea.sector else None,
             "district": idea.district.name, "latitude": idea.latitude, "longitude": idea.longitude,
             "status": idea.status, "created_at": isoformat(idea.created_at), "edited_at": isoformat(idea.edited_at),
             "hidden_reason": idea.hidden_reason} for idea in ideas]


@personal_data_exporter("comments")
def _export_comments(user):
    comments = db.session.scalars(select(Comment).where(Comment.author_id == user.id).order_by(Comment.id))
    return [{"id": c.id, "idea_id": c.idea_id, "reply_to": c.parent_id, "text": c.text,
             "created_at": isoformat(c.created_at), "hidden_reason": c.hidden_reason} for c in comments]


@personal_data_exporter("supports")
def _export_supports(user):
    rows = db.session.execute(select(Support.idea_id, Support.created_at).where(Support.user_id == user.id)
                              .order_by(Support.id))
    return [{"idea_id": row.idea_id, "created_at": isoformat(row.created_at)} for row in rows]


@personal_data_exporter("reports")
def _export_reports(user):
    reports = db.session.scalars(select(Report).where(Report.reporter_id == user.id).order_by(Report.id))
    return [{"idea_id": r.idea_id, "comment_id": r.comment_id, "reason": r.reason, "note": r.note,
             "created_at": isoformat(r.created_at)} for r in reports]


@account_deletion_hook
def _delete(user):
    supported = db.session.scalars(select(Support.idea_id).where(Support.user_id == user.id)).all()
    if supported:
        db.session.execute(update(Idea).where(Idea.id.in_(supported), Idea.support_count > 0)
                           .values(support_count=Idea.support_count - 1)
                           .execution_options(synchronize_session=False))
        db.session.execute(Support.__table__.delete().where(Support.user_id == user.id))
    db.session.execute(update(Report).where(Report.reporter_id == user.id).values(reporter_id=None, note=None)
                       .execution_options(synchronize_session=False))
    # Ideas keep no map point that could lead back to the person's home.
    db.session.execute(update(Idea).where(Idea.author_id == user.id).values(latitude=None, longitude=None)
                       .execution_options(synchronize_session=False))
