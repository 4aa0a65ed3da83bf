"""The demo climate action plan: about 40 sheets of our own, written through save_sheet and
linked to the demo ideas of their topics without sending a single notification."""
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select

from beteiligung import demo as demo_module
from beteiligung.extensions import db
from beteiligung.ideas.demo import demo_topics, labelled_demo_ideas
from beteiligung.measures import demo as measure_demo
from beteiligung.measures.demo import DEMO_DIR, parse, read_demo_measures

OWN_FILE = "energie_gebaeude_wirtschaft.txt"
OTHER_FILE = "mobilitaet_verwaltung_uebergreifend.txt"
OWN_SECTORS = {"energie", "wohngebaeude", "unternehmen"}
NUMBER = re.compile(r"^M-(\d+)\.(\d+)$")
REFERENCE = re.compile(r"\bM-\d+\.\d+\b")

MINIMAL = """### fernwaerme
Titel: Eine Maßnahme
Typ: technisch
Priorität: hoch
Beschreibung: Text
Status: geplant
Begründung: Weil.
"""


def both_files():
    return (DEMO_DIR / OTHER_FILE).exists()


# --- the files -----------------------------------------------------------------------------------

def test_demo_files_parse_into_varied_complete_sheets():
    measures = read_demo_measures()
    own = [m for m in measures if m.source.startswith(OWN_FILE)]
    assert 15 <= len(own) <= 20
    assert {m.raw["sector"] for m in own} == OWN_SECTORS
    others = [m for m in measures if not m.source.startswith(OWN_FILE)]
    assert not {m.raw["sector"] for m in others} & OWN_SECTORS  # numbering stays independent per file
    assert len({m.title.lower() for m in measures}) == len(measures)
    assert all(m.reason and m.raw.get("description") and m.raw.get("goal") for m in measures)
    assert len({m.reason for m in measures}) == len(measures)  # written one by one, not templated
    methods = Counter(m.raw.get("savings_method") for m in own)
    assert 0.25 <= methods["carriers"] / len(own) <= 0.45
    assert all(m.energy for m in own if m.raw.get("savings_method") == "carriers")


def test_plan_has_35_to_45_measures_once_both_files_exist():
    if not both_files():
        pytest.skip(f"{OTHER_FILE} is not there yet")
    assert 35 <= len(read_demo_measures()) <= 45


def test_every_topic_is_covered_by_a_measure():
    covered = {topic for m in read_demo_measures() for topic in m.topics}
    topics = demo_topics()
    wanted = set(topics) if both_files() else {code for code, (_n, sector) in topics.items() if sector in OWN_SECTORS}
    assert wanted - covered == set()


def test_long_texts_wrap_with_paragraphs_and_lists():
    text = MINIMAL.replace("Beschreibung: Text\n", (
        "Beschreibung: Erste Zeile\n"
        "  weiter im Satz.\n"
        "  \n"
        "  Schritte:\n"
        "  - eins\n"
        "    mit Umbruch\n"
        "  - zwei\n"
        "\n"
        "  Schluss.\n"
        "# Kommentar\n"))
    measure = parse(text, "x.txt")[0]
    assert measure.raw["description"] == "Erste Zeile weiter im Satz.\n\nSchritte:\n- eins mit Umbruch\n- zwei\n\nSchluss."
    assert measure.raw["sector"] == "energie" and measure.topics == ["fernwaerme"]


def test_parts_of_a_sheet_are_read():
    text = MINIMAL + (
        "Energie: erdgas 4.000; heizoel 600; strom -1.100,5\n"
        "Meilenstein: 31.03.2024 | Start | erledigt 02.04.2024\n"
        "Meilenstein: 31.12.2027 | Ende\n"
        "Indikator: Anlagen | Anzahl | Basis 1.200 (2022) | Ziel 0,5 | Ist 2023=10; 2024=1.300\n"
        "Laufzeit: mittelfristig\n")
    measure = parse(text, "x.txt")[0]
    assert measure.raw["savings_method"] == "carriers"
    assert measure.energy == [("erdgas", Decimal(4000)), ("heizoel", Decimal(600)), ("strom", Decimal("-1100.5"))]
    assert [(m.title, m.due_on.year, m.done_on and m.done_on.day) for m in measure.milestones] == [
        ("Start", 2024, 2), ("Ende", 2027, None)]
    indicator = measure.indicators[0]
    assert (indicator.baseline_value, indicator.baseline_year) == (Decimal(1200), 2022)
    assert (indicator.target_value, indicator.target_year) == (Decimal("0.5"), None)
    assert indicator.values == [(2023, Decimal(10), ""), (2024, Decimal(1300), "")]
    assert measure.raw["duration"] == "medium"


@pytest.mark.parametrize("change, line, message", [
    (("Typ: technisch\n", "Typ: technisch\nFarbe: blau\n"), 4, "Schlüssel: Wert"),
    (("Titel: Eine Maßnahme\n", "Titel: Eine Maßnahme\nTitel: Noch einmal\n"), 3, "doppelt"),
    (("### fernwaerme", "### fernwaerme, gibtsnicht"), 1, "unbekannte Themen"),
    (("Begründung: Weil.\n", ""), 1, "Begründung"),
    (("Status: geplant\n", "Status: geplant\nEnergie: erdgas viel\n"), 7, "Energieträger"),
    (("Status: geplant\n", "Status: geplant\nEnergie: kernkraft 10\n"), 7, "kernkraft"),
    (("Status: geplant\n", "Status: geplant\nEinsparung: 12\n"), 7, "Einsparung"),
    (("Status: geplant\n", "Status: geplant\nEinsparung: 1; 2\nEnergie: strom 1\n"), 1, "nicht beides"),
    (("Status: geplant\n", "Status: geplant\nMeilenstein: 2024 | Start\n"), 7, "TT.MM.JJJJ"),
    (("Status: geplant\n", "Status: geplant\nMeilenstein: 01.01.2024 | Start | fertig\n"), 7, "erledigt"),
    (("Status: geplant\n", "Status: geplant\nIndikator: Anlagen | Stück | Basis viele\n"), 7, "Zahl"),
    (("Status: geplant\n", "Status: geplant\nIndikator: Anlagen | Stück | Ist 2023:5\n"), 7, "Ist"),
    (("### fernwaerme\n", "Titel: davor\n### fernwaerme\n"), 1, "vor der ersten"),
    (("Typ: technisch\n", "  eingerückt\nTyp: technisch\n"), 3, None),
    (("Status: geplant\n", "Status: geplant\nLaufzeit: ewig\n"), 7, "Laufzeit"),
])
def test_format_errors_name_file_and_line(change, line, message):
    old, new = change
    text = MINIMAL.replace(old, new, 1)
    if line == 3 and message is None:  # a continuation line is fine after a key
        assert parse(text, "x.txt")[0].raw["title"] == "Eine Maßnahme eingerückt"
        return
    with pytest.raises(ValueError) as error:
        parse(text, "x.txt")
    assert str(error.value).startswith(f"x.txt:{line}: ")
    assert message in str(error.value)


def test_sheet_errors_of_the_demo_name_the_measure(ctx):
    from beteiligung.ideas.services import ensure_default_sectors

    ensure_default_sectors()
    item = parse(MINIMAL.replace("Status: geplant", "Status: geplant\nFortschritt: 140"), "x.txt")[0]
    with pytest.raises(ValueError) as error:
        measure_demo.save_demo_measure(item, None)
    assert str(error.value).startswith("x.txt:1: 'Eine Maßnahme': progress: ") and "Fortschritt" in str(error.value)


# --- the loaded demo (the shared load of tests/conftest.py) ---------------------------------------

@pytest.fixture(scope="module")
def plan(app, demo):
    """Plain data about the shared demo, read once for this module."""
    from beteiligung.ideas.models import Idea, StatusChange
    from beteiligung.mail.models import OutboxMessage
    from beteiligung.measures.models import IdeaMeasure, Measure
    from beteiligung.notifications.models import Notification

    demo.ensure_loaded()  # module fixtures start before _clean, which loads it for each test
    added = demo.added_by(measure_demo.load_demo_measures)
    with app.test_request_context():
        measures = db.session.scalars(select(Measure).order_by(Measure.id)).all()
        topic_of = {(r["title"][:120], r["text"][:5000] or r["title"]): r["topic"] for r in labelled_demo_ideas()}
        ideas = {idea.id: {"topic": topic_of.get((idea.title, idea.text)), "status": idea.status,
                           "hidden": idea.hidden_at is not None, "created_at": idea.created_at}
                 for idea in db.session.scalars(select(Idea))}
        changes = db.session.execute(select(StatusChange.idea_id, StatusChange.old_status, StatusChange.new_status,
                                            StatusChange.answer, StatusChange.actor_id)).all()
        links = db.session.execute(select(IdeaMeasure.idea_id, IdeaMeasure.measure_id, IdeaMeasure.reason,
                                          IdeaMeasure.decision_id, IdeaMeasure.linked_by_id)).all()
        return {
            "messages_added": (added[Notification.__tablename__], added[OutboxMessage.__tablename__]),
            "measures_added": added[Measure.__tablename__],
            "measures": [{
                "id": m.id, "number": m.number, "title": m.title, "sector": m.sector.code,
                "position": m.sector.position, "status": m.status, "progress": m.progress,
                "adopted_on": m.adopted_on, "idea_count": m.idea_count, "method": m.savings_method,
                "mwh": m.savings_mwh_per_year, "t": m.savings_t_co2e_per_year,
                "energy": [(e.carrier, e.mwh_per_year) for e in m.energy_savings],
                "milestones": [(ms.due_on, ms.done_on) for ms in m.milestones],
                "indicators": [{v.year for v in i.values} for i in m.indicators],
                "texts": " ".join([m.goal, m.starting_situation, m.description, m.savings_note, m.funding,
                                   m.co_benefits, m.obstacles]),
                "lead_unit": m.lead_unit, "created_by_id": m.created_by_id,
            } for m in measures],
            "ideas": ideas, "changes": changes, "links": links,
            "staff_id": db.session.scalar(select(demo_module.User.id).where(
                demo_module.User.email == demo_module.DEMO_LOGINS[1][0])),
        }


def test_every_parsed_measure_is_a_saved_sheet(plan):
    parsed = read_demo_measures()
    measures = plan["measures"]
    assert [m["title"] for m in measures] == [item.title for item in parsed]
    assert all(m["lead_unit"] and m["created_by_id"] for m in measures)


def test_numbers_are_unique_per_field_of_action(plan):
    numbers = [m["number"] for m in plan["measures"]]
    assert len(set(numbers)) == len(numbers)
    serials = defaultdict(list)
    for m in plan["measures"]:
        match = NUMBER.match(m["number"])
        assert match and int(match[1]) == m["position"]
        serials[m["sector"]].append(int(match[2]))
    assert all(found == list(range(1, len(found) + 1)) for found in serials.values())


def test_references_between_sheets_point_to_existing_measures(plan):
    numbers = {m["number"] for m in plan["measures"]}
    mentioned = {ref for m in plan["measures"] for ref in REFERENCE.findall(m["texts"])}
    if not both_files():
        mentioned = {ref for ref in mentioned if ref.split(".")[0] in {"M-1", "M-2", "M-5"}}
    assert mentioned - numbers == set()


def test_a_plan_in_the_middle_of_its_work(plan):
    statuses = Counter(m["status"] for m in plan["measures"])
    assert statuses["planned"] > statuses["in_progress"] >= 3
    assert 1 <= statuses["done"] <= (6 if both_files() else 3) and statuses["deferred"] >= 1
    for m in plan["measures"]:
        if m["status"] == "done":
            assert m["progress"] == 100 and all(done for _due, done in m["milestones"])
        if m["status"] in ("in_progress", "done"):
            assert m["adopted_on"] and any(done for _due, done in m["milestones"])
        if m["adopted_on"]:  # monitoring since the decision
            assert m["indicators"] and all({2023, 2024, 2025} <= years for years in m["indicators"])


def test_savings_are_plausible_and_consistent(plan):
    for m in plan["measures"]:
        if m["method"] == "carriers":
            assert m["energy"] and m["mwh"] == sum(amount for _c, amount in m["energy"])
        elif m["mwh"]:
            assert m["t"] is not None and Decimal("0.05") <= m["t"] / m["mwh"] <= Decimal("0.45")
    own = [m for m in plan["measures"] if m["sector"] in OWN_SECTORS]
    direct = sum(m["t"] for m in own if m["method"] == "direct" and m["t"] is not None)
    assert 80_000 <= direct <= 250_000  # the city emits about 750,000 t a year


def test_most_measures_carry_the_ideas_of_their_topics(plan):
    measures = {m["id"]: m for m in plan["measures"]}
    parsed = {item.title: item for item in read_demo_measures()}
    links = plan["links"]
    per_measure = Counter(link.measure_id for link in links)
    assert all(m["idea_count"] == per_measure[m["id"]] for m in measures.values())
    assert sum(1 for m in measures.values() if m["idea_count"]) >= 0.9 * len(measures)
    for link in links:
        idea = plan["ideas"][link.idea_id]
        measure = measures[link.measure_id]
        assert idea["topic"] in parsed[measure["title"]].topics
        assert not idea["hidden"] and idea["status"] not in ("not_feasible", "out_of_scope", "merged")
        assert link.reason == parsed[measure["title"]].reason
        assert link.decision_id is None and link.linked_by_id == plan["staff_id"]


def test_linked_ideas_got_an_answer_and_the_newest_wait_for_triage(plan):
    ideas, linked = plan["ideas"], {link.idea_id for link in plan["links"]}
    by_step = {c.idea_id: c for c in plan["changes"]
               if c.new_status == "in_measure" and (c.answer or "").startswith("Ihre Idee fließt in die Maßnahme M-")}
    assert len(linked) >= (400 if both_files() else 150)
    assert set(by_step) <= linked
    assert all(ideas[i]["status"] not in ("submitted", "in_review") for i in linked)
    assert all(c.old_status in ("submitted", "in_review") and c.actor_id == plan["staff_id"] for c in by_step.values())
    topics = {code for m in read_demo_measures() for code in m.topics}
    waiting, moved = defaultdict(list), defaultdict(list)
    for idea_id, idea in ideas.items():
        if idea["topic"] in topics and not idea["hidden"]:
            if idea["status"] == "submitted":
                waiting[idea["topic"]].append(idea["created_at"])
            elif idea_id in by_step and by_step[idea_id].old_status == "submitted":
                moved[idea["topic"]].append(idea["created_at"])
    left, total = sum(map(len, waiting.values())), sum(map(len, waiting.values())) + sum(map(len, moved.values()))
    assert 0.2 <= left / total <= 0.3  # about a quarter stays for the triage workspace ...
    for topic, dates in waiting.items():  # ... and it is the newest of each topic
        assert not moved[topic] or min(dates) >= max(moved[topic])


def test_the_measure_step_sends_no_notifications(plan):
    assert plan["measures_added"] == len(plan["measures"]) > 0  # the step counted is the measure step
    assert plan["messages_added"] == (0, 0)


WORD = re.compile(r"\w{5,}")


def test_answers_of_demo_ideas_name_the_right_measures(plan):
    """An answer that names a measure ("Maßnahme M-1.2 „Titel“") must point to the sheet meant."""
    from beteiligung.ideas.demo import read_demo_ideas

    by_number = {m["number"]: m for m in plan["measures"]}
    topics = {item.title: item.topics for item in read_demo_measures()}
    wrong = []
    for row, idea in zip(labelled_demo_ideas(), read_demo_ideas()):
        for match in re.finditer(r"\b([A-Z]-\d+\.\d+)\b\)?\.?\s*(„([^“]+)“)?", idea.answer or ""):
            measure = by_number.get(match[1])
            quoted = set(WORD.findall((match[3] or "").lower()))
            fits = measure is not None and (
                quoted & set(WORD.findall(measure["title"].lower())) if quoted
                else row["topic"] in topics[measure["title"]])
            if not fits:
                wrong.append(f"{row['id']}: {match[0]}")
    assert wrong == []
