"""Emission savings of a measure computed from the final energy it saves per energy carrier.

The factors come from the balance module, which registers a provider:

    @savings.factor_provider
    def _factors(year):
        return FactorSet(year=2022, factors={"strom": Decimal("0.505"), ...}, source="Bilanz 2022")

`year` is the year the caller wants (None: the newest the balance has). Until a
provider is registered, or when it has no factor for a carrier of the sheet, the
sheet keeps its energy per carrier, shows no computed emissions and says why;
nothing is guessed.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l

# The carrier codes of the BISKO reference table; the balance module maintains the full list.
DEFAULT_CARRIERS = {
    "strom": _l("Strom"),
    "erdgas": _l("Erdgas"),
    "heizoel": _l("Heizöl"),
    "fluessiggas": _l("Flüssiggas"),
    "kohle": _l("Kohle"),
    "holz": _l("Holz"),
    "biogas": _l("Biogas"),
    "deponie_klaergas": _l("Deponie-, Klär-, Grubengas"),
    "fernwaerme": _l("Fernwärme"),
    "umweltwaerme": _l("Umweltwärme"),
    "solarthermie": _l("Solarthermie"),
    "benzin": _l("Benzin"),
    "diesel": _l("Diesel"),
}
# Environmental heat is valued through the heat pump's power, which a sheet enters as a
# (negative) "strom" row; counting the heat as well would count that power twice.
# Solar thermal heat has a factor of its own in the balance's table, like any carrier.
ZERO_EMISSION = frozenset({"umweltwaerme"})

_providers = []


@dataclass(frozen=True)
class FactorSet:
    year: int
    factors: dict = field(default_factory=dict)  # carrier code -> t CO2e per MWh (Decimal)
    source: str = ""


@dataclass(frozen=True)
class Computation:
    mwh_per_year: Decimal  # net final energy saved (sum of the carrier rows)
    t_co2e_per_year: Decimal = None  # None when it cannot be computed
    factor_year: int = None
    missing: tuple = ()  # carriers without a factor
    source: str = ""


def factor_provider(function):
    """Register a function year -> FactorSet | None (the balance module does this)."""
    _providers.append(function)
    return function


def carriers():
    """code -> label of the carriers a sheet can name."""
    known = dict(DEFAULT_CARRIERS)
    for provider in _providers:
        extra = getattr(provider, "carriers", None)
        if callable(extra):
            known.update(extra())
    return known


def emission_factors(year=None):
    for provider in _providers:
        found = provider(year)
        if found is not None:
            return found
    return None


def compute(rows, year=None):
    """Savings from [(carrier, mwh_per_year)]: the energy always, the emissions when every factor is known."""
    mwh = sum((Decimal(amount) for _carrier, amount in rows), Decimal(0))
    if not rows:
        return Computation(mwh_per_year=mwh)
    factor_set = emission_factors(year)
    if factor_set is None:
        return Computation(mwh_per_year=mwh, missing=tuple(sorted({c for c, _ in rows} - ZERO_EMISSION)))
    total, missing = Decimal(0), []
    for carrier, amount in rows:
        if carrier in ZERO_EMISSION:
            continue
        factor = factor_set.factors.get(carrier)
        if factor is None:
            missing.append(carrier)
            continue
        total += Decimal(amount) * Decimal(factor)
    if missing:
        return Computation(mwh_per_year=mwh, factor_year=factor_set.year, missing=tuple(sorted(set(missing))),
                           source=factor_set.source)
    return Computation(mwh_per_year=mwh, t_co2e_per_year=total.quantize(Decimal("0.01")),
                       factor_year=factor_set.year, source=factor_set.source)
