"""The measure plan in the JSON API: the list with filters and pages, one sheet, errors, the OpenAPI document."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from openapi_spec_validator import validate

from beteiligung.auth.models import User
from beteiligung.extensions import db
from beteiligung.ideas import services as idea_services
from beteiligung.ideas.models import Idea
from beteiligung.measures.models import Measure
from beteiligung.measures.services import Indicator, Milestone, link_ideas, save_sheet

from .test_measures_public import PLAN

REQUIRED = {"id", "number", "title", "sector", "sector_name", "status", "progress", "savings_t_co2e_per_year",
            "savings_mwh_per_year", "costs", "ideas", "url"}


@pytest.fixture
def plan(app, idea_setup):
    """The three measures of the public tests: {title: id}."""
    made = {}
    with app.test_request_context():
        for raw in PLAN:
            made[raw["title"]] = save_sheet(None, None, raw).id
        db.session.commit()
    return made


@pytest.fixture
def staff_do(app, users):
    def run(function):
        with app.test_request_context():
            result = function(db.session.get(User, users["staff"].id))
            db.session.commit()
            return result

    return run


def items(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["items"]


def test_list_has_the_promised_keys_and_types(client, plan):
    response = client.get("/api/v1/measures")
    assert response.mimetype == "application/json"
    body = response.json
    assert (body["total"], body["page"], body["per_page"]) == (3, 1, 20)
    first = body["items"][0]
    assert REQUIRED <= set(first)
    assert [item["number"] for item in body["items"]] == ["M-4.1", "M-4.2", "M-5.1"]
    assert first["title"] == "Radverkehrsnetz lückenlos ausbauen"
    assert (first["sector"], first["sector_name"]) == ("mobilitaet", "Mobilität")
    assert (first["status"], first["status_label"], first["progress"]) == ("in_progress", "in Umsetzung", 40)
    assert first["savings_t_co2e_per_year"] == 120.5 and isinstance(first["savings_t_co2e_per_year"], float)
    assert first["savings_mwh_per_year"] == 400.0 and isinstance(first["savings_mwh_per_year"], float)
    assert first["costs"] == {"one_off_eur": 1000000.0, "per_year_eur": 50000.0, "staff_fte": 1.5}
    assert all(isinstance(value, float) for value in first["costs"].values())
    assert (first["type"], first["type_label"], first["priority"], first["priority_label"]) == (
        "technical", "technisch", "high", "hoch")
    assert first["savings_method"] == "direct" and first["ideas"] == []
    assert first["url"] == f"http://localhost/massnahmen/{first['id']}"
    assert datetime.fromisoformat(first["updated_at"]).tzinfo is not None
    second = body["items"][1]
    assert second["costs"] == {"one_off_eur": None, "per_year_eur": 20000.0, "staff_fte": 0.5}
    assert second["start_year"] is None and second["adopted_on"] is None


def test_list_names_only_visible_linked_ideas(client, plan, make_idea, staff_do):
    ideas = [make_idea(title=f"Radidee {n}") for n in range(3)]
    measure_id = plan["Radverkehrsnetz lückenlos ausbauen"]
    staff_do(lambda staff: link_ideas(db.session.get(Measure, measure_id),
                                      [db.session.get(Idea, idea_id) for idea_id in ideas], staff, "Passt."))
    staff_do(lambda staff: idea_services.hide(db.session.get(Idea, ideas[1]), staff, "Beleidigend"))
    by_id = {item["id"]: item for item in items(client.get("/api/v1/measures"))}
    assert by_id[measure_id]["ideas"] == [ideas[0], ideas[2]]
    assert client.get(f"/api/v1/measures/{measure_id}").json["ideas"] == [ideas[0], ideas[2]]


@pytest.mark.parametrize("query, numbers", [
    ("sector=mobilitaet", ["M-4.1", "M-4.2"]),
    ("sector=Energieversorgung", ["M-5.1"]),
    ("status=done", ["M-5.1"]),
    ("priority=medium", ["M-4.2"]),
    ("type=technical", ["M-4.1", "M-5.1"]),
    ("sector=mobilitaet&type=technical&priority=high&status=in_progress", ["M-4.1"]),
    ("sector=wohngebaeude", []),
])
def test_list_filters(client, plan, query, numbers):
    assert [item["number"] for item in items(client.get("/api/v1/measures?" + query))] == numbers


@pytest.mark.parametrize("query, field", [
    ("sector=nirgendwo", "sector"),
    ("status=erledigt", "status"),
    ("priority=dringend", "priority"),
    ("type=sonstiges", "type"),
    ("status=erledigt&sector=nirgendwo", "sector"),
])
def test_unknown_filter_values_are_422(client, plan, query, field):
    response = client.get("/api/v1/measures?" + query)
    assert response.status_code == 422 and response.is_json
    assert response.json["field"] == field and response.json["status"] == 422
    assert response.json["message"].startswith("Unbekannt") and field in response.json["errors"]


def test_list_pages(client, plan):
    first = client.get("/api/v1/measures?per_page=2").json
    assert (first["total"], first["page"], first["per_page"], len(first["items"])) == (3, 1, 2, 2)
    second = client.get("/api/v1/measures?per_page=2&page=2").json
    assert [item["number"] for item in second["items"]] == ["M-5.1"]
    assert client.get("/api/v1/measures?page=9").json["items"] == []
    assert client.get("/api/v1/measures?per_page=500").json["per_page"] == 100
    for bad in ("page=0", "per_page=abc"):
        response = client.get("/api/v1/measures?" + bad)
        assert response.status_code == 422 and response.is_json


def test_list_query_count_does_not_grow_with_rows(app, client, plan, make_idea, staff_do, count_queries):
    client.get("/api/v1/measures")
    with count_queries() as few:
        assert client.get("/api/v1/measures").status_code == 200
    ideas = [make_idea(title=f"Idee zur Verwaltung {n}") for n in range(3)]
    with app.test_request_context():
        from beteiligung.ideas.services import find_sector

        for n in range(12):
            measure = save_sheet(None, None, {"title": f"Verwaltungsmaßnahme {n}", "sector": find_sector("verwaltung"),
                                              "savings_t_co2e_per_year": str(n)})
            link_ideas(measure, [db.session.get(Idea, idea_id) for idea_id in ideas], None, "Passt.")
        db.session.commit()
    with count_queries() as many:
        body = client.get("/api/v1/measures").json
    assert body["total"] == 15 and all(len(item["ideas"]) == 3 for item in body["items"][:12])
    assert many.n == few.n <= 4, many.statements


def test_detail_adds_milestones_indicators_and_energy(client, app, idea_setup, make_idea, staff_do):
    with app.test_request_context():
        measure = save_sheet(None, None, {
            "title": "Wärmepumpen im Quartier", "sector": "wohngebaeude", "savings_method": "carriers",
            "description": "<script>alert(1)</script>", "start_year": "2025", "lead_unit": "Klimaschutzmanagement"},
            energy=[("erdgas", Decimal("800")), ("strom", Decimal("-200"))],
            milestones=[Milestone("Quartierskonzept", due_on=date(2025, 6, 30), done_on=date(2025, 6, 1))],
            indicators=[Indicator("Wärmepumpen", "Stück", baseline_value=Decimal(10), baseline_year=2024,
                                  target_value=Decimal(300), target_year=2030,
                                  values=[(2025, Decimal("42.5"), "Zählung")])])
        db.session.commit()
        measure_id = measure.id
    workshop = make_idea(title="Werkstattidee Wärme", source="workshop", event_name="Werkstatt Wärme", dot_votes=4)
    staff_do(lambda staff: link_ideas(db.session.get(Measure, measure_id), [db.session.get(Idea, workshop)], staff,
                                      "Passt."))
    response = client.get(f"/api/v1/measures/{measure_id}")
    assert response.status_code == 200
    data = response.json
    assert REQUIRED <= set(data)
    assert data["description"] == "<script>alert(1)</script>"  # as entered; JSON, not HTML
    assert (data["start_year"], data["lead_unit"], data["savings_method"]) == (2025, "Klimaschutzmanagement",
                                                                              "carriers")
    assert data["savings_mwh_per_year"] == 600.0
    assert data["energy_savings"] == [{"carrier": "erdgas", "carrier_name": "Erdgas", "mwh_per_year": 800.0},
                                      {"carrier": "strom", "carrier_name": "Strom", "mwh_per_year": -200.0}]
    assert data["milestones"] == [{"title": "Quartierskonzept", "due_on": "2025-06-30", "done_on": "2025-06-01",
                                   "done": True}]
    assert data["indicators"] == [{"name": "Wärmepumpen", "unit": "Stück", "baseline_value": 10.0,
                                   "baseline_year": 2024, "target_value": 300.0, "target_year": 2030,
                                   "values": [{"year": 2025, "value": 42.5, "note": "Zählung"}]}]
    assert data["events"] == [{"source": "workshop", "source_label": "Themen-Werkstatt",
                               "event_name": "Werkstatt Wärme", "ideas": 1, "dot_votes": 4}]
    assert data["ideas"] == [workshop] and data["savings_explanation"]


def test_detail_of_a_missing_measure_is_a_json_404(client, idea_setup):
    response = client.get("/api/v1/measures/999999")
    assert response.status_code == 404 and response.is_json
    assert response.json == {"message": "Diese Maßnahme gibt es nicht.", "status": 404}


def test_openapi_documents_the_measure_resources(client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    assert set(spec["paths"]["/measures"]) == {"get"}
    assert set(spec["paths"]["/measures/{measure_id}"]) == {"get"}
    names = {parameter["name"] for parameter in spec["paths"]["/measures"]["get"]["parameters"]}
    assert {"sector", "status", "priority", "type", "page", "per_page"} <= names
    assert {"200", "404"} <= set(spec["paths"]["/measures/{measure_id}"]["get"]["responses"])
    assert REQUIRED <= set(spec["components"]["schemas"]["Measure"]["required"])
