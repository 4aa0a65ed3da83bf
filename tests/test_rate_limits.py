"""Rate limits (Flask-Limiter): login, registration, password reset, new ideas and comments each
answer 429 with a German page once their limit is used up, and the refused request saves nothing.
With RATELIMIT_STORAGE_URI pointing at Redis the counters live there, so several workers share them."""
import socket
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from beteiligung import create_app
from beteiligung.auth import services as auth_services
from beteiligung.auth.models import User
from beteiligung.config import TestingConfig
from beteiligung.extensions import db, limiter
from beteiligung.ideas.models import Comment, Idea
from beteiligung.mail.models import OutboxMessage

from .conftest import DEFAULT_PASSWORD, login_as, post_form

TOO_MANY = "Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie es dann erneut."
STRONG_PASSWORD = "Kastanie-Wärmepumpe-Saaleufer-7"
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 11  # a database number the project does not use otherwise


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assert_refused_in_german(response):
    html = response.get_data(as_text=True)
    assert response.status_code == 429, html[:300]
    assert response.mimetype == "text/html"
    assert '<html lang="de">' in html and TOO_MANY in html
    assert int(response.headers["Retry-After"]) > 0


# --- each limit ----------------------------------------------------------------------------------

def test_login_limit_counts_failed_attempts_and_then_refuses_even_the_right_password(app, client, make_user,
                                                                                     get_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "2 per minute")
    user = make_user(email="anna@example.org")
    for attempt in range(2):
        response = post_form(client, "/anmelden", {"email": user.email, "password": f"falsch-{attempt}"})
        assert response.status_code == 200
    response = post_form(client, "/anmelden", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert_refused_in_german(response)
    assert get_user(user.id).last_login_at is None  # nothing recorded
    assert client.get("/konto/").status_code == 302  # and not signed in


def test_registration_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTER_RATE_LIMIT", "2 per hour")

    def register(number):
        client = app.test_client()  # each registration signs its client in; the limit is per address
        return post_form(client, "/registrieren", {"email": f"neu{number}@example.org", "display_name": "Neu",
                                                   "password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD,
                                                   "privacy": "y"})

    assert [register(n).status_code for n in range(2)] == [302, 302]
    assert_refused_in_german(register(3))
    assert count(app, User) == 2
    assert count(app, User, User.email == "neu3@example.org") == 0


def test_password_reset_request_limit(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "RESET_RATE_LIMIT", "2 per 15 minutes")
    make_user(email="anna@example.org")
    for _ in range(2):
        assert post_form(client, "/passwort-vergessen", {"email": "anna@example.org"}).status_code == 302
    assert_refused_in_german(post_form(client, "/passwort-vergessen", {"email": "anna@example.org"}))
    assert count(app, OutboxMessage) == 2  # no third mail


def test_password_reset_limit(app, client, make_user, get_user, monkeypatch):
    monkeypatch.setitem(app.config, "RESET_RATE_LIMIT", "2 per 15 minutes")
    user = make_user(email="anna@example.org")
    with app.test_request_context():
        token = auth_services.request_password_reset(user.email)
        db.session.commit()
    before = get_user(user.id).password_hash
    path = f"/passwort-zuruecksetzen/{token}"
    for _ in range(2):  # guessing: two mismatched passwords
        response = post_form(client, path, {"password": STRONG_PASSWORD, "password_confirm": "etwas anderes"})
        assert response.status_code == 200
    assert_refused_in_german(post_form(client, path, {"password": STRONG_PASSWORD,
                                                      "password_confirm": STRONG_PASSWORD}))
    assert get_user(user.id).password_hash == before


def test_new_idea_limit_is_per_account(app, client, users, idea_setup, monkeypatch):
    monkeypatch.setitem(app.config, "IDEA_RATE_LIMIT", "2 per hour")
    login_as(client, users["citizen"])

    def new_idea(number, sender=client):
        return post_form(sender, "/ideen/neu", {"title": f"Idee Nummer {number} zum Klimaschutz",
                                                "text": f"Beschreibung {number}", "sector": "energie",
                                                "district": "winzerla"})

    assert [new_idea(n).status_code for n in range(2)] == [302, 302]
    assert_refused_in_german(new_idea(3))
    assert count(app, Idea) == 2
    other = login_as(app.test_client(), users["member"])  # another account from the same address
    assert new_idea(4, other).status_code == 302


def test_comment_limit(app, client, users, make_idea, monkeypatch):
    monkeypatch.setitem(app.config, "COMMENT_RATE_LIMIT", "2 per hour")
    idea_id = make_idea()
    login_as(client, users["citizen"])
    for number in range(2):
        response = post_form(client, f"/ideen/{idea_id}/kommentare", {"text": f"Kommentar {number}"})
        assert response.status_code == 302
    assert_refused_in_german(post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "Kommentar 3"}))
    assert count(app, Comment) == 2
    with app.app_context():
        assert db.session.get(Idea, idea_id).comment_count == 2


def test_api_answers_429_as_german_json(app, client, users, idea_setup, monkeypatch):
    monkeypatch.setitem(app.config, "IDEA_RATE_LIMIT", "1 per hour")
    with app.test_request_context():
        _token, secret = auth_services.create_api_token(db.session.get(User, users["citizen"].id), "Test")
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    idea = {"title": "Solardächer auf Schulen", "text": "Alle Schuldächer nutzen.", "sector": "energie",
            "district": "winzerla"}
    assert client.post("/api/v1/ideas", headers=headers, json=idea).status_code == 201
    response = client.post("/api/v1/ideas", headers=headers, json={**idea, "title": "Noch eine Idee dazu"})
    assert response.status_code == 429
    assert response.json == {"message": TOO_MANY, "status": 429}
    assert count(app, Idea) == 1


def test_limits_are_configurable():
    config = TestingConfig("sqlite://")
    for key in ("LOGIN_RATE_LIMIT", "REGISTER_RATE_LIMIT", "RESET_RATE_LIMIT", "IDEA_RATE_LIMIT",
                "COMMENT_RATE_LIMIT"):
        assert " per " in getattr(config, key)


# --- counters in Redis, shared by workers -----------------------------------------------------------

class Worker:
    """One instance of the application, as one gunicorn worker runs it.

    Flask-Limiter's `limiter` is one object per process, and create_app() points it at the storage of
    the app it initialises. Real workers are separate processes, each with its own connection to the
    storage; here each Worker keeps the limiter state its own create_app() produced and puts it in
    place for its requests. With memory:// two Workers therefore count separately (the control below).
    """

    def __init__(self, app, state):
        self.app = app
        self.state = state
        self.client = app.test_client()

    @contextmanager
    def active(self):
        limiter.__dict__.update(self.state)
        yield

    def login(self, email, password):
        with self.active():
            return post_form(self.client, "/anmelden", {"email": email, "password": password}).status_code


@contextmanager
def workers(database_url, tmp_path, count, **settings):
    """`count` separate app instances on the test database with `settings` in their configuration;
    afterwards the limiter is as the test session's app left it."""
    original = dict(limiter.__dict__)
    built = []
    try:
        for number in range(count):
            config = TestingConfig(database_url)
            config.INSTANCE_PATH = str(tmp_path / f"worker-{number}")
            for key, value in settings.items():
                setattr(config, key, value)
            app = create_app(config)
            built.append(Worker(app, dict(limiter.__dict__)))
        yield built
    finally:
        limiter.__dict__.clear()
        limiter.__dict__.update(original)
        for worker in built:
            with worker.app.app_context():
                db.engine.dispose()


def redis_answers():
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_prefix():
    """A key prefix of our own in Redis database REDIS_DB; its keys are deleted afterwards."""
    if not redis_answers():
        pytest.skip(f"Redis antwortet nicht auf {REDIS_HOST}:{REDIS_PORT}; der Test der gemeinsamen "
                    "Zähler mehrerer Worker entfällt")
    import redis

    connection = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    prefix = f"beteiligung-test-{uuid.uuid4().hex}"
    try:
        yield connection, prefix
    finally:
        keys = list(connection.scan_iter(match=f"*{prefix}*"))
        if keys:
            connection.delete(*keys)
        assert not list(connection.scan_iter(match=f"*{prefix}*"))
        connection.close()


def test_two_workers_share_the_login_limit_through_redis(database_url, tmp_path, make_user, redis_prefix):
    connection, prefix = redis_prefix
    user = make_user(email="anna@example.org")
    with workers(database_url, tmp_path, 2, RATELIMIT_STORAGE_URI=f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
                 RATELIMIT_KEY_PREFIX=prefix, LOGIN_RATE_LIMIT="3 per minute") as (first, second):
        assert [first.login(user.email, "falsch-1"), first.login(user.email, "falsch-2")] == [200, 200]
        assert list(connection.scan_iter(match=f"*{prefix}*"))  # the counter is in Redis
        assert second.login(user.email, "falsch-3") == 200  # the third attempt, counted by the other worker
        assert second.login(user.email, DEFAULT_PASSWORD) == 429
        assert first.login(user.email, DEFAULT_PASSWORD) == 429
    keys = list(connection.scan_iter(match=f"*{prefix}*"))
    assert keys and any(b"auth.login" in key for key in keys)
    assert max(int(connection.get(key) or 0) for key in keys) == 3


def test_without_shared_storage_each_worker_counts_alone(database_url, tmp_path, make_user):
    """The control for the test above: with memory:// the second worker knows nothing of the first."""
    user = make_user(email="anna@example.org")
    with workers(database_url, tmp_path, 2, RATELIMIT_STORAGE_URI="memory://",
                 LOGIN_RATE_LIMIT="3 per minute") as (first, second):
        assert [first.login(user.email, f"falsch-{n}") for n in range(3)] == [200, 200, 200]
        assert first.login(user.email, DEFAULT_PASSWORD) == 429
        assert second.login(user.email, DEFAULT_PASSWORD) == 302


def test_when_redis_is_down_the_limits_hold_per_worker(database_url, tmp_path, make_user):
    """Nothing listens on port 1: the login page still answers, and the limit is counted in memory."""
    user = make_user(email="anna@example.org")
    with workers(database_url, tmp_path, 1, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
                 LOGIN_RATE_LIMIT="3 per minute") as (worker,):
        assert [worker.login(user.email, f"falsch-{n}") for n in range(3)] == [200, 200, 200]
        assert worker.login(user.email, DEFAULT_PASSWORD) == 429


def test_control_without_the_fallback_redis_down_breaks_the_login(database_url, tmp_path, make_user):
    """The control for the test above: without the fallback the same setup fails the request."""
    user = make_user(email="anna@example.org")
    with workers(database_url, tmp_path, 1, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0") as (worker,):
        worker.state["_in_memory_fallback_enabled"] = False  # the flag sticks on the shared limiter
        with pytest.raises(Exception, match="(?i)connect"):
            worker.login(user.email, "falsch")
