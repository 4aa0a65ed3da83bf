"""The balance in the JSON API: the published balances, one balance with exactly the keys of
`python -m analyse balance --json`, and the scenario (hand-calculated: tests/balance_data.py)."""
import json

import pytest
from jsonschema import Draft202012Validator

from analyse import cli
from beteiligung.extensions import db
from beteiligung.measures.models import Measure

from .balance_data import (DATA, NOTE, SAVINGS_2035, make_balance, make_scenario, transport_trend_2035,
                           trend_2035)

CLI_KEYS = {"year", "population", "total_t_co2e", "per_capita_t_co2e", "final_energy_mwh", "quality_index",
            "by_sector", "by_carrier", "rows", "by_sector_mwh", "by_carrier_mwh", "quality_ungraded_mwh",
            "factors_used", "options", "adjustments"}


@pytest.fixture
def balances(app):
    """2021 and 2022 published, 2023 not."""
    with app.app_context():
        make_balance(2021)
        make_balance(2022, with_factors=False)  # diesel 0.32 from 2022: 69,450 - 300 t
        make_balance(2023, published=False, with_factors=False)


@pytest.fixture
def scenario(app):
    with app.app_context():
        make_balance(2021)
        make_scenario()


@pytest.fixture
def schemas(client):
    return client.get("/api/v1/openapi.json").json["components"]["schemas"]


def assert_valid(data, schema):
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=str)
    assert errors == [], errors[:3]


# --- balances ----------------------------------------------------------------------------------------------

def test_the_list_has_the_published_balances_newest_first(client, balances, schemas):
    response = client.get("/api/v1/balances")
    assert response.status_code == 200
    page = response.json
    assert (page["total"], page["page"]) == (2, 1)
    assert [item["year"] for item in page["items"]] == [2022, 2021]
    newest, older = page["items"]
    assert set(newest) == {"year", "population", "total_t_co2e", "per_capita_t_co2e", "final_energy_mwh",
                           "quality_index", "url", "html_url"}
    assert older["total_t_co2e"] == pytest.approx(69450, rel=1e-9)
    assert older["per_capita_t_co2e"] == pytest.approx(5.556, rel=1e-9)
    assert older["final_energy_mwh"] == pytest.approx(221160, rel=1e-9)
    assert older["quality_index"] == pytest.approx(136815 / 221160, rel=1e-9)
    assert older["population"] == 12500
    assert newest["total_t_co2e"] == pytest.approx(69150, rel=1e-9)
    assert older["url"] == "http://localhost/api/v1/balances/2021"
    assert older["html_url"] == "http://localhost/bilanz/2021"
    assert_valid(newest, schemas["BalanceSummary"])
    assert client.get("/api/v1/balances?per_page=1&page=2").json["items"][0]["year"] == 2021


def test_the_detail_is_the_stored_result_with_the_cli_keys(client, balances, schemas):
    data = client.get("/api/v1/balances/2021").json
    assert set(data) == CLI_KEYS | {"computed_at", "note"}
    assert data["year"] == 2021 and data["population"] == 12500
    assert data["total_t_co2e"] == pytest.approx(69450, rel=1e-9)
    assert data["by_sector"] == pytest.approx({"private_haushalte": 22320, "ghd": 8940, "industrie": 17540,
                                               "kommunale_einrichtungen": 2010, "verkehr": 18640}, rel=1e-9)
    assert data["by_carrier"]["strom"] == pytest.approx(22656, rel=1e-9)
    assert len(data["rows"]) == 23
    ghd_strom = next(row for row in data["rows"] if (row["sector"], row["carrier"]) == ("ghd", "strom"))
    assert ghd_strom == pytest.approx({"sector": "ghd", "carrier": "strom", "mwh": 9800, "t_co2e": 4704,
                                       "reported_mwh": 12000, "factor_t_co2e_per_mwh": 0.48, "quality": "A"})
    assert data["options"] == {"heat_pump_apf": 3.2, "heat_pump_power_in_electricity": True,
                               "municipal_in_ghd": True}
    assert data["note"] == NOTE  # JSON carries the text as entered; pages escape it
    assert data["computed_at"].endswith("+00:00")
    assert_valid(data, schemas["Balance"])


def test_the_detail_equals_the_command_line_for_the_same_data(client, balances, capsys):
    capsys.readouterr()
    assert cli.main(["balance", str(DATA / "beispielhausen-2021.csv"), "--factors", str(DATA / "faktoren.csv"),
                     "--year", "2021", "--population", "12500", "--municipal-in-ghd", "--json"]) == 0
    computed = json.loads(capsys.readouterr().out)
    stored = client.get("/api/v1/balances/2021").json
    assert set(computed) == CLI_KEYS == set(stored) - {"computed_at", "note"}
    assert (stored["year"], stored["population"]) == (computed["year"], computed["population"])
    for key in ("total_t_co2e", "per_capita_t_co2e", "final_energy_mwh", "quality_index", "quality_ungraded_mwh",
                "by_sector", "by_carrier", "by_sector_mwh", "by_carrier_mwh"):
        assert stored[key] == pytest.approx(computed[key], rel=1e-9), key
    assert stored["options"] == computed["options"]
    assert [set(row) for row in stored["rows"]] == [set(row) for row in computed["rows"]]
    for mine, theirs in zip(stored["rows"], computed["rows"], strict=True):
        assert mine == pytest.approx(theirs, rel=1e-9)
    assert stored["adjustments"] == pytest.approx(computed["adjustments"], rel=1e-9)
    assert set(stored["factors_used"]) == set(computed["factors_used"])
    for carrier, used in computed["factors_used"].items():
        assert stored["factors_used"][carrier]["t_co2e_per_mwh"] == pytest.approx(used["t_co2e_per_mwh"], rel=1e-9)


@pytest.mark.parametrize("year", [2023, 1999])
def test_unknown_or_unpublished_years_are_404_in_german(client, balances, year):
    response = client.get(f"/api/v1/balances/{year}")
    assert response.status_code == 404 and response.is_json
    assert response.json == {"message": f"Für das Jahr {year} gibt es keine veröffentlichte Bilanz.", "status": 404}


def test_without_published_balances_the_list_is_empty(app, client):
    with app.app_context():
        make_balance(published=False)
    assert client.get("/api/v1/balances").json == {"items": [], "total": 0, "page": 1, "per_page": 20}


# --- scenario ----------------------------------------------------------------------------------------------

def test_the_scenario_with_ramp_up_spread_and_compensation_cheapest_first(app, client, scenario, schemas):
    response = client.get("/api/v1/scenario")
    assert response.status_code == 200
    data = response.json
    assert_valid(data, schemas["Scenario"])
    assert (data["base_year"], data["target_year"]) == (2021, 2035)
    years = {item["year"]: item for item in data["years"]}
    assert list(years) == list(range(2021, 2036))
    # ramp-up: M-1.1 8,000 t from 2024 over 4 years, M-4.1 2,000 t from 2023 over 2, M-5.1 10,000 t from 2030
    # over 10, M-7.1 1,000 t from 2034 at once
    expected_savings = {2022: 0, 2023: 1000, 2024: 2000 + 2000, 2025: 4000 + 2000, 2027: 8000 + 2000,
                        2030: 8000 + 2000 + 1000, 2033: 8000 + 2000 + 4000, 2034: 8000 + 2000 + 5000 + 1000,
                        2035: 8000 + 2000 + 6000 + 1000}
    for year, savings in expected_savings.items():
        assert years[year]["savings_t_co2e"] == pytest.approx(savings, rel=1e-9), year
    trend = trend_2035()
    residual = trend - SAVINGS_2035
    assert data["base_t_co2e"] == pytest.approx(69450, rel=1e-9)
    assert data["trend_target_year_t_co2e"] == pytest.approx(trend, rel=1e-6)
    assert data["trend_reduction_share"] == pytest.approx(1 - trend / 69450, rel=1e-6)
    assert data["residual_t_co2e"] == pytest.approx(residual, rel=1e-6)
    assert data["reduction_share"] == pytest.approx(1 - residual / 69450, rel=1e-6)
    assert years[2028]["target_t_co2e"] == pytest.approx(69450 * 7 / 14, rel=1e-9)
    assert years[2035]["target_t_co2e"] == 0
    assert years[2025]["electricity_t_co2e_per_mwh"] == pytest.approx(0.40, rel=1e-9)  # 0.48 -> 0.30 in 2030
    assert years[2035]["population"] == 10000
    assert years[2035]["per_capita_scenario_t_co2e"] == pytest.approx(residual / 10000, rel=1e-6)
    # M-5.1 (energy supply) saves 6,000 t in the stationary sectors, by their trend emissions; M-7.1 (no BISKO
    # sector) 1,000 t in all sectors, by their trend emissions
    transport = transport_trend_2035()
    stationary = trend - transport
    households = 19440  # strom 15,000 x 0.30 + 10,000 + 2,560 + 60 + 3,200 x 0.30 / 3.2 + 20 + 2,000
    by_sector = years[2035]["scenario_by_sector_t_co2e"]
    assert years[2035]["trend_by_sector_t_co2e"]["verkehr"] == pytest.approx(transport, rel=1e-6)
    assert years[2035]["trend_by_sector_t_co2e"]["private_haushalte"] == pytest.approx(households, rel=1e-9)
    assert by_sector["verkehr"] == pytest.approx(transport - 2000 - 1000 * transport / trend, rel=1e-6)
    assert by_sector["private_haushalte"] == pytest.approx(
        households - 8000 - 6000 * households / stationary - 1000 * households / trend, rel=1e-6)
    compensation = data["compensation"]
    assert [(use["name"], use["t_co2e"], use["cost_eur"]) for use in compensation["uses"]] == [
        ("Aufforstung", 5000, 200000), ("Moor", 10000, 600000), ("Zertifikate", 8000, 960000)]
    assert compensation["covered_t_co2e"] == 23000
    assert compensation["total_cost_eur"] == 1760000
    assert compensation["gap_t_co2e"] == pytest.approx(residual - 23000, rel=1e-6)
    with app.app_context():
        ids = {measure.number: measure.id for measure in db.session.scalars(db.select(Measure))}
    assert [(item["number"], item["sector"], item["url"]) for item in data["measures"]] == [
        ("M-1.1", "private_haushalte", f"http://localhost/massnahmen/{ids['M-1.1']}"),
        ("M-4.1", "verkehr", f"http://localhost/massnahmen/{ids['M-4.1']}"),
        ("M-5.1", "stationaer", f"http://localhost/massnahmen/{ids['M-5.1']}"),
        ("M-7.1", None, f"http://localhost/massnahmen/{ids['M-7.1']}")]
    assert {item["number"]: item["reason"] for item in data["measures_left_out"]} == {
        "M-6.1": "zurückgestellt", "M-6.2": "keine abgeschätzte Einsparung", "M-6.3": "kein Beginn angegeben"}
    assert data["assumptions"]["annual_change_percent"] == {"verkehr": -10}
    assert data["assumptions"]["electricity_factor_path"] == {"2030": 0.3}
    assert data["caps"] == []


def test_compensation_that_covers_everything_leaves_no_gap(app, client, scenario):
    from beteiligung.balance.models import CompensationOption

    with app.app_context():
        db.session.add(CompensationOption(name="Waldumbau", capacity_t_per_year=100000, cost_eur_per_t=60))
        db.session.commit()
    compensation = client.get("/api/v1/scenario").json["compensation"]
    residual = trend_2035() - SAVINGS_2035
    # 40 €/t first; 60 €/t: Moor before Waldumbau (same price, by name); Zertifikate unused
    assert [use["name"] for use in compensation["uses"]] == ["Aufforstung", "Moor", "Waldumbau", "Zertifikate"]
    assert compensation["uses"][2]["t_co2e"] == pytest.approx(residual - 15000, rel=1e-6)
    assert compensation["uses"][3]["t_co2e"] == 0
    assert compensation["gap_t_co2e"] == 0
    assert compensation["total_cost_eur"] == pytest.approx(200000 + 600000 + (residual - 15000) * 60, rel=1e-6)


def test_an_unpublished_scenario_is_404_with_the_reason(app, client):
    response = client.get("/api/v1/scenario")
    assert response.status_code == 404
    assert response.json == {"message": "Die Szenarien sind noch nicht veröffentlicht.", "status": 404}
    with app.app_context():
        make_balance(published=False)
        make_scenario()
    response = client.get("/api/v1/scenario")
    assert response.status_code == 404
    assert response.json["message"] == "Für das Basisjahr gibt es noch keine berechnete, veröffentlichte Bilanz."


def test_the_openapi_document_describes_the_balance_resources(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/balances", "/balances/{year}", "/scenario"):
        operation = spec["paths"][path]["get"]
        assert operation["tags"] == ["Bilanz"] and operation["security"] == []
    assert "404" in spec["paths"]["/balances/{year}"]["get"]["responses"]
    assert "404" in spec["paths"]["/scenario"]["get"]["responses"]
    assert set(spec["components"]["schemas"]["Balance"]["required"]) == CLI_KEYS | {"computed_at", "note"}


def test_the_balance_api_needs_no_login_and_a_bounded_number_of_statements(app, client, balances, count_queries):
    client.get("/api/v1/balances")
    with count_queries() as listing:
        assert client.get("/api/v1/balances").status_code == 200
    with count_queries() as detail:
        assert client.get("/api/v1/balances/2021").status_code == 200
    assert listing.n <= 3 and detail.n <= 2, (listing.statements, detail.statements)
