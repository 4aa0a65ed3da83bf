"""The JSON API skeleton: OpenAPI document, authentication, errors, pagination."""
import pytest
from openapi_spec_validator import validate

from beteiligung.access import allow
from beteiligung.roles import SIGNED_IN
from beteiligung.auth.models import User
from beteiligung.extensions import db

from .conftest import csrf_token, login_as


@pytest.fixture
def token_for(app):
    from beteiligung.auth.services import create_api_token

    def issue(user):
        with app.test_request_context():
            _token, secret = create_api_token(db.session.get(User, user.id), "Test")
            db.session.commit()
            return secret

    return issue


def test_openapi_document_is_valid_and_complete(client, app):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = rule.rule[len("/api/v1"):] or "/"
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((path.replace("<int:", "{").replace("<", "{").replace(">", "}"), method.lower()))
    assert served == documented


def test_bearer_token_authenticates(client, users, token_for):
    secret = token_for(users["staff"])
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json["email"] == users["staff"].email
    assert "Set-Cookie" not in response.headers  # no session is created for token requests


@pytest.mark.parametrize("header", ["Bearer bt_erfunden", "Bearer ", "Bearer " + "x" * 5000])
def test_bad_tokens_get_401_with_german_message(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["message"] == "Das API-Token ist ungültig oder widerrufen."


def test_deleted_users_tokens_stop_working(app, client, users, token_for):
    secret = token_for(users["citizen"])
    with app.app_context():
        from beteiligung.account.services import delete_account
        delete_account(db.session.get(User, users["citizen"].id))
        db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_errors_are_json_in_german(client, users, token_for):
    assert client.get("/api/v1/gibt-es-nicht").json == {"message": "Diese Seite gibt es nicht.", "status": 404}
    assert client.get("/api/v1/me").json["message"] == "Bitte melden Sie sich an."
    secret = token_for(users["citizen"])
    response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403
    assert response.json["message"] == "Sie haben keine Berechtigung für diese Seite."


def test_pagination_convention(client, users, make_user, token_for):
    for _ in range(25):
        make_user()
    auth = {"Authorization": f"Bearer {token_for(users['admin'])}"}
    page = client.get("/api/v1/users", headers=auth).json
    assert set(page) == {"items", "total", "page", "per_page"}
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (29, 1, 20, 20)
    page = client.get("/api/v1/users?page=2&per_page=20", headers=auth).json
    assert len(page["items"]) == 9
    assert client.get("/api/v1/users?per_page=100000", headers=auth).json["per_page"] == 100
    assert client.get("/api/v1/users?page=99", headers=auth).json["items"] == []
    response = client.get("/api/v1/users?page=abc", headers=auth)
    assert response.status_code == 422
    assert response.json["field"] == "page" and "ganze Zahl" in response.json["message"]
    response = client.get("/api/v1/users?role=kaiser", headers=auth)
    assert response.status_code == 422 and response.json["field"] == "role"


def test_session_requests_need_csrf_for_writes_but_tokens_do_not(app, make_user, token_for):
    from beteiligung import create_app
    from beteiligung.config import TestingConfig

    probe = create_app(TestingConfig(app.config["SQLALCHEMY_DATABASE_URI"]))

    @probe.route("/api/v1/_probe", methods=["POST"])
    @allow(SIGNED_IN)
    def _probe():
        return {"ok": True}

    user = make_user()
    client = login_as(probe.test_client(), user)
    assert client.post("/api/v1/_probe", json={}).status_code == 400
    token = csrf_token(client)
    assert client.post("/api/v1/_probe", json={}, headers={"X-CSRFToken": token}).status_code == 200
    secret = token_for(user)
    assert probe.test_client().post("/api/v1/_probe", json={},
                                    headers={"Authorization": f"Bearer {secret}"}).status_code == 200
