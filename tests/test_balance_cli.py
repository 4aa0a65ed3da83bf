"""`flask balance export|recompute|import` and the demo balance recomputed by `python -m analyse balance`.

The expected figures are the hand calculation in beteiligung/balance/demo_data/README.md.
"""
import json
import shlex
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from analyse.bisko import SECTORS
from analyse.cli import main as analyse_main
from beteiligung.audit.models import AuditEntry
from beteiligung.balance import demo as balance_demo, reference
from beteiligung.balance.models import Balance, EmissionFactor
from beteiligung.extensions import db

REFERENCE_FACTORS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "bisko-emissionsfaktoren.csv"
# The hand calculation of demo_data/README.md.
TOTAL = Decimal("746236.8")
PER_CAPITA = TOTAL / 110000
FINAL_ENERGY = Decimal(2191700)
QUALITY = Decimal(1465750) / FINAL_ENERGY
BY_SECTOR = {"private_haushalte": Decimal("184366.8"), "ghd": Decimal(143758), "industrie": Decimal(183892),
             "kommunale_einrichtungen": Decimal(25250), "verkehr": Decimal(208970)}
BY_SECTOR_MWH = {"private_haushalte": 583400, "ghd": 406200, "industrie": 511000,
                 "kommunale_einrichtungen": 77100, "verkehr": 614000}
JSON_KEYS = {"year", "population", "total_t_co2e", "per_capita_t_co2e", "final_energy_mwh", "quality_index",
             "by_sector", "by_carrier", "rows", "by_sector_mwh", "by_carrier_mwh", "quality_ungraded_mwh",
             "factors_used", "options", "adjustments"}


def close(value, expected, tolerance=Decimal("0.0001")):
    """Within 0.01 %."""
    expected = Decimal(str(expected))
    return abs(Decimal(str(value)) - expected) <= abs(expected) * tolerance


@pytest.fixture
def demo_balance(app):
    """Only what the balance needs: the reference factors and the demo balance (no accounts, no plan)."""
    with app.app_context():
        reference.ensure_reference_data()
        balance_demo.load_demo_balance()
        db.session.commit()


def flask_balance(app, *args):
    return app.test_cli_runner().invoke(args=["balance", *map(str, args)])


def snapshot(app, year=2022):
    with app.app_context():
        balance = db.session.scalar(select(Balance).where(Balance.year == year))
        return ([(e.sector, e.carrier, str(e.mwh), e.quality, e.note) for e in balance.entries],
                balance.result_json, balance.error)


def check_hand_calculation(data):
    assert set(data) == JSON_KEYS
    assert data["year"] == 2022 and data["population"] == 110000
    assert close(data["total_t_co2e"], TOTAL)
    assert close(data["per_capita_t_co2e"], PER_CAPITA)
    assert close(data["final_energy_mwh"], FINAL_ENERGY)
    assert close(data["quality_index"], QUALITY)
    assert list(data["by_sector"]) == list(SECTORS)
    for sector, expected in BY_SECTOR.items():
        assert close(data["by_sector"][sector], expected), sector
        assert close(data["by_sector_mwh"][sector], BY_SECTOR_MWH[sector]), sector
    assert close(data["by_carrier"]["strom"], "297192.5") and close(data["by_carrier"]["umweltwaerme"], "2777.5")
    assert data["quality_ungraded_mwh"] == 0
    assert data["options"] == {"heat_pump_apf": 3.2, "heat_pump_power_in_electricity": True,
                               "municipal_in_ghd": True}


# --- export and the analyse command line ---------------------------------------------------------

def test_export_writes_what_analyse_recomputes_to_the_hand_calculation(app, demo_balance, tmp_path, capsys):
    entries, factors = tmp_path / "energie.csv", tmp_path / "faktoren.csv"
    result = flask_balance(app, "export", 2022, "--entries", entries, "--factors", factors)
    assert result.exit_code == 0, result.output
    assert "26 Zeilen" in result.output and "10 Faktoren" in result.output
    assert "746.236,8 t CO2e" in result.output
    command = result.output.strip().splitlines()[-1]
    assert command.startswith("python -m analyse balance ")
    argv = shlex.split(command)[3:]
    assert argv[argv.index("--year") + 1] == "2022" and argv[argv.index("--population") + 1] == "110000"
    assert "--municipal-in-ghd" in argv and "--heat-pump-power-separate" not in argv

    lines = factors.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "carrier,t_co2e_per_mwh,valid_from,source"
    assert not any(line.startswith("umweltwaerme") for line in lines)
    assert any(line.startswith('strom,"0,505",2022,') for line in lines)
    assert entries.read_text(encoding="utf-8").splitlines()[0] == "sector,carrier,mwh,quality,note"

    assert analyse_main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    check_hand_calculation(data)
    with app.app_context():
        stored = db.session.scalar(select(Balance)).result
    assert data["total_t_co2e"] == stored["total_t_co2e"] and data["by_sector"] == stored["by_sector"]
    assert data["factors_used"] == stored["factors_used"]


@pytest.mark.skipif(not REFERENCE_FACTORS.exists(), reason="the shared reference table is not there")
def test_demo_file_with_the_reference_table_gives_the_hand_calculation(capsys):
    assert analyse_main(["balance", str(balance_demo.ENERGY_FILE), "--factors", str(REFERENCE_FACTORS),
                         "--year", "2022", "--population", "110000", "--municipal-in-ghd", "--json"]) == 0
    check_hand_calculation(json.loads(capsys.readouterr().out))


def test_export_of_an_unknown_year_fails_in_german(app, demo_balance, tmp_path):
    entries, factors = tmp_path / "e.csv", tmp_path / "f.csv"
    result = flask_balance(app, "export", 2019, "--entries", entries, "--factors", factors)
    assert result.exit_code == 2
    assert "Es gibt keine Bilanz für das Jahr 2019. Vorhanden: 2022." in result.output
    assert not entries.exists() and not factors.exists()


def test_export_needs_a_valid_calculation(app, demo_balance, tmp_path):
    with app.app_context():
        balance = db.session.scalar(select(Balance))
        balance.result_json, balance.error = None, "Für den Energieträger „kohle“ gibt es keinen Emissionsfaktor."
        db.session.commit()
    result = flask_balance(app, "export", 2022, "--entries", tmp_path / "e.csv", "--factors", tmp_path / "f.csv")
    assert result.exit_code == 2
    assert "keine gültige Berechnung" in result.output and "flask balance recompute 2022" in result.output
    assert not list(tmp_path.iterdir())


# --- recompute -----------------------------------------------------------------------------------

def test_recompute_takes_the_changed_factor(app, demo_balance):
    with app.app_context():
        factor = db.session.scalar(select(EmissionFactor).where(EmissionFactor.carrier == "strom",
                                                                EmissionFactor.valid_from == 2022))
        factor.t_co2e_per_mwh = Decimal("0.45")
        db.session.commit()
    result = flask_balance(app, "recompute", 2022)
    assert result.exit_code == 0, result.output
    assert "Faktor strom: 0,5050 → 0,4500" in result.output
    # strom as reported outside GHD's municipal share: 594,000 MWh x 0.055 less = 32,670 t less
    assert "713.566,8 t CO2e (vorher 746.236,8)" in result.output
    with app.app_context():
        balance = db.session.scalar(select(Balance))
        assert close(balance.result["total_t_co2e"], "713566.8")
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "balance.recompute")) is not None


def test_recompute_keeps_the_old_result_when_a_factor_is_missing(app, demo_balance):
    with app.app_context():
        db.session.delete(db.session.scalar(select(EmissionFactor).where(EmissionFactor.carrier == "fluessiggas")))
        db.session.commit()
    before = snapshot(app)
    result = flask_balance(app, "recompute", 2022)
    assert result.exit_code == 2
    assert "Für den Energieträger „fluessiggas“ gibt es keinen Emissionsfaktor für das Jahr 2022" in result.output
    assert "Es wurde nichts geändert." in result.output
    assert snapshot(app) == before
    assert flask_balance(app, "recompute", 2030).exit_code == 2


# --- import --------------------------------------------------------------------------------------

GERMAN_FILE = (
    "Sektor;Energieträger;Endenergie;Datengüte;Quelle\n"
    "Private Haushalte;Strom;150.000;A;Netzbetreiber\n"
    "Private Haushalte;Erdgas;200.000,5;a;Netzbetreiber\n"
    "GHD;strom;100.000;B;Netzbetreiber\n"
    "Kommunal;Strom;10.000;A;Energiebericht der Stadt\n"
    "Verkehr;Diesel;300.000;;Bundeswerte für Lkw\n"
)


def test_import_replaces_the_entries_all_at_once(app, demo_balance, tmp_path):
    path = tmp_path / "bilanz.csv"
    path.write_bytes(GERMAN_FILE.encode("cp1252"))
    result = flask_balance(app, "import", 2022, path, "--encoding", "cp1252")
    assert result.exit_code == 0, result.output
    # strom 150,000 + (100,000 - 10,000 municipal) + 10,000 = 250,000 MWh x 0.505 = 126,250;
    # erdgas 200,000.5 x 0.247 = 49,400.1235; diesel 300,000 x 0.331 = 99,300 -> 274,950.1235 t
    assert "Bilanz 2022 importiert: 5 Zeilen, 274.950,1 t CO2e" in result.output
    assert "vorher 746.236,8 t CO2e" in result.output
    with app.app_context():
        balance = db.session.scalar(select(Balance))
        assert len(balance.entries) == 5 and close(balance.result["total_t_co2e"], "274950.1235")
        entries = {(e.sector, e.carrier): e for e in balance.entries}
        assert entries[("private_haushalte", "erdgas")].quality == "A"
        assert entries[("verkehr", "diesel")].quality is None
        assert entries[("private_haushalte", "strom")].note == "Netzbetreiber"
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "balance.import")) is not None


def test_import_dry_run_changes_nothing(app, demo_balance, tmp_path):
    path = tmp_path / "bilanz.csv"
    path.write_text(GERMAN_FILE, encoding="utf-8")
    before = snapshot(app)
    result = flask_balance(app, "import", 2022, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Probelauf für die Bilanz 2022: 5 Zeilen, 274.950,1 t CO2e" in result.output
    assert "nichts gespeichert" in result.output
    assert snapshot(app) == before


@pytest.mark.parametrize("content, messages", [
    ("sector;carrier;mwh;quality\n"
     "private_haushalte;strom;1.000;A\n"
     "ghd;kaese;5;A\n"
     "verkehr;diesel;-3;X\n"
     "private_haushalte;Strom;7;A\n",
     ["Zeile 3, Energieträger: Unbekannter Energieträger „kaese“",
      "Zeile 4, MWh: Die Endenergie darf nicht negativ sein.",
      "Zeile 4, Datengüte: Unbekannte Datengüte „X“",
      "Zeile 5, Energieträger: Private Haushalte / Strom (Bundesmix) steht schon in Zeile 2.",
      "4 Fehler in bilanz.csv; es wurde nichts importiert."]),
    ("sektor;menge\nprivate_haushalte;5\n",
     ["Datei: Es fehlt die Spalte „Energieträger“", "Datei: Es fehlt die Spalte „MWh“"]),
    ("sector,carrier,mwh\nhafen,strom,5\n", ["Zeile 2, Sektor: Unbekannter Sektor „hafen“"]),
    ("sector,carrier,mwh\nprivate_haushalte,solarthermie,800\n",
     ["Für den Energieträger „solarthermie“ gibt es keinen Emissionsfaktor für das Jahr 2022",
      "Zeile 2", "Es wurde nichts importiert."]),
    ("sector,carrier,mwh\nkommunale_einrichtungen,strom,800\n",
     ["Kommunale Einrichtungen aus GHD herausrechnen: Sektor „ghd“ hat keine Zeile für den Energieträger „strom“"]),
    ("   \n", ["bilanz.csv: Die Datei ist leer."]),
])
def test_a_broken_file_is_refused_with_row_numbers_and_nothing_changes(app, demo_balance, tmp_path, content,
                                                                         messages):
    path = tmp_path / "bilanz.csv"
    path.write_text(content, encoding="utf-8")
    before = snapshot(app)
    result = flask_balance(app, "import", 2022, path)
    assert result.exit_code == 2, result.output
    for message in messages:
        assert message in result.output
    assert "Traceback" not in result.output
    assert snapshot(app) == before


def test_import_into_an_unknown_year_fails(app, demo_balance, tmp_path):
    path = tmp_path / "bilanz.csv"
    path.write_text(GERMAN_FILE, encoding="utf-8")
    result = flask_balance(app, "import", 2023, path)
    assert result.exit_code == 2
    assert "Es gibt keine Bilanz für das Jahr 2023." in result.output
    with app.app_context():
        assert db.session.scalar(select(Balance).where(Balance.year == 2023)) is None


def test_a_bad_year_or_target_is_refused_in_german_before_anything_is_written(app, demo_balance, tmp_path):
    result = flask_balance(app, "recompute", "zwanzig")
    assert result.exit_code == 2 and "„zwanzig“ ist kein Bilanzjahr" in result.output
    factors = tmp_path / "f.csv"
    result = flask_balance(app, "export", 2022, "--entries", tmp_path / "fehlt" / "e.csv", "--factors", factors)
    assert result.exit_code == 2 and "Das Verzeichnis" in result.output and "gibt es nicht" in result.output
    assert not factors.exists()
    result = flask_balance(app, "export", 2022, "--entries", factors, "--factors", factors)
    assert result.exit_code == 2 and "verschiedene Dateien" in result.output
