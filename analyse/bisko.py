"""Energy and greenhouse-gas balance of a municipality by BISKO, in plain Python.

Final energy in MWh per sector and energy carrier, times the emission factor of the
carrier for the balance year, gives t CO2e. The rules (see analyse/README.md, "Bilanz"):

- The factor for year Y is the one with the latest `valid_from` not after Y; a factor
  without `valid_from` is used only when no dated one applies. No factor: BalanceError
  naming the carrier and the year; nothing is guessed.
- Electricity (`strom`) is valued with the factor of the year (the federal mix, kept per
  year in the factor table).
- Heat pumps: an `umweltwaerme` row is the environmental heat used; its emissions are
  MWh x strom factor / annual performance factor (APF, default 3.2). By default the same
  heat-pump power, MWh / APF, is taken out of the sector's `strom` row, because utilities'
  electricity figures already contain it.
- `municipal_in_ghd`: the utility reported municipal facilities inside GHD, so each
  `kommunale_einrichtungen` row is subtracted from the GHD row of the same carrier.
- Data quality: the energy-weighted mean of A = 1, B = 0.5, C = 0.25, D = 0 over the final
  energy after the adjustments; rows without a grade count as D and are reported.

All amounts are Decimal, so results equal the hand calculation; `to_dict()` gives floats.
"""
import csv
import io
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .tables import InputError, _delimiter, decode, read_table

SECTORS = {
    "private_haushalte": "Private Haushalte",
    "ghd": "Gewerbe, Handel, Dienstleistungen",
    "industrie": "Industrie",
    "kommunale_einrichtungen": "Kommunale Einrichtungen",
    "verkehr": "Verkehr",
}
# The carriers of the BISKO reference table plus solarthermie; staff may add others (any code
# with a factor). The order is the order of tables and charts.
CARRIERS = {
    "strom": "Strom",
    "erdgas": "Erdgas",
    "heizoel": "Heizöl",
    "fluessiggas": "Flüssiggas",
    "kohle": "Kohle",
    "holz": "Holz",
    "biogas": "Biogas",
    "deponie_klaergas": "Deponie-, Klär-, Grubengas",
    "fernwaerme": "Fernwärme",
    "umweltwaerme": "Umweltwärme",
    "solarthermie": "Solarthermie",
    "benzin": "Benzin",
    "diesel": "Diesel",
}
ELECTRICITY = "strom"
HEAT_PUMP = "umweltwaerme"
GHD = "ghd"
MUNICIPAL = "kommunale_einrichtungen"
QUALITY_WEIGHTS = {"A": Decimal(1), "B": Decimal("0.5"), "C": Decimal("0.25"), "D": Decimal(0)}
UNGRADED_WEIGHT = QUALITY_WEIGHTS["D"]  # no documented source earns no credit
DEFAULT_HEAT_PUMP_APF = Decimal("3.2")
CARRIER_CODE = re.compile(r"^[a-z0-9_]{1,32}$")  # 32 = the carrier column of the application
YEARS = range(1900, 2101)


class BalanceError(InputError):
    """A problem with the balance's input, explained in German in one line."""


@dataclass(frozen=True)
class EnergyRow:
    sector: str  # code from SECTORS
    carrier: str  # carrier code, e.g. strom
    mwh: Decimal  # final energy in the balance year
    quality: str = None  # data-quality grade A-D, None when not stated
    line: int = None  # line in the input file, for error messages


@dataclass(frozen=True)
class Factor:
    carrier: str
    t_co2e_per_mwh: Decimal
    valid_from: int = None  # first year the factor applies to; None: every year
    source: str = ""


@dataclass(frozen=True)
class BalanceRow:
    sector: str
    carrier: str
    reported_mwh: Decimal  # as in the input
    mwh: Decimal  # after taking out municipal facilities and heat-pump power
    t_co2e: Decimal
    factor_t_co2e_per_mwh: Decimal  # for umweltwaerme: strom factor / APF
    quality: str = None
    line: int = None


@dataclass(frozen=True)
class Adjustment:
    """Final energy moved by a rule: `mwh` taken out of the row (sector, carrier)."""
    sector: str
    carrier: str
    mwh: Decimal
    reason: str  # "heat_pump" or "municipal"


@dataclass(frozen=True)
class BalanceResult:
    year: int
    population: int
    total_t_co2e: Decimal
    per_capita_t_co2e: Decimal
    final_energy_mwh: Decimal
    quality_index: Decimal  # None when the balance has no final energy at all
    quality_ungraded_mwh: Decimal  # final energy of rows without a grade (counted as D)
    by_sector: dict  # sector -> t CO2e, every sector in SECTORS order
    by_carrier: dict  # carrier -> t CO2e, the carriers of the rows
    by_sector_mwh: dict
    by_carrier_mwh: dict
    rows: tuple  # BalanceRow, by sector and carrier
    factors_used: dict  # carrier -> {"t_co2e_per_mwh", "valid_from", "source"}
    options: dict  # heat_pump_apf, heat_pump_power_in_electricity, municipal_in_ghd
    adjustments: tuple = field(default=())

    def to_dict(self):
        """The CLI's and the API's JSON: plain numbers (floats) and strings."""
        return {
            "year": self.year,
            "population": self.population,
            "total_t_co2e": _float(self.total_t_co2e),
            "per_capita_t_co2e": _float(self.per_capita_t_co2e),
            "final_energy_mwh": _float(self.final_energy_mwh),
            "quality_index": _float(self.quality_index),
            "by_sector": {key: _float(value) for key, value in self.by_sector.items()},
            "by_carrier": {key: _float(value) for key, value in self.by_carrier.items()},
            "rows": [{"sector": row.sector, "carrier": row.carrier, "mwh": _float(row.mwh),
                      "t_co2e": _float(row.t_co2e), "reported_mwh": _float(row.reported_mwh),
                      "factor_t_co2e_per_mwh": _float(row.factor_t_co2e_per_mwh), "quality": row.quality}
                     for row in self.rows],
            "by_sector_mwh": {key: _float(value) for key, value in self.by_sector_mwh.items()},
            "by_carrier_mwh": {key: _float(value) for key, value in self.by_carrier_mwh.items()},
            "quality_ungraded_mwh": _float(self.quality_ungraded_mwh),
            "factors_used": {carrier: {"t_co2e_per_mwh": _float(used["t_co2e_per_mwh"]),
                                       "valid_from": used["valid_from"], "source": used["source"]}
                             for carrier, used in self.factors_used.items()},
            "options": {"heat_pump_apf": _float(self.options["heat_pump_apf"]),
                        "heat_pump_power_in_electricity": self.options["heat_pump_power_in_electricity"],
                        "municipal_in_ghd": self.options["municipal_in_ghd"]},
            "adjustments": [{"sector": item.sector, "carrier": item.carrier, "mwh": _float(item.mwh),
                             "reason": item.reason} for item in self.adjustments],
        }

    @classmethod
    def from_dict(cls, data):
        """The result back from `to_dict()` (e.g. a stored balance), numbers as Decimal."""
        def number(value):
            return None if value is None else Decimal(str(value))

        def numbers(mapping):
            return {key: number(value) for key, value in mapping.items()}

        rows = tuple(BalanceRow(row["sector"], row["carrier"], number(row["reported_mwh"]), number(row["mwh"]),
                                number(row["t_co2e"]), number(row["factor_t_co2e_per_mwh"]), row.get("quality"))
                     for row in data["rows"])
        options = dict(data["options"])
        options["heat_pump_apf"] = number(options["heat_pump_apf"])
        return cls(
            year=data["year"], population=data["population"], total_t_co2e=number(data["total_t_co2e"]),
            per_capita_t_co2e=number(data["per_capita_t_co2e"]), final_energy_mwh=number(data["final_energy_mwh"]),
            quality_index=number(data["quality_index"]), quality_ungraded_mwh=number(data["quality_ungraded_mwh"]),
            by_sector=numbers(data["by_sector"]), by_carrier=numbers(data["by_carrier"]),
            by_sector_mwh=numbers(data["by_sector_mwh"]), by_carrier_mwh=numbers(data["by_carrier_mwh"]), rows=rows,
            factors_used={carrier: {"t_co2e_per_mwh": number(used["t_co2e_per_mwh"]),
                                    "valid_from": used["valid_from"], "source": used["source"]}
                          for carrier, used in data["factors_used"].items()},
            options=options,
            adjustments=tuple(Adjustment(item["sector"], item["carrier"], number(item["mwh"]), item["reason"])
                              for item in data["adjustments"]))


# --- numbers --------------------------------------------------------------------------------

_GERMAN_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$")  # 1.250 / 1.250.000,5
_ENGLISH_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+\.\d+$|^[+-]?[1-9]\d{0,2}(,\d{3}){2,}$")  # 1,250.5
_GERMAN_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")  # 1250,5 / 0,125
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(raw):
    """A Decimal from a number or a German/English number text; None when it is none.

    The same reading as the measure sheets: a single comma is the decimal comma ("0,505"),
    a point before groups of three digits groups thousands ("1.250" is 1250, "0.125" stays
    0.125); English grouping only where it cannot be German ("1,250.5").
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, Decimal)):
        number = Decimal(raw)
        return number if number.is_finite() else None
    if isinstance(raw, float):
        return Decimal(repr(raw)) if math.isfinite(raw) else None
    text = str(raw).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("\u2212", "-")
    if _GERMAN_GROUPED.match(text):
        text = text.replace(".", "").replace(",", ".")
    elif _ENGLISH_GROUPED.match(text):
        text = text.replace(",", "")
    elif _GERMAN_DECIMAL.match(text):
        text = text.replace(",", ".")
    if not _PLAIN_NUMBER.match(text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def format_number(value, decimals=1):
    """German number text: 12345.678 -> "12.345,7" (decimals=1)."""
    if value is None:
        return "–"
    text = f"{Decimal(value):,.{decimals}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def _plain(value):
    """A Decimal for a message, German, without trailing zeros: 312.50 -> "312,5"."""
    value = Decimal(value)
    decimals = max(0, min(6, -value.normalize().as_tuple().exponent))
    return format_number(value, decimals)


def _float(value):
    return None if value is None else float(value)


def sector_label(code):
    return SECTORS.get(code, code)


def carrier_label(code):
    return CARRIERS.get(code, code)


# --- factors --------------------------------------------------------------------------------

def factor_for(factors, carrier, year):
    """The Factor for `carrier` in `year`: latest valid_from not after the year, else the undated one.

    A later factor is never used for an earlier year. BalanceError naming the carrier and the
    year when none applies.
    """
    dated = [factor for factor in factors if factor.carrier == carrier and factor.valid_from is not None
             and factor.valid_from <= year]
    if dated:
        return max(dated, key=lambda factor: factor.valid_from)
    undated = [factor for factor in factors if factor.carrier == carrier and factor.valid_from is None]
    if undated:
        return undated[0]
    later = sorted(factor.valid_from for factor in factors if factor.carrier == carrier)
    hint = f" (der früheste gilt ab {later[0]})" if later else ""
    raise BalanceError(f"Für den Energieträger „{carrier}“ gibt es keinen Emissionsfaktor für das Jahr {year}{hint}.")


def check_factors(factors):
    """Factors as Factor objects with Decimal values; BalanceError for a bad or ambiguous one."""
    checked, seen = [], {}
    for factor in factors:
        carrier = str(factor.carrier or "").strip().casefold()
        if not CARRIER_CODE.match(carrier):
            raise BalanceError(f"Faktortabelle: „{factor.carrier}“ ist kein gültiger Energieträger-Code "
                               "(Kleinbuchstaben a-z, Ziffern und _, höchstens 32 Zeichen).")
        value = parse_number(factor.t_co2e_per_mwh)
        if value is None or value < 0:
            raise BalanceError(f"Faktortabelle: Der Faktor für „{carrier}“ muss eine Zahl ab 0 sein "
                               f"(t CO2e/MWh), nicht „{factor.t_co2e_per_mwh}“.")
        valid_from = factor.valid_from
        if valid_from is not None and (isinstance(valid_from, bool) or not isinstance(valid_from, int)
                                       or valid_from not in YEARS):
            raise BalanceError(f"Faktortabelle: „{valid_from}“ ist kein Jahr (gültig ab, Energieträger „{carrier}“).")
        key = (carrier, valid_from)
        if key in seen and seen[key] != value:
            since = f"ab {valid_from}" if valid_from is not None else "ohne Jahr"
            raise BalanceError(f"Faktortabelle: Für „{carrier}“ {since} stehen zwei verschiedene Faktoren "
                               f"({_plain(seen[key])} und {_plain(value)}).")
        seen[key] = value
        checked.append(Factor(carrier, value, valid_from, factor.source or ""))
    return checked


# --- rows and the rules ---------------------------------------------------------------------

def _where(sector, carrier, line):
    place = f"Sektor „{sector}“, Energieträger „{carrier}“"
    return f"Zeile {line} ({place})" if line else f"Zeile mit {place}"


def check_rows(rows):
    """EnergyRows with normalised codes, Decimal MWh and grades; BalanceError naming the first bad row."""
    checked, seen = [], {}
    for row in rows:
        sector = str(row.sector or "").strip().casefold()
        carrier = str(row.carrier or "").strip().casefold()
        where = _where(sector, carrier, row.line)
        if sector not in SECTORS:
            prefix = f"Zeile {row.line}" if row.line else "Eine Zeile"
            raise BalanceError(f"{prefix}: unbekannter Sektor „{row.sector}“ "
                               f"(erlaubt: {', '.join(SECTORS)}).")
        if not CARRIER_CODE.match(carrier):
            raise BalanceError(f"{where}: „{row.carrier}“ ist kein gültiger Energieträger-Code "
                               "(Kleinbuchstaben a-z, Ziffern und _, höchstens 32 Zeichen).")
        mwh = parse_number(row.mwh)
        if mwh is None:
            shown = "" if row.mwh is None else str(row.mwh).strip()
            raise BalanceError(f"{where}: „{shown}“ ist keine Zahl (MWh)." if shown
                               else f"{where}: Der Wert in MWh fehlt.")
        if mwh < 0:
            raise BalanceError(f"{where}: Der Verbrauch ist negativ ({_plain(mwh)} MWh); erlaubt sind Werte ab 0.")
        quality = str(row.quality or "").strip().upper() or None
        if quality is not None and quality not in QUALITY_WEIGHTS:
            raise BalanceError(f"{where}: unbekannte Datengüte „{row.quality}“ (erlaubt: A, B, C, D oder leer).")
        if (sector, carrier) in seen:
            earlier = seen[(sector, carrier)]
            again = f" (schon in Zeile {earlier})" if earlier else ""
            raise BalanceError(f"{where}: Sektor und Energieträger kommen doppelt vor{again}; "
                               "je Kombination ist nur eine Zeile erlaubt.")
        seen[(sector, carrier)] = row.line
        checked.append(EnergyRow(sector, carrier, mwh, quality, row.line))
    return checked


def _decimal_option(value, name, positive=True):
    number = parse_number(value)
    if number is None or (positive and number <= 0):
        raise BalanceError(f"{name} muss eine positive Zahl sein, nicht „{value}“.")
    return number


def check_year(year):
    if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
        raise BalanceError(f"Das Bilanzjahr muss eine Jahreszahl zwischen {YEARS.start} und {YEARS.stop - 1} "
                           f"sein, nicht „{year}“.")
    return year


def check_population(population):
    number = parse_number(population)
    if number is None or number <= 0 or number != number.to_integral_value():
        raise BalanceError(f"Die Einwohnerzahl muss eine ganze Zahl größer als 0 sein, nicht „{population}“.")
    return int(number)


def adjust_rows(rows, *, heat_pump_apf=DEFAULT_HEAT_PUMP_APF, heat_pump_power_in_electricity=True,
                municipal_in_ghd=False):
    """The checked rows and their MWh after the two rules, plus the Adjustments made.

    Returns (rows, {(sector, carrier): mwh}, [Adjustment]). Municipal facilities are taken out
    of GHD first, with the values as reported (both contain their heat-pump power); then the
    heat-pump power of each sector is taken out of its own strom row.
    """
    rows = check_rows(rows)
    apf = _decimal_option(heat_pump_apf, "Die Jahresarbeitszahl der Wärmepumpen")
    mwh = {(row.sector, row.carrier): row.mwh for row in rows}
    adjustments = []
    if municipal_in_ghd:
        for row in rows:
            if row.sector != MUNICIPAL or row.mwh == 0:
                continue
            ghd = mwh.get((GHD, row.carrier))
            if ghd is None:
                raise BalanceError(
                    f"Kommunale Einrichtungen aus GHD herausrechnen: Sektor „ghd“ hat keine Zeile für den "
                    f"Energieträger „{row.carrier}“ (kommunale Einrichtungen: {_plain(row.mwh)} MWh).")
            if row.mwh > ghd:
                raise BalanceError(
                    f"Kommunale Einrichtungen aus GHD herausrechnen: Sektor „ghd“, Energieträger „{row.carrier}“ "
                    f"würde negativ (GHD {_plain(ghd)} MWh, kommunale Einrichtungen {_plain(row.mwh)} MWh).")
            mwh[(GHD, row.carrier)] = ghd - row.mwh
            adjustments.append(Adjustment(GHD, row.carrier, row.mwh, "municipal"))
    if heat_pump_power_in_electricity:
        for row in rows:
            if row.carrier != HEAT_PUMP:
                continue
            heat = mwh[(row.sector, HEAT_PUMP)]
            power = heat / apf
            if power == 0:
                continue
            electricity = mwh.get((row.sector, ELECTRICITY))
            explained = (f"Wärmepumpen im Sektor „{row.sector}“: {_plain(power)} MWh Wärmepumpenstrom "
                         f"(Umweltwärme {_plain(heat)} MWh / JAZ {_plain(apf)})")
            if electricity is None:
                raise BalanceError(f"{explained} sollen aus dem Strom herausgerechnet werden, aber der Sektor hat "
                                   "keine Zeile „strom“. Ist der Wärmepumpenstrom nicht im Strom enthalten, "
                                   "das Herausrechnen abschalten.")
            if power > electricity:
                raise BalanceError(f"{explained} sind mehr als der Strom des Sektors ({_plain(electricity)} MWh). "
                                   "Ist der Wärmepumpenstrom nicht im Strom enthalten, das Herausrechnen abschalten.")
            mwh[(row.sector, ELECTRICITY)] = electricity - power
            adjustments.append(Adjustment(row.sector, ELECTRICITY, power, "heat_pump"))
    return rows, mwh, adjustments


def carrier_order(carriers):
    """Known carriers in CARRIERS order, then the others alphabetically."""
    known = list(CARRIERS)
    return sorted(set(carriers), key=lambda code: (known.index(code), "") if code in known else (len(known), code))


def compute_balance(year, population, rows, factors, *, heat_pump_apf=DEFAULT_HEAT_PUMP_APF,
                    heat_pump_power_in_electricity=True, municipal_in_ghd=False):
    """The BISKO balance of `year` from EnergyRows and Factors (rules in the module docstring).

    BalanceError (German, one line) for an unknown sector, a bad or negative value, an unknown
    grade, a duplicated sector-carrier row, a missing factor (naming carrier and year) or a
    rule that would make a value negative.
    """
    year = check_year(year)
    population = check_population(population)
    factors = check_factors(factors)
    rows, adjusted, adjustments = adjust_rows(rows, heat_pump_apf=heat_pump_apf,
                                              heat_pump_power_in_electricity=heat_pump_power_in_electricity,
                                              municipal_in_ghd=municipal_in_ghd)
    apf = parse_number(heat_pump_apf)
    factors_used = {}

    def factor(row):
        carrier = row.carrier
        wanted = ELECTRICITY if carrier == HEAT_PUMP else carrier
        try:
            found = factor_for(factors, wanted, year)
        except BalanceError as error:
            why = (", die Umweltwärme der Wärmepumpen wird mit dem Strom-Faktor bewertet"
                   if carrier == HEAT_PUMP else "")
            raise BalanceError(f"{error} Gebraucht in {_where(row.sector, carrier, row.line)}{why}; "
                               "bitte den Faktor ergänzen.") from None
        if carrier == HEAT_PUMP:
            value = found.t_co2e_per_mwh / apf
            source = f"Strom-Faktor / JAZ {_plain(apf)}" + (f" ({found.source})" if found.source else "")
            factors_used[carrier] = {"t_co2e_per_mwh": value, "valid_from": found.valid_from, "source": source}
            return value
        factors_used[carrier] = {"t_co2e_per_mwh": found.t_co2e_per_mwh, "valid_from": found.valid_from,
                                 "source": found.source}
        return found.t_co2e_per_mwh

    order = {code: position for position, code in enumerate(carrier_order(row.carrier for row in rows))}
    sectors = list(SECTORS)
    balance_rows = []
    for row in sorted(rows, key=lambda row: (sectors.index(row.sector), order[row.carrier])):
        value = factor(row)
        mwh = adjusted[(row.sector, row.carrier)]
        balance_rows.append(BalanceRow(row.sector, row.carrier, row.mwh, mwh, mwh * value, value,
                                       row.quality, row.line))
    zero = Decimal(0)
    by_sector = {sector: zero for sector in SECTORS}
    by_sector_mwh = {sector: zero for sector in SECTORS}
    by_carrier = {carrier: zero for carrier in order}
    by_carrier_mwh = {carrier: zero for carrier in order}
    weighted = ungraded = zero
    for row in balance_rows:
        by_sector[row.sector] += row.t_co2e
        by_sector_mwh[row.sector] += row.mwh
        by_carrier[row.carrier] += row.t_co2e
        by_carrier_mwh[row.carrier] += row.mwh
        if row.quality is None:
            ungraded += row.mwh
        weighted += row.mwh * (QUALITY_WEIGHTS[row.quality] if row.quality else UNGRADED_WEIGHT)
    total = sum(by_sector.values(), zero)
    final_energy = sum(by_sector_mwh.values(), zero)
    return BalanceResult(
        year=year, population=population, total_t_co2e=total, per_capita_t_co2e=total / population,
        final_energy_mwh=final_energy, quality_index=weighted / final_energy if final_energy else None,
        quality_ungraded_mwh=ungraded, by_sector=by_sector, by_carrier=by_carrier, by_sector_mwh=by_sector_mwh,
        by_carrier_mwh=by_carrier_mwh, rows=tuple(balance_rows),
        factors_used={carrier: factors_used[carrier] for carrier in order},
        options={"heat_pump_apf": apf, "heat_pump_power_in_electricity": bool(heat_pump_power_in_electricity),
                 "municipal_in_ghd": bool(municipal_in_ghd)},
        adjustments=tuple(adjustments))


# --- CSV files ------------------------------------------------------------------------------

def _read(path, what):
    """The Table of a CSV file (tables.read_table conventions) and the file line of each row."""
    try:
        table = read_table(path)
    except InputError as error:
        raise BalanceError(f"{what}: {error}") from None
    text = decode(Path(path).read_bytes(), f"„{path}“")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    lines, previous = [], 0
    for record in reader:
        if any(field.strip() for field in record):
            lines.append(previous + 1)
        previous = reader.line_num
    return table, lines[1:]


def _column(table, name, what, required=True):
    try:
        return table.column(name, what)
    except InputError as error:
        if required:
            raise BalanceError(str(error)) from None
        return None


def read_energy_csv(path):
    """EnergyRows from a CSV with the columns sector,carrier,mwh[,quality]; other columns are ignored
    (a row with only other columns filled is skipped).

    UTF-8 (with or without BOM) or Windows-1252, comma, semicolon or tab, German or English
    numbers. The rows keep their file line for error messages; compute_balance checks them.
    """
    what = "Energiedaten"
    table, lines = _read(path, what)
    sector, carrier, mwh = (_column(table, name, what) for name in ("sector", "carrier", "mwh"))
    quality = _column(table, "quality", what, required=False)
    rows = []
    for line, record in zip(lines, table.rows):
        if not any(record[index].strip() for index in (sector, carrier, mwh)):
            continue  # a row with only a remark in another column
        raw = record[mwh].strip()
        number = parse_number(raw)
        where = _where(record[sector].strip(), record[carrier].strip(), line)
        if number is None:
            raise BalanceError(f"{where}: „{raw}“ ist keine Zahl (MWh)." if raw else f"{where}: Der Wert in MWh fehlt.")
        grade = record[quality].strip() if quality is not None else ""
        rows.append(EnergyRow(record[sector].strip(), record[carrier].strip(), number, grade or None, line))
    return check_rows(rows)


def read_factors_csv(path):
    """Factors from a CSV with the columns carrier,t_co2e_per_mwh[,valid_from][,source].

    Other columns are ignored, so the reference table can be read as it is; a row with an
    empty factor (umweltwaerme in the reference table) is skipped. Without a source column
    the file name is the source.
    """
    what = "Faktortabelle"
    table, lines = _read(path, what)
    carrier, value = _column(table, "carrier", what), _column(table, "t_co2e_per_mwh", what)
    valid_from = _column(table, "valid_from", what, required=False)
    source = _column(table, "source", what, required=False)
    factors = []
    for line, record in zip(lines, table.rows):
        raw = record[value].strip()
        if not raw:
            continue
        code = record[carrier].strip()
        number = parse_number(raw)
        if number is None or number < 0:
            raise BalanceError(f"Faktortabelle, Zeile {line} (Energieträger „{code}“): „{raw}“ ist kein "
                               "Faktor (eine Zahl ab 0 in t CO2e/MWh).")
        year = record[valid_from].strip() if valid_from is not None else ""
        if year and not (year.isdigit() and int(year) in YEARS):
            raise BalanceError(f"Faktortabelle, Zeile {line} (Energieträger „{code}“): „{year}“ ist kein Jahr "
                               "(valid_from).")
        factors.append(Factor(code, number, int(year) if year else None,
                              record[source].strip() if source is not None else Path(path).name))
    if not factors:
        raise BalanceError(f"Faktortabelle „{path}“: keine Zeile hat einen Faktor.")
    try:
        return check_factors(factors)
    except BalanceError as error:
        raise BalanceError(f"{error} (Datei „{path}“)") from None
