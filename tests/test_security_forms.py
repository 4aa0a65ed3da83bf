"""The bot trap of public forms: a honeypot field `homepage` and a signed `form_started` with a
minimum fill time (beteiligung/forms.py). A refused form saves nothing, comes back with the entered
data, a fresh `form_started` and one German message that does not say which check failed."""
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from beteiligung.auth import services as auth_services
from beteiligung.auth.models import User
from beteiligung.events.models import Event, Registration
from beteiligung.extensions import db
from beteiligung.forms import FORM_STARTED_SALT, form_age_seconds, form_started_token
from beteiligung.ideas import services as idea_services
from beteiligung.ideas.models import Comment, Idea, Report
from beteiligung.mail.models import OutboxMessage
from beteiligung.meetings.models import new_uid
from beteiligung.models import utcnow

from .conftest import DEFAULT_PASSWORD, csrf_token, login_as, post_form

MESSAGE = "Das Formular wurde ungewöhnlich schnell abgeschickt."
STRONG_PASSWORD = "Kastanie-Wärmepumpe-Saaleufer-7"
HIDDEN_TRAP = re.compile(r'<div class="bot-trap" aria-hidden="true">\s*<label for="([^"]+)">[^<]+</label>\s*'
                         r'<input autocomplete="off" id="([^"]+)" name="homepage" tabindex="-1" type="text" '
                         r'value="([^"]*)">\s*</div>')
FORM_STARTED = re.compile(r'<input name="form_started" type="hidden" value="([^"]*)">')


@dataclass
class PublicForm:
    """One public form: where it is shown and sent, a valid filling, and what a successful send saves."""
    page: str  # the page that shows the form
    action: str  # where it is sent
    data: dict  # a valid filling
    saved: Callable[[], object]  # the state the form changes (compared before and after)
    echo: str | None  # a value of `data` the refused form shows again (passwords are not shown)
    client: object


def _scalar(app, statement):
    with app.app_context():
        return db.session.scalar(statement)


@pytest.fixture
def public_form(request, app, client, make_user, users):
    """The public form named by the test's parameter, ready to be sent by its client."""
    name = request.param

    def count(model):
        return lambda: _scalar(app, select(func.count()).select_from(model))

    if name == "registrieren":
        return PublicForm("/registrieren", "/registrieren",
                          {"email": "neu@example.org", "display_name": "Neue Person", "password": STRONG_PASSWORD,
                           "password_confirm": STRONG_PASSWORD, "privacy": "y"},
                          count(User), "neu@example.org", client)
    if name == "passwort-vergessen":
        make_user(email="anna@example.org")
        return PublicForm("/passwort-vergessen", "/passwort-vergessen", {"email": "anna@example.org"},
                          count(OutboxMessage), "anna@example.org", client)
    if name == "passwort-zuruecksetzen":
        user = make_user(email="anna@example.org")
        with app.test_request_context():
            token = auth_services.request_password_reset(user.email)
            db.session.rollback()  # only the token is needed, not the mail
        path = f"/passwort-zuruecksetzen/{token}"
        return PublicForm(path, path, {"password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD},
                          lambda: _scalar(app, select(User.password_hash).where(User.id == user.id)), None, client)

    # The forms of signed-in citizens.
    request.getfixturevalue("idea_setup")
    make_idea = request.getfixturevalue("make_idea")
    citizen = users["citizen"]
    login_as(client, citizen)
    if name == "idee-neu":
        return PublicForm("/ideen/neu", "/ideen/neu",
                          {"title": "Mehr Bäume in der Innenstadt pflanzen", "text": "Schatten für heiße Sommer.",
                           "sector": "unbekannt", "district": "winzerla"},
                          count(Idea), "Mehr Bäume in der Innenstadt pflanzen", client)
    if name == "idee-bearbeiten":
        idea_id = make_idea(author=citizen)
        return PublicForm(f"/ideen/{idea_id}/bearbeiten", f"/ideen/{idea_id}/bearbeiten",
                          {"title": "Radweg an der Saale neu gedacht", "text": "Durchgehend und beleuchtet.",
                           "sector": "mobilitaet", "district": "jena-zentrum"},
                          lambda: _scalar(app, select(Idea.title).where(Idea.id == idea_id)),
                          "Radweg an der Saale neu gedacht", client)
    idea_id = make_idea()
    if name == "kommentar":
        return PublicForm(f"/ideen/{idea_id}", f"/ideen/{idea_id}/kommentare",
                          {"text": "Ein guter Vorschlag für Lobeda."}, count(Comment),
                          "Ein guter Vorschlag für Lobeda.", client)
    with app.test_request_context():
        comment_id = idea_services.add_comment(db.session.get(Idea, idea_id), db.session.get(User, users["member"].id),
                                               "Das fehlt wirklich.").id
        db.session.commit()
    if name == "antwort":
        return PublicForm(f"/ideen/{idea_id}", f"/ideen/{idea_id}/kommentare",
                          {"text": "Sehe ich genauso.", "parent_id": str(comment_id)}, count(Comment),
                          "Sehe ich genauso.", client)
    if name == "idee-melden":
        return PublicForm(f"/ideen/{idea_id}/melden", f"/ideen/{idea_id}/melden",
                          {"reason": "spam", "note": "Werbung für einen Laden."}, count(Report),
                          "Werbung für einen Laden.", client)
    if name == "kommentar-melden":
        return PublicForm(f"/ideen/kommentare/{comment_id}/melden", f"/ideen/kommentare/{comment_id}/melden",
                          {"reason": "other", "note": "Passt nicht hierher."}, count(Report),
                          "Passt nicht hierher.", client)
    if name == "veranstaltung-anmelden":
        with app.app_context():
            start = utcnow().replace(microsecond=0) + timedelta(days=14)
            event = Event(kind="workshop", title="Werkstatt Wärmewende", starts_at=start,
                          ends_at=start + timedelta(hours=3), place="Volkshochschule", capacity=20,
                          registration="required", uid=new_uid("event"))
            db.session.add(event)
            db.session.commit()
            event_id = event.id
        return PublicForm(f"/veranstaltungen/{event_id}", f"/veranstaltungen/{event_id}/anmelden",
                          {"note": "Ich brauche einen Platz für den Rollstuhl."}, count(Registration),
                          "Ich brauche einen Platz für den Rollstuhl.", client)
    raise AssertionError(name)


PUBLIC_FORMS = ["registrieren", "passwort-vergessen", "passwort-zuruecksetzen", "idee-neu", "idee-bearbeiten",
                "kommentar", "antwort", "idee-melden", "kommentar-melden", "veranstaltung-anmelden"]
each_public_form = pytest.mark.parametrize("public_form", PUBLIC_FORMS, indirect=True)


def send(form, **changes):
    """Send the form's valid filling with `changes` (a value None leaves the field out)."""
    data = {**form.data, "csrf_token": csrf_token(form.client), "homepage": "",
            "form_started": _token_ago(form.client.application, 60)}
    data.update(changes)
    return form.client.post(form.action, data={key: value for key, value in data.items() if value is not None})


def _token_ago(app, seconds):
    with app.app_context():
        return form_started_token(now=time.time() - seconds)


def assert_refused(form, response, before, sent_token=None):
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert MESSAGE in html
    assert form.saved() == before  # nothing saved
    if form.echo:
        assert form.echo in html  # the entered data is shown again
    traps = HIDDEN_TRAP.findall(html)
    assert traps and all(value == "" for _label, _id, value in traps)  # the honeypot is empty again
    tokens = FORM_STARTED.findall(html)
    assert tokens and sent_token not in tokens  # a fresh, valid moment of handing out
    with form.client.application.app_context():
        assert all(form_age_seconds(token) is not None for token in tokens)


# --- the fields ------------------------------------------------------------------------------------

@each_public_form
def test_public_forms_carry_a_hidden_honeypot_and_a_signed_start_time(public_form):
    html = public_form.client.get(public_form.page).get_data(as_text=True)
    traps = HIDDEN_TRAP.findall(html)
    assert traps, "no bot trap on " + public_form.page
    for label_for, input_id, value in traps:
        assert label_for == input_id and value == ""
    assert len({input_id for _label, input_id, _value in traps}) == len(traps)  # unique ids
    tokens = FORM_STARTED.findall(html)
    assert len(tokens) == len(traps)
    with public_form.client.application.app_context():
        assert all(0 <= form_age_seconds(token) < 60 for token in tokens)


def test_honeypot_is_hidden_by_the_style_sheet(client):
    css = client.get("/static/css/site.css").get_data(as_text=True)
    assert re.search(r"\.bot-trap\s*\{\s*display:\s*none", css)


@each_public_form
def test_a_valid_send_passes(public_form):
    before = public_form.saved()
    response = send(public_form)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert public_form.saved() != before


# --- refusals ------------------------------------------------------------------------------------------

@each_public_form
def test_a_filled_honeypot_saves_nothing_and_shows_the_form_again(public_form, caplog):
    before = public_form.saved()
    sent = _token_ago(public_form.client.application, 60)
    with caplog.at_level(logging.WARNING):
        response = send(public_form, homepage="https://spam.example/", form_started=sent)
    assert_refused(public_form, response, before, sent)
    assert "https://spam.example/" not in response.get_data(as_text=True)
    assert any("honeypot" in record.getMessage() for record in caplog.records)


@each_public_form
def test_a_form_without_start_time_saves_nothing(public_form):
    before = public_form.saved()
    response = send(public_form, form_started=None)
    assert_refused(public_form, response, before)


# The check is the same code for every form; the forgeries are tried on two kinds of page.
@pytest.mark.parametrize("public_form", ["registrieren", "kommentar"], indirect=True)
@pytest.mark.parametrize("started", ["empty", "garbage", "other key", "other salt", "not a number"])
def test_a_forged_start_time_saves_nothing(public_form, started, app):
    tokens = {
        "empty": "", "garbage": "MTc1.abc",
        "other key": URLSafeSerializer("ein-anderer-schluessel", salt=FORM_STARTED_SALT).dumps(int(time.time() * 1000)
                                                                                             - 60_000),
        "other salt": URLSafeSerializer(app.config["SECRET_KEY"], salt="password-reset").dumps(
            int(time.time() * 1000) - 60_000),
        "not a number": URLSafeSerializer(app.config["SECRET_KEY"], salt=FORM_STARTED_SALT).dumps("1700000000000"),
    }
    before = public_form.saved()
    response = send(public_form, form_started=tokens[started])
    assert_refused(public_form, response, before, tokens[started])


@each_public_form
def test_a_form_sent_faster_than_the_minimum_time_saves_nothing(public_form, app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "FORM_MIN_FILL_SECONDS", 3)
    before = public_form.saved()
    sent = _token_ago(app, 1)
    with caplog.at_level(logging.WARNING):
        response = send(public_form, form_started=sent)
    assert_refused(public_form, response, before, sent)
    assert any("refused" in record.getMessage() for record in caplog.records)
    # The same form, handed out long enough ago, goes through.
    response = send(public_form, form_started=_token_ago(app, 10))
    assert response.status_code == 302
    assert public_form.saved() != before


@pytest.mark.parametrize("public_form", ["registrieren"], indirect=True)
def test_the_refused_form_can_simply_be_sent_again(public_form, app, monkeypatch):
    """A person who was too fast sends the form as shown again (with its new start time) and it is saved."""
    monkeypatch.setitem(app.config, "FORM_MIN_FILL_SECONDS", 3)
    response = send(public_form, form_started=_token_ago(app, 1))
    fresh = FORM_STARTED.search(response.get_data(as_text=True)).group(1)
    monkeypatch.setitem(app.config, "FORM_MIN_FILL_SECONDS", 0)  # instead of waiting three seconds
    response = send(public_form, form_started=fresh)
    assert response.status_code == 302
    assert _scalar(app, select(func.count()).select_from(User).where(User.email == "neu@example.org")) == 1


# --- login: honeypot only --------------------------------------------------------------------------

def test_login_has_a_honeypot_but_no_start_time(client):
    html = client.get("/anmelden").get_data(as_text=True)
    assert HIDDEN_TRAP.search(html)
    assert not FORM_STARTED.search(html)


def test_login_with_a_filled_honeypot_is_refused(client, make_user):
    make_user(email="anna@example.org")
    response = post_form(client, "/anmelden", {"email": "anna@example.org", "password": DEFAULT_PASSWORD,
                                               "homepage": "spam"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and MESSAGE in html and "anna@example.org" in html
    assert client.get("/konto/").status_code == 302  # not signed in


def test_a_fast_login_is_fine(app, client, make_user, monkeypatch):
    """Password managers fill and send the login form at once: no minimum time there."""
    monkeypatch.setitem(app.config, "FORM_MIN_FILL_SECONDS", 3)
    make_user(email="anna@example.org")
    response = client.post("/anmelden", data={"csrf_token": csrf_token(client), "email": "anna@example.org",
                                              "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 200


# --- the signed start time ---------------------------------------------------------------------------

def test_start_time_tokens(app):
    with app.app_context():
        token = form_started_token(now=1_000_000)
        assert form_age_seconds(token, now=1_000_004.5) == pytest.approx(4.5)
        assert form_age_seconds(token[:-2] + "xx", now=1_000_004) is None
        for bad in (None, "", 42, "x" * 500):
            assert form_age_seconds(bad) is None
        boolean = URLSafeSerializer(app.config["SECRET_KEY"], salt=FORM_STARTED_SALT).dumps(True)
        assert form_age_seconds(boolean) is None


def test_minimum_fill_time_defaults_to_three_seconds_and_reads_the_environment(monkeypatch):
    from beteiligung.config import Config, TestingConfig

    monkeypatch.delenv("FORM_MIN_FILL_SECONDS", raising=False)
    assert Config().FORM_MIN_FILL_SECONDS == 3
    monkeypatch.setenv("FORM_MIN_FILL_SECONDS", "5.5")
    assert Config().FORM_MIN_FILL_SECONDS == 5.5
    assert TestingConfig("sqlite://").FORM_MIN_FILL_SECONDS == 0


# --- redirect targets (`next`) ----------------------------------------------------------------------

FOREIGN_TARGETS = [
    "//evil.example", "//evil.example/konto", "https://evil.example", "HTTPS://evil.example", "http:evil.example",
    "https:/evil.example", "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\\/evil.example",
    "javascript:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example", "%2f%2fevil.example", "///evil.example", "//evil.example@beteiligung.example",
    "/\r\nLocation: https://evil.example", "\r\n//evil.example", "/\n/evil.example", "\t//evil.example",
    "/\t/evil.example", "//\tevil.example", " //evil.example", "\u3000//evil.example", "\x00//evil.example",
    "/\x0b/evil.example", "",
]
# Paths that look odd but stay on the site (a browser resolves them against our own origin).
ODD_BUT_LOCAL = ["/%2F%2Fevil.example", "/%5Cevil.example", "/.//evil.example", "/ /evil.example",
                 "/\u3000/evil.example", "/ideen/?q=B%C3%A4ume&sort=neu"]


def assert_stays_on_site(location):
    from urllib.parse import urlsplit

    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert not any(ord(char) <= 32 or char == "\\" or ord(char) > 126 for char in location), location
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location


@pytest.mark.parametrize("target", FOREIGN_TARGETS)
def test_login_never_redirects_to_a_foreign_target(client, make_user, target):
    make_user(email="anna@example.org")
    response = post_form(client, "/anmelden", {"email": "anna@example.org", "password": DEFAULT_PASSWORD,
                                               "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    # Signed in already, the login page sends on to `next` at once: the same check.
    response = client.get("/anmelden", query_string={"next": target})
    if "\x00" in target:  # a NUL byte in a query parameter is refused before any view runs
        assert response.status_code == 400 and "Location" not in response.headers
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ODD_BUT_LOCAL)
def test_odd_local_targets_stay_on_the_site(client, make_user, target):
    make_user(email="anna@example.org")
    response = post_form(client, "/anmelden", {"email": "anna@example.org", "password": DEFAULT_PASSWORD,
                                               "next": target})
    assert response.status_code == 302
    assert_stays_on_site(response.headers["Location"])


def test_login_keeps_a_local_target(client, make_user):
    make_user(email="anna@example.org")
    response = post_form(client, "/anmelden", {"email": "anna@example.org", "password": DEFAULT_PASSWORD,
                                               "next": "/ideen/?sort=neu"})
    assert response.headers["Location"] == "/ideen/?sort=neu"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example", "\t//evil.example",
                                    "javascript:alert(1)"])
def test_support_button_never_redirects_to_a_foreign_target(client, users, make_idea, target):
    idea_id = make_idea()
    login_as(client, users["citizen"])
    response = post_form(client, f"/ideen/{idea_id}/unterstuetzen", {"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_safe_next_over_every_target(app):
    from beteiligung.access import safe_next

    with app.test_request_context():
        for target in FOREIGN_TARGETS + [None]:
            assert safe_next(target) == "/", repr(target)
        for target in ODD_BUT_LOCAL:
            assert safe_next(target) == target
