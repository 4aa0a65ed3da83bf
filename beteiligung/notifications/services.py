"""Telling users what happened: an in-app notification and, where they have an
address, an e-mail through the outbox. Callers commit."""
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from ..account.services import account_deletion_hook, personal_data_exporter
from ..extensions import db
from ..mail.services import queue_mail
from ..models import utcnow
from .models import Notification


def notify(user, kind, message, url=None, *, subject=None, mail_template="mail/notification.txt", **context):
    """Notify `user` in the app and, if `subject` is given, by e-mail."""
    if user is None or user.is_deleted:
        return None
    notification = Notification(user_id=user.id, kind=kind, message=message[:300], url=url)
    db.session.add(notification)
    if subject and user.email:
        queue_mail(user.email, subject, mail_template, user=user, kind=kind, name=user.public_name,
                   message=message, url=url, **context)
    return notification


def unread_count(user):
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_all_read(user):
    db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


@personal_data_exporter("notifications")
def _export(user):
    rows = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id))
    return [{"created_at": n.created_at.isoformat(), "kind": n.kind, "message": n.message, "url": n.url,
             "read_at": n.read_at.isoformat() if n.read_at else None} for n in rows]


@account_deletion_hook
def _delete(user):
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))


__all__ = ["notify", "unread_count", "mark_all_read", "_"]
