"""The outbox: delivery, retries with back-off, and failure after the last attempt."""
import smtplib
from datetime import timedelta

from beteiligung.extensions import db
from beteiligung.mail.models import OutboxMessage
from beteiligung.mail.services import deliver_pending, queue_mail, requeue
from beteiligung.models import utcnow


def _queue(app, count=1):
    with app.test_request_context():
        for n in range(count):
            queue_mail(f"p{n}@example.org", "Hallo", "mail/email_change_notice.txt", name="P")
        db.session.commit()


def _messages(app):
    with app.app_context():
        return db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_without_smtp_messages_stay_in_the_outbox(app):
    _queue(app)
    with app.app_context():
        assert deliver_pending() == (0, 0)
    [message] = _messages(app)
    assert message.status == "pending" and message.attempts == 0
    assert "neue E-Mail-Adresse angegeben" in message.body_text


def test_delivery_marks_messages_sent_once(app):
    _queue(app, 3)
    sent = []
    with app.app_context():
        assert deliver_pending(send=sent.append) == (3, 0)
        assert deliver_pending(send=sent.append) == (0, 0)
    assert len(sent) == 3
    assert all(m.status == "sent" and m.sent_at for m in _messages(app))


def test_failed_delivery_backs_off_and_gives_up(app):
    _queue(app)

    def broken(message):
        raise smtplib.SMTPServerDisconnected("Verbindung verloren")

    with app.app_context():
        for attempt in range(1, app.config["MAIL_MAX_ATTEMPTS"] + 1):
            assert deliver_pending(send=broken) == (0, 1)
            message = db.session.scalar(db.select(OutboxMessage))
            if message.status == "pending":
                assert message.next_attempt_at > utcnow() + timedelta(seconds=59)
                assert deliver_pending(send=broken) == (0, 0)  # not due yet
                message.next_attempt_at = utcnow()
                db.session.commit()
        assert message.status == "failed" and message.attempts == app.config["MAIL_MAX_ATTEMPTS"]
        assert "Verbindung verloren" in message.last_error
        requeue(message)
        db.session.commit()
        assert deliver_pending(send=lambda m: None) == (1, 0)
