"""Trend and climate-neutrality scenarios from a BISKO balance, and compensation; plain Python.

- `trend()`: the final energy of every sector changes by a fixed fraction per year
  (compounded), electricity is valued with a path of factors over the years (linear between
  the given points, constant outside), the other carriers with the factor table by year,
  heat pumps as in the balance. Result per year: MWh and t CO2e per sector and carrier,
  total and per capita.
- `neutrality()`: the trend minus the savings of the measures. A measure saves
  share(y) x its full savings in year y: 0 before its start year, (y - start + 1) / ramp
  during the ramp-up, 1 from start + ramp - 1 on (ramp 0 counts as 1: full from the start
  year). A measure without a sector is spread over the sectors in proportion to their trend
  emissions of that year. No sector goes below 0: the savings are capped and the caps reported.
- `compensate()`: the residual emissions of the target year, filled from the compensation
  options cheapest first (ties by name), each up to its capacity; the gap that remains.

All amounts are Decimal; `to_dict()` gives floats for JSON.
"""
import itertools
from dataclasses import dataclass
from decimal import Decimal

from . import bisko
from .bisko import SECTORS, BalanceError, BalanceResult, Factor, check_year, factor_for, parse_number

ZERO = Decimal(0)
ONE = Decimal(1)


class ScenarioError(BalanceError):
    """A problem with a scenario's input, explained in German in one line."""


@dataclass(frozen=True)
class TrendYear:
    year: int
    population: Decimal  # interpolated, not rounded; None without a population path
    electricity_t_co2e_per_mwh: Decimal
    by_sector_mwh: dict  # every sector, SECTORS order
    by_sector_t_co2e: dict
    by_carrier_mwh: dict
    by_carrier_t_co2e: dict
    total_mwh: Decimal
    total_t_co2e: Decimal
    per_capita_t_co2e: Decimal  # None without population


@dataclass(frozen=True)
class TrendResult:
    base_year: int
    target_year: int
    years: tuple  # TrendYear, base year to target year
    annual_change: dict  # sector -> fraction per year
    options: dict  # heat_pump_apf, heat_pump_power_in_electricity, municipal_in_ghd

    def year(self, year):
        return self.years[year - self.base_year]

    def to_dict(self):
        return {"base_year": self.base_year, "target_year": self.target_year,
                "annual_change": _floats(self.annual_change),
                "options": {key: _float(value) if isinstance(value, Decimal) else value
                            for key, value in self.options.items()},
                "years": [{"year": item.year, "population": _float(item.population),
                           "electricity_t_co2e_per_mwh": _float(item.electricity_t_co2e_per_mwh),
                           "by_sector_mwh": _floats(item.by_sector_mwh),
                           "by_sector_t_co2e": _floats(item.by_sector_t_co2e),
                           "by_carrier_mwh": _floats(item.by_carrier_mwh),
                           "by_carrier_t_co2e": _floats(item.by_carrier_t_co2e),
                           "total_mwh": _float(item.total_mwh), "total_t_co2e": _float(item.total_t_co2e),
                           "per_capita_t_co2e": _float(item.per_capita_t_co2e)} for item in self.years]}


@dataclass(frozen=True)
class MeasureEffect:
    key: str  # e.g. the measure's number, for the breakdown
    sector: object  # code from SECTORS; a tuple of codes: spread over those by their trend emissions;
    # None: spread over all sectors by their trend emissions
    start_year: int
    ramp_up_years: int = 1
    t_co2e_per_year: Decimal = ZERO  # full savings; None counts as 0
    mwh_per_year: Decimal = ZERO


@dataclass(frozen=True)
class Cap:
    """Savings larger than the sector's trend in a year: only `applied_*` were taken."""
    year: int
    sector: str  # None: a measure without sector in a year without any trend emissions
    requested_t_co2e: Decimal
    applied_t_co2e: Decimal
    requested_mwh: Decimal
    applied_mwh: Decimal


@dataclass(frozen=True)
class NeutralityYear:
    year: int
    population: Decimal
    trend_t_co2e: dict  # sector -> t CO2e of the trend
    savings_t_co2e: dict  # sector -> savings applied (after capping)
    t_co2e: dict  # sector -> trend minus savings
    trend_mwh: dict
    savings_mwh: dict
    mwh: dict
    by_measure_t_co2e: dict  # measure key -> share x full savings (before capping)
    total_trend_t_co2e: Decimal
    total_savings_t_co2e: Decimal
    total_t_co2e: Decimal
    total_mwh: Decimal
    per_capita_t_co2e: Decimal


@dataclass(frozen=True)
class NeutralityResult:
    base_year: int
    target_year: int
    years: tuple  # NeutralityYear
    caps: tuple  # Cap
    residual_t_co2e: Decimal  # scenario emissions in the target year
    base_t_co2e: Decimal  # trend emissions of the base year (= the balance)
    reduction_share: Decimal  # 1 - residual / base; None when the base is 0

    def year(self, year):
        return self.years[year - self.base_year]

    def to_dict(self):
        return {"base_year": self.base_year, "target_year": self.target_year,
                "residual_t_co2e": _float(self.residual_t_co2e), "base_t_co2e": _float(self.base_t_co2e),
                "reduction_share": _float(self.reduction_share),
                "caps": [{"year": cap.year, "sector": cap.sector,
                          "requested_t_co2e": _float(cap.requested_t_co2e),
                          "applied_t_co2e": _float(cap.applied_t_co2e), "requested_mwh": _float(cap.requested_mwh),
                          "applied_mwh": _float(cap.applied_mwh)} for cap in self.caps],
                "years": [{"year": item.year, "population": _float(item.population),
                           "trend_t_co2e": _floats(item.trend_t_co2e), "savings_t_co2e": _floats(item.savings_t_co2e),
                           "t_co2e": _floats(item.t_co2e), "trend_mwh": _floats(item.trend_mwh),
                           "savings_mwh": _floats(item.savings_mwh), "mwh": _floats(item.mwh),
                           "by_measure_t_co2e": _floats(item.by_measure_t_co2e),
                           "total_trend_t_co2e": _float(item.total_trend_t_co2e),
                           "total_savings_t_co2e": _float(item.total_savings_t_co2e),
                           "total_t_co2e": _float(item.total_t_co2e), "total_mwh": _float(item.total_mwh),
                           "per_capita_t_co2e": _float(item.per_capita_t_co2e)} for item in self.years]}


@dataclass(frozen=True)
class CompensationOption:
    name: str  # e.g. "Aufforstung"
    capacity_t_per_year: Decimal
    cost_eur_per_t: Decimal


@dataclass(frozen=True)
class CompensationUse:
    name: str
    t_co2e: Decimal  # used, at most the capacity
    cost_eur: Decimal
    capacity_t_per_year: Decimal
    cost_eur_per_t: Decimal


@dataclass(frozen=True)
class CompensationResult:
    residual_t_co2e: Decimal
    uses: tuple  # CompensationUse, in the order they are filled (cheapest first), unused ones with 0
    covered_t_co2e: Decimal
    total_cost_eur: Decimal
    gap_t_co2e: Decimal  # 0 when the options cover the residual

    def to_dict(self):
        return {"residual_t_co2e": _float(self.residual_t_co2e), "covered_t_co2e": _float(self.covered_t_co2e),
                "total_cost_eur": _float(self.total_cost_eur), "gap_t_co2e": _float(self.gap_t_co2e),
                "uses": [{"name": use.name, "t_co2e": _float(use.t_co2e), "cost_eur": _float(use.cost_eur),
                          "capacity_t_per_year": _float(use.capacity_t_per_year),
                          "cost_eur_per_t": _float(use.cost_eur_per_t)} for use in self.uses]}


def _float(value):
    return None if value is None else float(value)


def _floats(mapping):
    return {key: _float(value) for key, value in mapping.items()}


def _number(value, what, minimum=None, allow_none=False):
    if value is None and allow_none:
        return None
    number = parse_number(value)
    if number is None or (minimum is not None and number < minimum):
        bound = f" ab {bisko.format_number(minimum, 0)}" if minimum is not None else ""
        raise ScenarioError(f"{what} muss eine Zahl{bound} sein, nicht „{value}“.")
    return number


def _year(value, what):
    try:
        return check_year(value)
    except BalanceError:
        raise ScenarioError(f"{what} muss eine Jahreszahl sein, nicht „{value}“.") from None


def _path(points, what, minimum=ZERO):
    """{year: Decimal} sorted by year, checked."""
    checked = {}
    for year, value in (points or {}).items():
        checked[_year(year, f"{what}: das Jahr")] = _number(value, f"{what} {year}", minimum)
    return dict(sorted(checked.items()))


def interpolate(path, year):
    """The value of a {year: value} path in `year`: linear between points, constant outside."""
    years = list(path)
    if year <= years[0]:
        return path[years[0]]
    if year >= years[-1]:
        return path[years[-1]]
    for before, after in itertools.pairwise(years):
        if before <= year <= after:
            return path[before] + (path[after] - path[before]) * (year - before) / (after - before)
    raise AssertionError("unreachable")  # pragma: no cover


# --- trend ----------------------------------------------------------------------------------

def trend(base, base_year, target_year, *, annual_change=None, electricity_factor_path=None, factors=(),
          population_path=None, heat_pump_apf=None, heat_pump_power_in_electricity=None, municipal_in_ghd=None):
    """The trend scenario from the base year to the target year (both included).

    base: a BalanceResult (its MWh after the adjustments are used, and its options) or
        EnergyRows (adjusted here with the balance rules and the heat-pump/municipal options,
        which default to the balance's defaults).
    annual_change: {sector: fraction per year}, e.g. {"verkehr": -0.01}; missing sectors 0.
        MWh(y) = MWh(base) x (1 + change) ** (y - base_year).
    electricity_factor_path: {year: t CO2e/MWh}, linear between the points, constant outside.
        Without a point at or before the base year, the base year's strom factor (factor table,
        else the balance) is added as the first point, so the trend starts at the balance.
        None: strom from the factor table by year.
    factors: Factors for the other carriers, by year as in the balance (latest valid_from not
        after the year). Empty with a BalanceResult: the factors the balance used, held constant.
    population_path: {year: inhabitants}, interpolated (not rounded) and constant outside; with a
        BalanceResult its population is the base-year point unless a point at or before it exists.
    """
    base_year = _year(base_year, "Das Basisjahr")
    target_year = _year(target_year, "Das Zieljahr")
    if target_year < base_year:
        raise ScenarioError(f"Das Zieljahr {target_year} liegt vor dem Basisjahr {base_year}.")
    changes = {}
    for sector, value in (annual_change or {}).items():
        if sector not in SECTORS:
            raise ScenarioError(f"Jährliche Änderung: unbekannter Sektor „{sector}“ (erlaubt: {', '.join(SECTORS)}).")
        changes[sector] = _number(value, f"Die jährliche Änderung für „{sector}“", minimum=Decimal(-1))
    factors = bisko.check_factors(factors or ())
    if isinstance(base, BalanceResult):
        if base.year != base_year:
            raise ScenarioError(f"Die Bilanz ist für {base.year}, das Basisjahr ist aber {base_year}.")
        options = dict(base.options)
        given = {"heat_pump_apf": heat_pump_apf, "heat_pump_power_in_electricity": heat_pump_power_in_electricity,
                 "municipal_in_ghd": municipal_in_ghd}
        for key, value in given.items():
            if value is not None and (parse_number(value) if key == "heat_pump_apf" else value) != options[key]:
                raise ScenarioError(f"Die Option „{key}“ ist in der Bilanz schon festgelegt ({options[key]}).")
        mwh = {(row.sector, row.carrier): row.mwh for row in base.rows}
        if not factors:
            factors = [Factor(carrier, used["t_co2e_per_mwh"], None, used["source"])
                       for carrier, used in base.factors_used.items() if carrier != bisko.HEAT_PUMP]
        base_electricity = base.factors_used.get(bisko.ELECTRICITY, {}).get("t_co2e_per_mwh")
        population_base = base.population
    else:
        options = {"heat_pump_apf": bisko.DEFAULT_HEAT_PUMP_APF if heat_pump_apf is None else heat_pump_apf,
                   "heat_pump_power_in_electricity": (True if heat_pump_power_in_electricity is None
                                                      else bool(heat_pump_power_in_electricity)),
                   "municipal_in_ghd": bool(municipal_in_ghd)}
        _, mwh, _ = bisko.adjust_rows(base, **options)
        options["heat_pump_apf"] = parse_number(options["heat_pump_apf"])
        base_electricity, population_base = None, None
    apf = options["heat_pump_apf"]

    path = _path(electricity_factor_path, "Strom-Faktor")
    if path and min(path) > base_year:
        try:
            base_electricity = factor_for(factors, bisko.ELECTRICITY, base_year).t_co2e_per_mwh
        except BalanceError:
            pass  # the balance's factor, if any
        if base_electricity is not None:
            path = {base_year: base_electricity, **path}
    people = _path(population_path, "Einwohnerzahl", minimum=ONE)
    if population_base is not None and (not people or min(people) > base_year):
        people = {base_year: Decimal(population_base), **people}

    carriers = bisko.carrier_order(carrier for _, carrier in mwh)
    years = []
    for year in range(base_year, target_year + 1):
        electricity = (interpolate(path, year) if path
                       else _electricity_from_table(factors, year, mwh))
        by_sector_mwh = {sector: ZERO for sector in SECTORS}
        by_sector_t = {sector: ZERO for sector in SECTORS}
        by_carrier_mwh = {carrier: ZERO for carrier in carriers}
        by_carrier_t = {carrier: ZERO for carrier in carriers}
        for (sector, carrier), amount in mwh.items():
            scaled = amount * (ONE + changes.get(sector, ZERO)) ** (year - base_year)
            if carrier == bisko.ELECTRICITY:
                value = electricity
            elif carrier == bisko.HEAT_PUMP:
                value = electricity / apf
            else:
                value = factor_for(factors, carrier, year).t_co2e_per_mwh
            emissions = scaled * value
            by_sector_mwh[sector] += scaled
            by_sector_t[sector] += emissions
            by_carrier_mwh[carrier] += scaled
            by_carrier_t[carrier] += emissions
        total_t = sum(by_sector_t.values(), ZERO)
        population = interpolate(people, year) if people else None
        years.append(TrendYear(year, population, electricity, by_sector_mwh, by_sector_t, by_carrier_mwh,
                               by_carrier_t, sum(by_sector_mwh.values(), ZERO), total_t,
                               total_t / population if population else None))
    return TrendResult(base_year, target_year, tuple(years), changes, options)


def _electricity_from_table(factors, year, mwh):
    needs = any(carrier in (bisko.ELECTRICITY, bisko.HEAT_PUMP) for _, carrier in mwh)
    return factor_for(factors, bisko.ELECTRICITY, year).t_co2e_per_mwh if needs else None


# --- climate neutrality ---------------------------------------------------------------------

def ramp_share(year, start_year, ramp_up_years):
    """Share of a measure's full savings in `year`: 0 before the start, k / ramp in its k-th year, at most 1."""
    if year < start_year:
        return ZERO
    return min(ONE, Decimal(year - start_year + 1) / Decimal(max(ramp_up_years, 1)))


def _check_measures(measures):
    checked, keys = [], set()
    for measure in measures:
        key = str(measure.key or "").strip()
        if not key:
            raise ScenarioError("Jede Maßnahme im Szenario braucht einen Schlüssel (key).")
        if key in keys:
            raise ScenarioError(f"Die Maßnahme „{key}“ steht zweimal im Szenario.")
        keys.add(key)
        sector = measure.sector
        if isinstance(sector, (tuple, list, set, frozenset)):
            sector = tuple(code for code in SECTORS if code in sector)  # SECTORS order, no doubles
            unknown = set(measure.sector) - set(SECTORS)
            if unknown or not sector:
                raise ScenarioError(f"Maßnahme „{key}“: unbekannte Sektoren „{', '.join(sorted(map(str, unknown)))}“ "
                                    f"(erlaubt: {', '.join(SECTORS)}).")
        elif sector is not None and sector not in SECTORS:
            raise ScenarioError(f"Maßnahme „{key}“: unbekannter Sektor „{measure.sector}“ "
                                f"(erlaubt: {', '.join(SECTORS)} oder keiner).")
        start = _year(measure.start_year, f"Maßnahme „{key}“: das Startjahr")
        ramp = measure.ramp_up_years
        if isinstance(ramp, bool) or not isinstance(ramp, int) or ramp < 0:
            raise ScenarioError(f"Maßnahme „{key}“: die Hochlaufzeit muss eine ganze Zahl ab 0 Jahren sein, "
                                f"nicht „{ramp}“.")
        t_co2e = _number(measure.t_co2e_per_year, f"Maßnahme „{key}“: die Einsparung in t CO2e/Jahr",
                         allow_none=True) or ZERO
        mwh = _number(measure.mwh_per_year, f"Maßnahme „{key}“: die Einsparung in MWh/Jahr", allow_none=True) or ZERO
        checked.append(MeasureEffect(key, sector, start, ramp, t_co2e, mwh))
    return checked


def neutrality(trend_result, measures):
    """The climate-neutrality scenario: the trend minus the measures' savings, per year and sector.

    Savings may be negative (a measure that adds emissions); no sector goes below 0 t CO2e or
    0 MWh: larger savings are capped, and every cap is reported in `caps`.
    """
    measures = _check_measures(measures)
    years, caps = [], []
    for item in trend_result.years:
        requested_t = {sector: ZERO for sector in SECTORS}
        requested_mwh = {sector: ZERO for sector in SECTORS}
        by_measure = {}
        lost_t = lost_mwh = ZERO
        for measure in measures:
            share = ramp_share(item.year, measure.start_year, measure.ramp_up_years)
            t_co2e, mwh = share * measure.t_co2e_per_year, share * measure.mwh_per_year
            by_measure[measure.key] = t_co2e
            group = SECTORS if measure.sector is None else measure.sector
            if isinstance(group, str):
                requested_t[group] += t_co2e
                requested_mwh[group] += mwh
                continue
            group_t = sum((item.by_sector_t_co2e[sector] for sector in group), ZERO)
            if group_t > 0:
                for sector in group:
                    emissions = item.by_sector_t_co2e[sector]
                    requested_t[sector] += t_co2e * emissions / group_t
                    requested_mwh[sector] += mwh * emissions / group_t
            else:
                lost_t, lost_mwh = lost_t + t_co2e, lost_mwh + mwh
        if lost_t or lost_mwh:
            caps.append(Cap(item.year, None, lost_t, ZERO, lost_mwh, ZERO))
        applied_t, applied_mwh = {}, {}
        for sector in SECTORS:
            applied_t[sector] = min(requested_t[sector], item.by_sector_t_co2e[sector])
            applied_mwh[sector] = min(requested_mwh[sector], item.by_sector_mwh[sector])
            if applied_t[sector] != requested_t[sector] or applied_mwh[sector] != requested_mwh[sector]:
                caps.append(Cap(item.year, sector, requested_t[sector], applied_t[sector],
                                requested_mwh[sector], applied_mwh[sector]))
        scenario_t = {sector: item.by_sector_t_co2e[sector] - applied_t[sector] for sector in SECTORS}
        scenario_mwh = {sector: item.by_sector_mwh[sector] - applied_mwh[sector] for sector in SECTORS}
        total_t = sum(scenario_t.values(), ZERO)
        years.append(NeutralityYear(
            item.year, item.population, dict(item.by_sector_t_co2e), applied_t, scenario_t, dict(item.by_sector_mwh),
            applied_mwh, scenario_mwh, by_measure, item.total_t_co2e, sum(applied_t.values(), ZERO), total_t,
            sum(scenario_mwh.values(), ZERO), total_t / item.population if item.population else None))
    residual = years[-1].total_t_co2e
    base = years[0].total_trend_t_co2e
    return NeutralityResult(trend_result.base_year, trend_result.target_year, tuple(years), tuple(caps), residual,
                            base, ONE - residual / base if base else None)


# --- compensation ---------------------------------------------------------------------------

def compensate(residual_t, options):
    """Fill the residual emissions from the options, cheapest first (ties by name), each up to its capacity.

    Returns the amounts and costs per option, the total cost and the gap that remains (0 when
    covered). ScenarioError for a negative residual, a nameless or duplicated option, or a
    negative or non-numeric capacity or cost.
    """
    residual = _number(residual_t, "Die Restemissionen (t CO2e)", minimum=ZERO)
    checked, names = [], set()
    for option in options:
        name = str(option.name or "").strip()
        if not name:
            raise ScenarioError("Jede Kompensationsmöglichkeit braucht einen Namen.")
        if name in names:
            raise ScenarioError(f"Die Kompensationsmöglichkeit „{name}“ steht zweimal in der Liste.")
        names.add(name)
        capacity = _number(option.capacity_t_per_year, f"„{name}“: die Kapazität (t CO2e/Jahr)", minimum=ZERO)
        cost = _number(option.cost_eur_per_t, f"„{name}“: die Kosten (EUR/t)", minimum=ZERO)
        checked.append(CompensationOption(name, capacity, cost))
    open_t, total_cost, uses = residual, ZERO, []
    for option in sorted(checked, key=lambda option: (option.cost_eur_per_t, option.name)):
        used = min(open_t, option.capacity_t_per_year)
        open_t -= used
        total_cost += used * option.cost_eur_per_t
        uses.append(CompensationUse(option.name, used, used * option.cost_eur_per_t, option.capacity_t_per_year,
                                    option.cost_eur_per_t))
    return CompensationResult(residual, tuple(uses), residual - open_t, total_cost, open_t)
