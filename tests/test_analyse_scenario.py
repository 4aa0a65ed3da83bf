"""Trend and climate-neutrality scenarios and compensation (analyse/scenario.py), against hand calculations."""
import json
from decimal import Decimal
from pathlib import Path

import pytest

from analyse.bisko import BalanceError, EnergyRow, Factor, compute_balance, read_energy_csv, read_factors_csv
from analyse.scenario import (Cap, CompensationOption, MeasureEffect, ScenarioError, compensate, interpolate,
                              neutrality, ramp_share, trend)

DATA = Path(__file__).resolve().parent / "data" / "bisko"
D = Decimal


def row(sector, carrier, mwh):
    return EnergyRow(sector, carrier, D(str(mwh)))


def factor(carrier, value, valid_from=None):
    return Factor(carrier, D(str(value)), valid_from)


TABLE = [factor("strom", "0.5", 2019), factor("erdgas", "0.25", 2019), factor("diesel", "0.3"),
         factor("diesel", "0.2", 2023)]


@pytest.fixture
def balance_2020():
    # strom 1000 x 0.5 = 500, erdgas 2000 x 0.25 = 500, diesel 500 x 0.3 = 150 -> 1150 t, 1000 inhabitants
    rows = [row("private_haushalte", "strom", 1000), row("private_haushalte", "erdgas", 2000),
            row("verkehr", "diesel", 500)]
    return compute_balance(2020, 1000, rows, TABLE)


# --- trend ----------------------------------------------------------------------------------------

def test_interpolate_is_linear_between_points_and_constant_outside():
    path = {2020: D("0.5"), 2022: D("0.4"), 2025: D("0.1")}
    assert [interpolate(path, year) for year in (2018, 2020, 2021, 2023, 2024, 2025, 2030)] == [
        D("0.5"), D("0.5"), D("0.45"), D("0.3"), D("0.2"), D("0.1"), D("0.1")]


def test_trend_with_annual_change_interpolated_electricity_and_factors_by_year(balance_2020):
    result = trend(balance_2020, 2020, 2025, annual_change={"private_haushalte": -0.1},
                   electricity_factor_path={2022: "0,4", 2025: 0.1}, factors=TABLE, population_path={2025: 1050})
    # The path has no point at or before 2020: the table's strom factor for 2020 (0.5) is added,
    # so the path is 2020: 0.5, 2022: 0.4, 2025: 0.1 -> 2021 0.45, 2023 0.3, 2025 0.1.
    assert [item.year for item in result.years] == [2020, 2021, 2022, 2023, 2024, 2025]
    assert result.year(2020).total_t_co2e == D(1150)  # starts at the balance
    # 2021: households x 0.9: strom 900 x 0.45 = 405, erdgas 1800 x 0.25 = 450, diesel 500 x 0.3 = 150 -> 1005
    assert result.year(2021).total_t_co2e == D(1005)
    # 2023: 0.9^3 = 0.729: strom 729 x 0.3 = 218.7, erdgas 1458 x 0.25 = 364.5,
    #       diesel 500 x 0.2 (factor from 2023) = 100 -> 683.2
    y2023 = result.year(2023)
    assert y2023.total_t_co2e == D("683.2") and y2023.electricity_t_co2e_per_mwh == D("0.3")
    assert y2023.by_sector_mwh["private_haushalte"] == D("2187") and y2023.by_sector_t_co2e["verkehr"] == D(100)
    # population 1000 (balance, 2020) to 1050 (2025): 2023 = 1030; per capita 683.2 / 1030
    assert y2023.population == D(1030) and y2023.per_capita_t_co2e == D("683.2") / D(1030)
    # 2025: 0.9^5 = 0.59049: strom 590.49 x 0.1 = 59.049, erdgas 1180.98 x 0.25 = 295.245, diesel 100 -> 454.294
    assert result.year(2025).total_t_co2e == D("454.294")
    assert result.year(2025).by_carrier_t_co2e == {"strom": D("59.049"), "erdgas": D("295.245"), "diesel": D(100)}


def test_trend_from_rows_applies_the_heat_pump_rule():
    rows = [row("private_haushalte", "strom", 1000), row("private_haushalte", "umweltwaerme", 640)]
    path = {2020: "0.5", 2030: "0.3"}  # 2025: 0.4
    default = trend(rows, 2020, 2025, electricity_factor_path=path)
    # strom 1000 - 640 / 3.2 = 800 x 0.4 = 320; umweltwaerme 640 x 0.4 / 3.2 = 80 -> 400
    assert default.year(2025).by_carrier_t_co2e == {"strom": D(320), "umweltwaerme": D(80)}
    assert default.year(2025).per_capita_t_co2e is None  # no population given
    separate = trend(rows, 2020, 2025, electricity_factor_path=path, heat_pump_power_in_electricity=False)
    # strom 1000 x 0.4 = 400 + 80 = 480
    assert separate.year(2025).total_t_co2e == D(480)
    apf4 = trend(rows, 2020, 2025, electricity_factor_path=path, heat_pump_apf=4)
    # strom 1000 - 160 = 840 x 0.4 = 336; umweltwaerme 640 x 0.4 / 4 = 64 -> 400
    assert apf4.year(2025).by_carrier_t_co2e == {"strom": D(336), "umweltwaerme": D(64)}


def test_trend_without_path_takes_electricity_from_the_table_or_holds_the_balance(balance_2020):
    table = [*TABLE, factor("strom", "0.3", 2024)]
    by_table = trend(balance_2020, 2020, 2024, factors=table)
    # 2024: strom 1000 x 0.3 = 300, erdgas 500, diesel 500 x 0.2 = 100 -> 900
    assert by_table.year(2023).electricity_t_co2e_per_mwh == D("0.5") and by_table.year(2024).total_t_co2e == D(900)
    held = trend(balance_2020, 2020, 2024)  # the balance's factors, constant: 1150 every year
    assert {item.total_t_co2e for item in held.years} == {D(1150)}


def test_trend_from_the_hand_made_city_starts_at_its_balance():
    city = compute_balance(2021, 12500, read_energy_csv(DATA / "beispielhausen-2021.csv"),
                           read_factors_csv(DATA / "faktoren.csv"), municipal_in_ghd=True)
    result = trend(city, 2021, 2035, electricity_factor_path={2030: "0.2"})
    assert result.year(2021).total_t_co2e == D(69450) and result.year(2021).per_capita_t_co2e == D("5.556")
    # 2030: strom 47,200 MWh x 0.2 = 9,440; umweltwaerme 4,160 x 0.2 / 3.2 = 260;
    # the rest as in 2021: 69,450 - 22,656 - 624 = 46,170 -> 55,870
    assert result.year(2030).total_t_co2e == D(55870) and result.year(2035).total_t_co2e == D(55870)


def test_trend_missing_factor_names_carrier_and_year(balance_2020):
    table = [factor("strom", "0.5", 2019), factor("erdgas", "0.25", 2019), factor("diesel", "0.2", 2023)]
    with pytest.raises(BalanceError, match="„diesel“.*Jahr 2020"):
        trend(balance_2020, 2020, 2025, factors=table)


@pytest.mark.parametrize("arguments, message", [
    ({"base_year": 2020, "target_year": 2019}, "Das Zieljahr 2019 liegt vor dem Basisjahr 2020"),
    ({"base_year": 2021, "target_year": 2030}, "Die Bilanz ist für 2020"),
    ({"annual_change": {"haushalte": -0.01}}, "unbekannter Sektor „haushalte“"),
    ({"annual_change": {"verkehr": -1.5}}, "„verkehr“ muss eine Zahl ab -1 sein"),
    ({"electricity_factor_path": {2030: "viel"}}, "Strom-Faktor 2030 muss eine Zahl"),
    ({"population_path": {2030: 0}}, "Einwohnerzahl 2030 muss eine Zahl ab 1 sein"),
    ({"heat_pump_apf": 4}, "„heat_pump_apf“ ist in der Bilanz schon festgelegt"),
])
def test_trend_bad_input(balance_2020, arguments, message):
    arguments = {"base_year": 2020, "target_year": 2030, **arguments}
    with pytest.raises(ScenarioError, match=message):
        trend(balance_2020, arguments.pop("base_year"), arguments.pop("target_year"), **arguments)


# --- climate neutrality ---------------------------------------------------------------------------

@pytest.mark.parametrize("year, start, ramp, expected", [
    (2021, 2022, 4, "0"),     # before the start
    (2022, 2022, 4, "0.25"),  # first year: 1 / 4
    (2024, 2022, 4, "0.75"),  # third year: 3 / 4
    (2025, 2022, 4, "1"),     # start + ramp - 1: full
    (2030, 2022, 4, "1"),
    (2022, 2022, 1, "1"),     # ramp 1: full from the start year
    (2022, 2022, 0, "1"),     # ramp 0 counts as 1
])
def test_ramp_share(year, start, ramp, expected):
    assert ramp_share(year, start, ramp) == D(expected)


@pytest.fixture
def flat_trend():
    # constant factors and no change: every year households 4000 MWh x 0.25 = 1000 t, ghd 2000 x 0.25 = 500,
    # verkehr 1000 x 0.5 = 500 -> 2000 t; 100 inhabitants
    rows = [row("private_haushalte", "erdgas", 4000), row("ghd", "erdgas", 2000), row("verkehr", "diesel", 1000)]
    factors = [factor("erdgas", "0.25"), factor("diesel", "0.5")]
    return trend(rows, 2020, 2026, factors=factors, population_path={2020: 100})


MEASURES = [
    MeasureEffect("M1", "private_haushalte", 2022, 4, D(400), D(1600)),
    MeasureEffect("M2", None, 2023, 0, D(200), D(400)),
    MeasureEffect("M3", "verkehr", 2024, 2, D(1000), D(0)),
]


def test_neutrality_ramp_up_spread_and_caps(flat_trend):
    result = neutrality(flat_trend, MEASURES)
    by_year = {item.year: item for item in result.years}
    # 2021: nothing started
    assert by_year[2021].total_t_co2e == D(2000) and by_year[2021].total_savings_t_co2e == 0
    # 2022: M1 1/4 x 400 = 100 t, 1/4 x 1600 = 400 MWh in households
    assert by_year[2022].savings_t_co2e["private_haushalte"] == D(100)
    assert by_year[2022].mwh["private_haushalte"] == D(3600)
    # 2023: M1 2/4 x 400 = 200; M2 full (ramp 0) 200 t spread by trend emissions 1000:500:500 ->
    #       households 100, ghd 50, verkehr 50 (MWh 400 the same way: 200, 100, 100)
    assert by_year[2023].savings_t_co2e == {"private_haushalte": D(300), "ghd": D(50), "industrie": 0,
                                            "kommunale_einrichtungen": 0, "verkehr": D(50)}
    assert by_year[2023].savings_mwh["ghd"] == D(100)
    assert by_year[2023].t_co2e["private_haushalte"] == D(700) and by_year[2023].total_t_co2e == D(1600)
    # 2024: M3 1/2 x 1000 = 500 + M2 50 = 550 > verkehr 500 -> capped at 500
    assert by_year[2024].t_co2e["verkehr"] == 0
    assert by_year[2024].by_measure_t_co2e == {"M1": D(300), "M2": D(200), "M3": D(500)}
    # 2026 (target): households 1000 - 400 - 100 = 500, ghd 500 - 50 = 450, verkehr 0 -> residual 950
    assert result.residual_t_co2e == D(950) and by_year[2026].per_capita_t_co2e == D("9.5")
    assert result.base_t_co2e == D(2000) and result.reduction_share == D("0.525")  # 1 - 950 / 2000
    assert result.caps == (Cap(2024, "verkehr", D(550), D(500), D(100), D(100)),
                           Cap(2025, "verkehr", D(1050), D(500), D(100), D(100)),
                           Cap(2026, "verkehr", D(1050), D(500), D(100), D(100)))


def test_neutrality_caps_mwh_too_and_allows_added_emissions(flat_trend):
    measures = [MeasureEffect("Mehr", "ghd", 2020, 1, D(-100), D(-50)),
                MeasureEffect("Viel", "private_haushalte", 2020, 1, D(10), D(5000))]
    first = neutrality(flat_trend, measures).years[0]
    # ghd: a measure adding 100 t and 50 MWh -> 600 t, 2050 MWh; households: 5000 MWh > 4000 -> capped at 4000
    assert first.t_co2e["ghd"] == D(600) and first.mwh["ghd"] == D(2050)
    assert first.mwh["private_haushalte"] == 0 and first.t_co2e["private_haushalte"] == D(990)


def test_neutrality_spread_without_any_trend_emissions_is_reported():
    empty = trend([row("ghd", "erdgas", 0)], 2020, 2021, factors=[factor("erdgas", "0.25")])
    result = neutrality(empty, [MeasureEffect("M", None, 2020, 1, D(10), None)])
    assert result.caps[0] == Cap(2020, None, D(10), D(0), D(0), D(0)) and result.residual_t_co2e == 0
    assert result.reduction_share is None


@pytest.mark.parametrize("measure, message", [
    (MeasureEffect("", None, 2022), "braucht einen Schlüssel"),
    (MeasureEffect("M9", "gewerbe", 2022), "„M9“: unbekannter Sektor „gewerbe“"),
    (MeasureEffect("M9", None, "bald"), "„M9“: das Startjahr muss eine Jahreszahl sein"),
    (MeasureEffect("M9", None, 2022, -1), "„M9“: die Hochlaufzeit muss eine ganze Zahl ab 0"),
    (MeasureEffect("M9", None, 2022, 2, "viel"), "„M9“: die Einsparung in t CO2e/Jahr muss eine Zahl sein"),
    (MeasureEffect("M1", None, 2022), "„M1“ steht zweimal"),
])
def test_neutrality_bad_measures(flat_trend, measure, message):
    with pytest.raises(ScenarioError, match=message):
        neutrality(flat_trend, [MEASURES[0], measure])


# --- compensation ---------------------------------------------------------------------------------

OPTIONS = [CompensationOption("Moorwiedervernässung", 300, 40), CompensationOption("Zertifikate", 10000, 80),
           CompensationOption("Humusaufbau", 100, 25), CompensationOption("Aufforstung", 200, "25,0")]


def test_compensation_cheapest_first_ties_by_name():
    result = compensate(950, OPTIONS)
    # Aufforstung 200 x 25 = 5,000; Humusaufbau (same price, name later) 100 x 25 = 2,500;
    # Moor 300 x 40 = 12,000; Zertifikate the remaining 350 x 80 = 28,000 -> 47,500 EUR, no gap
    assert [(use.name, use.t_co2e, use.cost_eur) for use in result.uses] == [
        ("Aufforstung", D(200), D(5000)), ("Humusaufbau", D(100), D(2500)),
        ("Moorwiedervernässung", D(300), D(12000)), ("Zertifikate", D(350), D(28000))]
    assert result.total_cost_eur == D(47500) and result.covered_t_co2e == D(950) and result.gap_t_co2e == 0


def test_compensation_gap_when_capacity_runs_out():
    result = compensate("950", OPTIONS[:1] + OPTIONS[2:])
    # 200 + 100 + 300 = 600 covered for 5,000 + 2,500 + 12,000 = 19,500 EUR; gap 950 - 600 = 350
    assert result.covered_t_co2e == D(600) and result.total_cost_eur == D(19500) and result.gap_t_co2e == D(350)


def test_compensation_of_nothing_uses_nothing():
    result = compensate(0, OPTIONS)
    assert result.total_cost_eur == 0 and result.gap_t_co2e == 0 and {use.t_co2e for use in result.uses} == {0}


@pytest.mark.parametrize("residual, options, message", [
    (100, [CompensationOption("Wald", -1, 10)], "„Wald“: die Kapazität .* ab 0"),
    (100, [CompensationOption("Wald", 10, -5)], "„Wald“: die Kosten .* ab 0"),
    (100, [CompensationOption("Wald", "viel", 5)], "„Wald“: die Kapazität"),
    (100, [CompensationOption(" ", 1, 5)], "braucht einen Namen"),
    (100, [CompensationOption("Wald", 1, 5), CompensationOption("Wald", 2, 6)], "„Wald“ steht zweimal"),
    (-5, [], "Die Restemissionen"),
])
def test_compensation_bad_options(residual, options, message):
    with pytest.raises(ScenarioError, match=message):
        compensate(residual, options)


def test_results_serialise_to_json(flat_trend):
    scenario = neutrality(flat_trend, MEASURES)
    text = json.dumps({"trend": flat_trend.to_dict(), "scenario": scenario.to_dict(),
                       "compensation": compensate(scenario.residual_t_co2e, OPTIONS).to_dict()})
    data = json.loads(text)
    assert data["scenario"]["residual_t_co2e"] == 950 and data["compensation"]["total_cost_eur"] == 47500
    assert data["trend"]["years"][0]["by_sector_t_co2e"]["verkehr"] == 500


def test_a_measure_for_a_group_of_sectors_is_spread_over_those_by_their_emissions():
    rows = [EnergyRow("private_haushalte", "erdgas", Decimal(1000)), EnergyRow("ghd", "erdgas", Decimal(3000)),
            EnergyRow("verkehr", "diesel", Decimal(2000))]
    factors = [Factor("erdgas", Decimal("0.25")), Factor("diesel", Decimal("0.3"))]
    result = trend(rows, 2022, 2022, factors=factors)
    # households 250 t, GHD 750 t, transport 600 t; 100 t over the stationary sectors: 25 / 75 / 0
    scenario = neutrality(result, [MeasureEffect("PV", ("ghd", "private_haushalte", "kommunale_einrichtungen"),
                                                 2022, 1, Decimal(100))])
    year = scenario.years[0]
    assert year.savings_t_co2e["private_haushalte"] == Decimal(25)
    assert year.savings_t_co2e["ghd"] == Decimal(75)
    assert year.savings_t_co2e["verkehr"] == 0
    with pytest.raises(ScenarioError, match="unbekannte Sektoren"):
        neutrality(result, [MeasureEffect("X", ("ghd", "landwirtschaft"), 2022, 1, Decimal(1))])
