"""The fields of a measure sheet, described once for the form, the import, the exports and the API.

Each `SheetField` knows its German label, its kind and its limits, and turns a raw
value (from a form, a CSV cell or an XLSX cell) into the stored value or raises
`SheetError` with a German message:

    value = field_by_name("cost_one_off_eur").parse("1.250.000,50")  # Decimal("1250000.50")

Numbers are read the German way ("1.250,5") and the English way ("1250.5"); choices
accept the stored code or the German label ("hoch", "in Umsetzung").
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .models import (DURATION_LABELS, MEASURE_STATUS_LABELS, MEASURE_TYPE_LABELS, NUMBER_MAX, PRIORITY_LABELS,
                     SAVINGS_METHOD_LABELS, SHORT_MAX, TITLE_MAX)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(value):
    """Unified line ends, no control characters, no surrounding blanks."""
    return _CONTROL.sub("", (value or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


LONG_MAX = 10_000  # characters of a long text field
YEAR_MIN, YEAR_MAX = 1990, 2100
MONEY_MAX = Decimal("999999999999.99")
ENERGY_MAX = Decimal("999999999999.99")
FTE_MAX = Decimal("9999.99")


class SheetError(Exception):
    """A value broke a rule; `message` is German and safe to show, `field` names the sheet field."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SheetField:
    name: str  # attribute of Measure
    label: str  # German, shown in forms, exports and errors
    kind: str  # text, long, choice, year, int, percent, decimal, money, date, sector
    max_length: int = 0
    required: bool = False
    choices: dict = field(default_factory=dict)  # code -> label for kind "choice"
    maximum: Decimal = None  # for numbers
    minimum: Decimal = Decimal(0)
    help: str = ""
    section: str = ""

    def parse(self, raw):
        """The stored value for a raw input value; empty input gives None (or "" for texts)."""
        if isinstance(raw, str):
            raw = raw.strip()
        if raw is None or raw == "":
            if self.required:
                raise SheetError(_("„%(label)s“ fehlt.", label=self.label), self.name)
            return "" if self.kind in ("text", "long") else None
        parser = getattr(self, "_parse_" + self.kind)
        return parser(raw)

    def _parse_text(self, raw):
        value = clean_text(str(raw)).replace("\n", " ").strip()
        return self._check_length(value)

    def _parse_long(self, raw):
        return self._check_length(clean_text(str(raw)))

    def _check_length(self, value):
        if self.required and not value:
            raise SheetError(_("„%(label)s“ fehlt.", label=self.label), self.name)
        if self.max_length and len(value) > self.max_length:
            raise SheetError(_("„%(label)s“ darf höchstens %(max)d Zeichen lang sein (hier %(length)d).",
                               label=self.label, max=self.max_length, length=len(value)), self.name)
        return value

    def _parse_choice(self, raw):
        value = str(raw).strip()
        wanted = value.casefold()
        for code, label in self.choices.items():
            if wanted in (code.value.casefold(), str(label).casefold()):
                return code.value
        raise SheetError(_("„%(value)s“ ist kein gültiger Wert für „%(label)s“. Möglich sind: %(choices)s.",
                           value=value[:60], label=self.label,
                           choices=", ".join(str(label) for label in self.choices.values())), self.name)

    def _parse_sector(self, raw):
        from ..ideas.services import find_sector  # sectors live with the ideas
        sector = find_sector(str(raw).strip())
        if sector is None:
            raise SheetError(_("Das Handlungsfeld „%(value)s“ gibt es nicht.", value=str(raw)[:60]), self.name)
        return sector

    def _parse_year(self, raw):
        year = self._parse_int(raw)
        if not YEAR_MIN <= year <= YEAR_MAX:
            raise SheetError(_("„%(label)s“ muss ein Jahr zwischen %(min)d und %(max)d sein.",
                               label=self.label, min=YEAR_MIN, max=YEAR_MAX), self.name)
        return year

    def _parse_int(self, raw):
        number = self._parse_decimal(raw)
        if number != number.to_integral_value():
            raise SheetError(_("„%(label)s“ muss eine ganze Zahl sein.", label=self.label), self.name)
        return int(number)

    def _parse_percent(self, raw):
        if isinstance(raw, str):
            raw = raw.rstrip("%").strip()
        value = self._parse_int(raw)
        if not 0 <= value <= 100:
            raise SheetError(_("„%(label)s“ muss zwischen 0 und 100 liegen.", label=self.label), self.name)
        return value

    def _parse_money(self, raw):
        if isinstance(raw, str):
            raw = re.sub(r"\s*(€|EUR|Euro)\s*$", "", raw, flags=re.I)
        return self._parse_decimal(raw).quantize(Decimal("0.01"))

    def _parse_decimal(self, raw):
        number = parse_number(raw)
        if number is None:
            raise SheetError(_("„%(label)s“ muss eine Zahl sein, nicht „%(value)s“.", label=self.label,
                               value=str(raw)[:40]), self.name)
        if self.minimum is not None and number < self.minimum:
            raise SheetError(_("„%(label)s“ darf nicht kleiner als %(min)s sein.", label=self.label,
                               min=self.minimum), self.name)
        if self.maximum is not None and number > self.maximum:
            raise SheetError(_("„%(label)s“ ist zu groß.", label=self.label), self.name)
        return number

    def _parse_date(self, raw):
        value = parse_date(raw)
        if value is None:
            raise SheetError(_("„%(label)s“ muss ein Datum sein (TT.MM.JJJJ), nicht „%(value)s“.",
                               label=self.label, value=str(raw)[:40]), self.name)
        return value


_GERMAN_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$")  # 1.250 / 1.250.000,5
_ENGLISH_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+\.\d+$|^[+-]?[1-9]\d{0,2}(,\d{3}){2,}$")  # 1,250.5
_GERMAN_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")  # 1250,5 / 0,125 / 1,125
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_number(raw):
    """A Decimal from a number or a German/English number text, None when it is none.

    The interface is German, so a single comma is always the decimal comma ("1,125" is
    1.125, "1.250,5" is 1250.5), and a point followed by groups of three digits after a
    leading non-zero digit groups thousands ("1.250" is 1250, "0.125" stays 0.125).
    English grouping is read only where it cannot be German: "1,250.5", "1,250,000".
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, Decimal)):
        return Decimal(raw) if Decimal(raw).is_finite() else None
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(raw))
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


def parse_date(raw):
    """A date from a date, a datetime, "TT.MM.JJJJ" or "JJJJ-MM-TT"; None when it is none."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


SECTIONS = {
    "overview": _l("Überblick"),
    "content": _l("Inhalt"),
    "organisation": _l("Zuständigkeit und Zeitplan"),
    "costs": _l("Kosten und Finanzierung"),
    "effect": _l("Wirkung"),
    "state": _l("Stand der Umsetzung"),
}

FIELDS = (
    SheetField("number", _l("Nummer"), "text", max_length=NUMBER_MAX, section="overview",
               help=_l("Leer lassen für die nächste freie Nummer im Handlungsfeld, z. B. M-2.3.")),
    SheetField("title", _l("Titel"), "text", max_length=TITLE_MAX, required=True, section="overview"),
    SheetField("sector", _l("Handlungsfeld"), "sector", required=True, section="overview"),
    SheetField("measure_type", _l("Maßnahmentyp"), "choice", choices=MEASURE_TYPE_LABELS, section="overview"),
    SheetField("priority", _l("Priorität"), "choice", choices=PRIORITY_LABELS, section="overview"),
    SheetField("goal", _l("Ziel"), "long", max_length=LONG_MAX, section="content"),
    SheetField("starting_situation", _l("Ausgangslage"), "long", max_length=LONG_MAX, section="content"),
    SheetField("description", _l("Beschreibung"), "long", max_length=LONG_MAX, section="content"),
    SheetField("target_group", _l("Zielgruppe"), "text", max_length=SHORT_MAX, section="content"),
    SheetField("lead_unit", _l("Federführung"), "text", max_length=SHORT_MAX, section="organisation"),
    SheetField("partners", _l("Beteiligte und Partner"), "long", max_length=LONG_MAX, section="organisation"),
    SheetField("start_year", _l("Beginn (Jahr)"), "year", section="organisation"),
    SheetField("end_year", _l("Ende (Jahr)"), "year", section="organisation",
               help=_l("Leer lassen bei einer Daueraufgabe.")),
    SheetField("duration", _l("Laufzeit"), "choice", choices=DURATION_LABELS, section="organisation",
               help=_l("Wird aus Beginn und Ende berechnet, wenn beide angegeben sind.")),
    SheetField("ramp_up_years", _l("Hochlauf in Jahren"), "int", minimum=Decimal(1), maximum=Decimal(30),
               section="organisation",
               help=_l("Jahre bis zur vollen Einsparung; für das Klimaneutralitätsszenario.")),
    SheetField("cost_one_off_eur", _l("Einmalige Kosten (€)"), "money", maximum=MONEY_MAX, section="costs"),
    SheetField("cost_per_year_eur", _l("Laufende Kosten pro Jahr (€)"), "money", maximum=MONEY_MAX, section="costs"),
    SheetField("staff_fte", _l("Personal (Vollzeitstellen)"), "decimal", maximum=FTE_MAX, section="costs"),
    SheetField("funding", _l("Finanzierung und Förderung"), "long", max_length=LONG_MAX, section="costs"),
    SheetField("savings_method", _l("Ermittlung der Einsparung"), "choice", choices=SAVINGS_METHOD_LABELS,
               section="effect"),
    SheetField("savings_mwh_per_year", _l("Endenergieeinsparung (MWh/a)"), "decimal", maximum=ENERGY_MAX,
               minimum=-ENERGY_MAX, section="effect"),
    SheetField("savings_t_co2e_per_year", _l("THG-Einsparung (t CO₂e/a)"), "decimal", maximum=ENERGY_MAX,
               minimum=-ENERGY_MAX, section="effect"),
    SheetField("savings_note", _l("Grundlage der Abschätzung"), "long", max_length=LONG_MAX, section="effect"),
    SheetField("co_benefits", _l("Zusatznutzen"), "long", max_length=LONG_MAX, section="effect"),
    SheetField("regional_value_added", _l("Regionale Wertschöpfung"), "long", max_length=LONG_MAX,
               section="effect"),
    SheetField("obstacles", _l("Hemmnisse"), "long", max_length=LONG_MAX, section="effect"),
    SheetField("status", _l("Status"), "choice", choices=MEASURE_STATUS_LABELS, section="state"),
    SheetField("progress", _l("Fortschritt (%)"), "percent", section="state"),
    SheetField("adopted_on", _l("Beschlossen am"), "date", section="state"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)
_BY_NAME = {f.name: f for f in FIELDS}


def field_by_name(name):
    return _BY_NAME[name]


def fields_in(section):
    return [f for f in FIELDS if f.section == section]


def display_value(measure, sheet_field):
    """The value of a field as the sheet shows it (labels for choices, None when empty)."""
    value = getattr(measure, sheet_field.name)
    if value in (None, ""):
        return None
    if sheet_field.kind == "choice":
        return sheet_field.choices[type(next(iter(sheet_field.choices)))(value)]
    if sheet_field.kind == "sector":
        return value.name
    return value
