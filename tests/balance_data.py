"""Test data for the public balance pages and the balance API: the hand-made balance of
tests/data/bisko (Beispielhausen 2021, 69,450 t CO2e) and a published scenario to 2035 with
hand-calculable measures and compensation options.

The scenario (base year 2021, target 2035):
- transport -10 % final energy per year, the other sectors constant;
- electricity factor path: 0.48 in 2021 (the balance's factor, added by the trend), 0.30 from 2030;
- population path: 12,500 (the balance) to 10,000 in 2035;
- measures: M-1.1 Wohngebäude (private households) 8,000 t/a from 2024 over 4 years,
  M-4.1 Mobilität (transport) 2,000 t/a from 2023 over 2 years, M-5.1 Energie (spread over the
  stationary sectors) 10,000 t/a from 2030 over 10 years, M-7.1 Übergreifend (no BISKO sector:
  spread over all sectors) 1,000 t/a from 2034, full at once; left out: M-6.1 deferred, M-6.2
  without savings, M-6.3 without start year; in 2035 they save 8,000 + 2,000 + 6,000 + 1,000;
- compensation: Aufforstung 5,000 t at 40 €/t, Moor 10,000 t at 60 €/t, Zertifikate 8,000 t at
  120 €/t (listed in another order; used cheapest first).
"""
from decimal import Decimal
from pathlib import Path

from analyse.bisko import read_factors_csv
from beteiligung.balance import reference, services
from beteiligung.balance.models import (Balance, CompensationOption, EmissionFactor, ScenarioPathPoint,
                                        ScenarioSettings)
from beteiligung.extensions import db
from beteiligung.ideas.importing import read_table
from beteiligung.ideas.models import Sector
from beteiligung.ideas.services import ensure_default_sectors
from beteiligung.measures.models import Measure

DATA = Path(__file__).parent / "data" / "bisko"
NOTE = "Quellen: Netzbetreiber, Schornsteinfeger.\n<script>alert('x')</script> <b>fett</b>"

TOTAL_T = 69450
PER_CAPITA_T = 5.556
FINAL_ENERGY_MWH = 221160
QUALITY_INDEX = 136815 / 221160
SAVINGS_2035 = 8000 + 2000 + 6000 + 1000


def trend_2035():
    """The trend in 2035 by hand: transport x 0.9^14, strom and heat pumps with 0.30, the rest as in 2021."""
    scale = 0.9 ** 14
    others = TOTAL_T - 22656 - 624 - 18400  # without strom, umweltwaerme, benzin + diesel
    strom_mwh = 15000 + 9800 + 20000 + 1900  # without transport
    return (others + 18400 * scale + strom_mwh * 0.30 + 500 * scale * 0.30 + 4160 * 0.30 / 3.2)


def transport_trend_2035():
    """benzin and diesel (18,400 t) and tram strom (500 MWh x 0.30) after 14 years of -10 %."""
    return 18400 * 0.9 ** 14 + 500 * 0.9 ** 14 * 0.30


def make_balance(year=2021, population=12500, published=True, note=NOTE, with_factors=True, **options):
    """The Beispielhausen balance for `year` (needs an app context); returns the Balance.

    with_factors: replace the factor table by tests/data/bisko/faktoren.csv (once per test);
    options: further Balance columns, e.g. heat_pump_power_in_electricity=False.
    """
    if with_factors:
        reference.ensure_reference_data()
        ensure_default_sectors()
        db.session.query(EmissionFactor).delete()
        for factor in read_factors_csv(DATA / "faktoren.csv"):
            db.session.add(EmissionFactor(carrier=factor.carrier, valid_from=factor.valid_from or 1990,
                                          t_co2e_per_mwh=factor.t_co2e_per_mwh, source=factor.source))
    options.setdefault("municipal_in_ghd", True)
    balance = Balance(year=year, population=population, note=note, **options)
    db.session.add(balance)
    db.session.flush()
    table = read_table((DATA / "beispielhausen-2021.csv").read_bytes(), "beispielhausen.csv", encoding="cp1252")
    entries, errors = services.parse_entry_table(table)
    assert errors == []
    services.replace_entries(balance, entries)
    assert balance.error == "", balance.error
    if published:
        services.set_published(balance, True)
    db.session.commit()
    return balance


def make_scenario(published=True):
    """The scenario settings, paths, measures and compensation options described above."""
    sectors = {sector.code: sector.id for sector in db.session.scalars(db.select(Sector))}
    db.session.add(ScenarioSettings(target_year=2035, published=published, annual_change_json='{"verkehr": "-10"}',
                                    note="Annahmen nach dem Klima-Aktionsplan <i>Entwurf</i>."))
    db.session.add_all([ScenarioPathPoint(kind="electricity", year=2030, value=Decimal("0.30")),
                        ScenarioPathPoint(kind="population", year=2035, value=Decimal("10000"))])
    db.session.add_all([
        Measure(number="M-1.1", title="Wärmepumpen im Bestand", sector_id=sectors["wohngebaeude"], start_year=2024,
                ramp_up_years=4, savings_t_co2e_per_year=Decimal("8000")),
        Measure(number="M-4.1", title="Radverkehr <stärken>", sector_id=sectors["mobilitaet"], start_year=2023,
                ramp_up_years=2, savings_t_co2e_per_year=Decimal("2000")),
        Measure(number="M-5.1", title="Solarpflicht", sector_id=sectors["energie"], start_year=2030,
                ramp_up_years=10, savings_t_co2e_per_year=Decimal("10000")),
        Measure(number="M-6.1", title="Zurückgestellt", sector_id=sectors["energie"], start_year=2022,
                status="deferred", savings_t_co2e_per_year=Decimal("9999")),
        Measure(number="M-6.2", title="Ohne Einsparung", sector_id=sectors["energie"], start_year=2022),
        Measure(number="M-6.3", title="Ohne Beginn", sector_id=sectors["energie"],
                savings_t_co2e_per_year=Decimal("500")),
        Measure(number="M-7.1", title="Klimabildung", sector_id=sectors["uebergreifend"], start_year=2034,
                ramp_up_years=1, savings_t_co2e_per_year=Decimal("1000")),
    ])
    db.session.add_all([
        CompensationOption(name="Zertifikate", capacity_t_per_year=8000, cost_eur_per_t=120, position=1),
        CompensationOption(name="Moor", capacity_t_per_year=10000, cost_eur_per_t=60, position=2),
        CompensationOption(name="Aufforstung", capacity_t_per_year=5000, cost_eur_per_t=40, position=3),
    ])
    db.session.commit()
