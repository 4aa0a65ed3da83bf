"""The account page: tokens, data export and deletion (GDPR)."""
import json

from beteiligung.auth.models import ApiToken, User
from beteiligung.extensions import db

from .conftest import DEFAULT_PASSWORD, login_as, post_form


def test_profile_name_can_be_changed(client, make_user, get_user):
    user = make_user()
    login_as(client, user)
    response = post_form(client, "/konto/", {"display_name": "  Mia aus Lobeda  "})
    assert response.status_code == 302
    assert get_user(user.id).display_name == "Mia aus Lobeda"


def test_control_characters_in_names_are_refused(client, make_user, get_user):
    user = make_user(name="Vorher")
    login_as(client, user)
    response = post_form(client, "/konto/", {"display_name": "Mia\x00\u202e"})
    assert "unzulässige Steuerzeichen" in response.get_data(as_text=True)
    assert get_user(user.id).display_name == "Vorher"


def test_token_is_shown_once_and_can_be_revoked(app, client, make_user):
    user = make_user()
    login_as(client, user)
    response = post_form(client, "/konto/tokens", {"name": "Auswertung Fachamt"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "nur dieses eine Mal" in page
    secret = page.split('id="neues-token" class="token-output" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith("bt_")
    assert secret not in client.get("/konto/tokens").get_data(as_text=True)

    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json["id"] == user.id
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id))
    post_form(client, f"/konto/tokens/{token_id}/widerrufen")
    response = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert response.json["message"] == "Das API-Token ist ungültig oder widerrufen."


def test_nobody_can_revoke_someone_elses_token(app, client, make_user):
    owner, other = make_user(), make_user(role="admin")
    with app.test_request_context():
        from beteiligung.auth.services import create_api_token
        token, _ = create_api_token(db.session.get(User, owner.id), "privat")
        db.session.commit()
        token_id = token.id
    login_as(client, other)
    assert post_form(client, f"/konto/tokens/{token_id}/widerrufen").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_export_contains_the_personal_data(app, client, make_user, outbox):
    user = make_user(email="anna@example.org", name="Anna Aurich")
    login_as(client, user)
    post_form(client, "/konto/tokens", {"name": "Mein Skript"})
    post_form(client, "/passwort-vergessen", {"email": "anna@example.org"})
    response = client.get("/konto/daten.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "anna@example.org"
    assert data["account"]["display_name"] == "Anna Aurich"
    assert data["account"]["privacy_accepted_at"]
    assert [t["name"] for t in data["api_tokens"]] == ["Mein Skript"]
    assert [m["subject"] for m in data["emails"]] == ["Passwort zurücksetzen"]


def test_delete_account_removes_personal_data(app, client, make_user, outbox):
    user = make_user(email="anna@example.org", name="Anna Aurich")
    make_user(role="admin")
    login_as(client, user)
    post_form(client, "/konto/tokens", {"name": "Mein Skript"})
    post_form(client, "/passwort-vergessen", {"email": "anna@example.org"})
    response = post_form(client, "/konto/loeschen", {"current_password": DEFAULT_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 302  # logged out
    with app.app_context():
        deleted = db.session.get(User, user.id)
        assert deleted.email is None and deleted.display_name is None and deleted.password_hash is None
        assert deleted.public_name == "gelöschtes Konto"
        assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0
    assert all(m.recipient != "anna@example.org" for m in outbox())
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()):
                text = repr(tuple(row))
                assert "anna@example.org" not in text and "Anna Aurich" not in text, table.name
    # The address is free again and the old password opens nothing.
    response = post_form(client, "/anmelden", {"email": "anna@example.org", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200


def test_delete_account_needs_password_and_confirmation(client, make_user, get_user):
    user = make_user()
    login_as(client, user)
    response = post_form(client, "/konto/loeschen", {"current_password": DEFAULT_PASSWORD})
    assert "Bitte bestätigen Sie die Löschung." in response.get_data(as_text=True)
    response = post_form(client, "/konto/loeschen", {"current_password": "falsch", "confirm": "y"})
    assert "Das Passwort ist nicht korrekt." in response.get_data(as_text=True)
    assert get_user(user.id).email == user.email


def test_last_admin_cannot_delete_the_account(client, make_user, get_user):
    admin = make_user(role="admin")
    login_as(client, admin)
    response = post_form(client, "/konto/loeschen", {"current_password": DEFAULT_PASSWORD, "confirm": "y"},
                         follow_redirects=True)
    assert "letzte Administrationskonto" in response.get_data(as_text=True)
    assert get_user(admin.id).email == admin.email
