"""The BISKO balance (analyse/bisko.py) and `python -m analyse balance`, checked against hand calculations."""
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from analyse.bisko import (QUALITY_WEIGHTS, SECTORS, BalanceError, BalanceResult, EnergyRow, Factor, compute_balance, factor_for,
                           parse_number, read_energy_csv, read_factors_csv)
from analyse.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "bisko"
ENERGY = DATA / "beispielhausen-2021.csv"
FACTORS = DATA / "faktoren.csv"
JSON_KEYS = {"year", "population", "total_t_co2e", "per_capita_t_co2e", "final_energy_mwh", "quality_index",
             "by_sector", "by_carrier", "rows"}


def row(sector, carrier, mwh, quality=None, line=None):
    return EnergyRow(sector, carrier, Decimal(str(mwh)), quality, line)


def factor(carrier, value, valid_from=None, source=""):
    return Factor(carrier, Decimal(str(value)), valid_from, source)


FACTORS_2019_2023 = [factor("strom", "0.5", 2019), factor("strom", "0.48", 2021), factor("strom", "0.4", 2023),
                     factor("erdgas", "0.25", 2019), factor("heizoel", "0.32", 2019), factor("diesel", "0.33", 2019)]


def close(value, expected, share=Decimal("0.0001")):
    """Within 0.01 % of the hand calculation."""
    return abs(Decimal(str(value)) - Decimal(str(expected))) <= abs(Decimal(str(expected))) * share


def figures(result):
    """(sector, carrier) -> (MWh, t CO2e) of the balance rows."""
    return {(item.sector, item.carrier): (item.mwh, item.t_co2e) for item in result.rows}


# --- factors by year --------------------------------------------------------------------------

@pytest.mark.parametrize("year, expected", [
    (2019, "0.5"),   # exactly valid_from 2019
    (2020, "0.5"),   # 2021 is not yet valid
    (2021, "0.48"),  # the latest not after 2021
    (2022, "0.48"),  # 2023 is later: not used for 2022
    (2023, "0.4"),
    (2035, "0.4"),
])
def test_factor_for_takes_the_latest_valid_from_not_after_the_year(year, expected):
    assert factor_for(FACTORS_2019_2023, "strom", year).t_co2e_per_mwh == Decimal(expected)


def test_undated_factor_applies_only_where_no_dated_one_does():
    factors = [factor("holz", "0.03"), factor("holz", "0.02", 2021)]
    assert factor_for(factors, "holz", 2020).t_co2e_per_mwh == Decimal("0.03")  # before 2021: the undated one
    assert factor_for(factors, "holz", 2021).t_co2e_per_mwh == Decimal("0.02")


def test_missing_factor_names_carrier_and_year():
    with pytest.raises(BalanceError) as error:
        factor_for(FACTORS_2019_2023, "strom", 2018)
    assert "„strom“" in str(error.value) and "2018" in str(error.value) and "ab 2019" in str(error.value)
    with pytest.raises(BalanceError, match="„solarthermie“.*2021.*Zeile 4"):
        # solarthermie is not in the reference table: without a factor it is a normal missing factor
        compute_balance(2021, 100, [row("private_haushalte", "solarthermie", 10, line=4)], FACTORS_2019_2023)


def test_emissions_are_mwh_times_the_factor_of_the_year():
    rows = [row("private_haushalte", "strom", 1000), row("private_haushalte", "erdgas", 2000),
            row("verkehr", "diesel", 300)]
    # 2020: strom 1000 x 0.5 = 500, erdgas 2000 x 0.25 = 500, diesel 300 x 0.33 = 99 -> 1099
    assert compute_balance(2020, 1000, rows, FACTORS_2019_2023).total_t_co2e == Decimal(1099)
    # 2022: strom 1000 x 0.48 = 480 (2023's 0.4 not yet) -> 480 + 500 + 99 = 1079
    result = compute_balance(2022, 1000, rows, FACTORS_2019_2023)
    assert result.total_t_co2e == Decimal(1079)
    assert result.factors_used["strom"] == {"t_co2e_per_mwh": Decimal("0.48"), "valid_from": 2021, "source": ""}
    # per capita: 1079 / 1000 = 1.079
    assert result.per_capita_t_co2e == Decimal("1.079")
    assert result.by_sector == {"private_haushalte": Decimal(980), "ghd": 0, "industrie": 0,
                                "kommunale_einrichtungen": 0, "verkehr": Decimal(99)}
    assert list(result.by_carrier) == ["strom", "erdgas", "diesel"]


def test_added_carrier_with_a_factor_is_allowed():
    factors = [*FACTORS_2019_2023, factor("wasserstoff", "0.1", 2020)]
    result = compute_balance(2021, 10, [row("industrie", "Wasserstoff", 500)], factors)
    assert figures(result)[("industrie", "wasserstoff")] == (Decimal(500), Decimal(50))  # 500 x 0.1


# --- heat pumps -------------------------------------------------------------------------------

HEAT_PUMP_ROWS = [row("private_haushalte", "strom", 1000, "A"), row("private_haushalte", "umweltwaerme", 640, "D")]
STROM_HALF = [factor("strom", "0.5", 2020)]


def test_heat_pump_power_is_taken_out_of_the_sectors_electricity_by_default():
    result = compute_balance(2021, 100, HEAT_PUMP_ROWS, STROM_HALF)
    # power = 640 / 3.2 = 200 MWh -> strom 1000 - 200 = 800 MWh x 0.5 = 400 t
    # umweltwaerme 640 MWh x 0.5 / 3.2 = 640 x 0.15625 = 100 t
    assert figures(result) == {("private_haushalte", "strom"): (Decimal(800), Decimal(400)),
                               ("private_haushalte", "umweltwaerme"): (Decimal(640), Decimal(100))}
    assert result.total_t_co2e == Decimal(500)
    # final energy: strom 800 + environmental heat 640 in full = 1440 (the 200 MWh power not twice)
    assert result.final_energy_mwh == Decimal(1440)
    assert result.factors_used["umweltwaerme"]["t_co2e_per_mwh"] == Decimal("0.15625")
    assert [(item.sector, item.carrier, item.mwh, item.reason) for item in result.adjustments] == [
        ("private_haushalte", "strom", Decimal(200), "heat_pump")]


def test_heat_pump_power_separate_takes_nothing_out():
    result = compute_balance(2021, 100, HEAT_PUMP_ROWS, STROM_HALF, heat_pump_power_in_electricity=False)
    # strom 1000 x 0.5 = 500; umweltwaerme 640 x 0.5 / 3.2 = 100 -> 600 t; final energy 1000 + 640 = 1640
    assert result.total_t_co2e == Decimal(600) and result.final_energy_mwh == Decimal(1640)


def test_heat_pumps_with_another_annual_performance_factor():
    result = compute_balance(2021, 100, HEAT_PUMP_ROWS, STROM_HALF, heat_pump_apf=4)
    # power 640 / 4 = 160 -> strom 840 x 0.5 = 420; umweltwaerme 640 x 0.5 / 4 = 80
    assert figures(result) == {("private_haushalte", "strom"): (Decimal(840), Decimal(420)),
                               ("private_haushalte", "umweltwaerme"): (Decimal(640), Decimal(80))}
    separate = compute_balance(2021, 100, HEAT_PUMP_ROWS, STROM_HALF, heat_pump_apf="2,5",
                               heat_pump_power_in_electricity=False)
    # 1000 x 0.5 = 500 + 640 x 0.5 / 2.5 = 128 -> 628
    assert separate.total_t_co2e == Decimal(628) and separate.options["heat_pump_apf"] == Decimal("2.5")


def test_heat_pumps_without_electricity_row_name_the_sector():
    rows = [row("ghd", "umweltwaerme", 320), row("private_haushalte", "strom", 5000)]
    with pytest.raises(BalanceError, match="Sektor „ghd“.*100 MWh Wärmepumpenstrom.*keine Zeile „strom“"):
        compute_balance(2021, 100, rows, STROM_HALF)
    # with separate heat-pump power no strom row is needed: 320 x 0.5 / 3.2 = 50 + 5000 x 0.5 = 2500
    assert compute_balance(2021, 100, rows, STROM_HALF,
                           heat_pump_power_in_electricity=False).total_t_co2e == Decimal(2550)


def test_heat_pump_power_larger_than_the_electricity_is_an_error():
    rows = [row("ghd", "strom", 90), row("ghd", "umweltwaerme", 320)]  # 320 / 3.2 = 100 > 90
    with pytest.raises(BalanceError) as error:
        compute_balance(2021, 100, rows, STROM_HALF)
    assert "Sektor „ghd“" in str(error.value) and "100 MWh" in str(error.value) and "(90 MWh)" in str(error.value)


# --- municipal facilities inside GHD ------------------------------------------------------------

MUNICIPAL_ROWS = [row("ghd", "erdgas", 5000), row("ghd", "strom", 3000),
                  row("kommunale_einrichtungen", "erdgas", 1200), row("kommunale_einrichtungen", "strom", 1000)]
GAS_AND_POWER = [factor("erdgas", "0.25", 2019), factor("strom", "0.5", 2019)]


def test_municipal_facilities_are_taken_out_of_ghd_carrier_by_carrier():
    result = compute_balance(2021, 100, MUNICIPAL_ROWS, GAS_AND_POWER, municipal_in_ghd=True)
    # ghd erdgas 5000 - 1200 = 3800 x 0.25 = 950; ghd strom 3000 - 1000 = 2000 x 0.5 = 1000 -> ghd 1950
    # kommunal erdgas 1200 x 0.25 = 300, strom 1000 x 0.5 = 500 -> 800; total 2750
    assert result.by_sector["ghd"] == Decimal(1950) and result.by_sector["kommunale_einrichtungen"] == Decimal(800)
    assert result.total_t_co2e == Decimal(2750) and result.final_energy_mwh == Decimal(8000)
    # without the option both are counted: ghd 5000 x 0.25 + 3000 x 0.5 = 2750, + 800 = 3550
    assert compute_balance(2021, 100, MUNICIPAL_ROWS, GAS_AND_POWER).total_t_co2e == Decimal(3550)


def test_municipal_facilities_and_heat_pumps_together():
    rows = [*MUNICIPAL_ROWS, row("ghd", "umweltwaerme", 320), row("kommunale_einrichtungen", "umweltwaerme", 160)]
    result = compute_balance(2021, 100, rows, GAS_AND_POWER, municipal_in_ghd=True)
    mwh = {key: value[0] for key, value in figures(result).items()}
    # first municipal out of GHD as reported: ghd umweltwaerme 320 - 160 = 160, ghd strom 3000 - 1000 = 2000
    # then heat-pump power per sector: ghd 160 / 3.2 = 50 -> strom 1950; kommunal 160 / 3.2 = 50 -> strom 950
    assert mwh[("ghd", "umweltwaerme")] == 160 and mwh[("ghd", "strom")] == 1950
    assert mwh[("kommunale_einrichtungen", "strom")] == 950
    # ghd: 3800 x 0.25 + 1950 x 0.5 + 160 x 0.15625 = 950 + 975 + 25 = 1950
    assert result.by_sector["ghd"] == Decimal(1950)


def test_municipal_facilities_missing_in_ghd_is_an_error():
    rows = [row("ghd", "erdgas", 5000), row("kommunale_einrichtungen", "fernwaerme", 700)]
    with pytest.raises(BalanceError, match="„ghd“ hat keine Zeile.*„fernwaerme“.*700 MWh"):
        compute_balance(2021, 100, rows, [*GAS_AND_POWER, factor("fernwaerme", "0.2")], municipal_in_ghd=True)


def test_municipal_facilities_larger_than_ghd_is_an_error():
    rows = [EnergyRow("ghd", "erdgas", "1000"), EnergyRow("kommunale_einrichtungen", "erdgas", "1200,5")]
    with pytest.raises(BalanceError) as error:
        compute_balance(2021, 100, rows, GAS_AND_POWER, municipal_in_ghd=True)
    message = str(error.value)
    assert "„ghd“" in message and "„erdgas“" in message and "negativ" in message
    assert "GHD 1.000 MWh" in message and "1.200,5 MWh" in message


# --- data quality ---------------------------------------------------------------------------------

def test_quality_index_is_the_energy_weighted_mean_and_ungraded_rows_count_as_d():
    rows = [row("private_haushalte", "erdgas", 600, "A"), row("ghd", "erdgas", 200, "b"),
            row("industrie", "erdgas", 100, "C"), row("verkehr", "diesel", 50, "D"),
            row("kommunale_einrichtungen", "erdgas", 50)]
    result = compute_balance(2021, 100, rows, FACTORS_2019_2023)
    # (600 x 1 + 200 x 0.5 + 100 x 0.25 + 50 x 0 + 50 x 0) / 1000 = 725 / 1000
    assert result.quality_index == Decimal("0.725") and result.quality_ungraded_mwh == Decimal(50)
    assert QUALITY_WEIGHTS == {"A": 1, "B": Decimal("0.5"), "C": Decimal("0.25"), "D": 0}


def test_quality_index_weights_the_mwh_after_the_adjustments():
    result = compute_balance(2021, 100, HEAT_PUMP_ROWS, STROM_HALF)
    # strom 800 MWh (A) and umweltwaerme 640 MWh (D): 800 / 1440 = 5/9
    assert result.quality_index == Decimal(800) / Decimal(1440)


# --- bad rows -------------------------------------------------------------------------------------

@pytest.mark.parametrize("rows, message", [
    ([row("haushalte", "strom", 1, line=3)], "Zeile 3: unbekannter Sektor „haushalte“"),
    ([row("ghd", "strom", -5, line=4)], "Zeile 4 (Sektor „ghd“, Energieträger „strom“): Der Verbrauch ist negativ"),
    ([EnergyRow("ghd", "strom", "12a", line=5)], "Zeile 5 (Sektor „ghd“, Energieträger „strom“): „12a“ ist keine Zahl"),
    ([EnergyRow("ghd", "strom", None)], "Zeile mit Sektor „ghd“, Energieträger „strom“: Der Wert in MWh fehlt"),
    ([row("ghd", "strom", 1, "E", line=6)], "Zeile 6 (Sektor „ghd“, Energieträger „strom“): unbekannte Datengüte „E“"),
    ([row("ghd", "strom", 1, line=2), row("GHD", "Strom ", 2, line=7)],
     "Zeile 7 (Sektor „ghd“, Energieträger „strom“): Sektor und Energieträger kommen doppelt vor (schon in Zeile 2)"),
    ([row("ghd", "Fernwärme", 1, line=8)], "Zeile 8 (Sektor „ghd“, Energieträger „fernwärme“): „Fernwärme“ ist kein"),
])
def test_bad_rows_are_errors_naming_the_row(rows, message):
    with pytest.raises(BalanceError) as error:
        compute_balance(2021, 100, rows, FACTORS_2019_2023)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("year, population, options, message", [
    (1850, 100, {}, "Bilanzjahr"),
    ("2021", 100, {}, "Bilanzjahr"),
    (2021, 0, {}, "Einwohnerzahl"),
    (2021, "12,5", {}, "Einwohnerzahl"),
    (2021, 100, {"heat_pump_apf": 0}, "Jahresarbeitszahl"),
])
def test_bad_year_population_or_apf(year, population, options, message):
    with pytest.raises(BalanceError, match=message):
        compute_balance(year, population, [row("ghd", "strom", 1)], FACTORS_2019_2023, **options)


def test_conflicting_factors_for_the_same_year_are_an_error():
    with pytest.raises(BalanceError, match="„strom“ ab 2021 stehen zwei verschiedene Faktoren"):
        compute_balance(2021, 100, [row("ghd", "strom", 1)], [*FACTORS_2019_2023, factor("strom", "0.47", 2021)])


# --- numbers and CSV files ------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1.250", "1250"), ("1.250,5", "1250.5"), ("0,505", "0.505"), ("0.505", "0.505"), ("1,250.5", "1250.5"),
    (" 16 000 ", "16000"), ("12a", None), ("", None),
])
def test_parse_number_reads_german_and_english_numbers(text, expected):
    assert parse_number(text) == (Decimal(expected) if expected else None)


def test_read_energy_csv_keeps_file_lines_and_reads_excel_csv():
    rows = read_energy_csv(ENERGY)
    assert len(rows) == 23 and rows[0] == EnergyRow("private_haushalte", "strom", Decimal(16000), "A", 2)
    assert rows[14].mwh == Decimal("1500.0") and rows[13].quality == "A"  # "1.500,0" and grade "a"
    assert rows[16].line == 19 and rows[16].sector == "industrie"  # line 18 is empty
    assert rows[19].quality is None


def test_read_energy_csv_skips_rows_with_only_a_remark(tmp_path):
    path = tmp_path / "energie.csv"
    path.write_text("sector,carrier,mwh,bemerkung\n,,,Stand: Mai\nghd,strom,5,\n", encoding="utf-8")
    assert read_energy_csv(path) == [EnergyRow("ghd", "strom", Decimal(5), None, 3)]


def test_read_factors_csv_skips_empty_factors_and_reads_sources():
    factors = read_factors_csv(FACTORS)
    assert "umweltwaerme" not in {item.carrier for item in factors}
    assert factor_for(factors, "biogas", 2021) == Factor("biogas", Decimal("0.12"), None,
                                                         "Beispiel-Faktoren ohne Jahr")
    assert factor_for(factors, "diesel", 2021).t_co2e_per_mwh == Decimal("0.33")


@pytest.mark.parametrize("content, message", [
    ("sector,carrier,mwh\nghd,strom,viel\n", "Zeile 2 (Sektor „ghd“, Energieträger „strom“): „viel“ ist keine Zahl"),
    ("sector,carrier,mwh\nghd,strom,\n", "Zeile 2 (Sektor „ghd“, Energieträger „strom“): Der Wert in MWh fehlt"),
    ("sector;carrier\nghd;strom\n", "Die Spalte „mwh“ (Energiedaten) fehlt"),
    ("", "Energiedaten: Die Datei"),
])
def test_read_energy_csv_errors(tmp_path, content, message):
    path = tmp_path / "energie.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BalanceError) as error:
        read_energy_csv(path)
    assert message in str(error.value)


@pytest.mark.parametrize("content, message", [
    ("carrier,t_co2e_per_mwh,valid_from\nstrom,hoch,2021\n", "Zeile 2 (Energieträger „strom“): „hoch“ ist kein Faktor"),
    ("carrier,t_co2e_per_mwh,valid_from\nstrom,0.4,seit 2021\n", "„seit 2021“ ist kein Jahr"),
    ("carrier,t_co2e_per_mwh\numweltwaerme,\n", "keine Zeile hat einen Faktor"),
    ("carrier,faktor\nstrom,0.4\n", "Die Spalte „t_co2e_per_mwh“ (Faktortabelle) fehlt"),
])
def test_read_factors_csv_errors(tmp_path, content, message):
    path = tmp_path / "faktoren.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BalanceError) as error:
        read_factors_csv(path)
    assert message in str(error.value)


# --- the hand-made city (tests/data/bisko/README.md) ---------------------------------------------

def test_hand_made_city_balance():
    result = compute_balance(2021, 12500, read_energy_csv(ENERGY), read_factors_csv(FACTORS), municipal_in_ghd=True)
    assert result.total_t_co2e == Decimal(69450) and result.per_capita_t_co2e == Decimal("5.556")
    assert result.final_energy_mwh == Decimal(221160)
    assert result.by_sector == {"private_haushalte": 22320, "ghd": 8940, "industrie": 17540,
                                "kommunale_einrichtungen": 2010, "verkehr": 18640}
    assert result.by_carrier == {"strom": 22656, "erdgas": 21250, "heizoel": 3520, "holz": 60, "biogas": 120,
                                 "fernwaerme": 2800, "umweltwaerme": 624, "solarthermie": 20, "benzin": 8500,
                                 "diesel": 9900}
    assert result.quality_index == Decimal(136815) / Decimal(221160)
    assert result.quality_ungraded_mwh == Decimal(1000)


# --- the command line -----------------------------------------------------------------------------

def balance_args(*extra, energy=ENERGY, factors=FACTORS, year="2021", population="12500"):
    return ["balance", str(energy), "--factors", str(factors), "--year", year, "--population", population, *extra]


def test_cli_json_of_the_hand_made_city(capsys):
    assert main(balance_args("--municipal-in-ghd", "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert JSON_KEYS <= set(data)
    assert data["year"] == 2021 and data["population"] == 12500
    assert close(data["total_t_co2e"], 69450) and close(data["per_capita_t_co2e"], "5.556")
    assert close(data["final_energy_mwh"], 221160) and close(data["quality_index"], Decimal(136815) / 221160)
    assert list(data["by_sector"]) == list(SECTORS) and close(data["by_sector"]["ghd"], 8940)
    assert close(data["by_carrier"]["umweltwaerme"], 624)
    rows = {(item["sector"], item["carrier"]): item for item in data["rows"]}
    assert len(rows) == 23 and {"sector", "carrier", "mwh", "t_co2e"} <= set(data["rows"][0])
    assert rows[("ghd", "strom")]["mwh"] == 9800 and close(rows[("ghd", "strom")]["t_co2e"], 4704)
    assert data["factors_used"]["strom"] == {"t_co2e_per_mwh": 0.48, "valid_from": 2021,
                                             "source": "Beispiel-Faktoren 2021"}


def test_cli_heat_pump_power_separate(capsys):
    assert main(balance_args("--municipal-in-ghd", "--heat-pump-power-separate", "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    # 69,450 + (1,000 + 200 + 100) MWh x 0.48 = 69,450 + 624 = 70,074
    assert close(data["total_t_co2e"], 70074) and close(data["final_energy_mwh"], 222460)
    assert data["options"]["heat_pump_power_in_electricity"] is False


def test_cli_table(capsys):
    assert main(balance_args("--municipal-in-ghd", population="12.500")) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Energie- und Treibhausgasbilanz 2021 nach BISKO, 12.500 Einwohner/innen"
    header = next(line for line in lines if line.startswith("Treibhausgase in t CO2e"))
    assert header.split()[-6:] == ["Haushalte", "GHD", "Industrie", "Kommunal", "Verkehr", "Summe"]
    strom = next(line for line in lines if line.startswith("Strom"))
    assert strom.split()[1:] == ["7.200,0", "4.704,0", "9.600,0", "912,0", "240,0", "22.656,0"]
    total = next(line for line in lines if line.startswith("Summe"))
    assert total.split()[1:] == ["22.320,0", "8.940,0", "17.540,0", "2.010,0", "18.640,0", "69.450,0"]
    assert "Gesamt: 69.450,0 t CO2e, je Einwohner/in 5,56 t CO2e" in out
    assert "Datengüte: 0,62" in out and "1.000,0 MWh ohne Angabe, als D gezählt" in out
    assert "Endenergie: 221.160,0 MWh" in out and "aus GHD herausgerechnet" in out


@pytest.mark.parametrize("energy, message", [
    ("sector,carrier,mwh\ngewerbe,strom,10\n", "Zeile 2: unbekannter Sektor „gewerbe“"),
    ("sector,carrier,mwh\nghd,strom,-10\n", "Zeile 2 (Sektor „ghd“, Energieträger „strom“): Der Verbrauch ist negativ"),
    ("sector,carrier,mwh\nghd,strom,zehn\n", "Zeile 2 (Sektor „ghd“, Energieträger „strom“): „zehn“ ist keine Zahl"),
    ("sector,carrier,mwh\nghd,strom,10\n\nghd,strom,12\n",
     "Zeile 4 (Sektor „ghd“, Energieträger „strom“): Sektor und Energieträger kommen doppelt vor (schon in Zeile 2)"),
    ("sector,carrier,mwh\nghd,kohle,10\n", ("Für den Energieträger „kohle“ gibt es keinen Emissionsfaktor für das "
                                            "Jahr 2021. Gebraucht in Zeile 2")),
    ("sector,carrier,mwh,quality\nghd,strom,10,X\n", "unbekannte Datengüte „X“"),
    ("sector,carrier,megawattstunden\nghd,strom,10\n", "Die Spalte „mwh“ (Energiedaten) fehlt"),
    ("sector,carrier,mwh\nghd,umweltwaerme,320\n", "Wärmepumpen im Sektor „ghd“"),
    ("sector,carrier,mwh\nkommunale_einrichtungen,strom,10\n", None),  # only fails with --municipal-in-ghd
])
def test_cli_errors_are_one_german_line_and_exit_code_2(tmp_path, capsys, energy, message):
    path = tmp_path / "energie.csv"
    path.write_text(energy, encoding="utf-8")
    options = ("--municipal-in-ghd",) if message is None else ()
    assert main(balance_args(*options, energy=path)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Fehler: ") and captured.err.count("\n") == 1
    assert (message or "Sektor „ghd“ hat keine Zeile für den Energieträger „strom“") in captured.err


@pytest.mark.parametrize("changes, message", [
    ({"year": "zweitausend"}, "--year muss eine Jahreszahl"),
    ({"year": "2021.5"}, "--year muss eine Jahreszahl"),
    ({"population": "0"}, "--population muss eine ganze Zahl größer als 0 sein"),
    ({"population": "viele"}, "--population muss eine ganze Zahl"),
    ({"energy": "gibt-es-nicht.csv"}, "Energiedaten: Die Datei „gibt-es-nicht.csv“ gibt es nicht."),
    ({"factors": "fehlt.csv"}, "Faktortabelle: Die Datei „fehlt.csv“ gibt es nicht."),
    ({"year": "2018"}, "„strom“ gibt es keinen Emissionsfaktor für das Jahr 2018 (der früheste gilt ab 2019)"),
])
def test_cli_bad_options_and_files(capsys, changes, message):
    assert main(balance_args(**changes)) == 2
    err = capsys.readouterr().err
    assert err.startswith("Fehler: ") and err.count("\n") == 1 and message in err


def test_cli_missing_required_option_is_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["balance", str(ENERGY), "--year", "2021", "--population", "5"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Fehler: ") and err.count("\n") == 1 and "--factors" in err


def test_the_real_command_reproduces_the_hand_made_city():
    result = subprocess.run([sys.executable, "-m", "analyse", *balance_args("--municipal-in-ghd", "--json")],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert close(data["total_t_co2e"], 69450) and close(data["per_capita_t_co2e"], "5.556")
    assert close(data["final_energy_mwh"], 221160) and close(data["by_sector"]["verkehr"], 18640)


def test_a_stored_result_comes_back_from_its_dict():
    rows = [EnergyRow("private_haushalte", "strom", Decimal("1000"), "A"),
            EnergyRow("private_haushalte", "umweltwaerme", Decimal("320"), "B"),
            EnergyRow("verkehr", "diesel", Decimal("500"))]
    factors = [Factor("strom", Decimal("0.5"), 2020, "Test"), Factor("diesel", Decimal("0.33"), 2019, "Test")]
    result = compute_balance(2022, 1000, rows, factors)
    again = BalanceResult.from_dict(result.to_dict())
    assert again.to_dict() == result.to_dict()
    assert again.total_t_co2e == result.total_t_co2e
    assert again.options["heat_pump_apf"] == Decimal("3.2")
