"""The outbox: every e-mail is stored first and delivered by a background job."""
from ..extensions import db
from ..models import UTCDateTime, utcnow

STATUSES = ("pending", "sent", "failed")


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        db.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
        db.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        db.Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)  # when it was queued
    user_id = db.Column(
        db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )  # the recipient's account, if any (for data export and deletion)
    recipient = db.Column(db.String(254), nullable=False)  # e-mail address
    subject = db.Column(db.String(200), nullable=False)
    body_text = db.Column(db.Text, nullable=False)  # plain-text body
    kind = db.Column(db.String(64), nullable=False, default="general")  # e.g. "password_reset"
    status = db.Column(db.String(16), nullable=False, default="pending")  # pending, sent, failed
    attempts = db.Column(db.Integer, nullable=False, default=0)  # delivery attempts so far
    next_attempt_at = db.Column(UTCDateTime, nullable=True)  # earliest next try (back-off)
    last_error = db.Column(db.Text, nullable=True)  # why the last attempt failed
    sent_at = db.Column(UTCDateTime, nullable=True)  # when the SMTP server accepted it

    user = db.relationship("User")
