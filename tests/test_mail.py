"""The outbox: delivery, retries with back-off, and failure after the last attempt."""
import smtplib
import socketserver
import threading
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


def test_scheduler_job_delivers_when_smtp_is_configured(app, monkeypatch):
    from beteiligung.mail import services
    from beteiligung.scheduler import build_scheduler, deliver_outbox

    assert "deliver_outbox" in {job.id for job in build_scheduler(app).get_jobs()}
    _queue(app, 2)
    deliver_outbox(app)  # no SMTP server: nothing leaves the outbox
    assert {m.status for m in _messages(app)} == {"pending"}
    sent = []
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    monkeypatch.setattr(services, "_send", sent.append)
    deliver_outbox(app)
    assert len(sent) == 2 and {m.status for m in _messages(app)} == {"sent"}


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message per connection (no TLS, no auth)."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        data = None
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode().strip()
            if data is not None:
                if command == ".":
                    self.server.received.append("\n".join(data))
                    data = None
                    self.wfile.write(b"250 OK\r\n")
                else:
                    data.append(command)
                continue
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250 test\r\n")
            elif verb == "DATA":
                data = []
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


def test_real_smtp_delivery(app, monkeypatch):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.server_address[1])
        monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
        _queue(app)
        with app.app_context():
            assert deliver_pending() == (1, 0)
    finally:
        server.shutdown()
        server.server_close()
    [raw] = server.received
    assert "To: p0@example.org" in raw and "Subject: Hallo" in raw
