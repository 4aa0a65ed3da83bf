"""Telling users what happened: an in-app notification and, where they have an
address, an e-mail through the outbox. Callers commit.

Each user chooses how notifications reach them by e-mail (`User.notification_mode`):

- "immediate": one e-mail per notification, queued in the same transaction;
- "daily": no e-mail now; the notification waits (`digest_pending`) for the daily digest,
  one e-mail a day with everything that came in (`send_digests`);
- "off": no e-mail at all.

In-app notifications are always written. Security mails (password reset, e-mail change)
do not go through `notify` but straight to the outbox, so no setting can suppress them;
the few notifications about the account itself in `ALWAYS_BY_MAIL` (a block) are mailed
at once in every mode.
"""
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..account.services import account_deletion_hook, personal_data_exporter
from ..extensions import db
from ..mail.services import queue_mail
from ..models import utcnow
from .models import NoticeLog, Notification

log = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")

IMMEDIATE, DAILY, OFF = "immediate", "daily", "off"
MODES = (IMMEDIATE, DAILY, OFF)
MODE_LABELS = {
    IMMEDIATE: _l("sofort"),
    DAILY: _l("täglich als Zusammenfassung"),
    OFF: _l("keine E-Mails"),
}
MODE_HINTS = {
    IMMEDIATE: _l("Jede Benachrichtigung kommt gleich als eigene E-Mail."),
    DAILY: _l("Einmal am Tag eine E-Mail mit allen neuen Benachrichtigungen."),
    OFF: _l("Sie lesen Ihre Benachrichtigungen nur hier auf der Plattform."),
}

# Notifications about the account itself, mailed at once whatever the user chose.
ALWAYS_BY_MAIL = frozenset({"user.blocked"})

DIGEST_TEMPLATE = "mail/digest.txt"


def mode_of(user):
    mode = getattr(user, "notification_mode", None)
    return mode if mode in MODES else IMMEDIATE


def notify(user, kind, message, url=None, *, subject=None, mail_template="mail/notification.txt",
           always_mail=False, **context):
    """Notify `user` in the app and, if `subject` is given, by e-mail as the user chose.

    `always_mail=True` (or a kind in ALWAYS_BY_MAIL) mails at once regardless of the
    user's choice; keep it for what a user must not miss about their own account.
    """
    if user is None or user.is_deleted:
        return None
    notification = Notification(user_id=user.id, kind=kind, message=message[:300], url=url,
                                digest_pending=False)
    db.session.add(notification)
    if subject and user.email:
        mode = mode_of(user)
        if always_mail or kind in ALWAYS_BY_MAIL or mode == IMMEDIATE:
            queue_mail(user.email, subject, mail_template, user=user, kind=kind, name=user.public_name,
                       message=message, url=url, **context)
        elif mode == DAILY:
            notification.digest_pending = True
    return notification


def set_notification_mode(user, mode):
    """Change how notifications reach `user` by e-mail. Callers commit.

    Switching e-mails off drops what waited for the digest; the notifications stay in the app.
    """
    if mode not in MODES:
        raise ValueError(mode)
    old = mode_of(user)
    user.notification_mode = mode
    if mode == OFF:
        db.session.execute(
            update(Notification).where(Notification.user_id == user.id, Notification.digest_pending.is_(True))
            .values(digest_pending=False).execution_options(synchronize_session=False)
        )
    return old


def unread_count(user):
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_all_read(user):
    db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


# --- the daily digest --------------------------------------------------------------------------

def digest_key(user_id, day):
    return f"digest:{user_id}:{day.isoformat()}"


def _users_with_pending():
    return db.session.scalars(
        select(Notification.user_id).where(Notification.digest_pending.is_(True))
        .group_by(Notification.user_id).order_by(Notification.user_id)
    ).all()


def _clear_pending(ids):
    db.session.execute(
        update(Notification).where(Notification.id.in_(ids), Notification.digest_pending.is_(True))
        .values(digest_pending=False).execution_options(synchronize_session=False)
    )


def send_digests(now=None):
    """Send each user with waiting notifications ONE e-mail listing them all; returns how many.

    Idempotent per user and local day (NoticeLog key "digest:<user_id>:<date>"): the key, the
    e-mail and the cleared flags are committed together, so a second run, a restarted scheduler
    or a second process sends nothing more that day. Needs a request context (links in mails).
    """
    from ..auth.models import User

    now = now or utcnow()
    day = now.astimezone(BERLIN).date()
    sent = 0
    for user_id in _users_with_pending():
        key = digest_key(user_id, day)
        try:
            if db.session.scalar(select(NoticeLog.id).where(NoticeLog.key == key)) is not None:
                db.session.rollback()
                continue  # today's digest went out already; the rest waits for tomorrow
            user = db.session.get(User, user_id)
            items = db.session.scalars(
                select(Notification).where(Notification.user_id == user_id, Notification.digest_pending.is_(True))
                .order_by(Notification.created_at, Notification.id)
            ).all()
            ids = [item.id for item in items]
            if user is None or user.is_deleted or not user.email or mode_of(user) == OFF or not items:
                _clear_pending(ids)
                db.session.commit()
                continue
            db.session.add(NoticeLog(key=key, sent_at=utcnow()))
            db.session.flush()  # a concurrent run that got here first makes this fail
            count = len(items)
            subject = ngettext("Zusammenfassung vom %(day)s: eine neue Benachrichtigung",
                               "Zusammenfassung vom %(day)s: %(num)d neue Benachrichtigungen",
                               count, day=day.strftime("%d.%m.%Y"))
            queue_mail(user.email, subject, DIGEST_TEMPLATE, user=user, kind="digest", name=user.public_name,
                       items=[{"message": item.message, "url": item.url,
                               "at": item.created_at.astimezone(BERLIN)} for item in items],
                       day=day)
            _clear_pending(ids)
            db.session.commit()
            sent += 1
        except IntegrityError:
            db.session.rollback()  # another process sent this digest at the same moment
            log.info("digest %s was sent by another process", key)
    return sent


def next_digest_at(config, now=None):
    """When the next daily digest goes out (aware, Europe/Berlin), for the account page."""
    now = (now or utcnow()).astimezone(BERLIN)
    at = now.replace(hour=digest_hour(config), minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def digest_hour(config):
    from ..config import env_int

    value = config.get("DIGEST_HOUR")
    return int(value) if value is not None else env_int("DIGEST_HOUR", 7)


# --- personal data ---------------------------------------------------------------------------------

@personal_data_exporter("notifications", covers=["notifications.user_id"])
def _export(user):
    rows = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id))
    return [{"id": n.id, "created_at": n.created_at.isoformat(), "kind": n.kind, "message": n.message, "url": n.url,
             "read_at": n.read_at.isoformat() if n.read_at else None,
             "waiting_for_digest": bool(n.digest_pending)} for n in rows]


@account_deletion_hook
def _delete(user):
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))


__all__ = ["notify", "unread_count", "mark_all_read", "set_notification_mode", "send_digests", "MODES",
           "MODE_LABELS", "_"]
