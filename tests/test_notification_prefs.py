"""How notifications reach a user (immediately, daily digest, off) and the personal calendar link."""
import json
import threading
from datetime import timedelta

from beteiligung.audit.models import AuditEntry
from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.notifications.models import NoticeLog, Notification
from beteiligung.notifications.services import notify, send_digests

from .conftest import csrf_token, login_as, post_form
from .notice_data import local, set_mode, today_berlin


def mode_of(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).notification_mode


def token_of(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).calendar_token


# --- the account form ----------------------------------------------------------------------------

def test_account_page_offers_the_three_ways_with_the_current_one_chosen(client, make_user):
    user = make_user()
    login_as(client, user)
    page = client.get("/konto/").get_data(as_text=True)
    assert "Wie sollen Benachrichtigungen Sie per E-Mail erreichen?" in page
    for label in ("sofort", "täglich als Zusammenfassung", "keine E-Mails"):
        assert f">{label}</label>" in page
    assert 'checked id="notification_mode-0" name="notification_mode" required type="radio" value="immediate"' in page
    assert page.count(" checked ") == 1
    assert 'id="submit"' in page and page.count('id="submit"') == 1  # ids stay unique with three forms


def test_choosing_the_daily_digest_is_saved_and_audited(app, client, make_user):
    user = make_user()
    login_as(client, user)
    response = post_form(client, "/konto/benachrichtigungsweg", {"notification_mode": "daily"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/konto/#benachrichtigungen")
    assert mode_of(app, user.id) == "daily"
    page = client.get("/konto/").get_data(as_text=True)
    assert "Gespeichert: Benachrichtigungen per E-Mail – täglich als Zusammenfassung." in page
    assert 'checked id="notification_mode-1"' in page and page.count(" checked ") == 1
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "user.notification_mode_changed"))
        assert entry.old_values == {"notification_mode": "immediate"}
        assert entry.new_values == {"notification_mode": "daily"}
    notifications_page = client.get("/konto/benachrichtigungen/").get_data(as_text=True)
    assert "Per E-Mail: täglich als Zusammenfassung." in notifications_page


def test_an_unknown_or_missing_choice_is_refused_in_german_and_nothing_changes(app, client, make_user):
    user = make_user()
    login_as(client, user)
    response = post_form(client, "/konto/benachrichtigungsweg", {"notification_mode": "weekly"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Bitte wählen Sie, wie Benachrichtigungen Sie per E-Mail erreichen: sofort, täglich als " \
           "Zusammenfassung oder keine E-Mails." in page
    assert 'aria-describedby="notification_mode-fehler"' in page
    assert mode_of(app, user.id) == "immediate"
    response = post_form(client, "/konto/benachrichtigungsweg", {})
    assert response.status_code == 400
    assert "Bitte wählen Sie, wie Benachrichtigungen Sie per E-Mail erreichen." in response.get_data(as_text=True)
    assert mode_of(app, user.id) == "immediate"


def test_the_form_needs_the_csrf_token(app, client, make_user):
    user = make_user()
    login_as(client, user)
    response = client.post("/konto/benachrichtigungsweg", data={"notification_mode": "off"})
    assert response.status_code == 400
    assert mode_of(app, user.id) == "immediate"
    response = client.post("/konto/benachrichtigungsweg",
                           data={"notification_mode": "off", "csrf_token": "gefälscht"})
    assert response.status_code == 400 and mode_of(app, user.id) == "immediate"
    assert client.post("/konto/kalender-link", data={}).status_code == 400
    assert token_of(app, user.id) is None


def test_anonymous_visitors_are_sent_to_the_login(app, client):
    response = client.post("/konto/benachrichtigungsweg",
                           data={"notification_mode": "off", "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]


# --- the calendar link ----------------------------------------------------------------------------

def test_calendar_link_is_created_and_renewed_and_the_old_one_stops_working(app, client, make_user):
    user = make_user()
    login_as(client, user)
    page = client.get("/konto/").get_data(as_text=True)
    feed = "calendar.user_feed" in app.view_functions
    if feed:
        assert "Persönlicher Kalender" in page and "Kalender-Link erzeugen" in page
        assert 'id="kalender-link"' not in page

    response = post_form(client, "/konto/kalender-link", {})
    assert response.status_code == 302 and response.headers["Location"].endswith("/konto/#kalender")
    first = token_of(app, user.id)
    assert first and len(first) == 32  # secrets.token_urlsafe(24)
    page = client.get("/konto/").get_data(as_text=True)
    assert "Ihr persönlicher Kalender-Link wurde erzeugt." in page
    if feed:
        url = page.split('id="kalender-link" class="token-output" type="text" readonly value="')[1].split('"')[0]
        assert url == f"http://localhost/termine/mein/{first}.ics"
        assert "Wenn Sie einen neuen Link erzeugen, funktioniert der bisherige nicht mehr." in page
        assert "Kalenderabo hinzufügen" in page
        assert client.get(f"/termine/mein/{first}.ics").status_code == 200

    post_form(client, "/konto/kalender-link", {})
    second = token_of(app, user.id)
    assert second and second != first
    page = client.get("/konto/").get_data(as_text=True)
    assert "Der bisherige Link funktioniert nicht mehr" in page
    assert first not in page
    if feed:
        assert second in page
        assert client.get(f"/termine/mein/{first}.ics").status_code == 404
    with app.app_context():
        actions = db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.object_id == str(user.id))
                                     .order_by(AuditEntry.id)).all()
        assert actions[-2:] == ["user.calendar_token_created", "user.calendar_token_renewed"]
        assert all(second not in json.dumps([e.new_values, e.details]) for e in db.session.scalars(
            db.select(AuditEntry)))


def test_export_names_the_setting_and_that_a_calendar_link_exists_but_not_the_secret(app, client, make_user):
    user = make_user()
    login_as(client, user)
    post_form(client, "/konto/benachrichtigungsweg", {"notification_mode": "off"})
    post_form(client, "/konto/kalender-link", {})
    secret = token_of(app, user.id)
    body = client.get("/konto/daten.json").get_data(as_text=True)
    data = json.loads(body)
    assert data["settings"] == {"notification_mode": "off", "calendar_feed_link_exists": True}
    assert secret not in body


def test_deleting_the_account_removes_the_calendar_link(app, client, make_user):
    user = make_user()
    login_as(client, user)
    post_form(client, "/konto/kalender-link", {})
    assert token_of(app, user.id)
    response = post_form(client, "/konto/loeschen", {"current_password": user.password, "confirm": "y"})
    assert response.status_code == 302
    assert token_of(app, user.id) is None


# --- notify and the digest --------------------------------------------------------------------------

def _notify(app, user_id, kind="idea.status", message="Ihre Idee wurde beantwortet.", **kwargs):
    with app.test_request_context("/"):
        notify(db.session.get(User, user_id), kind, message, "/ideen/1", subject="Neuigkeiten zu Ihrer Idee",
               **kwargs)
        db.session.commit()


def _pending(app, user_id):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.digest_pending.is_(True)))


def _digest(app, now):
    with app.test_request_context("/"):
        try:
            return send_digests(now)
        finally:
            db.session.remove()


def test_notify_follows_the_choice_and_always_writes_the_in_app_notification(app, make_user, outbox):
    immediate, daily, off = make_user(), make_user(), make_user()
    set_mode(app, daily.id, "daily")
    set_mode(app, off.id, "off")
    for person in (immediate, daily, off):
        _notify(app, person.id)
    assert [m.user_id for m in outbox()] == [immediate.id]
    assert _pending(app, daily.id) == 1 and _pending(app, off.id) == 0 and _pending(app, immediate.id) == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Notification.id))) == 3

    # Notifications without a subject never send e-mail, in no mode.
    with app.test_request_context("/"):
        notify(db.session.get(User, daily.id), "user.unblocked", "Ihr Konto ist wieder freigeschaltet.")
        db.session.commit()
    assert _pending(app, daily.id) == 1

    # A block of the account is mailed at once, whatever the user chose.
    _notify(app, off.id, kind="user.blocked", message="Ihr Konto wurde gesperrt.")
    _notify(app, daily.id, kind="user.blocked", message="Ihr Konto wurde gesperrt.")
    assert [m.kind for m in outbox()] == ["idea.status", "user.blocked", "user.blocked"]


def test_the_daily_digest_sends_one_mail_per_user_once_a_day(app, make_user, outbox):
    anna, ben = make_user(name="Anna"), make_user(name="Ben")
    set_mode(app, anna.id, "daily")
    set_mode(app, ben.id, "daily")
    for text in ("Erste Nachricht.", "Zweite Nachricht.", "Dritte Nachricht."):
        _notify(app, anna.id, message=text)
    _notify(app, ben.id, message="Nur eine.")
    day = today_berlin() + timedelta(days=1)
    assert _digest(app, local(day, 7)) == 2
    mails = {m.user_id: m for m in outbox()}
    assert set(mails) == {anna.id, ben.id} and len(outbox()) == 2
    assert mails[anna.id].subject == f"Zusammenfassung vom {day:%d.%m.%Y}: 3 neue Benachrichtigungen"
    assert mails[ben.id].subject == f"Zusammenfassung vom {day:%d.%m.%Y}: eine neue Benachrichtigung"
    body = mails[anna.id].body_text
    assert body.index("1. Erste Nachricht.") < body.index("2. Zweite Nachricht.") < body.index("3. Dritte Nachricht.")
    assert "http://localhost/ideen/1" in body and "http://localhost/konto/#benachrichtigungen" in body
    assert _pending(app, anna.id) == 0

    # Again the same day: nothing. News later that day waits for the next morning.
    assert _digest(app, local(day, 7, 5)) == 0
    _notify(app, anna.id, message="Am Nachmittag.")
    assert _digest(app, local(day, 15)) == 0 and _pending(app, anna.id) == 1
    assert _digest(app, local(day + timedelta(days=1), 7)) == 1
    assert len(outbox()) == 3 and _pending(app, anna.id) == 0
    with app.app_context():
        keys = set(db.session.scalars(db.select(NoticeLog.key)))
    assert f"digest:{anna.id}:{day.isoformat()}" in keys
    # Nothing pending: no mail at all.
    assert _digest(app, local(day + timedelta(days=2), 7)) == 0


def test_switching_mails_off_drops_the_waiting_digest_but_keeps_the_notifications(app, client, make_user, outbox):
    user = make_user()
    set_mode(app, user.id, "daily")
    _notify(app, user.id)
    login_as(client, user)
    post_form(client, "/konto/benachrichtigungsweg", {"notification_mode": "off"})
    assert _pending(app, user.id) == 0
    assert _digest(app, local(today_berlin() + timedelta(days=1), 7)) == 0
    assert outbox() == []
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Notification.id))) == 1


def test_switching_from_daily_to_immediate_still_delivers_what_waited(app, client, make_user, outbox):
    user = make_user()
    set_mode(app, user.id, "daily")
    _notify(app, user.id, message="Wartet auf die Zusammenfassung.")
    login_as(client, user)
    post_form(client, "/konto/benachrichtigungsweg", {"notification_mode": "immediate"})
    _notify(app, user.id, message="Kommt sofort.")
    assert [m.kind for m in outbox()] == ["idea.status"]
    assert _digest(app, local(today_berlin() + timedelta(days=1), 7)) == 1
    assert "Wartet auf die Zusammenfassung." in outbox()[-1].body_text
    assert "Kommt sofort." not in outbox()[-1].body_text


def test_two_digest_runs_at_once_send_one_mail(app, make_user, outbox):
    users = [make_user() for _ in range(5)]
    for user in users:
        set_mode(app, user.id, "daily")
        _notify(app, user.id)
    now = local(today_berlin() + timedelta(days=1), 7)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.test_request_context("/"):
                barrier.wait(timeout=10)
                results.append(send_digests(now))
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and sum(results) == 5
    assert sorted(m.user_id for m in outbox()) == sorted(u.id for u in users)
