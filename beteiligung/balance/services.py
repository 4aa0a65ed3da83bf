"""Balance years, factor tables and the scenarios: the application side of `analyse.bisko`
and `analyse.scenario`.

A balance is computed when its inputs change (entries, population, options) and stored with
the factors it used; editing a factor later does not change it until staff recompute it
(`changed_factors` tells them which factors differ now). The scenarios are computed on
request from the stored base balance, the scenario settings and the measure plan.
"""
import json
from dataclasses import dataclass, field
from decimal import Decimal

from flask import has_app_context, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from analyse import bisko, scenario as scenarios
from analyse.bisko import BalanceError, BalanceResult

from ..audit.services import record
from ..extensions import db
from ..ideas.importing import RowError, _has_surrogates, _is_empty, display, normalise_name
from ..measures import savings
from ..measures.models import Measure, MeasureStatus
from ..measures.sheet import parse_number
from ..models import utcnow
from .models import (NOTE_MAX, QUALITY_LABELS, SECTOR_LABELS, STATIONARY, STATIONARY_SECTORS, Balance, BalanceEntry, CompensationOption,
                     EmissionFactor, EnergyCarrier, ScenarioPathPoint, ScenarioSettings)

MAX_ENTRY_ROWS = 500
YEARS = range(1990, 2101)
DEFAULT_TARGET_YEAR = 2035


# --- carriers and factors ---------------------------------------------------------------------

def carriers():
    return db.session.scalars(select(EnergyCarrier).order_by(EnergyCarrier.position, EnergyCarrier.name)).all()


def carrier_names():
    """code -> name of every carrier, in the table's order."""
    return {carrier.code: carrier.name for carrier in carriers()}


def factor_rows():
    """Every factor row, by carrier and year."""
    return db.session.scalars(select(EmissionFactor).order_by(EmissionFactor.carrier, EmissionFactor.valid_from)).all()


def factor_table():
    """The factor table as analyse.bisko.Factors."""
    return [bisko.Factor(row.carrier, Decimal(row.t_co2e_per_mwh), row.valid_from, row.source)
            for row in factor_rows()]


def factors_for_year(year):
    """carrier -> the EmissionFactor that applies in `year` (latest valid_from not after it)."""
    found = {}
    for row in factor_rows():
        if row.valid_from <= year and (row.carrier not in found or row.valid_from > found[row.carrier].valid_from):
            found[row.carrier] = row
    return found


@savings.factor_provider
def measure_factors(year=None):
    """The factors a measure sheet's savings are computed with: those of the newest published
    balance's year (or the given year); without a balance, the newest year of the factor table."""
    if year is None:
        year = db.session.scalar(select(func.max(Balance.year)).where(Balance.published))
    if year is None:
        year = db.session.scalar(select(func.max(EmissionFactor.valid_from)))
    if year is None:
        return None
    resolved = factors_for_year(year)
    factors = {carrier: Decimal(row.t_co2e_per_mwh) for carrier, row in resolved.items()}
    if bisko.ELECTRICITY in factors:
        # Environmental heat is valued through the heat pump's power (a negative strom row of the sheet).
        factors.setdefault(bisko.HEAT_PUMP, Decimal(0))
    return savings.FactorSet(year=year, factors=factors, source=_("Emissionsfaktoren für %(year)s", year=year))


def _carriers_for_sheets():
    # The sheet parser asks for the known carriers; outside an app (e.g. reading demo files) the defaults do.
    return carrier_names() if has_app_context() else {}


measure_factors.carriers = _carriers_for_sheets


def refresh_measure_savings():
    """Recompute the savings of every sheet with the carrier method (after factors changed)."""
    from ..measures.models import SavingsMethod
    from ..measures.services import update_savings
    changed = 0
    for measure in db.session.scalars(select(Measure).where(Measure.savings_method == SavingsMethod.CARRIERS.value)):
        before = measure.savings_t_co2e_per_year
        update_savings(measure)
        changed += before != measure.savings_t_co2e_per_year
    return changed


# --- balances ---------------------------------------------------------------------------------

def balances(published_only=False):
    query = select(Balance).order_by(Balance.year.desc())
    if published_only:
        query = query.where(Balance.published)
    return db.session.scalars(query).all()


def balance_for_year(year, published_only=False):
    query = select(Balance).where(Balance.year == year)
    if published_only:
        query = query.where(Balance.published)
    return db.session.scalar(query)


def energy_rows(balance):
    return [bisko.EnergyRow(entry.sector, entry.carrier, Decimal(entry.mwh), entry.quality)
            for entry in balance.entries]


def compute(balance):
    """The BalanceResult of the balance's inputs with today's factor table (BalanceError when impossible)."""
    if not balance.entries:
        raise BalanceError(_("Die Bilanz hat noch keine Endenergie-Werte."))
    return bisko.compute_balance(balance.year, balance.population, energy_rows(balance), factor_table(),
                                 heat_pump_apf=Decimal(str(balance.heat_pump_apf)),
                                 heat_pump_power_in_electricity=balance.heat_pump_power_in_electricity,
                                 municipal_in_ghd=balance.municipal_in_ghd)


def recompute(balance):
    """Compute and store the result (or the reason it cannot be computed); returns the result or None."""
    try:
        result = compute(balance)
    except BalanceError as error:
        balance.result_json, balance.error = None, str(error)
        balance.computed_at = utcnow()
        return None
    balance.result_json = json.dumps(result.to_dict(), ensure_ascii=False)
    balance.error = ""
    balance.computed_at = utcnow()
    return result


def stored_result(balance):
    """The stored BalanceResult, or None."""
    data = balance.result
    return BalanceResult.from_dict(data) if data else None


@dataclass(frozen=True)
class FactorChange:
    carrier: str
    used: Decimal  # None: the carrier had no factor then
    current: Decimal  # None: no factor applies today


def changed_factors(balance):
    """The carriers whose factor for the balance year differs today from the one the stored result used."""
    data = balance.result
    if not data:
        return []
    current = factors_for_year(balance.year)
    changes = []
    for carrier, used in data["factors_used"].items():
        if carrier == bisko.HEAT_PUMP:
            continue  # follows strom
        now = current.get(carrier)
        now_value = Decimal(now.t_co2e_per_mwh) if now is not None else None
        used_value = Decimal(str(used["t_co2e_per_mwh"]))
        if now_value is None or now_value.normalize() != used_value.normalize():
            changes.append(FactorChange(carrier, used_value, now_value))
    return changes


def set_published(balance, published, actor=None):
    if published and balance.result_json is None:
        raise BalanceError(_("Eine Bilanz ohne gültige Berechnung kann nicht veröffentlicht werden."))
    old = balance.published
    balance.published = bool(published)
    balance.updated_by_id = getattr(actor, "id", None)
    record("balance.publish" if published else "balance.unpublish", balance, actor=actor,
           old={"published": old}, new={"published": balance.published})
    db.session.flush()
    refresh_measure_savings()


# --- entries: form and import -----------------------------------------------------------------

@dataclass
class EntryInput:
    """One row of final energy as typed or imported, checked by `check_entries`."""
    sector: str
    carrier: str
    mwh: Decimal
    quality: str = None
    note: str = ""
    row: int = None  # row number in the file or the form, for messages


ENTRY_COLUMNS = {  # target -> accepted column names (normalised)
    "sector": {"sector", "sektor"},
    "carrier": {"carrier", "energietraeger", "traeger"},
    "mwh": {"mwh", "endenergie", "endenergiemwh", "verbrauchmwh"},
    "quality": {"quality", "datenguete", "guete", "qualitaet"},
    "note": {"note", "quelle", "anmerkung", "bemerkung", "hinweis", "source"},
}
ENTRY_FIELD_LABELS = {"sector": "Sektor", "carrier": "Energieträger", "mwh": "MWh", "quality": "Datengüte",
                      "note": "Quelle/Anmerkung"}


class EntryError(RowError):
    """A RowError of the balance input: its fields are labelled as the balance names them."""

    @property
    def field_label(self):
        return ENTRY_FIELD_LABELS.get(self.field)


def sector_code(value):
    """The sector code for a code or a German name (case-insensitive), or None."""
    wanted = normalise_name(value)
    for code, label in SECTOR_LABELS.items():
        if wanted in (normalise_name(code), normalise_name(str(label))):
            return code
    aliases = {"haushalte": "private_haushalte", "kommunal": "kommunale_einrichtungen",
               "kommunaleeinrichtungen": "kommunale_einrichtungen", "gewerbe": "ghd"}
    return aliases.get(wanted)


def carrier_code(value, known=None):
    """The carrier code for a code or name (case-insensitive) among the known carriers, or None."""
    known = carrier_names() if known is None else known
    wanted = normalise_name(value)
    for code, name in known.items():
        if wanted in (normalise_name(code), normalise_name(name)):
            return code
    return None


def map_entry_columns(header):
    """target -> column index, and the errors for missing or doubled columns."""
    mapping, errors = {}, []
    for index, cell in enumerate(header):
        name = normalise_name(cell)
        for target, names in ENTRY_COLUMNS.items():
            if name in names:
                if target in mapping:
                    errors.append(EntryError(None, None, _("Die Spalte „%(name)s“ kommt zweimal vor.",
                                                         name=ENTRY_FIELD_LABELS[target])))
                mapping[target] = index
    for target in ("sector", "carrier", "mwh"):
        if target not in mapping:
            errors.append(EntryError(None, None, _("Es fehlt die Spalte „%(name)s“ (erwartet: %(names)s).",
                                                 name=ENTRY_FIELD_LABELS[target],
                                                 names=", ".join(sorted(ENTRY_COLUMNS[target])))))
    return mapping, errors


def parse_entry_table(table):
    """EntryInputs and RowErrors (with the spreadsheet's row numbers) from an importing.Table."""
    mapping, errors = map_entry_columns(table.header)
    if errors:
        return [], errors
    if table.truncated or len(table.rows) > MAX_ENTRY_ROWS:
        return [], [EntryError(None, None, _("Die Datei hat mehr als %(max)d Zeilen; eine Bilanz hat höchstens "
                                           "so viele Sektor-Energieträger-Zeilen.", max=MAX_ENTRY_ROWS))]
    rows = []
    for number, cells in table.rows:
        def cell(target):
            index = mapping.get(target)
            return cells[index] if index is not None and index < len(cells) else None
        rows.append((number, {target: cell(target) for target in ENTRY_COLUMNS}))
    if not rows:
        return [], [EntryError(None, None, _("Die Datei enthält keine Datenzeilen."))]
    return check_entries(rows)


def check_entries(raw_rows):
    """EntryInputs and RowErrors from [(row, {sector, carrier, mwh, quality, note})]; all errors at once."""
    known = carrier_names()
    entries, errors, seen = [], [], {}
    for number, values in raw_rows:
        row_errors = []
        broken = [target for target, value in values.items() if _has_surrogates(value)]
        if broken:
            errors.extend(EntryError(number, target, _(
                "Die Zeile enthält Zeichen, die in dieser Kodierung nicht lesbar sind; bitte die Kodierung "
                "der Datei prüfen (utf-8 oder cp1252).")) for target in broken)
            continue
        sector_value = display(values.get("sector"))
        carrier_value = display(values.get("carrier"))
        sector = sector_code(sector_value)
        if not sector_value:
            row_errors.append(EntryError(number, "sector", _("Der Sektor fehlt.")))
        elif sector is None:
            row_errors.append(EntryError(number, "sector", _(
                "Unbekannter Sektor „%(value)s“; erlaubt sind %(allowed)s.", value=sector_value[:60],
                allowed=", ".join(SECTOR_LABELS))))
        carrier = carrier_code(carrier_value, known)
        if not carrier_value:
            row_errors.append(EntryError(number, "carrier", _("Der Energieträger fehlt.")))
        elif carrier is None:
            row_errors.append(EntryError(number, "carrier", _(
                "Unbekannter Energieträger „%(value)s“; bitte zuerst unter „Energieträger“ anlegen.",
                value=carrier_value[:60])))
        raw_mwh = values.get("mwh")
        mwh = None if _is_empty(raw_mwh) else parse_number(raw_mwh)
        if _is_empty(raw_mwh):
            row_errors.append(EntryError(number, "mwh", _("Die Endenergie (MWh) fehlt.")))
        elif mwh is None:
            row_errors.append(EntryError(number, "mwh", _("„%(value)s“ ist keine Zahl.", value=display(raw_mwh)[:40])))
        elif mwh < 0:
            row_errors.append(EntryError(number, "mwh", _("Die Endenergie darf nicht negativ sein.")))
        elif mwh >= Decimal("1e13"):
            row_errors.append(EntryError(number, "mwh", _("Die Endenergie ist zu groß.")))
        elif mwh.normalize().as_tuple().exponent < -3:
            row_errors.append(EntryError(number, "mwh", _("Bitte höchstens drei Nachkommastellen angeben.")))
        quality = display(values.get("quality")).upper() or None
        if quality is not None and quality not in QUALITY_LABELS:
            row_errors.append(EntryError(number, "quality", _(
                "Unbekannte Datengüte „%(value)s“; erlaubt sind A, B, C, D oder leer.", value=quality[:10])))
        note = " ".join(display(values.get("note")).split())
        if len(note) > NOTE_MAX:
            row_errors.append(EntryError(number, "note", _("Die Anmerkung ist zu lang (höchstens %(max)d Zeichen).",
                                                          max=NOTE_MAX)))
        if sector and carrier:
            if (sector, carrier) in seen:
                row_errors.append(EntryError(number, "carrier", _(
                    "%(sector)s / %(carrier)s steht schon in Zeile %(row)s.", sector=SECTOR_LABELS[sector],
                    carrier=known[carrier], row=seen[(sector, carrier)])))
            else:
                seen[(sector, carrier)] = number
        if row_errors:
            errors.extend(row_errors)
        else:
            entries.append(EntryInput(sector, carrier, mwh, quality, note, number))
    return entries, errors


def replace_entries(balance, entries, actor=None, *, action="balance.entries"):
    """Replace all entries of the balance and recompute it; returns the result or None (see balance.error)."""
    before = {(entry.sector, entry.carrier): (str(entry.mwh), entry.quality) for entry in balance.entries}
    balance.entries.clear()
    db.session.flush()
    for item in entries:
        balance.entries.append(BalanceEntry(sector=item.sector, carrier=item.carrier, mwh=item.mwh,
                                            quality=item.quality, note=item.note or ""))
    balance.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    result = recompute(balance)
    after = {(item.sector, item.carrier): (str(item.mwh), item.quality) for item in entries}
    record(action, balance, actor=actor, old={"rows": len(before)},
           new={"rows": len(after), "total_t_co2e": float(result.total_t_co2e) if result else None})
    if balance.published:
        refresh_measure_savings()
    return result


def entries_csv_rows(balance):
    """Header and rows of the balance's input, as the import reads them."""
    yield ["sector", "carrier", "mwh", "quality", "note"]
    for entry in balance.entries:
        yield [entry.sector, entry.carrier, file_number(entry.mwh), entry.quality or "", entry.note]


def plain(value):
    """A number without grouping and trailing zeros, with a decimal point (1250.5): for logs and JSON."""
    return format(Decimal(value).normalize(), "f")


def file_number(value):
    """A number for the files `python -m analyse balance` and the import read: a decimal comma
    (1250,5), because a point there is ambiguous ("12.345" reads as twelve thousand)."""
    return plain(value).replace(".", ",")


def factors_csv_rows(year=None):
    """The factor table (or the factors of one year) in the CLI's format: carrier,t_co2e_per_mwh,valid_from,source."""
    yield ["carrier", "t_co2e_per_mwh", "valid_from", "source"]
    rows = factors_for_year(year).values() if year is not None else factor_rows()
    for row in sorted(rows, key=lambda row: (row.carrier, row.valid_from)):
        yield [row.carrier, file_number(row.t_co2e_per_mwh), row.valid_from, row.source]


# --- scenario ---------------------------------------------------------------------------------

def scenario_settings():
    """The one settings row (None until staff or the demo saved it)."""
    return db.session.scalar(select(ScenarioSettings).order_by(ScenarioSettings.id).limit(1))


def path(kind):
    """{year: value} of a scenario path ('electricity' or 'population')."""
    return {point.year: Decimal(point.value) for point in db.session.scalars(
        select(ScenarioPathPoint).where(ScenarioPathPoint.kind == kind).order_by(ScenarioPathPoint.year))}


def compensation_options():
    return db.session.scalars(select(CompensationOption).order_by(CompensationOption.position,
                                                                  CompensationOption.name)).all()


class ScenarioUnavailable(Exception):
    """Why there is no scenario to show (German, safe to show)."""


@dataclass
class ScenarioMeasure:
    id: int
    number: str
    title: str
    field: str  # field of action name
    sector: str  # BISKO sector code, STATIONARY (spread over the stationary sectors) or None (spread over all)
    start_year: int
    ramp_up_years: int
    t_co2e_per_year: Decimal
    mwh_per_year: Decimal


@dataclass
class Scenario:
    settings: ScenarioSettings
    balance: Balance
    base: BalanceResult
    trend: scenarios.TrendResult
    neutrality: scenarios.NeutralityResult
    compensation: scenarios.CompensationResult
    measures: list
    left_out: list = field(default_factory=list)  # (number, title, reason)
    electricity_path: dict = field(default_factory=dict)
    population_path: dict = field(default_factory=dict)

    @property
    def years(self):
        return range(self.trend.base_year, self.trend.target_year + 1)

    def target_t_co2e(self, year):
        """The straight line from the base year's emissions to zero in the target year."""
        span = self.trend.target_year - self.trend.base_year
        if span == 0:
            return Decimal(0)
        return self.base.total_t_co2e * Decimal(self.trend.target_year - year) / Decimal(span)

    @property
    def trend_reduction_share(self):
        end = self.trend.years[-1].total_t_co2e
        return 1 - end / self.base.total_t_co2e if self.base.total_t_co2e else None


def _fuel_share(measure, fuels):
    """(t CO2e, MWh) of a carrier sheet's savings in transport fuels, or None.

    BISKO counts fuels in Verkehr whoever burns them (e.g. the city's fleet), so that part
    of a measure saves in transport, whatever its field of action."""
    from ..measures.models import SavingsMethod
    if (measure.savings_method != SavingsMethod.CARRIERS.value or measure.savings_t_co2e_per_year is None
            or measure.sector.bisko_sector == "verkehr"):
        return None
    rows = [(row.carrier, Decimal(row.mwh_per_year)) for row in measure.energy_savings if row.carrier in fuels]
    if not rows:
        return None
    part = savings.compute(rows, measure.savings_factor_year)
    return None if part.t_co2e_per_year is None else (part.t_co2e_per_year, part.mwh_per_year)


def scenario_measures(base_year):
    """ScenarioMeasures of the plan and the measures left out with the reason."""
    from sqlalchemy.orm import selectinload
    used, left_out = [], []
    fuels = set(db.session.scalars(select(EnergyCarrier.code).where(EnergyCarrier.use == "verkehr")))
    for measure in db.session.scalars(select(Measure).options(selectinload(Measure.energy_savings))
                                      .order_by(Measure.number)):
        if measure.status == MeasureStatus.DEFERRED.value:
            left_out.append((measure.number, measure.title, _("zurückgestellt")))
        elif measure.savings_t_co2e_per_year is None and measure.savings_mwh_per_year is None:
            left_out.append((measure.number, measure.title, _("keine abgeschätzte Einsparung")))
        elif measure.start_year is None:
            left_out.append((measure.number, measure.title, _("kein Beginn angegeben")))
        else:
            t_co2e, mwh = Decimal(measure.savings_t_co2e_per_year or 0), Decimal(measure.savings_mwh_per_year or 0)
            ramp, start = max(measure.ramp_up_years or 1, 1), measure.start_year
            done = scenarios.ramp_share(base_year, start, ramp)
            if done >= 1:
                left_out.append((measure.number, measure.title, _("schon vor dem Basisjahr voll wirksam, also in "
                                                                  "der Bilanz enthalten")))
                continue
            if done > 0:
                # What the measure achieved up to the base year is in the balance already: only the
                # rest counts, ramping up over the remaining years from the year after the base year.
                elapsed = base_year - start + 1
                t_co2e, mwh = t_co2e * (1 - done), mwh * (1 - done)
                start, ramp = base_year + 1, ramp - elapsed
            fuel = _fuel_share(measure, fuels)
            if fuel is not None:
                fuel_t, fuel_mwh = fuel[0] * (1 - done), fuel[1] * (1 - done)
                used.append(ScenarioMeasure(measure.id, _("%(number)s (Kraftstoffe)", number=measure.number),
                                            measure.title, measure.sector.name, "verkehr", start, ramp, fuel_t,
                                            fuel_mwh))
                t_co2e, mwh = t_co2e - fuel_t, mwh - fuel_mwh
            used.append(ScenarioMeasure(
                measure.id, measure.number, measure.title, measure.sector.name, measure.sector.bisko_sector or None,
                start, ramp, t_co2e, mwh))
    return used, left_out


def build_scenario(published_only=True):
    """The trend, climate-neutrality and compensation result (ScenarioUnavailable when impossible)."""
    settings = scenario_settings()
    if settings is None and not published_only:
        raise ScenarioUnavailable(_("Die Annahmen der Szenarien sind noch nicht gespeichert."))
    if settings is None or (published_only and not settings.published):
        raise ScenarioUnavailable(_("Die Szenarien sind noch nicht veröffentlicht."))
    if settings.base_year is not None:
        balance = balance_for_year(settings.base_year, published_only=published_only)
    else:
        query = select(Balance).where(Balance.result_json.is_not(None)).order_by(Balance.year.desc()).limit(1)
        balance = db.session.scalar(query.where(Balance.published) if published_only else query)
    if balance is None or balance.result_json is None:
        raise ScenarioUnavailable(_("Für das Basisjahr gibt es noch keine berechnete, veröffentlichte Bilanz."))
    base = stored_result(balance)
    changes = {sector: Decimal(str(value)) / 100 for sector, value in settings.annual_change.items()}
    electricity, population = path("electricity"), path("population")
    try:
        trend = scenarios.trend(base, balance.year, settings.target_year, annual_change=changes,
                                electricity_factor_path=electricity or None, population_path=population or None)
        measures, left_out = scenario_measures(balance.year)
        effects = [scenarios.MeasureEffect(item.number, STATIONARY_SECTORS if item.sector == STATIONARY else item.sector,
                                           item.start_year, item.ramp_up_years,
                                           item.t_co2e_per_year, item.mwh_per_year) for item in measures]
        neutrality = scenarios.neutrality(trend, effects)
        compensation = scenarios.compensate(neutrality.residual_t_co2e, [
            scenarios.CompensationOption(option.name, Decimal(option.capacity_t_per_year),
                                         Decimal(option.cost_eur_per_t)) for option in compensation_options()])
    except BalanceError as error:
        raise ScenarioUnavailable(str(error)) from None
    return Scenario(settings, balance, base, trend, neutrality, compensation, measures, left_out,
                    electricity, population)


def _float(value):
    return None if value is None else round(float(value), 6)


def scenario_dict(result):
    """The JSON of GET /api/v1/scenario."""
    trend, neutrality = result.trend, result.neutrality
    years = []
    for item, scenario_year in zip(trend.years, neutrality.years):
        years.append({
            "year": item.year,
            "population": _float(item.population),
            "electricity_t_co2e_per_mwh": _float(item.electricity_t_co2e_per_mwh),
            "trend_t_co2e": _float(item.total_t_co2e),
            "trend_mwh": _float(item.total_mwh),
            "scenario_t_co2e": _float(scenario_year.total_t_co2e),
            "scenario_mwh": _float(scenario_year.total_mwh),
            "savings_t_co2e": _float(scenario_year.total_savings_t_co2e),
            "target_t_co2e": _float(result.target_t_co2e(item.year)),
            "trend_by_sector_t_co2e": {key: _float(value) for key, value in item.by_sector_t_co2e.items()},
            "scenario_by_sector_t_co2e": {key: _float(value) for key, value in scenario_year.t_co2e.items()},
            "per_capita_trend_t_co2e": _float(item.per_capita_t_co2e),
            "per_capita_scenario_t_co2e": _float(scenario_year.per_capita_t_co2e),
        })
    return {
        "base_year": trend.base_year,
        "target_year": trend.target_year,
        "base_t_co2e": _float(result.base.total_t_co2e),
        "trend_target_year_t_co2e": _float(trend.years[-1].total_t_co2e),
        "trend_reduction_share": _float(result.trend_reduction_share),
        "residual_t_co2e": _float(neutrality.residual_t_co2e),
        "reduction_share": _float(neutrality.reduction_share),
        "assumptions": {
            "annual_change_percent": {key: _float(value) for key, value in result.settings.annual_change.items()},
            "electricity_factor_path": {str(year): _float(value) for year, value in result.electricity_path.items()},
            "population_path": {str(year): _float(value) for year, value in result.population_path.items()},
            "note": result.settings.note,
        },
        "years": years,
        "compensation": result.compensation.to_dict(),
        "measures": [{"number": item.number, "title": item.title, "field_of_action": item.field,
                      "sector": item.sector, "start_year": item.start_year, "ramp_up_years": item.ramp_up_years,
                      "t_co2e_per_year": _float(item.t_co2e_per_year), "mwh_per_year": _float(item.mwh_per_year),
                      "url": url_for("measures.detail", measure_id=item.id, _external=True)}
                     for item in result.measures],
        "measures_left_out": [{"number": number, "title": title, "reason": reason}
                              for number, title, reason in result.left_out],
        "caps": neutrality.to_dict()["caps"],
    }
