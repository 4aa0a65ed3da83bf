"""The triage workspace: runs, the board, decisions with their audit trail, merging,
measures from clusters, the nightly extension, failures and bad input."""
import pytest
from sqlalchemy import func, select

from beteiligung.extensions import db

from .conftest import login_as, post_form

TOPICS = {
    "mobilitaet": [
        ("Sichere Radwege an der Saale", "Der Radweg entlang der Saale braucht eine durchgehende, breite Radspur."),
        ("Radweg nach Lobeda ausbauen", "Zwischen Zentrum und Lobeda fehlt ein sicherer Radweg für Radfahrer."),
        ("Mehr Fahrradstellplätze am Bahnhof", "Am Westbahnhof fehlen überdachte Fahrradstellplätze für Räder."),
        ("Radwegenetz lückenlos machen", "Das Radwegenetz hat Lücken, Radfahrer müssen auf die Straße."),
        ("Fahrradstraße in der Innenstadt", "Eine Fahrradstraße würde Radfahrende in der Innenstadt schützen."),
        ("Abstellanlagen für Lastenräder", "Lastenräder brauchen breite Stellplätze und Fahrradbügel."),
    ],
    "energie": [
        ("Solaranlagen auf alle Dächer", "Photovoltaik auf jedes geeignete Dach, Solarstrom vom eigenen Dach."),
        ("Balkonkraftwerke fördern", "Ein Zuschuss für Balkonkraftwerke, damit Mieter Solarstrom erzeugen."),
        ("Solarpflicht für Neubauten", "Neubauten sollen immer eine Photovoltaikanlage auf dem Dach bekommen."),
        ("PV auf Parkplätzen", "Große Parkplätze mit Solardächern überdachen und Solarstrom erzeugen."),
        ("Solarkataster aktualisieren", "Das Solarkataster zeigt, welche Dächer für Photovoltaik taugen."),
        ("Bürgersolaranlage gründen", "Eine Genossenschaft für Solaranlagen, Bürger beteiligen sich am Solarstrom."),
    ],
    "uebergreifend": [
        ("Mehr Stadtbäume pflanzen", "In heißen Straßen fehlen Bäume; neue Stadtbäume spenden Schatten."),
        ("Baumpatenschaften einführen", "Anwohner gießen Stadtbäume im Sommer, Patenschaften für Bäume."),
        ("Entsiegelung von Schulhöfen", "Schulhöfe entsiegeln und Bäume pflanzen statt Asphalt."),
        ("Grünflächen erhalten", "Grünflächen und alte Bäume in den Stadtteilen schützen."),
        ("Obstbäume im Park", "Obstbäume und Bäume in Parks pflanzen, Grünflächen für alle."),
        ("Bäume statt Parkplätze", "Einzelne Parkplätze in Baumbeete umwandeln, mehr Bäume in der Straße."),
    ],
}


@pytest.fixture
def ideas(make_idea, make_user):
    """Eighteen ideas in three clear topics; citizens did not choose a field for half of them."""
    made = {}
    for sector, items in TOPICS.items():
        for number, (title, text) in enumerate(items):
            made[title] = make_idea(title=title, text=text, author=make_user(),
                                    sector=sector if number % 2 else None)
    return made


@pytest.fixture
def staff(client, users):
    return login_as(client, users["staff"])


def start(staff, **data):
    return post_form(staff, "/verwaltung/analyse/starten", {"k": "auto", "seed": "0", **data})


def latest_run(app):
    from beteiligung.analysis.models import AnalysisRun

    with app.app_context():
        return db.session.scalar(select(AnalysisRun).order_by(AnalysisRun.id.desc()))


def cluster_of(app, run_id, idea_id):
    from beteiligung.analysis.models import AnalysisItem

    with app.app_context():
        return db.session.get(AnalysisItem, (run_id, idea_id)).cluster_number


def idea(app, idea_id):
    from beteiligung.ideas.models import Idea

    with app.app_context():
        found = db.session.get(Idea, idea_id)
        db.session.expunge(found)
        return found


def test_a_run_stores_its_parameters_and_shows_the_board(app, staff, ideas):
    response = start(staff)
    assert response.status_code == 302
    run = latest_run(app)
    assert response.headers["Location"].endswith(f"/verwaltung/analyse/laeufe/{run.id}")
    assert run.status == "done" and run.progress == 100
    assert run.idea_count == 18 and run.cluster_count >= 2 and run.code_version
    assert run.parameters and run.k_requested == "auto" and run.k_automatic
    board = staff.get(f"/verwaltung/analyse/laeufe/{run.id}").get_data(as_text=True)
    assert "Gruppen" in board and "Typische Ideen" in board
    # Suggestions change nothing on their own.
    assert idea(app, ideas["Mehr Stadtbäume pflanzen"]).sector_id is None


def test_clear_topics_end_up_in_their_own_clusters(app, staff, ideas):
    start(staff, k="3")
    run = latest_run(app)
    assert run.cluster_count == 3 and not run.k_automatic
    for items in TOPICS.values():
        numbers = {cluster_of(app, run.id, ideas[title]) for title, _text in items}
        assert len(numbers) == 1, items


def test_progress_is_reported_as_json(app, staff, ideas):
    start(staff)
    run = latest_run(app)
    data = staff.get(f"/verwaltung/analyse/laeufe/{run.id}/fortschritt").json
    assert data["status"] == "done" and data["progress"] == 100 and data["url"].endswith(str(run.id))


@pytest.mark.parametrize("data, message", [
    ({"k": "viele"}, "Die Zahl der Gruppen muss"),
    ({"k": "1"}, "Die Zahl der Gruppen muss"),
    ({"seed": "-4"}, "Startwert"),
    ({"sector": "raumfahrt"}, "Unbekanntes Handlungsfeld"),
    ({"q": "Kernfusion"}, "mindestens 2 Ideen"),
])
def test_bad_start_input_gets_a_message_and_starts_nothing(app, staff, ideas, data, message):
    response = start(staff, **data)
    assert response.status_code in (400, 409)
    assert message in response.get_data(as_text=True)
    assert latest_run(app) is None


def test_only_one_run_at_a_time_and_a_silent_one_counts_as_failed(app, staff, ideas):
    from datetime import timedelta

    from beteiligung.analysis.models import AnalysisRun
    from beteiligung.models import utcnow

    with app.app_context():
        stuck = AnalysisRun(status="running", code_version="x", heartbeat_at=utcnow() - timedelta(minutes=5))
        db.session.add(stuck)
        db.session.commit()
        stuck_id = stuck.id
    response = start(staff)
    assert response.status_code == 409 and "läuft bereits" in response.get_data(as_text=True)
    with app.app_context():
        db.session.get(AnalysisRun, stuck_id).heartbeat_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    assert start(staff).status_code == 302
    with app.app_context():
        assert db.session.get(AnalysisRun, stuck_id).status == "failed"


def test_a_failing_analysis_ends_as_failed_with_a_message(app, staff, ideas, monkeypatch):
    import analyse

    def broken(*args, **kwargs):
        raise RuntimeError("Speicher voll")

    monkeypatch.setattr(analyse, "analyse", broken)
    assert start(staff).status_code == 302
    run = latest_run(app)
    assert run.status == "failed" and "Speicher voll" in run.error
    page = staff.get(f"/verwaltung/analyse/laeufe/{run.id}").get_data(as_text=True)
    assert "Speicher voll" in page


def test_field_of_action_decisions_are_recorded_with_the_suggestion(app, staff, ideas):
    from beteiligung.analysis.models import AnalysisItem, TriageDecision
    from beteiligung.audit.models import AuditEntry

    start(staff, k="3")
    run = latest_run(app)
    tree, sun = ideas["Grünflächen erhalten"], ideas["Solaranlagen auf alle Dächer"]
    number = cluster_of(app, run.id, tree)
    with app.app_context():
        suggested = db.session.get(AnalysisItem, (run.id, tree)).sector_code
    assert suggested == "uebergreifend"
    response = post_form(staff, f"/verwaltung/analyse/laeufe/{run.id}/gruppen/{number}",
                         {"ids": [tree], f"sector-{tree}": "uebergreifend", "save_sectors": "1"})
    assert response.status_code == 302
    assert idea(app, tree).sector_confirmed
    # An override on the sector page.
    response = post_form(staff, f"/verwaltung/analyse/laeufe/{run.id}/handlungsfelder",
                         {"ids": [sun], f"sector-{sun}": "wohngebaeude", "save_sectors": "1"})
    assert response.status_code == 302
    with app.app_context():
        decisions = db.session.scalars(select(TriageDecision).order_by(TriageDecision.id)).all()
        assert [(d.idea_ids, d.decision["sector"], d.decision["accepted"]) for d in decisions] == [
            ([tree], "uebergreifend", True), ([sun], "wohngebaeude", False)]
        assert decisions[1].suggestion["sector"] == "energie" and decisions[1].actor_id is not None
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "triage.sector")
                                  .order_by(AuditEntry.id.desc()))
        assert entry.details["suggestion"]["sector"] == "energie" and entry.details["decision"]["sector"] == "wohngebaeude"
        assert entry.actor_id is not None and entry.created_at is not None


def test_sector_decision_needs_a_selection_and_a_valid_field(app, staff, ideas):
    start(staff, k="3")
    run = latest_run(app)
    tree = ideas["Mehr Stadtbäume pflanzen"]
    path = f"/verwaltung/analyse/laeufe/{run.id}/gruppen/{cluster_of(app, run.id, tree)}"
    response = post_form(staff, path, {"save_sectors": "1"})
    assert response.status_code == 400 and "mindestens eine Idee" in response.get_data(as_text=True)
    response = post_form(staff, path, {"ids": [tree], f"sector-{tree}": "<script>", "save_sectors": "1"})
    assert response.status_code == 400 and "gültiges Handlungsfeld" in response.get_data(as_text=True)
    other = ideas["Solaranlagen auf alle Dächer"]  # in the solar cluster, not the tree cluster
    response = post_form(staff, path, {"ids": [other], f"sector-{other}": "energie", "save_sectors": "1"})
    assert response.status_code == 400 and "gehören nicht zu dieser Auswahl" in response.get_data(as_text=True)
    assert not idea(app, tree).sector_confirmed


def test_a_measure_from_a_cluster_links_its_ideas_and_tells_their_authors(app, staff, client, ideas):
    from beteiligung.measures.models import IdeaMeasure, Measure
    from beteiligung.notifications.models import Notification

    start(staff, k="3")
    run = latest_run(app)
    titles = [title for title, _text in TOPICS["uebergreifend"]]
    number = cluster_of(app, run.id, ideas[titles[0]])
    page = staff.get(f"/verwaltung/analyse/laeufe/{run.id}/gruppen/{number}").get_data(as_text=True)
    assert "Neue Maßnahme" in page
    members = [ideas[title] for title in titles]
    response = post_form(staff, f"/verwaltung/analyse/laeufe/{run.id}/gruppen/{number}", {
        "ids": members, "title": "Stadtbäume pflanzen und Flächen entsiegeln", "sector": "uebergreifend",
        "description": "Jedes Jahr 500 neue Stadtbäume.", "reason": "Die Ideen verlangen mehr Bäume und weniger Asphalt.",
        "create": "1"})
    assert response.status_code == 302
    with app.app_context():
        measure = db.session.scalar(select(Measure))
        assert measure.number == "M-6.1" and measure.idea_count == 6
        links = db.session.scalars(select(IdeaMeasure)).all()
        assert {link.idea_id for link in links} == set(members)
        assert all(link.reason.startswith("Die Ideen verlangen") and link.decision_id for link in links)
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "idea.status")) == 6
        measure_id = measure.id
    assert idea(app, members[0]).status == "in_measure"
    public = client.get(f"/massnahmen/{measure_id}").get_data(as_text=True)
    assert "Aus der Beteiligung" in public and "Mehr Stadtbäume pflanzen" in public
    assert "Die Ideen verlangen mehr Bäume" in public
    assert "M-6.1" in client.get(f"/ideen/{members[0]}").get_data(as_text=True)
    assert "Stadtbäume pflanzen und Flächen entsiegeln" in client.get("/massnahmen/").get_data(as_text=True)
    # The same submit again creates no second measure.
    again = post_form(staff, f"/verwaltung/analyse/laeufe/{run.id}/gruppen/{number}", {
        "ids": members, "title": "Stadtbäume pflanzen und Flächen entsiegeln", "sector": "uebergreifend",
        "reason": "Nochmal.", "create": "1"})
    assert again.status_code == 400 and "gibt es bereits" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Measure.id))) == 1


def test_assigning_ideas_to_an_existing_measure_needs_a_reason(app, staff, ideas):
    from beteiligung.analysis.models import TriageDecision
    from beteiligung.ideas.services import find_sector
    from beteiligung.measures.models import IdeaMeasure
    from beteiligung.measures.services import create_measure

    with app.test_request_context():
        measure = create_measure(None, title="Solaroffensive", sector=find_sector("energie"),
                                 description="Photovoltaik auf Dächern, Balkonkraftwerke und Solarstrom")
        db.session.commit()
        measure_id = measure.id
    start(staff, k="3")
    run = latest_run(app)
    sun = ideas["Solaranlagen auf alle Dächer"]
    number = cluster_of(app, run.id, sun)
    page = staff.get(f"/verwaltung/analyse/laeufe/{run.id}/gruppen/{number}").get_data(as_text=True)
    assert "Solaroffensive – Vorschlag" in page  # the matching measure is offered first
    path = f"/verwaltung/analyse/laeufe/{run.id}/gruppen/{number}"
    response = post_form(staff, path, {"ids": [sun], "measure": str(measure_id), "reason": "  ", "assign": "1"})
    assert response.status_code == 400 and "begründen" in response.get_data(as_text=True)
    response = post_form(staff, path, {"ids": [sun], "measure": str(measure_id), "reason": "Passt.", "assign": "1"})
    assert response.status_code == 302
    with app.app_context():
        decision = db.session.scalar(select(TriageDecision).where(TriageDecision.kind == "measure_link"))
        assert decision.suggestion["measure_matches"][0]["id"] == measure_id
        assert db.session.scalar(select(IdeaMeasure.decision_id)) == decision.id


def test_merging_duplicates_keeps_both_visible_and_the_supporters(app, staff, client, make_idea, make_user, users):
    from beteiligung.analysis.models import DuplicateGroup
    from beteiligung.auth.models import User
    from beteiligung.ideas import services
    from beteiligung.ideas.models import Idea

    text = "Am Holzmarkt fehlen Fahrradbügel, alle Räder stehen an den Laternen und Bäumen angeschlossen."
    first = make_idea(title="Fahrradbügel am Holzmarkt", text=text, author=make_user())
    second = make_idea(title="Fahrradbügel am Holzmarkt aufstellen", text=text + " Bitte schnell.",
                       author=make_user())
    for title, body in TOPICS["energie"]:
        make_idea(title=title, text=body, author=make_user())
    both, only_second = make_user(), make_user()
    with app.test_request_context():
        for supporter, idea_ids in ((both, [first, second]), (only_second, [second])):
            for idea_id in idea_ids:
                services.add_support(db.session.get(Idea, idea_id), db.session.get(User, supporter.id))
        db.session.commit()
    start(staff)
    run = latest_run(app)
    with app.app_context():
        group = db.session.scalar(select(DuplicateGroup).where(DuplicateGroup.run_id == run.id))
        assert group is not None and set(group.idea_ids) == {first, second}
        group_id = group.id
    page = staff.get(f"/verwaltung/analyse/laeufe/{run.id}/duplikate").get_data(as_text=True)
    assert "Fahrradbügel am Holzmarkt" in page
    response = post_form(staff, f"/verwaltung/analyse/laeufe/{run.id}/duplikate/{group_id}", {
        f"g{group_id}-target": str(first), f"g{group_id}-merge": [str(first), str(second)],
        f"g{group_id}-answer": "Gleiche Idee.", f"g{group_id}-submit": "1"})
    assert response.status_code == 400 and "mit sich selbst" in response.get_data(as_text=True)
    assert idea(app, second).status != "merged"
    response = post_form(staff, f"/verwaltung/analyse/laeufe/{run.id}/duplikate/{group_id}", {
        f"g{group_id}-target": str(first), f"g{group_id}-merge": [str(second)],
        f"g{group_id}-answer": "Gleiche Idee, wir führen sie zusammen.", f"g{group_id}-submit": "1"})
    assert response.status_code == 302
    merged, target = idea(app, second), idea(app, first)
    assert merged.status == "merged" and merged.merged_into_id == first
    assert target.support_count == 2  # `both` once, `only_second` moved over
    assert client.get(f"/ideen/{second}").status_code == 200
    assert "Fahrradbügel am Holzmarkt aufstellen" in client.get(f"/ideen/{first}").get_data(as_text=True)
    again = post_form(staff, f"/verwaltung/analyse/laeufe/{run.id}/duplikate/{group_id}", {
        f"g{group_id}-target": str(first), f"g{group_id}-merge": [str(second)],
        f"g{group_id}-answer": "Nochmal", f"g{group_id}-submit": "1"}, follow_redirects=True)
    assert "bereits entschieden" in again.get_data(as_text=True)


def test_the_nightly_job_adds_new_ideas_to_the_last_run(app, staff, ideas, make_idea, make_user):
    from beteiligung.analysis import runner
    from beteiligung.analysis.models import AnalysisItem

    with app.test_request_context():
        assert runner.analyse_new_ideas().kind == "full"  # no run yet: a first full run
        assert runner.analyse_new_ideas() is None  # nothing new
    base = latest_run(app)
    new = make_idea(title="Noch ein Radweg nach Lobeda", text="Ein sicherer Radweg für Radfahrer nach Lobeda.",
                    author=make_user())
    with app.test_request_context():
        run = runner.analyse_new_ideas()
        assert run.kind == "incremental" and run.based_on_id == base.id and run.status == "done"
        items = {item.idea_id: item for item in db.session.scalars(
            select(AnalysisItem).where(AnalysisItem.run_id == run.id))}
    assert items[new].is_new and not items[ideas["Sichere Radwege an der Saale"]].is_new
    for idea_id in ideas.values():
        assert items[idea_id].cluster_number == cluster_of(app, base.id, idea_id)
    assert items[new].cluster_number == cluster_of(app, base.id, ideas["Radweg nach Lobeda ausbauen"])


def test_runs_can_be_compared(app, staff, ideas):
    start(staff, k="3")
    first = latest_run(app)
    start(staff, k="3", seed="7")
    second = latest_run(app)
    page = staff.get(f"/verwaltung/analyse/vergleich?a={first.id}&b={second.id}").get_data(as_text=True)
    assert "NMI" in page and "Gemeinsame Ideen" in page


def test_user_text_on_the_board_is_escaped(app, staff, make_idea, make_user):
    for n in range(4):
        make_idea(title=f"<script>alert({n})</script> Radweg", text="<img src=x onerror=alert(1)> Radweg Radwege",
                  author=make_user())
    start(staff)
    run = latest_run(app)
    for path in (f"/verwaltung/analyse/laeufe/{run.id}", f"/verwaltung/analyse/laeufe/{run.id}/handlungsfelder?zeigen=alle"):
        page = staff.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page


def test_the_demo_comes_with_a_finished_run_over_its_ideas(app, client, demo):
    """The shared demo (tests/conftest.py) is loaded with its analysis run, as in production."""
    from beteiligung.auth.models import User

    run = latest_run(app)
    assert run.status == "done" and run.idea_count > 800 and 15 <= run.cluster_count <= 60
    # Staff answered ideas in the demo, which confirmed their fields: enough to train on.
    assert run.classifier_trained and run.classifier_training_size >= 30 and run.classifier_accuracy > 0.5
    with app.app_context():
        demo_staff = db.session.scalar(select(User).where(User.email == "verwaltung@beteiligung.example.org"))
    staff = login_as(client, demo_staff)
    board = staff.get(f"/verwaltung/analyse/laeufe/{run.id}").get_data(as_text=True)
    assert "kreuzvalidierte Trefferquote" in board and board.count('class="card cluster-card"') == run.cluster_count
