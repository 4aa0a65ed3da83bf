"""The audit log: who did what to which object, when, with old and new values."""
from ..extensions import db
from ..models import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (db.Index("ix_audit_entries_object", "object_type", "object_id"),)

    id = db.Column(db.Integer, primary_key=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)  # when it happened
    actor_id = db.Column(
        db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )  # who did it; NULL for the system or the command line
    action = db.Column(db.String(64), nullable=False, index=True)  # dotted verb, e.g. "user.role_changed"
    object_type = db.Column(db.String(64), nullable=False)  # e.g. "user", "idea"
    object_id = db.Column(db.String(64), nullable=True)  # primary key of the object, as text
    old_values = db.Column(db.JSON, nullable=True)  # changed fields before
    new_values = db.Column(db.JSON, nullable=True)  # changed fields after
    details = db.Column(db.JSON, nullable=True)  # context, e.g. the suggestion that was shown
    reason = db.Column(db.Text, nullable=True)  # the reason the actor gave

    actor = db.relationship("User", lazy="joined")
