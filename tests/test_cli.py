"""The command line: users create, users token, demo load."""
from beteiligung.auth.models import User
from beteiligung.demo import DEMO_LOGINS
from beteiligung.extensions import db


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_users_create_makes_an_admin_who_can_log_in(app, client, login):
    result = run(app, "users", "create", "--email", "Chefin@Example.org", "--password",
                 "Turmuhr-Saaleufer-Nebel", "--role", "admin", "--name", "Annett")
    assert result.exit_code == 0, result.output
    assert "angelegt" in result.output
    assert login("chefin@example.org", "Turmuhr-Saaleufer-Nebel").status_code == 302
    assert client.get("/verwaltung/benutzer").status_code == 200


def test_users_create_refuses_weak_passwords_and_duplicates(app):
    result = run(app, "users", "create", "--email", "a@example.org", "--password", "12345678901")
    assert result.exit_code == 2 and "zu leicht zu erraten" in result.output
    assert run(app, "users", "create", "--email", "a@example.org", "--password",
               "Turmuhr-Saaleufer-Nebel").exit_code == 0
    result = run(app, "users", "create", "--email", "a@example.org", "--password", "Turmuhr-Saaleufer-Nebel")
    assert result.exit_code == 2 and "bereits ein Konto" in result.output
    result = run(app, "users", "create", "--email", "b@example.org", "--password", "Turmuhr-Saaleufer-Nebel",
                 "--role", "kaiser")
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_users_token_prints_a_working_token(app, client, make_user):
    user = make_user(email="skript@example.org")
    result = run(app, "users", "token", "--email", "skript@example.org")
    assert result.exit_code == 0
    secret = result.output.strip()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.json["id"] == user.id
    assert run(app, "users", "token", "--email", "niemand@example.org").exit_code == 2


def test_demo_load_only_into_an_empty_database_with_every_role(app, demo, login):
    """The shared demo (tests/conftest.py) is loaded through `flask demo load` into the empty
    database: its logins, its roles, and a refused second load."""
    assert not any(demo.before.values()), demo.before
    assert demo.exit_code == 0, demo.output
    for email, password, _role, _name in DEMO_LOGINS:
        assert email in demo.output and password in demo.output
    email, password, *_ = DEMO_LOGINS[0]
    assert login(email, password).status_code == 302
    with app.app_context():
        roles = set(db.session.scalars(db.select(User.role)))
    assert roles == {"citizen", "member", "staff", "admin"}
    result = run(app, "demo", "load")
    assert result.exit_code == 2 and "leere Datenbank" in result.output
