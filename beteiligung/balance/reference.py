"""The reference data the balance starts with: the carriers and the checked BISKO factors.

The values are those of the project's reference table (BISKO method paper, Difu, July 2024).
Migration 0005 seeds a frozen copy of them; `ensure_reference_data` adds what is missing to
a database made otherwise (tests, `flask demo load` on an empty schema).
"""
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import utcnow
from .models import EmissionFactor, EnergyCarrier

CARRIERS = [
    # code, name, use, note
    ("strom", "Strom (Bundesmix)", "stationaer", "immer mit dem Bundesstrommix des Bilanzjahres bewertet"),
    ("erdgas", "Erdgas", "stationaer", ""),
    ("heizoel", "Heizöl", "stationaer", ""),
    ("fluessiggas", "Flüssiggas", "stationaer", ""),
    ("kohle", "Kohle", "stationaer", ""),
    ("holz", "Holz", "stationaer", ""),
    ("biogas", "Biogas", "stationaer", ""),
    ("deponie_klaergas", "Deponie-, Klär-, Grubengas", "stationaer", ""),
    ("fernwaerme", "Fernwärme", "stationaer", "lokaler Faktor aus exergetischer Allokation hat Vorrang vor dem Standardwert"),
    ("umweltwaerme", "Umweltwärme (Wärmepumpe)", "stationaer",
     "kein eigener Faktor: Wärmepumpenstrom = Umweltwärme / Jahresarbeitszahl, mit dem Strom-Faktor bewertet"),
    ("solarthermie", "Solarthermie", "stationaer", "kein geprüfter Faktor in der Referenztabelle"),
    ("benzin", "Benzin", "verkehr", "inkl. Bio-Beimischung"),
    ("diesel", "Diesel", "verkehr", "inkl. Bio-Beimischung"),
]
_PAPER = "BISKO Methodenpapier (Difu, Juli 2024)"
FACTORS = [
    # carrier, valid_from, t CO2e/MWh, source, note
    ("erdgas", 2019, "0.247", f"{_PAPER}, Kap. 4, Tabelle 3", "mit Vorkette, bezogen auf den Heizwert"),
    ("heizoel", 2019, "0.318", f"{_PAPER}, Kap. 4, Tabelle 3", "mit Vorkette"),
    ("fluessiggas", 2022, "0.276", f"{_PAPER}, Kap. 4, Tabelle 3", "mit Vorkette"),
    ("kohle", 2019, "0.433", f"{_PAPER}, Kap. 4, Tabelle 3",
     "mit Vorkette; Braun- und Steinkohle getrennt: Werte nicht geprüft, vom Anwender zu pflegen"),
    ("holz", 2021, "0.022", f"{_PAPER}, Kap. 4, Tabelle 3", "mit Vorkette"),
    ("biogas", 2019, "0.124", f"{_PAPER}, Kap. 4, Tabelle 4", "mit Vorkette"),
    ("deponie_klaergas", 2021, "0.055", f"{_PAPER}, Anhang, Tabelle 11", ""),
    ("fernwaerme", 2019, "0.260", f"{_PAPER}, Tabelle 5 (Standardwert)",
     "gilt nur ohne lokale Erzeugungsdaten; lokaler Faktor aus exergetischer Allokation hat Vorrang"),
    ("strom", 2022, "0.505", f"{_PAPER}, Bundesstrommix 2022",
     "Wert je Bilanzjahr verschieden: andere Jahre vom Anwender zu pflegen"),
    ("benzin", 2021, "0.337", f"{_PAPER}, Kap. 5, Tabelle 10", "Well-to-Wheel"),
    ("diesel", 2021, "0.331", f"{_PAPER}, Kap. 5, Tabelle 10", "Well-to-Wheel"),
]


def ensure_reference_data():
    """Add the reference carriers and factors that are missing (by code, by carrier and year)."""
    carriers = set(db.session.scalars(select(EnergyCarrier.code)))
    for position, (code, name, use, note) in enumerate(CARRIERS):
        if code not in carriers:
            db.session.add(EnergyCarrier(code=code, name=name, use=use, note=note, position=position, builtin=True))
    db.session.flush()
    factors = set(db.session.execute(select(EmissionFactor.carrier, EmissionFactor.valid_from)).tuples())
    now = utcnow()
    for carrier, year, value, source, note in FACTORS:
        if (carrier, year) not in factors:
            db.session.add(EmissionFactor(carrier=carrier, valid_from=year, t_co2e_per_mwh=Decimal(value),
                                          source=source, note=note, created_at=now, updated_at=now))
    db.session.flush()
