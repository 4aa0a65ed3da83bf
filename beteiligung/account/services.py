"""Personal data: export as JSON and deletion of an account (GDPR Art. 15, 17, 20).

Each area that stores personal data registers an exporter and, where it keeps
such data, a deletion hook, so both stay complete as the platform grows. An
exporter names the foreign keys to `users.id` whose rows it lists (`covers`);
rows of any other such column appear in the generic section "other_records", so
the export never silently misses a table.

Deletion keeps the (emptied) account row, but nothing refers to it any more:
rows that belong to the person alone (tokens, supports, registrations,
notifications, mails) are deleted; contributions and the records of decisions
(ideas, comments, answers, audit entries, ...) are handed to one shared stand-in
account, "gelöschtes Konto", so they stay without any link to the person or to
each other; the person's name and e-mail address are replaced where the platform
copied them into other rows (notifications and mails to others, the audit log,
presenters, assignees, facilitators).
"""
import json
import re

from flask_babel import gettext as _
from sqlalchemy import String, Text, cast, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import JSON

from ..audit.models import AuditEntry
from ..audit.services import record
from ..auth.models import ApiToken, User, new_session_token
from ..extensions import db
from ..mail.models import OutboxMessage
from ..models import isoformat, utcnow
from ..notifications.models import NoticeLog

_exporters = []  # (key, function(user) -> JSON-serialisable data)
_covered = {}  # "table.column" (a foreign key to users.id) -> key of the export section that lists its rows
_deletion_hooks = []  # function(user), run before references to the account are released

OTHER_RECORDS = "other_records"

# The shared account that deleted people's contributions and decisions point to. Its session
# token is fixed (a real one is 43 random characters) and it is deleted, so nobody can use it.
STAND_IN_TOKEN = "deleted-accounts-stand-in"

# Columns into which the platform copies a person's name or e-mail address for others to read.
# Deletion replaces those strings there by "gelöschtes Konto".
NAME_COPIES = {
    "notifications": ("message",),
    "outbox_messages": ("subject", "body_text"),
    "audit_entries": ("old_values", "new_values", "details", "reason"),
    "agenda_items": ("presenter",),
    "action_items": ("assignee",),
    "events": ("facilitator",),
    "ideas": ("facilitator",),
}
# Names shorter than this are replaced only where they are the whole value (a presenter, an
# assignee), not inside sentences, where "Jo" or "Al" would hit other words.
MIN_NAME_IN_TEXT = 3


def personal_data_exporter(key, covers=()):
    """Register `function(user)` as the export section `key`; `covers` names the
    foreign keys to users.id ("table.column") whose rows the section lists by "id"."""
    def register(function):
        _exporters.append((key, function))
        for column in covers:
            _covered[column] = key
        return function
    return register


def account_deletion_hook(function):
    _deletion_hooks.append(function)
    return function


def user_foreign_keys():
    """(table, column, ondelete) of every foreign key to users.id, in table order."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            for key in column.foreign_keys:
                if key.column.table.name == User.__tablename__ and key.column.name == "id":
                    found.append((table, column, (key.ondelete or "").upper()))
    return found


def export_sections():
    """{"table.column": export key} for the foreign keys to users.id; uncovered ones go to OTHER_RECORDS."""
    return {f"{table.name}.{column.name}": _covered.get(f"{table.name}.{column.name}", OTHER_RECORDS)
            for table, column, _ondelete in user_foreign_keys()}


def export_personal_data(user):
    """Everything the platform stores about `user`, as one JSON-serialisable dict."""
    data = {
        "format": "beteiligung-personal-data/1",
        "exported_at": isoformat(utcnow()),
    }
    for key, exporter in _exporters:
        data[key] = exporter(user)
    data[OTHER_RECORDS] = _other_records(user)
    return data


def _other_records(user):
    """Rows that refer to the user through a foreign key no section covers (a safety net)."""
    rows = []
    for table, column, _ondelete in user_foreign_keys():
        if f"{table.name}.{column.name}" in _covered:
            continue
        key = list(table.primary_key.columns)
        for row in db.session.execute(select(*key).where(column == user.id).order_by(*key)):
            rows.append({"table": table.name, "column": column.name,
                         "id": row[0] if len(key) == 1 else list(row)})
    return rows


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
        "blocked_at": isoformat(user.blocked_at),
        "blocked_reason": user.blocked_reason,
    }


@personal_data_exporter("api_tokens", covers=["api_tokens.user_id"])
def _export_tokens(user):
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    return [
        {"id": t.id, "name": t.name, "hint": t.hint, "created_at": isoformat(t.created_at),
         "last_used_at": isoformat(t.last_used_at), "revoked_at": isoformat(t.revoked_at)}
        for t in tokens
    ]


@personal_data_exporter("emails", covers=["outbox_messages.user_id"])
def _export_emails(user):
    messages = db.session.scalars(
        select(OutboxMessage).where(_messages_of(user)).order_by(OutboxMessage.id)
    )
    return [
        {"id": m.id, "created_at": isoformat(m.created_at), "recipient": m.recipient, "subject": m.subject,
         "body": m.body_text, "kind": m.kind, "status": m.status, "sent_at": isoformat(m.sent_at)}
        for m in messages
    ]


@personal_data_exporter("actions", covers=["audit_entries.actor_id"])
def _export_actions(user):
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
    )
    return [_audit_entry(e) for e in entries]


@personal_data_exporter("account_history")
def _export_history(user):
    """What others (administration, moderation) recorded about the account: roles, blocks."""
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == User.audit_type, AuditEntry.object_id == str(user.id),
                                 or_(AuditEntry.actor_id.is_(None), AuditEntry.actor_id != user.id))
        .order_by(AuditEntry.id)
    )
    return [_audit_entry(e) for e in entries]


def _audit_entry(entry):
    return {"id": entry.id, "created_at": isoformat(entry.created_at), "action": entry.action,
            "object_type": entry.object_type, "object_id": entry.object_id, "old_values": entry.old_values,
            "new_values": entry.new_values, "reason": entry.reason}


@personal_data_exporter("notices")
def _export_notices(user):
    """The reminders and digests sent to the user, by the key that keeps them from going out twice."""
    return [{"key": row.key, "sent_at": isoformat(row.sent_at)}
            for row in db.session.scalars(select(NoticeLog).where(_notices_of(user)).order_by(NoticeLog.id))]


def _notices_of(user):
    # Keys end in ":user:<id>" (notices.py) or start with "digest:<id>:" (notifications.services).
    return or_(NoticeLog.key.like(f"%:user:{user.id}"), NoticeLog.key.like(f"digest:{user.id}:%"))


def _messages_of(user):
    conditions = [OutboxMessage.user_id == user.id]
    if user.email:
        conditions.append(OutboxMessage.recipient == user.email)
    return or_(*conditions)


# --- deletion ---------------------------------------------------------------------------------------

class CannotDelete(Exception):
    pass


def delete_account(user, *, actor=None):
    """Delete the person behind `user`: personal fields, rows of their own, their name where it
    was copied; contributions stay with the stand-in "gelöschtes Konto" (see the module
    docstring). `actor` is the administrator who deletes someone else's account. Callers commit.
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
    strings = personal_strings(user)  # before the hooks empty the rows they come from
    for hook in _deletion_hooks:
        hook(user)
    db.session.execute(delete(OutboxMessage).where(_messages_of(user)))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.session.execute(delete(NoticeLog).where(_notices_of(user)))
    replace_personal_strings(strings)
    stand_in = stand_in_account()
    _release_references(user, stand_in)
    user.email = None
    user.display_name = None
    user.password_hash = None
    user.blocked_at = None
    user.blocked_reason = None
    user.privacy_accepted_at = None
    user.last_login_at = None
    user.calendar_token = None
    user.role = Role.CITIZEN.value
    user.session_token = new_session_token()
    user.deleted_at = utcnow()
    by_admin = actor is not None and getattr(actor, "id", None) != user.id
    record("user.deleted", user, actor=actor if by_admin else stand_in)


def personal_strings(user):
    """The e-mail addresses and names of `user` that may have been copied into other rows."""
    from ..meetings.models import BodyMember

    strings = {user.email, user.display_name}
    strings.update(db.session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.user_id == user.id)))
    strings.update(db.session.scalars(select(BodyMember.name).where(BodyMember.user_id == user.id)))
    return {value.strip() for value in strings if value and value.strip()}


def stand_in_account():
    """The shared, deleted account "gelöschtes Konto"; created on first use.

    Two deletions at the same moment both insert it; the unique session token lets one
    insert win and the other skip (ON CONFLICT DO NOTHING), and both read the same row.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    query = select(User).where(User.session_token == STAND_IN_TOKEN)
    stand_in = db.session.scalar(query)
    if stand_in is None:
        db.session.execute(insert(User.__table__)
                           .values(session_token=STAND_IN_TOKEN, deleted_at=utcnow(), notification_mode="off")
                           .on_conflict_do_nothing(index_elements=["session_token"]))
        stand_in = db.session.scalar(query)
    return stand_in


def _release_references(user, stand_in):
    """Apply to every remaining foreign key to the account what its `ondelete` says, except that
    SET NULL points to the stand-in instead, so pages keep showing "gelöschtes Konto"."""
    db.session.flush()
    for table, column, ondelete in user_foreign_keys():
        if ondelete == "CASCADE":
            db.session.execute(table.delete().where(column == user.id))
        elif ondelete == "SET NULL":
            db.session.execute(table.update().where(column == user.id).values({column.name: stand_in.id}))
        elif db.session.scalar(select(column).where(column == user.id).limit(1)) is not None:
            raise RuntimeError(f"{table.name}.{column.name} refers to a deleted account and has no rule "
                               f"(ondelete CASCADE or SET NULL, or an account_deletion_hook)")


def replace_personal_strings(strings):
    """Replace `strings` by "gelöschtes Konto" in the columns of NAME_COPIES."""
    if not strings:
        return
    replacement = _("gelöschtes Konto")
    patterns = [re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.IGNORECASE)
                for value in sorted(strings, key=len, reverse=True) if len(value) >= MIN_NAME_IN_TEXT]
    whole = {value.casefold() for value in strings}

    def scrub(value):
        if isinstance(value, str):
            if value.strip().casefold() in whole:
                return replacement
            for pattern in patterns:
                value = pattern.sub(replacement, value)
            return value
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [scrub(item) for item in value]
        return value

    tables = db.metadata.tables
    db.session.flush()
    for table_name, column_names in NAME_COPIES.items():
        table = tables[table_name]
        key = list(table.primary_key.columns)
        for name in column_names:
            column = table.c[name]
            is_json = isinstance(column.type, JSON)
            text = cast(column, Text) if is_json else column
            conditions = []
            for value in strings:
                if len(value) >= MIN_NAME_IN_TEXT:
                    conditions.append(text.icontains(value, autoescape=True))
                    escaped = _json_escaped(value)  # how the JSON text of the row spells ä, ö, ü
                    if is_json and escaped != value:
                        conditions.append(text.icontains(escaped, autoescape=True))
                elif is_json:
                    conditions.append(text.icontains(f'"{_json_escaped(value)}"', autoescape=True))
                else:
                    conditions.append(func.lower(column) == value.lower())
            rows = db.session.execute(select(*key, column).where(or_(*conditions))).all()
            for row in rows:
                old = row[-1]
                new = scrub(old)
                if new != old:
                    db.session.execute(table.update().where(*(c == v for c, v in zip(key, row[:-1])))
                                       .values({name: _fit(new, column)}))


def _json_escaped(value):
    return json.dumps(value)[1:-1]


def _fit(value, column):
    """Cut a replaced string to the column's length (the replacement may be longer than a name)."""
    if isinstance(value, str) and isinstance(column.type, String) and column.type.length:
        return value[:column.type.length]
    return value
