"""Demo content of the balance: the BISKO balance 2022 of the demo city and the scenario settings.

The final energy per sector and carrier is in demo_data/energie-2022.csv (the format of the
import and of `python -m analyse balance`); demo_data/README.md has the hand calculation of
the result. All figures are invented for the demo; they are plausible for a university city of
about 110,000 inhabitants with some industry and a large district-heating network.

The step runs after the measure plan (60): the published balance gives the sheets with the
carrier method their t CO2e, and the scenario is built from the plan's savings.
"""
import json
from decimal import Decimal
from pathlib import Path

from ..demo import demo_step
from ..extensions import db
from ..ideas.importing import read_table
from . import reference, services
from .models import Balance, CompensationOption, ScenarioPathPoint, ScenarioSettings

DEMO_DIR = Path(__file__).parent / "demo_data"
ENERGY_FILE = DEMO_DIR / "energie-2022.csv"
YEAR = 2022
POPULATION = 110_000

BALANCE_NOTE = (
    "Beispieldaten für die Demo: alle Zahlen sind erfunden, dies ist nicht die amtliche Bilanz der Stadt.\n\n"
    "Quellen der Endenergie: Netzbetreiber Stadtwerke Jena Netze (Strom und Erdgas nach Kundengruppen), "
    "Stadtwerke Jena (Fernwärme), Energiebericht der Stadt 2022 (kommunale Einrichtungen), "
    "Schornsteinfegerdaten (Heizöl, Flüssiggas, Kohle, Holz, hochgerechnet), Landesamt für Statistik "
    "(Industrie und GHD ohne Netzdaten), Verkehrsmodell der Stadt mit TREMOD-Kennwerten (Verkehr).\n\n"
    "Emissionsfaktoren: BISKO-Methodenpapier (Difu, Juli 2024), Strom mit dem Bundesstrommix 2022. "
    "Die Fernwärme ist mit dem Standardwert bewertet, weil die exergetische Allokation der Erzeugungsanlagen "
    "noch nicht vorliegt. Der Netzbetreiber weist die kommunalen Einrichtungen im Sektor GHD aus; sie sind "
    "dort herausgerechnet. Wärmepumpen: Umweltwärme mit Jahresarbeitszahl 3,2, ihr Strom ist aus dem Strom "
    "der Sektoren herausgerechnet. Keine Witterungskorrektur.")

# Trend: annual change of final energy per sector in percent (compounded).
ANNUAL_CHANGE = {
    "private_haushalte": "-0.5",  # renovation rate about 1 %, partly eaten up by more living space
    "ghd": "-0.7",
    "industrie": "-0.3",
    "kommunale_einrichtungen": "-0.6",  # energy management of the city's own buildings
    "verkehr": "-0.4",
}
ELECTRICITY_PATH = {2022: "0.505", 2030: "0.25", 2035: "0.15"}  # t CO2e/MWh, assumptions
POPULATION_PATH = {2022: 110_000, 2030: 112_500, 2035: 113_500}

SCENARIO_NOTE = (
    "Annahmen des Trendszenarios (ohne die Maßnahmen des Klimaschutzplans): Die Endenergie sinkt jährlich "
    "um 0,5 % in den privaten Haushalten (Sanierungsrate um 1 %, teilweise aufgezehrt durch mehr Wohnfläche), "
    "um 0,7 % in Gewerbe, Handel und Dienstleistungen, um 0,3 % in der Industrie, um 0,6 % in den kommunalen "
    "Einrichtungen (Energiemanagement) und um 0,4 % im Verkehr (effizientere Fahrzeuge bei leicht "
    "wachsender Fahrleistung).\n\n"
    "Der Emissionsfaktor des Bundesstrommixes sinkt von 0,505 t CO2e/MWh (2022) auf 0,25 (2030) und 0,15 "
    "(2035), dazwischen linear. Das sind Annahmen für den Ausbau der erneuerbaren Energien im Bund, keine "
    "geprüften Werte; die übrigen Faktoren bleiben auf dem Stand von 2022. Die Einwohnerzahl wächst leicht "
    "von 110.000 auf 113.500 (2035).\n\n"
    "Das Klimaneutralitätsszenario zieht vom Trend die abgeschätzten Einsparungen der Maßnahmen ab, mit "
    "ihrem Beginn und ihrer Hochlaufzeit. Maßnahmen der Energieversorgung und übergreifende Maßnahmen werden "
    "nach dem Anteil der Sektoren an den Emissionen verteilt.\n\n"
    "Kompensation: Die Restemissionen 2035 werden zuerst mit den günstigsten Möglichkeiten ausgeglichen, "
    "jede bis zu ihrer Kapazität. Senken in der Region sind klein; zertifizierte Kompensation ist durch den "
    "Haushalt begrenzt und soll Einsparungen nicht ersetzen. Was dann offen bleibt, zeigt, wie viel der "
    "Maßnahmenplan noch nachschärfen muss. Alle Zahlen sind Beispieldaten für die Demo.")

COMPENSATION_OPTIONS = [
    # name, description, capacity t CO2e/a, EUR/t
    ("Aufforstung und Waldumbau im Stadtwald",
     "Neuaufforstung von 120 ha und klimastabiler Umbau von Fichtenbeständen im Stadtwald; zusätzliche "
     "Bindung nach Forsteinrichtung, gegengeprüft durch die Landesforstanstalt.", "1500", "110"),
    ("Wiedervernässung von Mooren in der Region",
     "Wiedervernässung entwässerter Moorflächen in Thüringen nach dem MoorFutures-Standard, gemeinsam mit "
     "dem Landkreis und der Stiftung Naturschutz.", "4000", "65"),
    ("Humusaufbau in der Landwirtschaft",
     "Humusaufbau auf rund 6.000 ha Acker im Umland (Zwischenfrüchte, Agroforst), Bindung durch "
     "Bodenproben alle fünf Jahre nachgewiesen.", "6000", "45"),
    ("Zertifizierte Kompensation (Gold Standard)",
     "Kauf zertifizierter Emissionsminderungen aus Projekten außerhalb der Region; begrenzt durch den "
     "Haushaltsansatz von 2,5 Mio. € im Jahr.", "100000", "25"),
]


class DemoDataError(ValueError):
    """The demo data do not pass the checks of the import (a bug in the demo files)."""


def read_demo_entries(path=ENERGY_FILE):
    """EntryInputs of the demo file, read and checked like an upload."""
    table = read_table(path.read_bytes(), path.name)
    entries, errors = services.parse_entry_table(table)
    if errors:
        raise DemoDataError(f"{path.name}: " + "; ".join(error.format() for error in errors))
    return entries


def load_demo_balance():
    """The published balance of the base year, computed from the demo file."""
    reference.ensure_reference_data()
    balance = Balance(year=YEAR, population=POPULATION, heat_pump_apf=Decimal("3.2"),
                      heat_pump_power_in_electricity=True, municipal_in_ghd=True, published=False,
                      note=BALANCE_NOTE)
    db.session.add(balance)
    db.session.flush()
    if services.replace_entries(balance, read_demo_entries(), action="balance.entries") is None:
        raise DemoDataError(f"{ENERGY_FILE.name}: {balance.error}")
    balance.published = True
    db.session.flush()
    return balance


def load_demo_scenario():
    """The scenario settings, the paths and the compensation options."""
    db.session.add(ScenarioSettings(base_year=YEAR, target_year=services.DEFAULT_TARGET_YEAR,
                                    annual_change_json=json.dumps(ANNUAL_CHANGE), published=True,
                                    note=SCENARIO_NOTE))
    for kind, points in (("electricity", ELECTRICITY_PATH), ("population", POPULATION_PATH)):
        for year, value in points.items():
            db.session.add(ScenarioPathPoint(kind=kind, year=year, value=Decimal(value)))
    for position, (name, description, capacity, cost) in enumerate(COMPENSATION_OPTIONS, start=1):
        db.session.add(CompensationOption(name=name, description=description, capacity_t_per_year=Decimal(capacity),
                                          cost_eur_per_t=Decimal(cost), position=position))
    db.session.flush()


@demo_step(70)
def load_demo_balance_and_scenario():
    """After the measure plan (60): the balance, then the t CO2e of the carrier sheets, then the scenario."""
    load_demo_balance()
    services.refresh_measure_savings()
    load_demo_scenario()
