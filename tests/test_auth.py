"""Registration, login, logout, rate limiting, password reset and e-mail change."""
import re

import pytest

from .conftest import DEFAULT_PASSWORD, csrf_token, login_as, post_form

STRONG = "Mauersegler-Kernberge-Laterne"


def register(client, **overrides):
    data = {"email": "neu@example.org", "display_name": "Nele", "password": STRONG,
            "password_confirm": STRONG, "privacy": "y"}
    data.update(overrides)
    return post_form(client, "/registrieren", data)


def test_registration_creates_citizen_and_logs_in(client, app):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/konto/")
    page = client.get("/konto/").get_data(as_text=True)
    assert "neu@example.org" in page
    assert "Bürgerin oder Bürger" in page


@pytest.mark.parametrize("overrides, message", [
    ({"password": "passwort123", "password_confirm": "passwort123"}, "zu leicht zu erraten"),
    ({"password": "kurz", "password_confirm": "kurz"}, "mindestens 10 Zeichen"),
    ({"password_confirm": "anders-als-vorher-99"}, "stimmen nicht überein"),
    ({"privacy": ""}, "Bitte stimmen Sie der Datenschutzerklärung zu."),
    ({"email": "keine-adresse"}, "gültige E-Mail-Adresse"),
    ({"display_name": ""}, "Bitte füllen Sie dieses Feld aus."),
    ({"display_name": "x" * 81}, "Bitte 2 bis 80 Zeichen."),
    ({"email": "a" * 250 + "@example.org"}, "Höchstens 254 Zeichen."),
])
def test_registration_refuses_bad_input_in_german(client, get_user, overrides, message):
    response = register(client, **overrides)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert client.get("/konto/").status_code == 302  # not logged in


def test_password_containing_own_name_is_weak(client):
    response = register(client, email="sonnenschein@example.org", display_name="Sonnenschein",
                        password="sonnenschein1", password_confirm="sonnenschein1")
    assert "zu leicht zu erraten" in response.get_data(as_text=True)


def test_registration_with_taken_address_changes_nothing(client, make_user, app):
    make_user(email="vergeben@example.org")
    response = register(client, email="Vergeben@Example.org")
    assert "bereits ein Konto" in response.get_data(as_text=True)
    from beteiligung.auth.models import User
    from beteiligung.extensions import db
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_display_name_with_markup_is_shown_as_text(client):
    register(client, display_name='<script>alert(1)</script>')
    page = client.get("/konto/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_login_and_logout(client, make_user, login):
    user = make_user(email="anna@example.org")
    response = login("ANNA@example.org ")
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 200
    # Logout needs POST with a CSRF token; a GET is not allowed.
    assert client.get("/abmelden").status_code == 405
    response = post_form(client, "/abmelden")
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 302
    assert user.email == "anna@example.org"


def test_login_messages_do_not_reveal_accounts(client, make_user, login):
    make_user(email="anna@example.org")
    wrong_password = login("anna@example.org", "falsches-passwort").get_data(as_text=True)
    unknown_user = login("niemand@example.org", "falsches-passwort").get_data(as_text=True)
    message = "E-Mail-Adresse oder Passwort ist nicht korrekt."
    assert message in wrong_password and message in unknown_user


def test_remember_me_sets_long_lived_cookie(client, make_user, login):
    make_user(email="anna@example.org")
    response = login("anna@example.org", remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "Expires=" in remember[0]


def test_eleventh_failed_login_in_a_minute_gets_429(client, make_user, login):
    make_user(email="anna@example.org")
    for attempt in range(10):
        assert login("anna@example.org", f"falsch-{attempt}").status_code == 200
    response = login("anna@example.org", "falsch-11")
    assert response.status_code == 429
    assert "Zu viele Anfragen" in response.get_data(as_text=True)
    # Even the right password is refused until the minute is over.
    assert login("anna@example.org").status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(client, make_user, login):
    make_user(email="anna@example.org")
    for _ in range(12):
        assert login("anna@example.org").status_code == 302
        post_form(client, "/abmelden")


def test_login_rejects_foreign_next_targets(client, make_user, login):
    make_user(email="anna@example.org")
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]:
        response = post_form(client, "/anmelden", {"email": "anna@example.org", "password": DEFAULT_PASSWORD,
                                                   "next": target})
        assert response.headers["Location"] == "/", target
        post_form(client, "/abmelden")
    response = post_form(client, "/anmelden", {"email": "anna@example.org", "password": DEFAULT_PASSWORD,
                                               "next": "/konto/tokens"})
    assert response.headers["Location"] == "/konto/tokens"


def test_protected_page_redirects_to_login_and_back(client, make_user):
    make_user(email="anna@example.org")
    response = client.get("/konto/tokens")
    assert response.status_code == 302
    assert "/anmelden?next=/konto/tokens" in response.headers["Location"]


def _link(message, path):
    match = re.search(rf"https?://[^\s]+{path}/[^\s]+", message.body_text)
    assert match, message.body_text
    return match.group(0).split("localhost", 1)[1]


def test_password_reset_by_mailed_link(client, make_user, login, outbox, get_user):
    user = make_user(email="anna@example.org")
    response = post_form(client, "/passwort-vergessen", {"email": "anna@example.org"}, follow_redirects=True)
    assert "Wenn zu dieser Adresse ein Konto besteht" in response.get_data(as_text=True)
    [message] = outbox()
    assert message.recipient == "anna@example.org" and message.kind == "password_reset"
    link = _link(message, "/passwort-zuruecksetzen")

    new_password = "Zwiebelmarkt-Paradies-Bahnhof"
    response = post_form(client, link, {"password": new_password, "password_confirm": new_password})
    assert response.status_code == 302
    assert login("anna@example.org").status_code == 200  # old password no longer works
    assert login("anna@example.org", new_password).status_code == 302
    # The link works only once.
    response = client.get(link, follow_redirects=True)
    assert "ungültig oder wurde bereits verwendet" in response.get_data(as_text=True)
    assert get_user(user.id).session_token != user.session_token


def test_password_reset_answer_is_the_same_for_unknown_addresses(client, outbox):
    response = post_form(client, "/passwort-vergessen", {"email": "niemand@example.org"}, follow_redirects=True)
    assert "Wenn zu dieser Adresse ein Konto besteht" in response.get_data(as_text=True)
    assert outbox() == []


def test_forged_reset_link_is_refused(client):
    response = client.get("/passwort-zuruecksetzen/erfunden.token", follow_redirects=True)
    assert "ungültig" in response.get_data(as_text=True)


def test_email_change_needs_confirmation_from_new_address(client, make_user, outbox, get_user):
    user = make_user(email="anna@example.org")
    login_as(client, user)
    response = post_form(client, "/konto/email", {"email": "anna.neu@example.org",
                                                 "current_password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert get_user(user.id).email == "anna@example.org"  # unchanged until confirmed
    confirm, notice = outbox()
    assert confirm.recipient == "anna.neu@example.org"
    assert notice.recipient == "anna@example.org"
    link = _link(confirm, "/email-bestaetigen")
    client.get(link)
    assert get_user(user.id).email == "anna.neu@example.org"
    response = client.get(link, follow_redirects=True)  # second use
    assert "ungültig oder wurde bereits verwendet" in response.get_data(as_text=True)


def test_email_change_needs_current_password(client, make_user, outbox):
    login_as(client, make_user(email="anna@example.org"))
    response = post_form(client, "/konto/email", {"email": "x@example.org", "current_password": "falsch"})
    assert "Das Passwort ist nicht korrekt." in response.get_data(as_text=True)
    assert outbox() == []


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user(email="anna@example.org")
    laptop, phone = app.test_client(), app.test_client()
    login_as(laptop, user)
    login_as(phone, user)
    new = "Glockenturm-Saaleufer-Mohnblume"
    response = post_form(laptop, "/konto/passwort", {"current_password": DEFAULT_PASSWORD, "password": new,
                                                    "password_confirm": new})
    assert response.status_code == 302
    assert laptop.get("/konto/").status_code == 200
    assert phone.get("/konto/").status_code == 302


def test_post_without_csrf_token_is_refused(client, make_user):
    make_user(email="anna@example.org")
    response = client.post("/anmelden", data={"email": "anna@example.org", "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "Formular ist abgelaufen" in response.get_data(as_text=True)
    response = client.post("/anmelden", data={"email": "anna@example.org", "password": DEFAULT_PASSWORD,
                                              "csrf_token": "gefälscht"})
    assert response.status_code == 400
    assert csrf_token(client)


def test_expired_reset_link_asks_for_a_new_one(app, client, make_user, outbox, monkeypatch):
    make_user(email="anna@example.org")
    post_form(client, "/passwort-vergessen", {"email": "anna@example.org"})
    link = _link(outbox()[0], "/passwort-zuruecksetzen")
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    response = client.get(link, follow_redirects=True)
    assert "Der Link ist abgelaufen" in response.get_data(as_text=True)
