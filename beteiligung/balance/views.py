"""What the public balance pages, their CSV downloads and the JSON API show, prepared from the
stored results (`Balance.result`) and the scenario (`services.build_scenario`).

Only published balances with a stored result are public; the pages show the result as it
was computed (with the factors it used), never a recalculation with today's factor table.
The downloads reproduce it with the command line:

    python -m analyse balance eingaben-Y.csv --factors faktoren-Y.csv --year Y --population N ...
"""
import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from analyse import bisko, scenario as scenarios

from ..extensions import db
from . import services
from .models import BISKO_SECTOR_CHOICES, QUALITY_LABELS, SECTOR_LABELS, SECTOR_SHORT_LABELS, Balance

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# A stacked chart shows this many carriers each with its own colour and pattern; the others are
# one part "übrige Energieträger" (the chart macros have eight distinct patterns).
CHART_CARRIERS = 7
OTHER = "_other"
CSV_PLACES = 6  # decimal places of the numbers in the CSV downloads (fewer when the value has fewer)


# --- which balances are public --------------------------------------------------------------------

def public_balances_query():
    """Published balances with a stored result, newest first."""
    return (select(Balance).where(Balance.published, Balance.result_json.is_not(None))
            .order_by(Balance.year.desc()))


def public_years():
    """The years of the public balances, newest first (without loading the stored results)."""
    return db.session.scalars(select(Balance.year).where(Balance.published, Balance.result_json.is_not(None))
                              .order_by(Balance.year.desc())).all()


def public_balance(year=None):
    """The public balance of `year` (None: the newest), or None."""
    query = public_balances_query()
    if year is not None:
        query = query.where(Balance.year == year)
    return db.session.scalar(query.limit(1))


# --- numbers ------------------------------------------------------------------------------------------

def share(part, whole):
    """part / whole in percent, or None when the whole is 0."""
    return part / whole * HUNDRED if whole else None


def csv_number(value, places=CSV_PLACES):
    """A number for the CSV downloads: decimal comma, no grouping, at most `places` decimals ("1250,5").

    A decimal comma, because both readers (the import and `python -m analyse`) read a point
    before three digits as a thousands separator ("12.345" would become 12345).
    """
    if value is None:
        return ""
    number = Decimal(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text.replace(".", ",")


def csv_cell(value):
    """A spreadsheet-safe CSV cell (no formula injection through free text)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(rows, filename):
    """A CSV download the house way: UTF-8 with BOM, semicolons, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- one balance -------------------------------------------------------------------------------------

@dataclass
class Matrix:
    """Amounts per carrier (rows) and sector (columns) with the sums; None where the balance has no row."""
    cells: dict  # carrier -> sector -> Decimal or None
    by_carrier: dict  # carrier -> Decimal
    by_sector: dict  # sector -> Decimal
    total: Decimal


@dataclass
class QualityRow:
    grade: str  # A-D, or None for "ohne Angabe"
    label: str
    weight: Decimal
    mwh: Decimal
    share: Decimal  # percent of the final energy


@dataclass
class FactorRow:
    carrier: str
    name: str
    t_co2e_per_mwh: Decimal
    valid_from: int
    source: str
    derived: bool  # umweltwaerme: strom / APF, computed, not a factor of its own


@dataclass
class AdjustmentRow:
    reason: str  # municipal | heat_pump
    sector: str
    carrier: str
    mwh: Decimal


@dataclass
class BalanceView:
    balance: Balance
    result: object  # analyse.bisko.BalanceResult
    carriers: dict  # code -> name, in the result's order
    sectors: dict  # code -> label
    short_sectors: dict
    emissions: Matrix
    energy: Matrix
    emission_chart: list  # stacked_bar_chart rows
    emission_series: list
    energy_chart: list
    energy_series: list
    carrier_rows: list  # (code, name, t CO2e, share of t, MWh), largest first
    quality: list  # QualityRow
    ungraded_share: Decimal
    factors: list  # FactorRow
    adjustments: list  # AdjustmentRow
    command: str
    command_complete: bool  # False when the CLI cannot give the balance's options (an APF other than 3.2)
    years: list = field(default_factory=list)  # other public years


def carrier_label(code, names):
    return names.get(code) or bisko.carrier_label(code)


def _matrix(rows, amount, carriers, sectors):
    cells = {carrier: {sector: None for sector in sectors} for carrier in carriers}
    for row in rows:
        cells[row.carrier][row.sector] = (cells[row.carrier][row.sector] or ZERO) + amount(row)
    by_carrier = {carrier: sum((value or ZERO for value in cells[carrier].values()), ZERO) for carrier in carriers}
    by_sector = {sector: sum((cells[carrier][sector] or ZERO for carrier in carriers), ZERO) for sector in sectors}
    return Matrix(cells, by_carrier, by_sector, sum(by_carrier.values(), ZERO))


def stacked_rows(matrix, carriers, sectors, limit=CHART_CARRIERS):
    """Rows and series of a stacked chart of the sectors by carrier: the `limit` largest carriers, the rest as one."""
    positive = [carrier for carrier in carriers if matrix.by_carrier[carrier] > 0]
    if len(positive) <= limit + 1:
        shown, rest = positive, []
    else:
        largest = set(sorted(positive, key=lambda carrier: -matrix.by_carrier[carrier])[:limit])
        shown = [carrier for carrier in positive if carrier in largest]
        rest = [carrier for carrier in positive if carrier not in largest]
    series = [{"key": carrier, "label": carriers[carrier]} for carrier in shown]
    if rest:
        series.append({"key": OTHER, "label": _("übrige Energieträger (%(names)s)",
                                                names=", ".join(carriers[carrier] for carrier in rest))})
    rows = []
    for sector, label in sectors.items():
        parts = {carrier: matrix.cells[carrier][sector] or ZERO for carrier in shown}
        if rest:
            parts[OTHER] = sum((matrix.cells[carrier][sector] or ZERO for carrier in rest), ZERO)
        rows.append({"label": label, "parts": parts})
    return rows, series


def quality_rows(result):
    """Final energy (after the adjustments) per data-quality grade and without grade."""
    amounts = {grade: ZERO for grade in (*QUALITY_LABELS, None)}
    for row in result.rows:
        amounts[row.quality if row.quality in QUALITY_LABELS else None] += row.mwh
    total = result.final_energy_mwh
    rows = [QualityRow(grade, str(label), bisko.QUALITY_WEIGHTS[grade], amounts[grade], share(amounts[grade], total))
            for grade, label in QUALITY_LABELS.items()]
    rows.append(QualityRow(None, _("ohne Angabe (zählt wie D)"), bisko.UNGRADED_WEIGHT, amounts[None],
                           share(amounts[None], total)))
    return rows


def factor_rows(result, names):
    return [FactorRow(carrier, carrier_label(carrier, names), used["t_co2e_per_mwh"], used["valid_from"],
                      used["source"], carrier == bisko.HEAT_PUMP)
            for carrier, used in result.factors_used.items()]


def cli_factors(result):
    """The factors the balance used, as the CLI's factor table reads them: bisko.Factors without umweltwaerme.

    The CLI computes umweltwaerme itself (strom / APF). A balance whose heat pumps are its only
    electricity (heat-pump power not taken out of strom) used the strom factor without a strom
    row: it is derived back from the umweltwaerme factor.
    """
    used = dict(result.factors_used)
    factors = [bisko.Factor(carrier, item["t_co2e_per_mwh"], item["valid_from"], item["source"])
               for carrier, item in used.items() if carrier != bisko.HEAT_PUMP]
    if bisko.HEAT_PUMP in used and bisko.ELECTRICITY not in used:
        heat = used[bisko.HEAT_PUMP]
        value = (heat["t_co2e_per_mwh"] * result.options["heat_pump_apf"]).quantize(Decimal("0.0000001"))
        factors.append(bisko.Factor(bisko.ELECTRICITY, value.normalize(), heat["valid_from"], heat["source"]))
    return factors


def command_line(result, entries_name, factors_name):
    """The `python -m analyse balance` call that reproduces the stored result, and whether it can."""
    options = result.options
    parts = ["python -m analyse balance", entries_name, "--factors", factors_name, "--year", str(result.year),
             "--population", str(result.population)]
    if options["municipal_in_ghd"]:
        parts.append("--municipal-in-ghd")
    if not options["heat_pump_power_in_electricity"]:
        parts.append("--heat-pump-power-separate")
    has_heat_pumps = any(row.carrier == bisko.HEAT_PUMP and row.mwh for row in result.rows)
    complete = options["heat_pump_apf"] == bisko.DEFAULT_HEAT_PUMP_APF or not has_heat_pumps
    return " ".join(parts), complete


def download_names(year):
    return {"balance": f"bilanz-{year}.csv", "entries": f"eingaben-{year}.csv", "factors": f"faktoren-{year}.csv"}


def balance_view(balance, years=()):
    """Everything the page of one balance shows, from its stored result."""
    result = services.stored_result(balance)
    names = services.carrier_names()
    carriers = {code: carrier_label(code, names) for code in result.by_carrier}
    sectors = {code: str(label) for code, label in SECTOR_LABELS.items()}
    emissions = _matrix(result.rows, lambda row: row.t_co2e, carriers, sectors)
    energy = _matrix(result.rows, lambda row: row.mwh, carriers, sectors)
    emission_chart, emission_series = stacked_rows(emissions, carriers, sectors)
    energy_chart, energy_series = stacked_rows(energy, carriers, sectors)
    carrier_rows = sorted(((code, name, emissions.by_carrier[code], share(emissions.by_carrier[code], emissions.total),
                            energy.by_carrier[code]) for code, name in carriers.items()),
                          key=lambda row: (-row[2], list(carriers).index(row[0])))
    downloads = download_names(balance.year)
    command, complete = command_line(result, downloads["entries"], downloads["factors"])
    return BalanceView(
        balance=balance, result=result, carriers=carriers, sectors=sectors,
        short_sectors={code: str(label) for code, label in SECTOR_SHORT_LABELS.items()},
        emissions=emissions, energy=energy, emission_chart=emission_chart, emission_series=emission_series,
        energy_chart=energy_chart, energy_series=energy_series, carrier_rows=carrier_rows,
        quality=quality_rows(result), ungraded_share=share(result.quality_ungraded_mwh, result.final_energy_mwh),
        factors=factor_rows(result, names),
        adjustments=[AdjustmentRow(item.reason, item.sector, item.carrier, item.mwh) for item in result.adjustments],
        command=command, command_complete=complete, years=[year for year in years if year != balance.year])


# --- the CSV downloads of a balance ------------------------------------------------------------------

def balance_csv_rows(balance):
    """The stored result, one row per sector and carrier (German headers, codes and names)."""
    result = services.stored_result(balance)
    names = services.carrier_names()
    yield [_("Sektor"), _("Sektor-Code"), _("Energieträger"), _("Energieträger-Code"),
           _("Endenergie gemeldet (MWh)"), _("Endenergie bilanziert (MWh)"), _("Emissionsfaktor (t CO2e/MWh)"),
           _("Emissionen (t CO2e)"), _("Datengüte")]
    for row in result.rows:
        yield [str(SECTOR_LABELS.get(row.sector, row.sector)), row.sector, csv_cell(carrier_label(row.carrier, names)),
               row.carrier, csv_number(row.reported_mwh), csv_number(row.mwh), csv_number(row.factor_t_co2e_per_mwh),
               csv_number(row.t_co2e), row.quality or ""]


def entries_csv_rows(balance):
    """The balance's input as the import and `python -m analyse balance` read it (services.entries_csv_rows,
    with a decimal comma and spreadsheet-safe notes)."""
    rows = services.entries_csv_rows(balance)
    yield next(rows)
    for sector, carrier, mwh, quality, note in rows:
        yield [sector, carrier, mwh, quality, csv_cell(note)]


def factors_csv_rows(balance):
    """The factors the stored result used, in the CLI's format carrier,t_co2e_per_mwh,valid_from,source."""
    yield ["carrier", "t_co2e_per_mwh", "valid_from", "source"]
    for factor in cli_factors(services.stored_result(balance)):
        yield [factor.carrier, csv_number(factor.t_co2e_per_mwh, None), factor.valid_from, csv_cell(factor.source)]


# --- the scenario ------------------------------------------------------------------------------------

@dataclass
class ScenarioYearRow:
    year: int
    target: Decimal
    trend: Decimal
    scenario: Decimal
    savings: Decimal
    electricity: Decimal
    population: Decimal
    trend_by_sector: dict
    scenario_by_sector: dict


@dataclass
class ScenarioView:
    scenario: services.Scenario
    base_year: int
    target_year: int
    base_t: Decimal
    trend_end: Decimal
    trend_reduction: Decimal  # percent
    residual: Decimal
    reduction: Decimal  # percent
    savings_end: Decimal  # what the measures save in the target year
    years: list  # ScenarioYearRow
    series: list  # line_chart series
    sectors: dict
    sector_chart: list  # stacked rows: base year, trend and scenario in the target year
    sector_series: list
    sector_rows: list  # (code, label, base, trend end, scenario end, change in percent)
    compensation: scenarios.CompensationResult
    compensation_chart: list
    measures: list  # (ScenarioMeasure, where it saves, savings in the target year)
    left_out: list
    annual_change: list  # (label, percent)
    caps: list  # caps of the target year: (sector label, requested, applied)


def build_public_scenario():
    """services.build_scenario() of the published settings and balance (ScenarioUnavailable otherwise)."""
    return services.build_scenario(published_only=True)


def scenario_view(result):
    """Everything the pathway page shows, from a services.Scenario."""
    trend, neutrality = result.trend, result.neutrality
    sectors = {code: str(label) for code, label in SECTOR_LABELS.items()}
    years = [ScenarioYearRow(item.year, result.target_t_co2e(item.year), item.total_t_co2e, year.total_t_co2e,
                             year.total_savings_t_co2e, item.electricity_t_co2e_per_mwh, item.population,
                             dict(item.by_sector_t_co2e), dict(year.t_co2e))
             for item, year in zip(trend.years, neutrality.years)]
    base, end = years[0], years[-1]
    series = [
        {"label": _("Zielpfad (linear auf null im Zieljahr)"), "points": [(row.year, row.target) for row in years],
         "line": "dotted", "marker": "diamond", "colour": "#a4161a",
         "marker_at": [(base.year, base.target), (end.year, end.target)]},
        {"label": _("Trend (ohne Maßnahmen)"), "points": [(row.year, row.trend) for row in years],
         "line": "solid", "marker": "circle", "colour": "#4a5159"},
        {"label": _("Klimaneutralitäts-Szenario (mit Maßnahmen)"),
         "points": [(row.year, row.scenario) for row in years], "line": "dashed", "marker": "square",
         "colour": "#0b6e4f"},
    ]
    columns = [
        (_("%(year)s (Basisjahr)", year=base.year), {code: base.trend_by_sector[code] for code in sectors}),
        (_("%(year)s Trend", year=end.year), end.trend_by_sector),
        (_("%(year)s Szenario", year=end.year), end.scenario_by_sector),
    ]
    sector_chart = [{"label": label, "parts": parts} for label, parts in columns]
    sector_series = [{"key": code, "label": label} for code, label in sectors.items()]
    sector_rows = [(code, label, base.trend_by_sector[code], end.trend_by_sector[code], end.scenario_by_sector[code],
                    share(end.scenario_by_sector[code] - base.trend_by_sector[code], base.trend_by_sector[code]))
                   for code, label in sectors.items()]
    final_year = neutrality.years[-1]
    measures = [(item, measure_sector_label(item.sector), final_year.by_measure_t_co2e.get(item.number))
                for item in result.measures]
    compensation = result.compensation
    compensation_chart = [{"label": use.name, "value": use.t_co2e} for use in compensation.uses]
    if compensation.gap_t_co2e:
        compensation_chart.append({"label": _("nicht gedeckt"), "value": compensation.gap_t_co2e})
    changes = result.settings.annual_change
    annual_change = [(label, Decimal(str(changes.get(code, 0)))) for code, label in sectors.items()]
    caps = [(sectors.get(cap.sector, cap.sector) if cap.sector else _("ohne Sektor"), cap.requested_t_co2e,
             cap.applied_t_co2e)
            for cap in neutrality.caps if cap.year == neutrality.target_year]
    return ScenarioView(
        scenario=result, base_year=trend.base_year, target_year=trend.target_year, base_t=result.base.total_t_co2e,
        trend_end=end.trend, trend_reduction=_percent(result.trend_reduction_share),
        residual=neutrality.residual_t_co2e, reduction=_percent(neutrality.reduction_share), savings_end=end.savings,
        years=years, series=series,
        sectors=sectors, sector_chart=sector_chart, sector_series=sector_series, sector_rows=sector_rows,
        compensation=compensation, compensation_chart=compensation_chart, measures=measures, left_out=result.left_out,
        annual_change=annual_change, caps=caps)


def measure_sector_label(code):
    """Where a measure of the scenario saves: its BISKO sector, a group of sectors, or all sectors."""
    if code is None:
        return _("verteilt auf alle Sektoren")
    label = SECTOR_LABELS.get(code) or BISKO_SECTOR_CHOICES.get(code)
    return str(label) if label is not None else code


def _percent(fraction):
    return None if fraction is None else fraction * HUNDRED


def scenario_csv_rows(result):
    """Per year: target path, trend, scenario, savings, electricity factor, population, and both per sector."""
    view = scenario_view(result)
    sectors = view.sectors
    yield [_("Jahr"), _("Zielpfad (t CO2e)"), _("Trend (t CO2e)"), _("Klimaneutralitäts-Szenario (t CO2e)"),
           _("Einsparung der Maßnahmen (t CO2e)"), _("Strom-Faktor (t CO2e/MWh)"), _("Einwohnerinnen und Einwohner"),
           *[_("Trend %(sector)s (t CO2e)", sector=label) for label in sectors.values()],
           *[_("Szenario %(sector)s (t CO2e)", sector=label) for label in sectors.values()]]
    for row in view.years:
        yield [row.year, csv_number(row.target, 3), csv_number(row.trend, 3), csv_number(row.scenario, 3),
               csv_number(row.savings, 3), csv_number(row.electricity), csv_number(row.population, 0),
               *[csv_number(row.trend_by_sector[code], 3) for code in sectors],
               *[csv_number(row.scenario_by_sector[code], 3) for code in sectors]]
