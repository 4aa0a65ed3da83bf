"""Ideas on the public side: writing, editing, the list with filters, search and
orders, the detail page, supports, comments, reports and similar ideas."""
import re

import pytest
from sqlalchemy import func, insert, select

from beteiligung.extensions import db
from beteiligung.ideas.models import Comment, Idea, Support

from .conftest import login_as, post_form

XSS = ["<script>alert(1)</script>", '<img src=x onerror=alert(1)>']


def _idea(app, idea_id):
    with app.app_context():
        return db.session.get(Idea, idea_id)


def _count(app, model, **where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.scalar(query)


# --- writing -----------------------------------------------------------------------

def test_citizen_writes_an_idea(app, client, users, idea_setup):
    login_as(client, users["citizen"])
    response = post_form(client, "/ideen/neu", {
        "title": "Fahrradbügel am Holzmarkt", "text": "Es gibt **viel zu wenige** Bügel.\n- vor dem Café\n- am Brunnen",
        "sector": "mobilitaet", "district": "jena-zentrum", "latitude": "", "longitude": ""})
    assert response.status_code == 302
    idea_id = int(response.headers["Location"].rsplit("/", 1)[1])
    idea = _idea(app, idea_id)
    assert idea.author_id == users["citizen"].id and idea.source == "online" and idea.status == "submitted"
    page = client.get(f"/ideen/{idea_id}").get_data(as_text=True)
    assert "<strong>viel zu wenige</strong>" in page and "<li>vor dem Café</li>" in page


def test_unknown_sector_is_allowed_and_district_is_required(app, client, users, idea_setup):
    login_as(client, users["citizen"])
    response = post_form(client, "/ideen/neu", {"title": "Mehr Bäume", "text": "Im Paradies fehlen Bäume.",
                                                "sector": "unbekannt", "district": ""})
    assert response.status_code == 200
    assert "Bitte wählen Sie einen Stadtteil." in response.get_data(as_text=True)
    assert _count(app, Idea) == 0
    response = post_form(client, "/ideen/neu", {"title": "Mehr Bäume", "text": "Im Paradies fehlen Bäume.",
                                                "sector": "unbekannt", "district": "winzerla"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Idea)).sector_id is None


@pytest.mark.parametrize("field, value, message", [
    ("title", "x" * 121, "Höchstens 120 Zeichen."),
    ("title", "", "Bitte füllen Sie dieses Feld aus."),
    ("text", "y" * 5001, "Höchstens 5000 Zeichen."),
    ("text", "   ", "Bitte füllen Sie dieses Feld aus."),
    ("text", "Steuerzeichen \x07 im Text", "Der Text enthält unzulässige Steuerzeichen."),
    ("district", "atlantis", "Not a valid choice"),
])
def test_bad_input_changes_nothing(app, client, users, idea_setup, field, value, message):
    login_as(client, users["citizen"])
    data = {"title": "Titel", "text": "Text der Idee", "sector": "energie", "district": "lobeda-ost"}
    data[field] = value
    response = post_form(client, "/ideen/neu", data)
    assert response.status_code == 200
    assert _count(app, Idea) == 0
    page = response.get_data(as_text=True)
    assert "error-summary" in page
    if message != "Not a valid choice":
        assert message in page


def test_collection_phase_closed(app, client, users, idea_setup, set_phase):
    set_phase("collection", open=False)
    login_as(client, users["citizen"])
    page = client.get("/ideen/neu").get_data(as_text=True)
    assert "Die Ideensammlung ist geschlossen" in page and 'name="title"' not in page
    response = post_form(client, "/ideen/neu", {"title": "Zu spät", "text": "Nach dem Ende",
                                                "sector": "energie", "district": "winzerla"})
    assert response.status_code == 200 and _count(app, Idea) == 0


def test_author_edits_until_review_starts(app, client, users, make_idea):
    idea_id = make_idea(author=users["citizen"])
    login_as(client, users["citizen"])
    response = post_form(client, f"/ideen/{idea_id}/bearbeiten", {
        "title": "Neuer Titel", "text": "Neuer Text", "sector": "energie", "district": "winzerla"})
    assert response.status_code == 302
    idea = _idea(app, idea_id)
    assert idea.title == "Neuer Titel" and idea.edited_at is not None
    with app.test_request_context():
        from beteiligung.auth.models import User
        from beteiligung.ideas.services import change_status

        change_status(db.session.get(Idea, idea_id), db.session.get(User, users["staff"].id), "in_review")
        db.session.commit()
    response = post_form(client, f"/ideen/{idea_id}/bearbeiten", {
        "title": "Noch ein Titel", "text": "Text", "sector": "energie", "district": "winzerla"})
    assert response.status_code == 302 and _idea(app, idea_id).title == "Neuer Titel"


def test_others_cannot_edit(app, client, users, make_idea):
    idea_id = make_idea(author=users["citizen"])
    login_as(client, users["member"])
    response = post_form(client, f"/ideen/{idea_id}/bearbeiten", {
        "title": "Übernommen", "text": "Text", "sector": "energie", "district": "winzerla"})
    assert response.status_code == 302 and _idea(app, idea_id).title != "Übernommen"


# --- output is inert ------------------------------------------------------------------------

@pytest.mark.parametrize("payload", XSS)
def test_script_in_title_text_and_comment_is_shown_as_text(app, client, users, make_idea, payload):
    idea_id = make_idea(title=f"Titel {payload}", text=f"Text {payload}", author=users["citizen"])
    login_as(client, users["member"])
    post_form(client, f"/ideen/{idea_id}/kommentare", {"text": f"Kommentar {payload}"})
    pages = [client.get(path).get_data(as_text=True) for path in
             ("/ideen/", f"/ideen/{idea_id}", "/ideen/?q=Titel", "/ideen/?sort=newest")]
    login_as(client, users["citizen"])
    pages.append(client.get("/ideen/meine").get_data(as_text=True))
    pages.append(client.get("/konto/benachrichtigungen/").get_data(as_text=True))
    for page in pages:
        assert payload not in page
        assert "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in pages[1] or "&lt;img" in pages[1]
    similar = client.get("/ideen/aehnliche", query_string={"title": "Titel", "text": "Text Titel"})
    assert similar.is_json


# --- the list ------------------------------------------------------------------------------

def test_filters_and_orders(app, client, users, make_idea):
    first = make_idea(title="Solaranlagen auf Schulen", text="Dächer nutzen", sector="energie", district="winzerla")
    second = make_idea(title="Busse nach Lobeda", text="Takt verdichten", sector="mobilitaet", district="lobeda-ost")
    third = make_idea(title="Karten vom Bürgerforum", text="Analog", sector=None, district="lobeda-ost",
                      source="event", event_name="Bürgerforum", dot_votes=7)
    with app.app_context():
        db.session.execute(insert(Support), [{"idea_id": second, "user_id": users[r].id} for r in ("member", "staff")])
        db.session.get(Idea, second).support_count = 2
        db.session.commit()

    def ids(query):
        page = client.get(f"/ideen/?{query}").get_data(as_text=True)
        return [int(n) for n in re.findall(r'id="idee-(\d+)-titel"', page)]

    assert set(ids("")) == {first, second, third}
    assert ids("sector=energie") == [first]
    assert ids("sector=unbekannt") == [third]
    assert set(ids("district=lobeda-ost")) == {second, third}
    assert ids("source=event") == [third]
    assert ids("status=submitted&sort=newest") == [third, second, first]
    assert ids("sort=supports")[0] == third  # 7 dots beat 2 supports
    page = client.get("/ideen/?sector=atlantis").get_data(as_text=True)
    assert "Unbekanntes Handlungsfeld" in page and len(ids("sector=atlantis")) == 3


@pytest.mark.parametrize("query, expected", [
    ("Radwege", {"radweg", "radwegenetz"}),
    ("Radweg", {"radweg", "radwegenetz"}),
    ("radwegen", {"radweg", "radwegenetz"}),
    ("Solaranlage", {"solar"}),
    ("Bäume Paradies", {"baeume"}),
    ("Straßenbahn", set()),
    ('" OR 1=1 --', set()),
    ("NEAR(a b) * ^", set()),
])
def test_full_text_search_finds_german_forms(app, client, make_idea, query, expected):
    made = {
        "radweg": make_idea(title="Radweg an der Saale", text="Der Radweg endet plötzlich."),
        "radwegenetz": make_idea(title="Lückenloses Radwegenetz", text="Für alle Stadtteile."),
        "solar": make_idea(title="Solaranlagen auf Turnhallen", text="Die Dächer sind frei.", sector="energie"),
        "baeume": make_idea(title="Mehr Bäume pflanzen", text="Im Paradies fehlt Schatten.", sector="uebergreifend"),
    }
    page = client.get("/ideen/", query_string={"q": query})
    assert page.status_code == 200
    found = {int(n) for n in re.findall(r'id="idee-(\d+)-titel"', page.get_data(as_text=True))}
    assert found == {made[key] for key in expected}


def test_random_order_is_stable_per_visitor_and_pages_do_not_overlap(app, client, make_idea, users):
    author = users["citizen"]
    for n in range(45):
        make_idea(title=f"Idee Nummer {n}", text="Text", author=author)

    def page_ids(c, number):
        page = c.get(f"/ideen/?page={number}").get_data(as_text=True)
        return [int(n) for n in re.findall(r'id="idee-(\d+)-titel"', page)]

    pages = [page_ids(client, n) for n in (1, 2, 3)]
    seen = [i for p in pages for i in p]
    assert len(seen) == 45 and len(set(seen)) == 45
    assert page_ids(client, 1) == pages[0]  # stable for this visitor
    others = [page_ids(app.test_client(), 1) for _ in range(4)]
    assert any(other != pages[0] for other in others)  # other visitors see other orders
    assert seen != sorted(seen) and seen != sorted(seen, reverse=True)


def _bulk_ideas(app, count, author_id):
    from beteiligung.ideas import search
    from beteiligung.ideas.models import District, Sector
    from beteiligung.models import utcnow

    with app.app_context():
        district_ids = db.session.scalars(select(District.id)).all()
        sector_ids = db.session.scalars(select(Sector.id)).all()
        now = utcnow()
        rows = [{"title": f"Idee {n} zum Radverkehr", "text": f"Beschreibung {n}: mehr Radwege und Bäume.",
                 "district_id": district_ids[n % len(district_ids)], "sector_id": sector_ids[n % len(sector_ids)],
                 "author_id": author_id, "source": "online", "status": "submitted", "dot_votes": 0,
                 "support_count": n % 13, "comment_count": n % 5, "report_count": 0,
                 "created_at": now, "updated_at": now} for n in range(count)]
        for start in range(0, count, 2000):
            db.session.execute(insert(Idea), rows[start:start + 2000])
        search.rebuild(db.session)
        db.session.commit()


@pytest.mark.parametrize("query", ["", "?sort=supports", "?sort=comments&page=2", "?q=Radwege",
                                   "?sector=mobilitaet&district=winzerla&sort=newest"])
def test_list_runs_bounded_queries_at_10000_ideas(app, client, users, idea_setup, count_queries, query):
    login_as(client, users["citizen"])
    _bulk_ideas(app, 45, users["citizen"].id)
    client.get(f"/ideen/{query}")
    with count_queries() as small:
        assert client.get(f"/ideen/{query}").status_code == 200
    _bulk_ideas(app, 9955, users["citizen"].id)
    with count_queries() as large:
        response = client.get(f"/ideen/{query}")
    assert response.status_code == 200
    assert large.n == small.n <= 10, large.statements
    assert _count(app, Idea) == 10000


# --- detail, supports, comments --------------------------------------------------------------

def test_support_and_withdraw(app, client, users, make_idea):
    idea_id = make_idea()
    login_as(client, users["member"])
    for _ in range(2):
        post_form(client, f"/ideen/{idea_id}/unterstuetzen", {})
    assert _idea(app, idea_id).support_count == 1 and _count(app, Support, idea_id=idea_id) == 1
    page = client.get(f"/ideen/{idea_id}").get_data(as_text=True)
    assert "Unterstützung zurückziehen" in page
    post_form(client, f"/ideen/{idea_id}/unterstuetzen", {"action": "withdraw"})
    assert _idea(app, idea_id).support_count == 0 and _count(app, Support) == 0


def test_support_phase_closed(app, client, users, make_idea, set_phase):
    idea_id = make_idea()
    set_phase("support", open=False)
    login_as(client, users["member"])
    response = post_form(client, f"/ideen/{idea_id}/unterstuetzen", {}, follow_redirects=True)
    assert "Die Unterstützungsphase ist derzeit geschlossen." in response.get_data(as_text=True)
    assert _count(app, Support) == 0


def test_support_without_csrf_is_refused(app, client, users, make_idea):
    idea_id = make_idea()
    login_as(client, users["member"])
    assert client.post(f"/ideen/{idea_id}/unterstuetzen").status_code == 400
    assert _count(app, Support) == 0


def test_comments_with_one_level_of_replies(app, client, users, make_idea, outbox):
    idea_id = make_idea(author=users["citizen"])
    login_as(client, users["member"])
    post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "Gute Idee, aber wer zahlt?"})
    with app.app_context():
        first = db.session.scalar(select(Comment.id))
    post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "Die Stadt.", "parent_id": str(first)})
    with app.app_context():
        reply = db.session.scalar(select(Comment).where(Comment.parent_id == first))
    post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "Antwort auf Antwort", "parent_id": str(reply.id)})
    with app.app_context():
        comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
        assert [c.parent_id for c in comments] == [None, first, first]  # flattened to one level
    assert _idea(app, idea_id).comment_count == 3
    page = client.get(f"/ideen/{idea_id}").get_data(as_text=True)
    assert page.index("Gute Idee, aber wer zahlt?") < page.index("Die Stadt.") < page.index("Antwort auf Antwort")
    assert post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "z" * 2001}).status_code == 302
    assert _idea(app, idea_id).comment_count == 3
    login_as(client, users["citizen"])
    assert "hat Ihre Idee" in client.get("/konto/benachrichtigungen/").get_data(as_text=True)


def test_report_once(app, client, users, make_idea):
    from beteiligung.ideas.models import Report

    idea_id = make_idea()
    login_as(client, users["member"])
    assert client.get(f"/ideen/{idea_id}/melden").status_code == 200
    for _ in range(2):
        post_form(client, f"/ideen/{idea_id}/melden", {"reason": "spam", "note": "Werbung"})
    assert _count(app, Report) == 1 and _idea(app, idea_id).report_count == 1
    response = post_form(client, f"/ideen/{idea_id}/melden", {"reason": "erfunden"})
    assert response.status_code == 200 and _count(app, Report) == 1


def test_similar_ideas_while_writing(app, client, make_idea):
    radweg = make_idea(title="Radweg an der Saale ausbauen", text="Zwischen Burgau und Zwätzen fehlt ein Radweg.")
    make_idea(title="Solar auf Schulen", text="Photovoltaik auf alle Schuldächer.", sector="energie")
    data = client.get("/ideen/aehnliche", query_string={"title": "Radwege Saale",
                                                        "text": "Der Radweg an der Saale ist lückenhaft"}).get_json()
    assert [item["id"] for item in data["items"]][:1] == [radweg]
    assert data["items"][0]["url"] == f"/ideen/{radweg}"
    assert len(data["items"]) <= 5
    assert client.get("/ideen/aehnliche", query_string={"title": "kurz"}).get_json() == {"items": []}
    page = client.get(f"/ideen/{radweg}").get_data(as_text=True)
    assert "Ähnliche Ideen" not in page or "Solar auf Schulen" not in page


def test_similar_ideas_say_pending_while_the_first_index_is_built(app, client, make_idea, monkeypatch):
    """After a restart the index is built in the background; until then the form is told to ask again."""
    from beteiligung.ideas import similar

    make_idea(title="Radweg an der Saale ausbauen", text="Zwischen Burgau und Zwätzen fehlt ein Radweg.")
    started = []
    monkeypatch.setattr(similar, "_build_in_background", lambda *args: started.append(args))
    monkeypatch.setitem(app.config, "SIMILAR_BUILD_IN_BACKGROUND", True)
    similar.reset()
    query = {"title": "Radwege Saale", "text": "Der Radweg an der Saale ist lückenhaft"}
    try:
        assert client.get("/ideen/aehnliche", query_string=query).get_json() == {"items": [], "pending": True}
        assert len(started) == 1
    finally:
        similar.reset()
    monkeypatch.setitem(app.config, "SIMILAR_BUILD_IN_BACKGROUND", False)
    data = client.get("/ideen/aehnliche", query_string=query).get_json()
    assert "pending" not in data and len(data["items"]) == 1


def test_hidden_idea_is_only_for_author_and_staff(app, client, users, make_idea):
    from beteiligung.models import utcnow

    idea_id = make_idea(author=users["citizen"])
    with app.app_context():
        idea = db.session.get(Idea, idea_id)
        idea.hidden_at, idea.hidden_reason = utcnow(), "Beleidigung"
        db.session.commit()
    assert client.get(f"/ideen/{idea_id}").status_code == 404
    assert f"idee-{idea_id}-titel" not in client.get("/ideen/").get_data(as_text=True)
    login_as(client, users["citizen"])
    assert "Beleidigung" in client.get(f"/ideen/{idea_id}").get_data(as_text=True)
    login_as(client, users["staff"])
    assert client.get(f"/ideen/{idea_id}").status_code == 200


def test_personal_data_export_and_deletion(app, client, users, make_idea):
    idea_id = make_idea(author=users["citizen"], latitude=50.92, longitude=11.58)
    other = make_idea(author=users["member"])
    login_as(client, users["citizen"])
    post_form(client, f"/ideen/{other}/unterstuetzen", {})
    post_form(client, f"/ideen/{other}/kommentare", {"text": "Mein Kommentar"})
    data = client.get("/konto/daten.json").get_json()
    assert data["ideas"][0]["id"] == idea_id and data["supports"][0]["idea_id"] == other
    assert data["comments"][0]["text"] == "Mein Kommentar"
    with app.test_request_context():
        from beteiligung.account.services import delete_account
        from beteiligung.auth.models import User

        delete_account(db.session.get(User, users["citizen"].id))
        db.session.commit()
    assert _count(app, Support) == 0 and _idea(app, other).support_count == 0
    idea = _idea(app, idea_id)
    assert idea.latitude is None
    page = app.test_client().get(f"/ideen/{idea_id}").get_data(as_text=True)
    assert "gelöschtes Konto" in page


def test_double_submit_stores_one_idea_and_one_comment(app, client, users, idea_setup):
    login_as(client, users["citizen"])
    data = {"title": "Bänke an der Saale", "text": "Alle 300 Meter eine Bank.", "sector": "uebergreifend",
            "district": "winzerla"}
    first = post_form(client, "/ideen/neu", data)
    second = post_form(client, "/ideen/neu", data, follow_redirects=True)
    assert "nicht doppelt gespeichert" in second.get_data(as_text=True)
    assert _count(app, Idea) == 1
    idea_id = int(first.headers["Location"].rsplit("/", 1)[1])
    for _ in range(2):
        post_form(client, f"/ideen/{idea_id}/kommentare", {"text": "Und Mülleimer!"})
    assert _count(app, Comment) == 1 and _idea(app, idea_id).comment_count == 1


def test_rate_limit_on_new_ideas(app, client, users, idea_setup):
    app.config["IDEA_RATE_LIMIT"] = "2 per hour"
    try:
        login_as(client, users["citizen"])
        codes = [post_form(client, "/ideen/neu", {"title": f"Idee {n}", "text": f"Text {n}",
                                                  "sector": "energie", "district": "winzerla"}).status_code
                 for n in range(3)]
    finally:
        app.config["IDEA_RATE_LIMIT"] = "10 per hour"
    assert codes == [302, 302, 429] and _count(app, Idea) == 2


def test_similar_index_is_rebuilt_in_the_background(app, make_idea):
    """In production no request waits for a rebuild: the previous index answers meanwhile."""
    import threading
    import time

    from beteiligung.ideas import similar

    first = make_idea(title="Radweg an der Saale ausbauen", text="Zwischen Burgau und Zwätzen fehlt ein Radweg.")
    app.config.update(SIMILAR_BUILD_IN_BACKGROUND=True, SIMILAR_REBUILD_SECONDS=0)
    similar.reset()

    def wait_for_build():
        for _ in range(200):
            if not any(t.name == "similar-ideas-index" for t in threading.enumerate()):
                return
            time.sleep(0.02)

    try:
        with app.app_context():
            assert similar.similar_ideas("Radweg Saale", "Radweg an der Saale") == []  # first build still running
            wait_for_build()
            assert [idea.id for idea, _score in similar.similar_ideas("Radweg Saale", "Radweg an der Saale")] == [first]
        second = make_idea(title="Radweg an der Saale beleuchten", text="Der Radweg an der Saale ist nachts dunkel.")
        with app.app_context():
            stale = similar.similar_ideas("Radweg Saale", "Radweg an der Saale")
            assert [idea.id for idea, _score in stale] == [first]  # the old index answers at once
            wait_for_build()
            fresh = {idea.id for idea, _score in similar.similar_ideas("Radweg Saale", "Radweg an der Saale")}
            assert fresh == {first, second}
    finally:
        app.config.update(SIMILAR_BUILD_IN_BACKGROUND=False, SIMILAR_REBUILD_SECONDS=0)
        similar.reset()
