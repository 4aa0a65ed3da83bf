"""Recording decisions in the audit log. Callers commit."""
from ..extensions import db
from .models import AuditEntry


def record(action, obj=None, *, actor=None, object_type=None, object_id=None,
           old=None, new=None, details=None, reason=None):
    """Add an audit entry for `action` on `obj` (or on object_type/object_id).

    `old` and `new` hold only the fields that changed; keep personal data such as
    e-mail addresses out of them, because the log outlives deleted accounts.
    """
    if obj is not None:
        object_type = object_type or getattr(obj, "audit_type", type(obj).__name__.lower())
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    if object_type is None:
        raise ValueError("an audit entry needs an object or an object_type")
    entry = AuditEntry(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        actor_id=getattr(actor, "id", None),
        old_values=old,
        new_values=new,
        details=details,
        reason=reason,
    )
    db.session.add(entry)
    return entry


def entries_for(object_type, object_id):
    """The audit entries of one object, newest first."""
    return db.session.scalars(
        db.select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    ).all()
