"""The demo balance 2022 and the scenarios built on it from the demo measure plan.

The tests read the shared demo load (`demo` fixture of conftest.py: `flask demo load` once for
every test that only reads it) and keep nothing but plain data from it.
"""
from decimal import Decimal

import pytest
from sqlalchemy import select

from analyse.bisko import SECTORS
from beteiligung import demo as demo_module
from beteiligung.balance import demo as balance_demo, services
from beteiligung.balance.models import Balance
from beteiligung.extensions import db
from beteiligung.measures import demo as measure_demo
from beteiligung.measures.models import Measure, SavingsMethod


@pytest.fixture
def loaded(app, demo):
    """Plain data about the loaded demo's balance and scenario (read only)."""
    with app.app_context():
        balance = db.session.scalar(select(Balance))
        carrier_sheets = [(m.number, m.savings_t_co2e_per_year, m.savings_factor_year) for m in db.session.scalars(
            select(Measure).where(Measure.savings_method == SavingsMethod.CARRIERS.value))]
        scenario = services.build_scenario()
        with app.test_request_context("/"):
            api = services.scenario_dict(scenario)
        data = {
            "balance": {"year": balance.year, "population": balance.population, "published": balance.published,
                        "municipal_in_ghd": balance.municipal_in_ghd, "note": balance.note,
                        "entries": [(e.sector, e.carrier, e.quality, e.note) for e in balance.entries]},
            "result": services.stored_result(balance),
            "carrier_sheets": carrier_sheets,
            "scenario": scenario,  # its ORM parts (settings, balance) are detached: use "settings"
            "settings": {"published": scenario.settings.published, "target_year": scenario.settings.target_year,
                         "note": scenario.settings.note},
            "api": api,
        }
        db.session.rollback()
    return data


def test_the_step_runs_after_the_measure_plan():
    orders = {step: order for order, step in demo_module._steps}
    assert orders[balance_demo.load_demo_balance_and_scenario] == 70
    assert orders[balance_demo.load_demo_balance_and_scenario] > orders[measure_demo.load_demo_measures]


def test_the_demo_file_reads_like_an_upload(ctx):
    balance_demo.reference.ensure_reference_data()
    entries = balance_demo.read_demo_entries()
    assert len(entries) == 26
    assert {entry.sector for entry in entries} == set(SECTORS)
    assert all(entry.quality in "ABCD" and len(entry.note) > 10 for entry in entries)
    factors = services.factors_for_year(2022)
    assert {entry.carrier for entry in entries} - {"umweltwaerme"} <= set(factors)
    assert "solarthermie" not in {entry.carrier for entry in entries}
    assert {entry.carrier for entry in entries if entry.sector == "verkehr"} == {"benzin", "diesel", "strom"}


def test_the_demo_balance_is_plausible(loaded):
    balance, result = loaded["balance"], loaded["result"]
    assert balance["year"] == 2022 and balance["published"] and balance["municipal_in_ghd"]
    assert 105_000 <= balance["population"] <= 115_000
    assert "erfunden" in balance["note"] and "Schornsteinfeger" in balance["note"]
    assert 700_000 <= result.total_t_co2e <= 800_000
    assert 6.5 <= result.per_capita_t_co2e <= 7
    assert Decimal("0.4") <= result.quality_index <= Decimal("0.9")
    assert result.quality_ungraded_mwh == 0
    for sector in SECTORS:  # every sector present with a realistic share
        assert 0.02 <= result.by_sector[sector] / result.total_t_co2e <= 0.35, sector
    assert 0.3 <= result.by_carrier["strom"] / result.total_t_co2e <= 0.45
    assert {"umweltwaerme", "fernwaerme", "benzin", "diesel"} <= set(result.by_carrier)
    assert {item.reason for item in result.adjustments} == {"municipal", "heat_pump"}
    assert {quality for *_rest, quality, _note in balance["entries"]} == {"A", "B", "C", "D"}


def test_the_carrier_sheets_got_their_emissions_from_the_balance_year(loaded):
    assert len(loaded["carrier_sheets"]) >= 10
    for number, t_co2e, year in loaded["carrier_sheets"]:
        assert t_co2e is not None and year == 2022, number


def test_the_trend_reaches_about_a_third_of_the_way(loaded):
    scenario = loaded["scenario"]
    settings = loaded["settings"]
    assert settings["published"] and settings["target_year"] == 2035
    assert 0.28 <= scenario.trend_reduction_share <= 0.38
    trend = [year.total_t_co2e for year in scenario.trend.years]
    assert trend[0] == loaded["result"].total_t_co2e and trend == sorted(trend, reverse=True)
    assert scenario.trend.years[-1].electricity_t_co2e_per_mwh == Decimal("0.15")
    assert 110_000 < scenario.trend.years[-1].population <= 115_000
    assert "Annahmen" in settings["note"] and "keine geprüften Werte" in settings["note"]


def test_the_measure_plan_brings_the_scenario_far_below_the_trend(loaded):
    scenario, neutrality = loaded["scenario"], loaded["scenario"].neutrality
    # The demo plan saves about 225,600 t CO2e/a by 2035: -63 %, not the -80 % of Jena's plan (see report);
    # the band leaves room for a plan that is completed later.
    assert 0.6 <= neutrality.reduction_share <= 0.85
    assert neutrality.reduction_share - scenario.trend_reduction_share >= Decimal("0.25")
    assert neutrality.caps == ()  # no sector is capped at 0
    last = neutrality.years[-1]
    for sector in SECTORS:  # the fields of action give every sector savings of its own or a spread share
        assert 0 < last.savings_t_co2e[sector] < last.trend_t_co2e[sector], sector
    numbers = {item.number for item in scenario.measures}
    assert len(numbers) >= 30 and {"M-1.6", "M-6.5"} <= {number for number, *_ in scenario.left_out}  # deferred


def test_the_residual_is_compensated_cheapest_first_and_a_gap_remains(loaded):
    compensation = loaded["scenario"].compensation
    assert compensation.residual_t_co2e == loaded["scenario"].neutrality.residual_t_co2e
    costs = [use.cost_eur_per_t for use in compensation.uses]
    assert costs == sorted(costs) and len(costs) == 4
    remaining = compensation.residual_t_co2e
    for use in compensation.uses:
        assert use.t_co2e == min(remaining, use.capacity_t_per_year)
        remaining -= use.t_co2e
    assert compensation.gap_t_co2e == remaining > 0
    assert compensation.covered_t_co2e == sum(use.capacity_t_per_year for use in compensation.uses)
    assert compensation.total_cost_eur == sum(use.t_co2e * use.cost_eur_per_t for use in compensation.uses)


def test_the_api_document_carries_the_assumptions(loaded):
    api = loaded["api"]
    assert api["base_year"] == 2022 and api["target_year"] == 2035
    assert api["assumptions"]["annual_change_percent"]["kommunale_einrichtungen"] == -0.6
    assert api["assumptions"]["electricity_factor_path"] == {"2022": 0.505, "2030": 0.25, "2035": 0.15}
    assert len(api["years"]) == 14 and api["caps"] == []
    assert api["compensation"]["gap_t_co2e"] > 0
