"""Personal data: export as JSON and deletion of an account (GDPR Art. 15, 17, 20).

Each area that stores personal data registers an exporter and, where it keeps
such data, a deletion hook, so both stay complete as the platform grows.
"""
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select

from ..audit.models import AuditEntry
from ..audit.services import record
from ..auth.models import ApiToken, User, new_session_token
from ..extensions import db
from ..mail.models import OutboxMessage
from ..models import isoformat, utcnow

_exporters = []  # (key, function(user) -> JSON-serialisable data)
_deletion_hooks = []  # function(user), run before the account is anonymised


def personal_data_exporter(key):
    def register(function):
        _exporters.append((key, function))
        return function
    return register


def account_deletion_hook(function):
    _deletion_hooks.append(function)
    return function



def export_personal_data(user):
    """Everything the platform stores about `user`, as one JSON-serialisable dict."""
    data = {
        "format": "beteiligung-personal-data/1",
        "exported_at": isoformat(utcnow()),
    }
    for key, exporter in _exporters:
        data[key] = exporter(user)
    return data


@personal_data_exporter("account")
def _export_account(user):
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "created_at": isoformat(user.created_at),
        "updated_at": isoformat(user.updated_at),
        "privacy_accepted_at": isoformat(user.privacy_accepted_at),
        "last_login_at": isoformat(user.last_login_at),
    }


@personal_data_exporter("api_tokens")
def _export_tokens(user):
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    return [
        {"name": t.name, "hint": t.hint, "created_at": isoformat(t.created_at),
         "last_used_at": isoformat(t.last_used_at), "revoked_at": isoformat(t.revoked_at)}
        for t in tokens
    ]


@personal_data_exporter("emails")
def _export_emails(user):
    messages = db.session.scalars(
        select(OutboxMessage).where(_messages_of(user)).order_by(OutboxMessage.id)
    )
    return [
        {"created_at": isoformat(m.created_at), "recipient": m.recipient, "subject": m.subject,
         "body": m.body_text, "status": m.status, "sent_at": isoformat(m.sent_at)}
        for m in messages
    ]


@personal_data_exporter("actions")
def _export_actions(user):
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
    )
    return [
        {"created_at": isoformat(e.created_at), "action": e.action, "object_type": e.object_type,
         "object_id": e.object_id, "old_values": e.old_values, "new_values": e.new_values,
         "reason": e.reason}
        for e in entries
    ]


def _messages_of(user):
    conditions = [OutboxMessage.user_id == user.id]
    if user.email:
        conditions.append(OutboxMessage.recipient == user.email)
    return or_(*conditions)


class CannotDelete(Exception):
    pass


def delete_account(user, *, actor=None):
    """Remove every personal field of `user`; public contributions stay anonymous.

    The row itself stays so that contributions keep their author link, which now
    shows "gelöschtes Konto". Callers commit.
    """
    from ..roles import Role

    if user.is_deleted:
        return
    if user.role == Role.ADMIN.value:
        admins = db.session.scalar(
            select(db.func.count(User.id)).where(User.role == Role.ADMIN.value, User.deleted_at.is_(None))
        )
        if admins <= 1:
            raise CannotDelete(_("Das letzte Administrationskonto kann nicht gelöscht werden. "
                                 "Bitte ernennen Sie zuerst eine andere Person zur Administration."))
    for hook in _deletion_hooks:
        hook(user)
    db.session.execute(delete(OutboxMessage).where(_messages_of(user)))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    user.email = None
    user.display_name = None
    user.password_hash = None
    user.blocked_reason = None
    user.privacy_accepted_at = None
    user.last_login_at = None
    user.role = Role.CITIZEN.value
    user.session_token = new_session_token()
    user.deleted_at = utcnow()
    record("user.deleted", user, actor=actor or user)
