"""The application side of the balance: stored results, factor changes, the measure sheets'
factors and the scenario built from the measure plan (hand-calculated cases)."""
from decimal import Decimal
from pathlib import Path

import pytest
from flask import current_app

from analyse.bisko import read_factors_csv
from beteiligung.balance import reference, services
from beteiligung.balance.models import (Balance, CompensationOption, EmissionFactor, ScenarioPathPoint,
                                        ScenarioSettings)
from beteiligung.extensions import db
from beteiligung.ideas.importing import read_table
from beteiligung.ideas.models import Sector
from beteiligung.ideas.services import ensure_default_sectors
from beteiligung.measures.models import Measure, MeasureEnergySaving

DATA = Path(__file__).parent / "data" / "bisko"


@pytest.fixture
def beispielhausen(ctx):
    """The hand-made balance of tests/data/bisko with its own factors (69,450 t CO2e)."""
    reference.ensure_reference_data()
    ensure_default_sectors()
    db.session.query(EmissionFactor).delete()
    for factor in read_factors_csv(DATA / "faktoren.csv"):
        db.session.add(EmissionFactor(carrier=factor.carrier, valid_from=factor.valid_from or 1990,
                                      t_co2e_per_mwh=factor.t_co2e_per_mwh, source=factor.source))
    balance = Balance(year=2021, population=12500, municipal_in_ghd=True)
    db.session.add(balance)
    db.session.flush()
    table = read_table((DATA / "beispielhausen-2021.csv").read_bytes(), "beispielhausen.csv", encoding="cp1252")
    entries, errors = services.parse_entry_table(table)
    assert errors == []
    services.replace_entries(balance, entries)
    db.session.commit()
    return balance


def test_the_imported_hand_made_balance_gives_the_hand_calculated_figures(beispielhausen):
    result = beispielhausen.result
    assert result["total_t_co2e"] == pytest.approx(69450, rel=1e-4)
    assert result["per_capita_t_co2e"] == pytest.approx(5.556, rel=1e-4)
    assert result["final_energy_mwh"] == pytest.approx(221160, rel=1e-4)
    assert result["quality_index"] == pytest.approx(136815 / 221160, rel=1e-4)
    assert result["by_sector"]["ghd"] == pytest.approx(8940, rel=1e-4)
    assert result["factors_used"]["strom"]["valid_from"] == 2021
    assert beispielhausen.error == ""


def test_a_factor_edited_later_does_not_change_the_stored_balance_until_recomputed(beispielhausen):
    strom = db.session.scalar(db.select(EmissionFactor).filter_by(carrier="strom", valid_from=2021))
    strom.t_co2e_per_mwh = Decimal("0.5")
    db.session.commit()
    balance = db.session.get(Balance, beispielhausen.id)
    assert balance.result["total_t_co2e"] == pytest.approx(69450, rel=1e-4)
    changes = services.changed_factors(balance)
    assert [(change.carrier, change.used, change.current) for change in changes] == [
        ("strom", Decimal("0.48"), Decimal("0.5"))]
    services.recompute(balance)
    # strom 47,200 MWh and heat pumps 4,160 MWh x 0.5/3.2 instead of 0.48/3.2: +944 + 26 t
    assert balance.result["total_t_co2e"] == pytest.approx(69450 + 944 + 26, rel=1e-4)
    assert services.changed_factors(balance) == []


def test_a_missing_factor_is_stored_as_the_reason_and_the_balance_cannot_be_published(beispielhausen):
    db.session.query(EmissionFactor).filter_by(carrier="holz").delete()
    balance = db.session.get(Balance, beispielhausen.id)
    assert services.recompute(balance) is None
    assert "holz" in balance.error and "2021" in balance.error
    assert balance.result_json is None
    with pytest.raises(services.BalanceError):
        services.set_published(balance, True)


def test_entry_errors_name_every_row_at_once(ctx):
    reference.ensure_reference_data()
    rows = [(2, {"sector": "Private Haushalte", "carrier": "Strom (Bundesmix)", "mwh": "1.250,5", "quality": "a"}),
            (3, {"sector": "Landwirtschaft", "carrier": "strom", "mwh": "10"}),
            (4, {"sector": "ghd", "carrier": "kernfusion", "mwh": "-5"}),
            (5, {"sector": "private_haushalte", "carrier": "strom", "mwh": "zehn", "quality": "E"}),
            (6, {"sector": "verkehr", "carrier": "diesel", "mwh": "", "note": "x" * 301})]
    entries, errors = services.check_entries(rows)
    assert [(entry.sector, entry.carrier, entry.mwh, entry.quality) for entry in entries] == [
        ("private_haushalte", "strom", Decimal("1250.5"), "A")]
    found = {(error.row, error.field) for error in errors}
    assert found == {(3, "sector"), (4, "carrier"), (4, "mwh"), (5, "mwh"), (5, "quality"), (5, "carrier"),
                     (6, "mwh"), (6, "note")}
    duplicate = next(error for error in errors if error.row == 5 and error.field == "carrier")
    assert "Zeile 2" in duplicate.message


def test_measure_sheets_get_the_factors_of_the_newest_published_balance(beispielhausen):
    sector = db.session.scalar(db.select(Sector).filter_by(code="wohngebaeude"))
    measure = Measure(number="M-1.1", title="Heizungstausch", sector_id=sector.id, savings_method="carriers")
    measure.energy_savings = [MeasureEnergySaving(carrier="erdgas", mwh_per_year=Decimal("1000")),
                              MeasureEnergySaving(carrier="umweltwaerme", mwh_per_year=Decimal("-640")),
                              MeasureEnergySaving(carrier="strom", mwh_per_year=Decimal("-200"))]
    db.session.add(measure)
    db.session.flush()
    services.refresh_measure_savings()
    # No published balance: the newest year of the factor table (2023: strom 0.40, erdgas 0.25).
    assert measure.savings_factor_year == 2023
    assert measure.savings_t_co2e_per_year == Decimal("170.00")  # 1000 x 0.25 - 200 x 0.40
    services.set_published(db.session.get(Balance, beispielhausen.id), True)
    assert measure.savings_factor_year == 2021
    assert measure.savings_t_co2e_per_year == Decimal("154.00")  # 250 - 200 x 0.48


def _scenario(beispielhausen, *measures, options=()):
    services.set_published(beispielhausen, True)
    db.session.add(ScenarioSettings(target_year=2025, published=True, annual_change_json='{"verkehr": -10}'))
    db.session.add_all([ScenarioPathPoint(kind="electricity", year=2025, value=Decimal("0.48"))])
    db.session.add_all(options)
    db.session.add_all(measures)
    db.session.commit()
    return services.build_scenario()


def test_the_scenario_subtracts_the_plan_with_its_ramp_up_and_fills_compensation_cheapest_first(beispielhausen):
    sectors = {sector.code: sector for sector in db.session.scalars(db.select(Sector))}
    result = _scenario(
        beispielhausen,
        Measure(number="M-4.1", title="Radverkehr", sector_id=sectors["mobilitaet"].id, start_year=2022,
                ramp_up_years=4, savings_t_co2e_per_year=Decimal("4000")),
        Measure(number="M-5.1", title="Solarpflicht", sector_id=sectors["energie"].id, start_year=2024,
                ramp_up_years=1, savings_t_co2e_per_year=Decimal("1000")),
        Measure(number="M-5.2", title="Zurückgestellt", sector_id=sectors["energie"].id, start_year=2022,
                status="deferred", savings_t_co2e_per_year=Decimal("9999")),
        Measure(number="M-5.3", title="Ohne Beginn", sector_id=sectors["energie"].id,
                savings_t_co2e_per_year=Decimal("500")),
        options=[CompensationOption(name="Zertifikate", capacity_t_per_year=100000, cost_eur_per_t=120),
                 CompensationOption(name="Moor", capacity_t_per_year=40000, cost_eur_per_t=60)])
    with current_app.test_request_context():
        data = services.scenario_dict(result)
    assert [item["number"] for item in data["measures"]] == ["M-4.1", "M-5.1"]
    assert {item["number"]: item["reason"] for item in data["measures_left_out"]} == {
        "M-5.2": "zurückgestellt", "M-5.3": "kein Beginn angegeben"}
    years = {item["year"]: item for item in data["years"]}
    assert years[2021]["scenario_t_co2e"] == pytest.approx(69450, rel=1e-6)
    # transport -10 %/year: 18,640 x 0.9^4 = 12,229.704 t in 2025; the rest stays (strom 0.48 throughout)
    trend_2025 = 69450 - 18640 + 18640 * 0.9 ** 4
    assert years[2025]["trend_t_co2e"] == pytest.approx(trend_2025, rel=1e-6)
    # M-4.1 from 2022 over 4 years: 1/4, 2/4, 3/4, 4/4 of 4,000 t; M-5.1 full from 2024
    assert years[2022]["savings_t_co2e"] == pytest.approx(1000, rel=1e-6)
    assert years[2024]["savings_t_co2e"] == pytest.approx(3000 + 1000, rel=1e-6)
    assert years[2025]["savings_t_co2e"] == pytest.approx(4000 + 1000, rel=1e-6)
    # M-5.1 (energy supply) is spread over the stationary sectors by their emissions, not over transport
    assert years[2025]["scenario_by_sector_t_co2e"]["verkehr"] == pytest.approx(18640 * 0.9 ** 4 - 4000, rel=1e-6)
    stationary = 69450 - 18640
    assert years[2025]["scenario_by_sector_t_co2e"]["ghd"] == pytest.approx(8940 - 1000 * 8940 / stationary, rel=1e-6)
    residual = trend_2025 - 5000
    assert data["residual_t_co2e"] == pytest.approx(residual, rel=1e-6)
    assert years[2025]["target_t_co2e"] == 0
    assert years[2023]["target_t_co2e"] == pytest.approx(69450 / 2, rel=1e-6)
    uses = data["compensation"]["uses"]
    assert [use["name"] for use in uses] == ["Moor", "Zertifikate"]
    assert uses[0]["t_co2e"] == 40000
    assert uses[1]["t_co2e"] == pytest.approx(residual - 40000, rel=1e-6)
    assert data["compensation"]["gap_t_co2e"] == 0


def test_no_scenario_without_published_settings_and_balance(beispielhausen):
    with pytest.raises(services.ScenarioUnavailable):
        services.build_scenario()
    db.session.add(ScenarioSettings(published=True))
    db.session.commit()
    with pytest.raises(services.ScenarioUnavailable, match="Basisjahr"):
        services.build_scenario()
    assert services.build_scenario(published_only=False).balance.year == 2021


def test_what_a_measure_achieved_before_the_base_year_is_in_the_balance_already(beispielhausen):
    sectors = {sector.code: sector for sector in db.session.scalars(db.select(Sector))}
    result = _scenario(
        beispielhausen,
        # started 2020 with 4 ramp-up years: 2/4 of 800 t reached in 2021 (the base year, in the balance);
        # the other 400 t come on top: 200 t in 2022, 400 t from 2023
        Measure(number="M-1.1", title="Sanierung", sector_id=sectors["wohngebaeude"].id, start_year=2020,
                ramp_up_years=4, savings_t_co2e_per_year=Decimal("800")),
        Measure(number="M-1.2", title="Alt", sector_id=sectors["wohngebaeude"].id, start_year=2015,
                savings_t_co2e_per_year=Decimal("300")))
    assert [(item.number, item.start_year, item.ramp_up_years, item.t_co2e_per_year) for item in result.measures] == [
        ("M-1.1", 2022, 2, Decimal("400"))]
    assert [number for number, _title, _reason in result.left_out] == ["M-1.2"]
    savings = {item.year: item.total_savings_t_co2e for item in result.neutrality.years}
    assert savings == {2021: 0, 2022: 200, 2023: 400, 2024: 400, 2025: 400}
