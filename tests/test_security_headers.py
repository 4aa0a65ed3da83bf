"""Security headers on every kind of response, pages that work under the strict Content Security
Policy (no inline scripts or styles), cookie flags, and request-size limits (413 in German, nothing
changed; the import and upload limits of the staff areas)."""
import io
import re

import pytest
from sqlalchemy import func, select

from beteiligung.config import Config, TestingConfig
from beteiligung.extensions import db
from beteiligung.ideas.models import Comment, Idea, Support

from .conftest import login_as, post_form

# (role, path, status, mimetype): pages, data, files and errors.
RESPONSES = [
    ("anonymous", "/", 200, "text/html"),
    ("anonymous", "/ideen/", 200, "text/html"),
    ("anonymous", "/ideen/{idea}", 200, "text/html"),
    ("anonymous", "/anmelden", 200, "text/html"),
    ("anonymous", "/registrieren", 200, "text/html"),
    ("anonymous", "/massnahmen/", 200, "text/html"),
    ("anonymous", "/bilanz/", 200, "text/html"),
    ("anonymous", "/termine/", 200, "text/html"),
    ("anonymous", "/veranstaltungen/", 200, "text/html"),
    ("citizen", "/ideen/neu", 200, "text/html"),
    ("citizen", "/konto/", 200, "text/html"),
    ("staff", "/verwaltung/ideen", 200, "text/html"),
    ("admin", "/verwaltung/benutzer", 200, "text/html"),
    ("anonymous", "/api/v1/", 200, "application/json"),
    ("anonymous", "/api/v1/openapi.json", 200, "application/json"),
    ("anonymous", "/api/v1/ideas", 200, "application/json"),
    ("anonymous", "/ideen/aehnliche?title=Radweg+an+der+Saale", 200, "application/json"),
    ("anonymous", "/ideen/export.csv", 200, "text/csv"),
    ("anonymous", "/massnahmen/massnahmenplan.csv", 200, "text/csv"),
    ("anonymous", "/termine.ics", 200, "text/calendar"),
    ("anonymous", "/static/css/site.css", 200, "text/css"),
    ("anonymous", "/static/js/ideas.js", 200, "text/javascript"),
    ("anonymous", "/gibt-es-nicht", 404, "text/html"),
    ("anonymous", "/ideen/999999", 404, "text/html"),
    ("anonymous", "/api/v1/gibt-es-nicht", 404, "application/json"),
    ("citizen", "/verwaltung/", 403, "text/html"),
    ("anonymous", "/api/v1/me", 401, "application/json"),
    ("anonymous", "/abmelden", 405, "text/html"),
]


@pytest.fixture
def fetch(app, client, users, make_idea):
    idea_id = make_idea()

    def get(role, path):
        login_as(client, users.get(role))
        return client.get(path.format(idea=idea_id))

    return get


def csp_directives(response):
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("role, path, status, mimetype", RESPONSES)
def test_every_response_carries_the_security_headers(fetch, role, path, status, mimetype):
    response = fetch(role, path)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == mimetype
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
    if mimetype == "text/html":
        assert response.headers["Cache-Control"] == "no-store"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


@pytest.mark.parametrize("role, path", [(role, path) for role, path, _status, mimetype in RESPONSES
                                        if mimetype == "text/html"])
def test_pages_need_no_inline_script_or_style(fetch, role, path):
    """What the policy would block: inline <script>, on...= handlers, <style> and style= attributes."""
    html = fetch(role, path).get_data(as_text=True)
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html).group(0)
    assert not STYLE_ATTRIBUTE.search(html), STYLE_ATTRIBUTE.search(html).group(0)
    assert "<style" not in html.lower()


def test_map_tile_server_is_the_only_extra_image_origin(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    directives = csp_directives(client.get("/"))
    assert directives["img-src"] == ["'self'", "data:", "https://*.tiles.example.org"]
    assert directives["script-src"] == ["'self'"]


# --- cookies ---------------------------------------------------------------------------------------

def test_production_defaults_for_cookies(monkeypatch):
    for name in ("SESSION_COOKIE_SECURE", "PREFERRED_URL_SCHEME"):
        monkeypatch.delenv(name, raising=False)
    config = Config()
    assert config.SESSION_COOKIE_SECURE is True and config.REMEMBER_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_HTTPONLY is True and config.REMEMBER_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax" and config.REMEMBER_COOKIE_SAMESITE == "Lax"
    assert config.PREFERRED_URL_SCHEME == "https"
    testing = TestingConfig("sqlite://")
    assert testing.SESSION_COOKIE_SECURE is False and testing.REMEMBER_COOKIE_SECURE is False
    assert testing.SESSION_COOKIE_HTTPONLY is True and testing.REMEMBER_COOKIE_HTTPONLY is True


def _cookie(response, name):
    found = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(name + "=")]
    assert found, response.headers.getlist("Set-Cookie")
    return [part.strip().lower() for part in found[-1].split(";")]


def test_session_and_remember_cookies_are_secure_httponly_and_samesite(app, client, make_user, monkeypatch):
    """With the production setting (Secure on), the cookies of a login carry all three flags."""
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_SECURE", True)
    user = make_user(email="anna@example.org")
    page = client.get("/anmelden", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/anmelden", data={"csrf_token": token, "email": user.email, "password": user.password,
                                              "remember": "y"}, base_url="https://localhost",
                           headers={"Referer": "https://localhost/anmelden"})
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        flags = _cookie(response, name)
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags, (name, flags)


# --- request size ---------------------------------------------------------------------------------

def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_oversized_form_gets_a_german_413_page_and_changes_nothing(app, client, users, make_idea, monkeypatch):
    idea_id = make_idea()
    login_as(client, users["citizen"])
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "x" * 1000})
    assert response.status_code == 302  # below the limit: fine
    response = post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "y" * 3000})
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert '<html lang="de">' in html and "Die gesendeten Daten sind zu groß." in html
    assert count(app, Comment) == 1


def test_oversized_upload_gets_413(app, client, users, monkeypatch):
    login_as(client, users["staff"])
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = post_form(client, "/verwaltung/ideen/import",
                         {"source": "event", "encoding": "utf-8", "file": (io.BytesIO(b"Titel;Text\n" * 400), "a.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Die gesendeten Daten sind zu groß." in response.get_data(as_text=True)


def test_oversized_api_requests_get_german_json_and_change_nothing(app, client, users, make_idea, monkeypatch):
    from beteiligung.auth.models import User
    from beteiligung.auth.services import create_api_token

    idea_id = make_idea()
    with app.test_request_context():
        _token, secret = create_api_token(db.session.get(User, users["citizen"].id), "Test")
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    idea = {"title": "Solardächer auf Schulen", "text": "z" * 3000, "sector": "energie", "district": "winzerla"}
    response = client.post("/api/v1/ideas", headers=headers, json=idea)
    assert response.status_code == 413
    assert response.json == {"message": "Die gesendeten Daten sind zu groß.", "status": 413}
    # Also where the view never reads the body: supporting an idea with a huge body changes nothing.
    response = client.post(f"/api/v1/ideas/{idea_id}/support", headers=headers, data=b"0" * 3000,
                           content_type="application/octet-stream")
    assert response.status_code == 413 and response.json["status"] == 413
    assert count(app, Idea) == 1 and count(app, Support) == 0


# --- import and upload limits of the staff areas ------------------------------------------------------

IDEAS_CSV = "Titel;Text;Stadtteil\n" + "".join(f"Idee {n};Ein längerer Text {n};Winzerla\n" for n in range(20))


@pytest.fixture
def staff_client(app, client, users, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # pending uploads land here
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 200)
    return login_as(client, users["staff"])


def _upload(client, path, data, filename, **fields):
    return post_form(client, path, {"encoding": "utf-8", "file": (io.BytesIO(data.encode()), filename), **fields},
                     content_type="multipart/form-data")


def _pending_files(tmp_path):
    folder = tmp_path / "imports"
    return list(folder.iterdir()) if folder.exists() else []


def test_idea_import_refuses_files_above_the_limit(app, staff_client, idea_setup, tmp_path):
    response = _upload(staff_client, "/verwaltung/ideen/import", IDEAS_CSV, "ideen.csv", source="event")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Die Datei ist zu groß; erlaubt sind höchstens" in html
    assert _pending_files(tmp_path) == [] and count(app, Idea) == 0


def test_measure_import_refuses_files_above_the_limit(app, staff_client, tmp_path):
    from beteiligung.ideas.services import ensure_default_sectors
    from beteiligung.measures.models import Measure

    with app.app_context():
        ensure_default_sectors()
        db.session.commit()
    data = "Nummer;Titel;Handlungsfeld\n" + "".join(f"M-1.{n};Maßnahme {n};energie\n" for n in range(20))
    response = _upload(staff_client, "/verwaltung/massnahmen/import", data, "plan.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Die Datei ist zu groß; erlaubt sind höchstens" in html
    assert _pending_files(tmp_path) == [] and count(app, Measure) == 0


def test_balance_import_refuses_files_above_the_limit(app, staff_client, tmp_path):
    from beteiligung.balance import reference
    from beteiligung.balance.models import Balance, BalanceEntry
    from beteiligung.ideas.services import ensure_default_sectors

    with app.app_context():
        reference.ensure_reference_data()
        ensure_default_sectors()
        db.session.add(Balance(year=2022, population=110000))
        db.session.commit()
    data = "Sektor;Energieträger;MWh\n" + "".join(f"Haushalte;Strom;{n}000\n" for n in range(20))
    response = _upload(staff_client, "/verwaltung/bilanz/2022/import", data, "werte.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Die Datei ist zu groß; erlaubt sind höchstens" in html
    assert _pending_files(tmp_path) == [] and count(app, BalanceEntry) == 0


def test_meeting_material_refuses_files_above_ten_megabytes(app, client, users, monkeypatch):
    from datetime import timedelta

    from beteiligung.auth.models import User
    from beteiligung.meetings import services
    from beteiligung.meetings.models import AgendaMaterial
    from beteiligung.models import utcnow

    assert services.MATERIAL_MAX_BYTES == 10 * 1024 * 1024
    with app.test_request_context():
        staff = db.session.get(User, users["staff"].id)
        body = services.save_body(None, staff, name="Arbeitskreis Klimaschutz", slug="", kind="working_group",
                                  description="", public=True, agenda_lead_days=7, proposal_deadline_days=10)
        start = utcnow().replace(microsecond=0) + timedelta(days=20)
        meeting = services.create_meeting(body, staff, title="Sitzung", starts_at=start,
                                          ends_at=start + timedelta(hours=2), place="Rathaus")
        item_id = services.add_item(meeting, staff, title="Bericht", duration_minutes=10).id
        db.session.commit()
    monkeypatch.setattr(services, "MATERIAL_MAX_BYTES", 1000)  # the same check, without a 10 MB upload
    login_as(client, users["staff"])
    pdf = b"%PDF-1.4\n" + b"0" * 1200
    response = post_form(client, f"/verwaltung/gremien/punkt/{item_id}/material",
                         {"material-title": "Bericht", "material-url": "", "material-file": (io.BytesIO(pdf), "a.pdf")},
                         content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Die Datei ist zu groß (höchstens 10 MB)." in response.get_data(as_text=True)
    assert count(app, AgendaMaterial) == 0
    response = post_form(client, f"/verwaltung/gremien/punkt/{item_id}/material",
                         {"material-title": "Bericht", "material-url": "",
                          "material-file": (io.BytesIO(pdf[:900]), "a.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302 and count(app, AgendaMaterial) == 1
