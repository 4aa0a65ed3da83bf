"""Queueing and delivering e-mail through the outbox.

`queue_mail` only adds a row, inside the caller's transaction, so a message exists
exactly when the change it reports was committed. `deliver_pending` sends queued
messages when an SMTP server is configured; without one they stay readable by
admins in the outbox.
"""
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template

from ..extensions import db
from ..models import utcnow
from .models import OutboxMessage


def queue_mail(recipient, subject, template, *, user=None, kind="general", **context):
    """Render `template` (plain text) and queue it for `recipient`. Callers commit."""
    body = render_template(template, **context)
    message = OutboxMessage(
        recipient=recipient,
        subject=subject[:200],
        body_text=body,
        kind=kind,
        user_id=getattr(user, "id", None),
        status="pending",
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def smtp_configured():
    return bool(current_app.config.get("MAIL_SERVER"))


def _send(message):
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.body_text)
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def deliver_pending(limit=50, send=None):
    """Try to send due messages; returns (sent, failed). Commits after each message.

    Failed attempts back off exponentially; after MAIL_MAX_ATTEMPTS a message is
    marked failed and stays in the outbox for an admin to read or resend.
    """
    if send is None:
        if not smtp_configured():
            return 0, 0
        send = _send
    now = utcnow()
    due = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    for message in due:
        message.attempts += 1
        try:
            send(message)
        except (OSError, smtplib.SMTPException) as error:
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            if message.attempts >= max_attempts:
                message.status = "failed"
                message.next_attempt_at = None
            else:
                message.next_attempt_at = utcnow() + timedelta(minutes=2 ** message.attempts)
            failed += 1
        else:
            message.status = "sent"
            message.sent_at = utcnow()
            message.last_error = None
            message.next_attempt_at = None
            sent += 1
        db.session.commit()
    return sent, failed


def requeue(message):
    """Put a failed message back in the queue. Callers commit."""
    message.status = "pending"
    message.next_attempt_at = utcnow()
    message.last_error = None
