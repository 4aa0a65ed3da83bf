"""The staff side of ideas: triage list, answers, analog input, full export, answer templates."""
import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select

from beteiligung.audit.models import AuditEntry
from beteiligung.extensions import db
from beteiligung.ideas.models import AnswerTemplate, Idea, StatusChange
from beteiligung.notifications.models import Notification

from .conftest import login_as, post_form

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TOKEN_FIELD = re.compile(r'name="entry_token" value="([^"]+)"')


@pytest.fixture
def staff(client, users):
    login_as(client, users["staff"])
    return users["staff"]


def _support(app, idea_id, person):
    from beteiligung.auth.models import User
    from beteiligung.ideas import services

    with app.test_request_context():
        assert services.add_support(db.session.get(Idea, idea_id), db.session.get(User, person.id))
        db.session.commit()


def _idea(app, idea_id):
    with app.app_context():
        return db.session.get(Idea, idea_id)


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _text(response):
    return response.get_data(as_text=True)


# --- bulk answers ----------------------------------------------------------------------------

def test_bulk_answer_of_three_ideas_notifies_authors_and_supporters(app, client, staff, make_user, make_idea,
                                                                   outbox):
    authors = [make_user(name=f"Autorin {n}") for n in range(3)]
    ids = [make_idea(title=f"Idee {n}", author=author) for n, author in enumerate(authors)]
    supporter = make_user(name="Unterstützer")
    _support(app, ids[0], supporter)
    _support(app, ids[2], supporter)
    other = make_idea(title="Nicht ausgewählt")

    response = post_form(client, "/verwaltung/ideen?sort=newest", {
        "ids": [str(i) for i in ids], "status": "not_feasible",
        "answer": "Dafür fehlt der Stadt die rechtliche Grundlage.",
    })
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "3 Ideen beantwortet: Status „nicht umsetzbar“" in page

    for idea_id in ids:
        idea = _idea(app, idea_id)
        assert idea.status == "not_feasible"
        assert idea.answer == "Dafür fehlt der Stadt die rechtliche Grundlage."
    assert _idea(app, other).status == "submitted"
    with app.app_context():
        notified = db.session.execute(select(Notification.user_id, Notification.kind)).all()
        assert sorted(notified) == sorted([(a.id, "idea.status") for a in authors]
                                          + [(supporter.id, "idea.status")] * 2)
        assert db.session.scalar(select(func.count()).select_from(StatusChange)) == 3
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "idea.status_changed",
                                        AuditEntry.actor_id == staff.id)) == 3
    recipients = sorted(message.recipient for message in outbox())
    assert recipients == sorted([a.email for a in authors] + [supporter.email] * 2)
    assert all("rechtliche Grundlage" in message.body_text for message in outbox())


def test_bulk_answer_needs_an_answer_for_not_feasible(app, client, staff, make_idea, outbox):
    ids = [make_idea(title=f"Idee {n}") for n in range(3)]
    response = post_form(client, "/verwaltung/ideen", {"ids": [str(i) for i in ids], "status": "not_feasible",
                                                       "answer": "  "})
    assert response.status_code == 200
    page = _text(response)
    assert "Für den Status „nicht umsetzbar“ ist eine öffentliche Antwort nötig." in page
    assert "Es wurde keine Idee geändert." in page
    assert all(_idea(app, i).status == "submitted" for i in ids)
    assert _count(app, Notification) == 0 and outbox() == []
    # The checked ideas stay checked, so the answer can simply be added.
    for idea_id in ids:
        assert f'value="{idea_id}" id="auswahl-{idea_id}" checked' in page


def test_bulk_answer_is_all_or_nothing(app, client, staff, make_idea):
    target = make_idea(title="Ziel")
    ids = [make_idea(title="Doppelt 1"), make_idea(title="Doppelt 2")]
    # The target itself is among the selection: it cannot be merged into itself, so nothing changes.
    response = post_form(client, "/verwaltung/ideen", {"ids": [str(i) for i in ids + [target]], "status": "merged",
                                                       "merged_into": str(target), "answer": "Gleiche Idee."})
    assert response.status_code == 200
    assert "nicht mit sich selbst zusammengeführt" in _text(response)
    assert all(_idea(app, i).status == "submitted" for i in ids + [target])
    response = post_form(client, "/verwaltung/ideen", {"ids": [str(i) for i in ids], "status": "merged",
                                                       "merged_into": str(target), "answer": "Gleiche Idee."})
    assert response.status_code == 302
    assert [_idea(app, i).merged_into_id for i in ids] == [target, target]


def test_bulk_answer_without_selection_or_with_unknown_ideas(app, client, staff, make_idea):
    idea_id = make_idea()
    response = post_form(client, "/verwaltung/ideen", {"status": "in_review"})
    assert "Bitte wählen Sie in der Tabelle mindestens eine Idee aus." in _text(response)
    response = post_form(client, "/verwaltung/ideen", {"ids": [str(idea_id), "99999"], "status": "in_review"})
    assert "Diese Ideen gibt es nicht mehr: 99999" in _text(response)
    assert _idea(app, idea_id).status == "submitted"


def test_template_text_is_used_when_the_answer_is_left_empty(app, client, staff, make_idea):
    with app.app_context():
        template = AnswerTemplate(title="Bund zuständig", status="out_of_scope",
                                  text="Darüber entscheidet der Bund, nicht die Stadt.")
        db.session.add(template)
        db.session.commit()
        template_id = template.id
    ids = [make_idea(title="Tempolimit"), make_idea(title="Kerosinsteuer")]
    page = _text(client.get("/verwaltung/ideen"))
    assert 'data-text="Darüber entscheidet der Bund, nicht die Stadt."' in page
    assert "js/staff.js" in page
    response = post_form(client, "/verwaltung/ideen", {"ids": [str(i) for i in ids], "status": "out_of_scope",
                                                       "template": str(template_id), "answer": ""})
    assert response.status_code == 302
    assert [_idea(app, i).answer for i in ids] == ["Darüber entscheidet der Bund, nicht die Stadt."] * 2
    # A written answer wins over the template.
    response = post_form(client, f"/verwaltung/ideen/{ids[0]}", {
        "form": "status", "status": "out_of_scope", "template": str(template_id), "answer": "Eigener Text."})
    assert response.status_code == 302
    assert _idea(app, ids[0]).answer == "Eigener Text."


# --- one idea ----------------------------------------------------------------------------------

def test_single_answer_required_except_in_review(app, client, staff, make_user, make_idea):
    author = make_user()
    idea_id = make_idea(author=author)
    url = f"/verwaltung/ideen/{idea_id}"
    response = post_form(client, url, {"form": "status", "status": "already_done", "answer": ""})
    assert response.status_code == 200
    assert "Für den Status „bereits umgesetzt oder geplant“ ist eine öffentliche Antwort nötig." in _text(response)
    assert _idea(app, idea_id).status == "submitted"
    response = post_form(client, url, {"form": "status", "status": "in_review", "answer": ""})
    assert response.status_code == 302
    assert _idea(app, idea_id).status == "in_review"
    page = _text(client.get(url))
    assert "Status „in Prüfung“ gespeichert." in page
    assert "eingereicht → in Prüfung" in page  # status history
    assert "idea.status_changed" in page  # audit entries
    with app.app_context():
        assert db.session.scalar(select(Notification.user_id)) == author.id


def test_merged_needs_a_valid_target(app, client, staff, make_idea):
    idea_id = make_idea(title="Doppelte Idee")
    target = make_idea(title="Erste Idee")
    url = f"/verwaltung/ideen/{idea_id}"
    answer = "Diese Idee gibt es schon; wir führen sie dort weiter."
    response = post_form(client, url, {"form": "status", "status": "merged", "answer": answer})
    assert "Bitte geben Sie an, mit welcher Idee diese zusammengeführt wird." in _text(response)
    response = post_form(client, url, {"form": "status", "status": "merged", "answer": answer, "merged_into": "99999"})
    assert "Es gibt keine Idee mit der Nummer 99999." in _text(response)
    response = post_form(client, url, {"form": "status", "status": "merged", "answer": answer,
                                       "merged_into": str(idea_id)})
    assert "nicht mit sich selbst zusammengeführt" in _text(response)
    response = post_form(client, url, {"form": "status", "status": "not_feasible", "answer": answer,
                                       "merged_into": str(target)})
    assert "Eine Zielidee gibt es nur beim Status „zusammengeführt“." in _text(response)
    assert _idea(app, idea_id).status == "submitted"
    assert _count(app, StatusChange) == 0

    response = post_form(client, url, {"form": "status", "status": "merged", "answer": answer,
                                       "merged_into": str(target)})
    assert response.status_code == 302
    assert (_idea(app, idea_id).status, _idea(app, idea_id).merged_into_id) == ("merged", target)
    page = _text(client.get(f"/verwaltung/ideen/{target}"))
    assert "Hier zusammengeführte Ideen" in page and "Doppelte Idee" in page


def test_assign_sector_and_correct_dot_votes(app, client, staff, make_idea):
    idea_id = make_idea(sector=None, source="workshop", event_name="Werkstatt Mobilität", dot_votes=3)
    url = f"/verwaltung/ideen/{idea_id}"
    response = post_form(client, url, {"form": "assign", "sector": "energie", "dot_votes": "-2"})
    assert response.status_code == 200
    assert _idea(app, idea_id).sector is None
    response = post_form(client, url, {"form": "assign", "sector": "energie", "dot_votes": "7"})
    assert response.status_code == 302
    idea = _idea(app, idea_id)
    assert (idea.sector.code, idea.dot_votes) == ("energie", 7)
    page = _text(client.get(url))
    assert "idea.sector_assigned" in page and "idea.dot_votes_changed" in page
    assert "Zuordnung gespeichert." in page
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "idea.dot_votes_changed"))
        assert (entry.old_values, entry.new_values, entry.actor_id) == ({"dot_votes": 3}, {"dot_votes": 7}, staff.id)


def test_staff_page_shows_provenance_and_counts(app, client, staff, make_user, make_idea):
    author = make_user(name="Erika Mustermann")
    idea_id = make_idea(author=author)
    _support(app, idea_id, make_user())
    page = _text(client.get(f"/verwaltung/ideen/{idea_id}"))
    assert "Erika Mustermann" in page and author.email in page
    assert "<dt>Unterstützungen online</dt><dd>1</dd>" in page
    assert client.get("/verwaltung/ideen/99999").status_code == 404


# --- analog input -----------------------------------------------------------------------------

def _entry(client, **values):
    page = _text(client.get("/verwaltung/ideen/erfassen"))
    token = TOKEN_FIELD.search(page).group(1)
    data = {"source": "workshop", "event_name": "Themen-Werkstatt Lobeda, 12.03.", "facilitator": "Frau Roth",
            "title": "Mehr Bänke", "text": "An der Haltestelle fehlen Bänke.", "sector": "mobilitaet",
            "district": "lobeda-ost", "dot_votes": "4", "entry_token": token}
    data.update(values)
    return token, data


def test_analog_entry_keeps_event_and_facilitator_between_entries(app, client, staff, idea_setup):
    token, data = _entry(client)
    response = post_form(client, "/verwaltung/ideen/erfassen", data)
    assert response.status_code == 302
    page = _text(client.get("/verwaltung/ideen/erfassen"))
    with app.app_context():
        idea = db.session.scalar(select(Idea))
        assert (idea.source, idea.event_name, idea.facilitator, idea.dot_votes, idea.entered_by_id,
                idea.author_id) == ("workshop", "Themen-Werkstatt Lobeda, 12.03.", "Frau Roth", 4, staff.id, None)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "idea.entered"))
        assert (entry.object_id, entry.actor_id) == (str(idea.id), staff.id)
    assert f"Gespeichert: Idee Nr. {idea.id} „Mehr Bänke“ mit 4 Klebepunkten." in page
    # Event, facilitator, source and district stay; title and text are empty and the title has the focus.
    assert 'value="Themen-Werkstatt Lobeda, 12.03."' in page and 'value="Frau Roth"' in page
    assert '<option selected value="workshop">' in page and '<option selected value="lobeda-ost">' in page
    title_input = re.search(r'<input[^>]*id="title"[^>]*>', page).group(0)
    assert "autofocus" in title_input and "value=" not in title_input.replace('value=""', "")
    assert re.search(r'<textarea[^>]*id="text"[^>]*>\s*</textarea>', page)
    new_token = TOKEN_FIELD.search(page).group(1)
    assert new_token != token

    _token, data = _entry(client, title="Solar auf die Schule", text="Das Dach ist frei.", dot_votes="11")
    assert post_form(client, "/verwaltung/ideen/erfassen", data).status_code == 302
    page = _text(client.get("/verwaltung/ideen/erfassen"))
    assert "Zuletzt erfasst: Themen-Werkstatt Lobeda, 12.03." in page
    assert "2 Ideen von dieser Veranstaltung" in page and "zusammen 15 Klebepunkte" in page
    recent = page[page.index("Zuletzt erfasst"):]
    assert recent.index("Solar auf die Schule") < recent.index("Mehr Bänke")  # newest first
    assert re.search(r"Solar auf die Schule</a></th>.*?<td class=\"num\">11</td>", recent, re.S)


def test_analog_double_submit_creates_one_idea(app, client, staff, users, idea_setup):
    _token, data = _entry(client)
    assert post_form(client, "/verwaltung/ideen/erfassen", data).status_code == 302
    response = post_form(client, "/verwaltung/ideen/erfassen", data, follow_redirects=True)
    assert "bereits gespeichert" in _text(response)
    assert _count(app, Idea) == 1
    # Also recognised from the database when the session does not know the token (another tab, lost cookie).
    other_client = login_as(app.test_client(), users["staff"])
    response = post_form(other_client, "/verwaltung/ideen/erfassen", data, follow_redirects=True)
    assert "bereits gespeichert" in _text(response)
    assert _count(app, Idea) == 1


def test_analog_entry_without_token_or_with_bad_input_saves_nothing(app, client, staff, idea_setup):
    _token, data = _entry(client)
    del data["entry_token"]
    response = post_form(client, "/verwaltung/ideen/erfassen", data)
    assert "unvollständig übertragen" in _text(response)
    _token, data = _entry(client, title="", dot_votes="-1")
    response = post_form(client, "/verwaltung/ideen/erfassen", data)
    page = _text(response)
    assert "Bitte korrigieren Sie 2 Angaben." in page
    assert _count(app, Idea) == 0


def test_dot_votes_shown_in_triage_list(app, client, staff, make_idea):
    make_idea(title="Karte mit Punkten", source="event", event_name="Bürgerforum", dot_votes=23)
    page = _text(client.get("/verwaltung/ideen"))
    row = re.search(r"<tr>\s*<td><input[^>]*name=\"ids\".*?</tr>", page, re.S).group(0)
    assert "Karte mit Punkten" in row and '<td class="num">23</td>' in row and "Bürgerforum" in row


# --- filters and list ---------------------------------------------------------------------------

def test_triage_filters_hidden_and_unassigned(app, client, staff, users, make_idea):
    from beteiligung.auth.models import User
    from beteiligung.ideas import services

    visible = make_idea(title="Sichtbare Idee")
    hidden = make_idea(title="Ausgeblendete Idee")
    open_sector = make_idea(title="Ohne Feld", sector=None)
    with app.test_request_context():
        services.hide(db.session.get(Idea, hidden), db.session.get(User, users["staff"].id), "Werbung")
        db.session.commit()
    page = _text(client.get("/verwaltung/ideen"))
    assert all(title in page for title in ("Sichtbare Idee", "Ausgeblendete Idee", "Ohne Feld"))
    page = _text(client.get("/verwaltung/ideen?hidden=1"))
    assert "Ausgeblendete Idee" in page and "Sichtbare Idee" not in page and "1 Idee gefunden." in page
    page = _text(client.get("/verwaltung/ideen?unassigned=1"))
    assert "Ohne Feld" in page and "Sichtbare Idee" not in page
    assert 'id="filter-unassigned" name="unassigned" value="1" checked' in page
    assert visible and open_sector


def test_triage_list_runs_a_bounded_number_of_queries(app, client, staff, make_user, make_idea, count_queries):
    from beteiligung.auth.models import User
    from beteiligung.ideas import services

    authors = [make_user() for _ in range(3)]
    sectors = ["mobilitaet", "energie", None, "wohngebaeude"]
    districts = ["jena-zentrum", "lobeda-ost", "winzerla", "wenigenjena"]

    def add(count, start):
        with app.test_request_context():
            for n in range(start, start + count):
                source = "online" if n % 3 else "workshop"
                services.create_idea(
                    db.session.get(User, authors[n % 3].id) if source == "online" else None, f"Idee {n}", "Text",
                    sector=services.find_sector(sectors[n % 4]) if sectors[n % 4] else None,
                    district=services.find_district(districts[n % 4]), source=source,
                    entered_by=db.session.get(User, staff.id) if source != "online" else None,
                    event_name="Forum" if source != "online" else None, dot_votes=n % 5)
            db.session.commit()

    add(5, 0)
    client.get("/verwaltung/ideen")  # warm up (session, caches)
    with count_queries() as few:
        assert "5 Ideen gefunden." in _text(client.get("/verwaltung/ideen"))
    add(55, 5)
    with count_queries() as many:
        page = _text(client.get("/verwaltung/ideen"))
    assert "60 Ideen gefunden." in page and "Seite 1 von 2." in page
    assert page.count('name="ids"') == 50
    assert many.n == few.n, many.statements
    assert many.n <= 12


# --- export ----------------------------------------------------------------------------------------

def test_staff_export_has_author_email_but_open_data_does_not(app, client, staff, make_user, make_idea):
    author = make_user(email="erika@example.org")
    make_idea(title="Mehr Radwege", author=author)
    response = client.get("/verwaltung/ideen/export.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(_text(response))))
    assert rows[0]["author_email"] == "erika@example.org" and rows[0]["title"] == "Mehr Radwege"
    data = json.loads(_text(client.get("/verwaltung/ideen/export.json")))
    assert data[0]["author_email"] == "erika@example.org"
    assert client.get("/verwaltung/ideen/export.xlsx").status_code == 200
    assert client.get("/verwaltung/ideen/export.pdf").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "idea.exported")) == 3

    public = app.test_client().get("/ideen/export.csv")
    assert public.status_code == 200
    text = _text(public)
    assert "Mehr Radwege" in text and "erika@example.org" not in text and "author_email" not in text


def test_staff_export_follows_the_filters(app, client, staff, make_idea):
    make_idea(title="Radweg", sector="mobilitaet")
    make_idea(title="Solardach", sector="energie")
    rows = list(csv.DictReader(io.StringIO(_text(client.get("/verwaltung/ideen/export.csv?sector=energie")))))
    assert [row["title"] for row in rows] == ["Solardach"]


# --- escaping ------------------------------------------------------------------------------------

def test_xss_in_titles_is_escaped_on_staff_pages(app, client, staff, make_idea):
    idea_id = make_idea(title=XSS, source="workshop", event_name=XSS, facilitator=XSS)
    with app.app_context():
        db.session.add(AnswerTemplate(title=XSS, status=None, text=XSS))
        db.session.commit()
        template_id = db.session.scalar(select(AnswerTemplate.id))
    with client.session_transaction() as session:
        session["analog_entry"] = {"source": "workshop", "event_name": XSS, "facilitator": XSS, "district": ""}
    for url in ("/verwaltung/ideen", f"/verwaltung/ideen/{idea_id}", "/verwaltung/ideen/erfassen",
                "/verwaltung/antwortvorlagen", f"/verwaltung/antwortvorlagen/{template_id}"):
        page = _text(client.get(url))
        assert XSS not in page, url
        assert XSS_ESCAPED in page, url


# --- answer templates ------------------------------------------------------------------------------

def test_answer_templates_create_edit_delete_with_audit(app, client, staff):
    response = post_form(client, "/verwaltung/antwortvorlagen", {
        "title": "Land zuständig", "status": "out_of_scope", "text": "Darüber entscheidet das Land Thüringen."})
    assert response.status_code == 302
    with app.app_context():
        template = db.session.scalar(select(AnswerTemplate))
        template_id = template.id
        assert (template.title, template.status) == ("Land zuständig", "out_of_scope")
    page = _text(client.get("/verwaltung/antwortvorlagen"))
    assert "Die Vorlage „Land zuständig“ ist angelegt." in page
    assert "außerhalb kommunaler Zuständigkeit" in page

    # Titles are unique (case-insensitive); a clash changes nothing.
    response = post_form(client, "/verwaltung/antwortvorlagen", {"title": "LAND ZUSTÄNDIG", "status": "",
                                                                 "text": "Noch eine."})
    assert response.status_code == 200
    assert "Es gibt bereits eine Vorlage mit diesem Titel." in _text(response)
    assert _count(app, AnswerTemplate) == 1
    response = post_form(client, "/verwaltung/antwortvorlagen", {"title": "Ohne Text", "status": "", "text": ""})
    assert response.status_code == 200 and _count(app, AnswerTemplate) == 1

    response = post_form(client, f"/verwaltung/antwortvorlagen/{template_id}", {
        "title": "Land zuständig", "status": "", "text": "Darüber entscheidet der Freistaat Thüringen."})
    assert response.status_code == 302
    with app.app_context():
        template = db.session.get(AnswerTemplate, template_id)
        assert (template.status, template.text) == (None, "Darüber entscheidet der Freistaat Thüringen.")
    page = _text(client.get(f"/verwaltung/antwortvorlagen/{template_id}"))
    assert "answer_template.changed" in page and "answer_template.created" in page

    response = post_form(client, f"/verwaltung/antwortvorlagen/{template_id}/loeschen")
    assert response.status_code == 302
    assert _count(app, AnswerTemplate) == 0
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "answer_template",
                                                                           AuditEntry.actor_id == staff.id)))
    assert actions == {"answer_template.created", "answer_template.changed", "answer_template.deleted"}
    assert client.get(f"/verwaltung/antwortvorlagen/{template_id}").status_code == 404


def test_staff_navigation_links(client, staff):
    page = _text(client.get("/verwaltung/ideen"))
    for label in ("Ideen sichten", "Analoge Ideen erfassen", "Antwortvorlagen"):
        assert label in page
    assert 'href="/verwaltung/ideen" aria-current="page"' in page
