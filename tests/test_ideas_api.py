"""The ideas in the JSON API: list with filters, read, write, support and withdraw."""
from datetime import datetime

import pytest
from openapi_spec_validator import validate

from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.ideas import services
from beteiligung.ideas.models import TEXT_MAX, TITLE_MAX, Idea, Support

from .conftest import csrf_token, login_as


@pytest.fixture
def token_for(app):
    from beteiligung.auth.services import create_api_token

    def issue(user):
        with app.test_request_context():
            _token, secret = create_api_token(db.session.get(User, user.id), "Test")
            db.session.commit()
            return {"Authorization": f"Bearer {secret}"}

    return issue


@pytest.fixture
def staff_action(app, users):
    """Run a service as the staff user inside a request context and commit."""

    def run(function, *args, **kwargs):
        with app.test_request_context():
            staff = db.session.get(User, users["staff"].id)
            result = function(staff, *args, **kwargs)
            db.session.commit()
            return result

    return run


def hide(staff_action, idea_id):
    staff_action(lambda staff: services.hide(db.session.get(Idea, idea_id), staff, "Beleidigend"))


def ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.json["items"]]


# --- reading ------------------------------------------------------------------------------------

def test_list_shows_visible_ideas_with_all_fields(client, make_idea, users, staff_action):
    first = make_idea(title="Mehr Bäume am Holzmarkt", sector="uebergreifend", district="winzerla")
    second = make_idea(title="Radweg an der Saale", sector=None)
    hidden = make_idea(title="Versteckte Idee")
    hide(staff_action, hidden)

    response = client.get("/api/v1/ideas")
    assert response.status_code == 200 and response.mimetype == "application/json"
    page = response.json
    assert (page["total"], page["page"], page["per_page"]) == (2, 1, 20)
    assert [item["id"] for item in page["items"]] == [second, first]  # newest first by default
    item = page["items"][1]
    assert {key: item[key] for key in ("title", "sector", "sector_name", "district", "district_name", "status",
                                       "status_label", "source", "supports", "dot_votes", "comments",
                                       "merged_into", "measures", "supported", "answer")} == {
        "title": "Mehr Bäume am Holzmarkt", "sector": "uebergreifend", "sector_name": "Übergreifend",
        "district": "winzerla", "district_name": "Winzerla", "status": "submitted", "status_label": "eingereicht",
        "source": "online", "supports": 0, "dot_votes": 0, "comments": 0, "merged_into": None, "measures": [],
        "supported": False, "answer": None}
    assert item["url"] == f"http://localhost/ideen/{first}"
    assert datetime.fromisoformat(item["created_at"]).utcoffset().total_seconds() == 0
    assert page["items"][0]["sector"] is None and page["items"][0]["sector_name"] is None
    assert hidden not in ids(client.get("/api/v1/ideas?per_page=100"))


def test_detail_and_404_for_hidden_or_missing(client, make_idea, users, staff_action, token_for):
    idea_id = make_idea(author=users["citizen"])
    staff_action(lambda staff: services.change_status(db.session.get(Idea, idea_id), staff, "in_review",
                                                      "Wir prüfen das mit dem Tiefbauamt."))
    response = client.get(f"/api/v1/ideas/{idea_id}")
    assert response.status_code == 200
    assert response.json["id"] == idea_id and response.json["status"] == "in_review"
    assert response.json["answer"] == "Wir prüfen das mit dem Tiefbauamt."
    assert [change["status"] for change in response.json["history"]] == ["in_review"]
    assert response.json["author_name"] == users["citizen"].display_name

    hide(staff_action, idea_id)
    for headers in ({}, token_for(users["citizen"]), token_for(users["admin"])):  # also author and admin
        response = client.get(f"/api/v1/ideas/{idea_id}", headers=headers)
        assert response.status_code == 404 and response.is_json
        assert response.json["message"] == "Diese Idee gibt es nicht oder sie ist ausgeblendet."
    response = client.get("/api/v1/ideas/999999")
    assert response.status_code == 404 and response.json["status"] == 404


def test_filters(client, make_idea, staff_action):
    bike = make_idea(title="Radweg nach Lobeda", text="Durchgehend und breit.", sector="mobilitaet",
                     district="lobeda-ost")
    solar = make_idea(title="Solardächer auf Schulen", text="Photovoltaik für alle Schulen.", sector="energie",
                      district="jena-zentrum")
    unknown = make_idea(title="Irgendwas mit Klima", text="Weiß nicht wohin damit.", sector=None,
                        district="lobeda-ost")
    workshop = make_idea(title="Radwegenetz am Stadtrand", text="Aus der Werkstatt.", sector="mobilitaet",
                         district="winzerla", source="workshop", event_name="Werkstatt Mobilität")
    staff_action(lambda staff: services.change_status(db.session.get(Idea, solar), staff, "in_review"))

    assert set(ids(client.get("/api/v1/ideas?sector=mobilitaet"))) == {bike, workshop}
    assert set(ids(client.get("/api/v1/ideas?sector=Mobilität"))) == {bike, workshop}  # by name too
    assert ids(client.get("/api/v1/ideas?sector=unbekannt")) == [unknown]
    assert set(ids(client.get("/api/v1/ideas?district=lobeda-ost"))) == {bike, unknown}
    assert ids(client.get("/api/v1/ideas?district=Lobeda-Ost&sector=mobilitaet")) == [bike]
    assert ids(client.get("/api/v1/ideas?status=in_review")) == [solar]
    assert ids(client.get("/api/v1/ideas?source=workshop")) == [workshop]
    assert set(ids(client.get("/api/v1/ideas?q=Radweg"))) == {bike, workshop}  # prefix of a stem
    assert ids(client.get("/api/v1/ideas?q=Photovoltaik")) == [solar]
    assert ids(client.get("/api/v1/ideas?q=Radweg&district=winzerla")) == [workshop]
    assert ids(client.get("/api/v1/ideas?q=Seilbahn")) == []
    item = client.get("/api/v1/ideas?source=workshop").json["items"][0]
    assert item["event_name"] == "Werkstatt Mobilität" and item["author_name"] == "Themen-Werkstatt"


def test_sorts_and_random_order_with_seed(client, make_idea, make_user, token_for, users):
    first, second, third = (make_idea(title=f"Idee Nummer {n}") for n in range(3))
    for supporter in (make_user(), make_user()):
        assert client.post(f"/api/v1/ideas/{second}/support", headers=token_for(supporter)).status_code == 201
    assert client.post(f"/api/v1/ideas/{first}/support", headers=token_for(users["member"])).status_code == 201
    assert ids(client.get("/api/v1/ideas?sort=supports")) == [second, first, third]
    assert ids(client.get("/api/v1/ideas?sort=newest")) == [third, second, first]
    shuffled = ids(client.get("/api/v1/ideas?sort=random&seed=7"))
    assert sorted(shuffled) == sorted([first, second, third])
    assert ids(client.get("/api/v1/ideas?sort=random&seed=7")) == shuffled  # stable for one seed
    response = client.get("/api/v1/ideas?sort=random&seed=abc")
    assert response.status_code == 422 and response.json["field"] == "seed"


def test_pagination(client, make_idea):
    created = [make_idea(title=f"Idee {n}") for n in range(7)]
    page = client.get("/api/v1/ideas?per_page=3&page=2").json
    assert (page["total"], page["page"], page["per_page"]) == (7, 2, 3)
    assert [item["id"] for item in page["items"]] == list(reversed(created))[3:6]
    assert client.get("/api/v1/ideas?per_page=3&page=3").json["items"][0]["id"] == created[0]
    assert client.get("/api/v1/ideas?page=9").json["items"] == []
    assert client.get("/api/v1/ideas?per_page=5000").json["per_page"] == 100
    for parameter in ("page=abc", "per_page=0", "page=-1"):
        response = client.get(f"/api/v1/ideas?{parameter}")
        assert response.status_code == 422
        assert response.json["field"] == parameter.split("=")[0]


@pytest.mark.parametrize("query, field, message", [
    ("sector=landwirtschaft", "sector", "Unbekanntes Handlungsfeld im Feld „sector“: landwirtschaft"),
    ("district=atlantis", "district", "Unbekannter Stadtteil im Feld „district“: atlantis"),
    ("status=erledigt", "status", "Unbekannter Status im Feld „status“: erledigt"),
    ("source=fax", "source", "Unbekannte Herkunft im Feld „source“: fax"),
    ("sort=alphabetisch", "sort", "Unbekannte Sortierung im Feld „sort“: alphabetisch"),
])
def test_unknown_filter_values_are_422_naming_the_field(client, idea_setup, query, field, message):
    response = client.get(f"/api/v1/ideas?{query}")
    assert response.status_code == 422 and response.is_json
    assert response.json["field"] == field
    assert response.json["message"] == message
    assert response.json["errors"] == {field: message}


def test_several_bad_filters_are_all_listed(client, idea_setup):
    response = client.get("/api/v1/ideas?status=x&district=y")
    assert response.status_code == 422
    assert response.json["field"] == "district"
    assert set(response.json["errors"]) == {"district", "status"}


def test_measures_are_listed_by_id(client, make_idea, monkeypatch):
    idea_id = make_idea()
    other = make_idea()
    monkeypatch.setattr(services, "_measure_providers", [
        lambda idea_ids: {idea_id: [{"id": 4, "number": "M-4", "title": "Radverkehr", "url": "/m/4"},
                                    {"id": 9, "number": "M-9", "title": "Lieferverkehr", "url": "/m/9"}]}])
    items = {item["id"]: item for item in client.get("/api/v1/ideas").json["items"]}
    assert items[idea_id]["measures"] == [4, 9] and items[other]["measures"] == []
    assert client.get(f"/api/v1/ideas/{idea_id}").json["measures"] == [4, 9]


@pytest.mark.parametrize("signed_in", [False, True])
def test_list_runs_a_bounded_number_of_queries(client, make_idea, make_user, users, token_for, count_queries,
                                               staff_action, signed_in):
    headers = token_for(users["citizen"]) if signed_in else {}
    client.get("/api/v1/ideas", headers=headers)  # the token's first use is recorded once

    def queries(path):
        with count_queries() as counter:
            response = client.get(path, headers=headers)
        assert response.status_code == 200
        return counter.n, len(response.json["items"])

    authors = [make_user() for _ in range(5)]
    for n in range(5):
        make_idea(title=f"Radweg Nummer {n}", author=authors[n])
    paths = ("/api/v1/ideas?per_page=100", "/api/v1/ideas?q=Radweg&sector=mobilitaet&district=jena-zentrum"
             "&per_page=100")
    few = [queries(path) for path in paths]
    for n in range(45):
        make_idea(title=f"Radweg Nummer {n + 5}", author=authors[n % 5], sector=None if n % 3 else "mobilitaet")
    many = [queries(path) for path in paths]
    assert [n for n, _ in few] == [n for n, _ in many]
    assert (few[0][1], many[0][1], many[1][1]) == (5, 50, 20)
    # count + page + measure links; signed in also token, its owner and the own supports on the page
    assert many[0][0] == (6 if signed_in else 3)


# --- writing ------------------------------------------------------------------------------------

def test_create_idea_with_a_token(app, client, idea_setup, users, token_for):
    response = client.post("/api/v1/ideas", headers=token_for(users["citizen"]), json={
        "title": "  Tempo 30 vor allen Schulen ", "text": "Sicherer Schulweg für alle Kinder.",
        "sector": "Mobilität", "district": "Jena-Zentrum"})
    assert response.status_code == 201, response.json
    idea = response.json
    assert response.headers["Location"] == f"http://localhost/api/v1/ideas/{idea['id']}"
    assert (idea["title"], idea["sector"], idea["district"], idea["status"], idea["source"]) == (
        "Tempo 30 vor allen Schulen", "mobilitaet", "jena-zentrum", "submitted", "online")
    assert idea["url"] == f"http://localhost/ideen/{idea['id']}"
    with app.app_context():
        stored = db.session.get(Idea, idea["id"])
        assert stored.author_id == users["citizen"].id and stored.text == "Sicherer Schulweg für alle Kinder."
    assert client.get(response.headers["Location"]).json["title"] == "Tempo 30 vor allen Schulen"

    for sector in (None, "unbekannt", ""):
        body = {"title": "Ohne Feld", "text": "Weiß ich nicht.", "district": "winzerla"}
        if sector is not None:
            body["sector"] = sector
        response = client.post("/api/v1/ideas", headers=token_for(users["member"]), json=body)
        assert response.status_code == 201 and response.json["sector"] is None
    response = client.post("/api/v1/ideas", headers=token_for(users["member"]), json={
        "title": "Mit Punkt", "text": "Auf der Karte.", "sector": None, "district": "winzerla",
        "latitude": 50.93, "longitude": 11.59})
    assert response.status_code == 201 and (response.json["latitude"], response.json["longitude"]) == (50.93, 11.59)


GOOD = {"title": "Mehr Fahrradbügel am Bahnhof", "text": "Am Paradiesbahnhof fehlen Stellplätze.",
        "sector": "mobilitaet", "district": "jena-zentrum"}


@pytest.mark.parametrize("change, field, message", [
    ({"title": None}, "title", "Bitte geben Sie einen Titel an."),
    ({"title": "   "}, "title", "Bitte geben Sie einen Titel an."),
    ({"title": "x" * (TITLE_MAX + 1)}, "title", f"Der Titel darf höchstens {TITLE_MAX} Zeichen lang sein."),
    ({"title": 42}, "title", "Das Feld „title“ (Titel) muss Text sein."),
    ({"title": "Null\u0000Byte"}, "title", "Feld „title“: Der Text enthält unzulässige Steuerzeichen."),
    ({"text": None}, "text", "Bitte beschreiben Sie Ihre Idee."),
    ({"text": "x" * (TEXT_MAX + 1)}, "text", f"Der Text darf höchstens {TEXT_MAX} Zeichen lang sein."),
    ({"text": ["Liste"]}, "text", "Das Feld „text“ (Text) muss Text sein."),
    ({"sector": "landwirtschaft"}, "sector", "Unbekanntes Handlungsfeld im Feld „sector“: landwirtschaft"),
    ({"sector": 3}, "sector", "Das Feld „sector“ muss Text (Kürzel oder Name) oder null sein."),
    ({"district": "atlantis"}, "district", "Unbekannter Stadtteil im Feld „district“: atlantis"),
    ({"district": None}, "district", "Bitte geben Sie im Feld „district“ einen Stadtteil an."),
    ({"latitude": "Norden", "longitude": 11.5}, "latitude", "Das Feld „latitude“ muss eine Zahl sein."),
    ({"latitude": 50.9}, "latitude", "Bitte geben Sie Breite und Länge an oder keines von beiden."),
])
def test_create_idea_validation_names_the_field(app, client, idea_setup, users, token_for, change, field, message):
    body = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    response = client.post("/api/v1/ideas", headers=token_for(users["citizen"]), json=body)
    assert response.status_code == 422, response.json
    assert response.json == {"message": message, "status": 422, "field": field}
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Idea.id))) == 0


def test_create_idea_needs_a_json_object(app, client, idea_setup, users, token_for):
    headers = token_for(users["citizen"])
    response = client.post("/api/v1/ideas", headers=headers, data="title=Hallo")
    assert response.status_code == 400
    assert response.json["message"] == "Der Inhalt der Anfrage muss JSON sein (Content-Type: application/json)."
    response = client.post("/api/v1/ideas", headers=headers, data="{kaputt",
                           content_type="application/json")
    assert response.status_code == 400 and "JSON" in response.json["message"]
    for body in ([GOOD], "Titel", 42):
        response = client.post("/api/v1/ideas", headers=headers, json=body)
        assert response.status_code == 422
        assert response.json["message"] == "Der Inhalt der Anfrage muss ein JSON-Objekt mit den Feldern der Idee sein."
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Idea.id))) == 0


def test_create_idea_refused_when_closed_blocked_or_anonymous(app, client, idea_setup, users, token_for,
                                                              set_phase, staff_action, make_idea):
    anonymous = {"X-CSRFToken": csrf_token(client)}
    response = client.post("/api/v1/ideas", json=GOOD, headers=anonymous)
    assert response.status_code == 401 and response.json["message"] == "Bitte melden Sie sich an."
    set_phase("collection", open=False)
    response = client.post("/api/v1/ideas", headers=token_for(users["citizen"]), json=GOOD)
    assert response.status_code == 409
    assert response.json["message"] == "Die Ideensammlung ist derzeit geschlossen."
    set_phase("collection", open=True)
    staff_action(lambda staff: services.block_user(db.session.get(User, users["citizen"].id), staff,
                                                   "Wiederholt beleidigend"))
    response = client.post("/api/v1/ideas", headers=token_for(users["citizen"]), json=GOOD)
    assert response.status_code == 403
    assert response.json["message"] == "Ihr Konto ist für Beiträge gesperrt. Grund: Wiederholt beleidigend"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Idea.id))) == 0
    idea_id = make_idea(author=users["member"])
    for method in ("post", "delete"):
        response = getattr(client, method)(f"/api/v1/ideas/{idea_id}/support", headers=token_for(users["citizen"]))
        assert response.status_code == 403 and "gesperrt" in response.json["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Support.id))) == 0


def test_session_writes_need_csrf_tokens_do_not(app, idea_setup, users, token_for, make_idea):
    client = login_as(app.test_client(), users["citizen"])
    response = client.post("/api/v1/ideas", json=GOOD)
    assert response.status_code == 400 and response.is_json
    idea_id = make_idea()
    assert client.post(f"/api/v1/ideas/{idea_id}/support").status_code == 400
    assert client.delete(f"/api/v1/ideas/{idea_id}/support").status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Idea.id))) == 1
        assert db.session.scalar(db.select(db.func.count(Support.id))) == 0

    token = csrf_token(client)
    response = client.post("/api/v1/ideas", json=GOOD, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert client.post(f"/api/v1/ideas/{idea_id}/support", headers={"X-CSRFToken": token}).status_code == 201
    assert client.delete(f"/api/v1/ideas/{idea_id}/support", headers={"X-CSRFToken": token}).json == {
        "supported": False, "supports": 0}

    bearer = app.test_client()  # no cookie at all, no CSRF token: the bearer token is enough
    assert bearer.post("/api/v1/ideas", json=GOOD, headers=token_for(users["member"])).status_code == 201
    assert bearer.post(f"/api/v1/ideas/{idea_id}/support", headers=token_for(users["member"])).status_code == 201


def test_rate_limit_on_new_ideas(app, client, idea_setup, users, token_for, monkeypatch):
    monkeypatch.setitem(app.config, "IDEA_RATE_LIMIT", "2 per hour")
    headers = token_for(users["citizen"])
    codes = [client.post("/api/v1/ideas", headers=headers, json=GOOD).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert client.post("/api/v1/ideas", headers=token_for(users["member"]), json=GOOD).status_code == 201


XSS = [
    '<script>alert("x")</script>',
    '<img src=x onerror=alert(1)>',
    '"><svg onload=alert(document.cookie)>',
    "javascript:alert(1)",
    "{{ 7*7 }} ${7*7} </script><script>alert(1)</script>",
]


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_come_back_as_plain_json_strings(app, client, idea_setup, users, token_for, payload):
    response = client.post("/api/v1/ideas", headers=token_for(users["citizen"]), json={
        "title": payload[:TITLE_MAX], "text": f"Text mit {payload} darin.", "district": "winzerla"})
    assert response.status_code == 201
    idea_id = response.json["id"]
    for response in (client.get(f"/api/v1/ideas/{idea_id}"), client.get("/api/v1/ideas")):
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        data = response.json if "items" not in response.json else response.json["items"][0]
        assert data["title"] == payload[:TITLE_MAX]  # neither escaped nor altered nor stripped
        assert data["text"] == f"Text mit {payload} darin."
    response = client.get("/api/v1/ideas?q=" + payload)  # search input is harmless, too
    assert response.status_code == 200 and response.mimetype == "application/json"


# --- supporting ---------------------------------------------------------------------------------

def test_support_is_idempotent(app, client, make_idea, users, token_for):
    idea_id = make_idea()
    headers = token_for(users["citizen"])
    response = client.post(f"/api/v1/ideas/{idea_id}/support", headers=headers)
    assert (response.status_code, response.json) == (201, {"supported": True, "supports": 1})
    response = client.post(f"/api/v1/ideas/{idea_id}/support", headers=headers)
    assert (response.status_code, response.json) == (200, {"supported": True, "supports": 1})
    response = client.post(f"/api/v1/ideas/{idea_id}/support", headers=token_for(users["member"]))
    assert (response.status_code, response.json) == (201, {"supported": True, "supports": 2})
    assert client.get(f"/api/v1/ideas/{idea_id}", headers=headers).json["supported"] is True
    assert client.get(f"/api/v1/ideas/{idea_id}", headers=token_for(users["admin"])).json["supported"] is False
    for _ in range(2):
        response = client.delete(f"/api/v1/ideas/{idea_id}/support", headers=headers)
        assert (response.status_code, response.json) == (200, {"supported": False, "supports": 1})
    assert client.get(f"/api/v1/ideas/{idea_id}").json["supports"] == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Support.id))) == 1


def test_support_refused_when_closed_hidden_merged_or_anonymous(client, make_idea, users, token_for, set_phase,
                                                                staff_action):
    idea_id, target, hidden = make_idea(), make_idea(), make_idea()
    headers = token_for(users["citizen"])
    anonymous = {"X-CSRFToken": csrf_token(client)}
    assert client.post(f"/api/v1/ideas/{idea_id}/support", headers=anonymous).status_code == 401
    assert client.delete(f"/api/v1/ideas/{idea_id}/support", headers=anonymous).status_code == 401
    assert client.post(f"/api/v1/ideas/{idea_id}/support", headers=headers).status_code == 201

    set_phase("support", open=False)
    for method in ("post", "delete"):
        response = getattr(client, method)(f"/api/v1/ideas/{idea_id}/support", headers=headers)
        assert response.status_code == 409
        assert response.json["message"] == "Die Unterstützungsphase ist derzeit geschlossen."
    set_phase("support", open=True)

    hide(staff_action, hidden)
    response = client.post(f"/api/v1/ideas/{hidden}/support", headers=headers)
    assert response.status_code == 404 and response.is_json
    assert client.post("/api/v1/ideas/999999/support", headers=headers).status_code == 404

    staff_action(lambda staff: services.change_status(db.session.get(Idea, idea_id), staff, "merged",
                                                      "Gleicher Vorschlag.",
                                                      merged_into=db.session.get(Idea, target)))
    response = client.post(f"/api/v1/ideas/{idea_id}/support", headers=token_for(users["member"]))
    assert response.status_code == 409 and "zusammengeführt" in response.json["message"]
    assert client.get(f"/api/v1/ideas/{idea_id}").json["merged_into"] == target
    assert client.get(f"/api/v1/ideas/{idea_id}").json["supports"] == 1


def test_openapi_documents_the_idea_resources(client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    assert set(spec["paths"]["/ideas"]) == {"get", "post"}
    assert set(spec["paths"]["/ideas/{idea_id}/support"]) == {"post", "delete"}
    support = spec["paths"]["/ideas/{idea_id}/support"]["post"]["responses"]
    assert {"200", "201", "401", "403", "404", "409"} <= set(support)
    create = spec["paths"]["/ideas"]["post"]
    assert {"201", "400", "409", "422"} <= set(create["responses"])
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IdeaInput"}
    names = {parameter["name"] for parameter in spec["paths"]["/ideas"]["get"]["parameters"]}
    assert {"q", "sector", "district", "status", "source", "sort", "page", "per_page"} <= names
    assert {"id", "title", "supports", "url", "measures"} <= set(spec["components"]["schemas"]["Idea"]["required"])
