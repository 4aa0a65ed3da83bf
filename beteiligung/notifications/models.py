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

    @property
    def is_read(self):
        return self.read_at is not None
