"""In-app notifications: what happened to a user's ideas and registrations."""
from ..extensions import db
from ..models import UTCDateTime, utcnow


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (db.Index("ix_notifications_user_read", "user_id", "read_at"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind = db.Column(db.String(64), nullable=False)  # e.g. "idea.answered"
    message = db.Column(db.String(300), nullable=False)  # one sentence, plain text
    url = db.Column(db.String(300), nullable=True)  # where to read more (a path on this site)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    read_at = db.Column(UTCDateTime, nullable=True)
    # True while the e-mail waits for the user's daily digest.
    digest_pending = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false(), index=True)

    @property
    def is_read(self):
        return self.read_at is not None


class NoticeLog(db.Model):
    """Notices that were sent, by a unique key such as "meeting:12:reminder:2026-12-08T16:00:user:5".

    A scheduled job inserts the key before it sends; a second run, a restarted scheduler or
    a second process finds the key and sends nothing, so nobody gets a reminder twice.
    """
    __tablename__ = "notice_log"

    id = db.Column(db.Integer, primary_key=True)
    key = db.Column(db.String(200), nullable=False, unique=True)
    sent_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
