"""The whole measure plan as a spreadsheet (XLSX, CSV), and importing it back.

One row per measure, one column per sheet field (`sheet.FIELDS`, headed by the German
label), then three structured columns and two informational ones:

- "Meilensteine", one milestone per line: ``2026-06-30 | Titel | erledigt 2026-06-20``
  (the date may be "–" when there is none; "| erledigt …" only once it is done; dates
  as JJJJ-MM-TT or TT.MM.JJJJ);
- "Energieeinsparung je Energieträger", one carrier per line: ``erdgas: 1500`` (code or
  name of the carrier, MWh per year, negative for more consumption, e.g. ``strom: -120``);
- "Indikatoren", one indicator per line:
  ``Name | Einheit | Basis: 120 (2022) | Ziel: 400 (2030) | Ist: 2023=150 [Zählung]; 2024=210``
  (every part after the name is optional; a note to a yearly value goes in brackets);
- "Ideen" (ids of the linked ideas) and "Stand" (last change): for reading only, the
  import ignores them.

Numbers inside text cells are written the German way without thousands separators
("1500,5"); `sheet.parse_number` reads a single comma always as the decimal comma.

Importing is all or nothing, like the idea import, and shows a dry run first:

    result = analyse_file(data, "plan.xlsx")        # read and check every row
    execute(result, actor); db.session.rollback()    # dry run: what would happen
    commit(result, actor)                             # write everything, or raise ImportFailed

A row whose "Nummer" exists updates that measure, a new number creates one, an empty
number gets the next free one in its field of action. A column that is missing from
the file leaves that field of existing measures as it is; an empty cell empties it.
"""
import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..extensions import db
from ..ideas import importing
from ..ideas.importing import ImportFailed, ImportFileError, column_letter, display, normalise_name
from ..ideas.models import Idea, Sector
from ..ideas.transactions import retrying
from ..models import utcnow
from . import savings, services
from .models import IdeaMeasure, Measure, MeasureIndicator
from .sheet import FIELDS, YEAR_MAX, YEAR_MIN, clean_text, parse_date, parse_number

FORMATS = ("xlsx", "csv")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
SHEET_TITLE = "Maßnahmen"
NOTES_TITLE = "Hinweise"
CSV_DELIMITER = ";"
PREVIEW_ROWS = 500
INDICATOR_VALUE_MAX = Decimal("9999999999999")  # = Numeric(16, 3)
NO_DATE = {"", "-", "–", "—", "ohne datum", "offen", "kein datum"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_EXACT_DIGITS = 15  # a float keeps 15 significant digits; longer numbers go into text cells


@dataclass(frozen=True)
class Column:
    """One column of the spreadsheet."""
    key: str  # a sheet field name, or milestones / energy / indicators / ideas / updated_at
    header: str  # German, the header cell
    kind: str  # the SheetField kind, or the key for the extra columns
    width: int  # characters, for XLSX
    imported: bool = True  # False: informational, ignored by the import
    sheet_field: object = None  # the SheetField of a field column


_WIDTHS = {"text": 30, "long": 50, "choice": 20, "year": 11, "int": 11, "percent": 11, "decimal": 16,
           "money": 18, "date": 14, "sector": 26}
STRUCTURED = ("milestones", "energy", "indicators")
COLUMNS = tuple(
    [Column(f.name, f.label, f.kind, {"number": 11, "title": 40}.get(f.name, _WIDTHS[f.kind]), sheet_field=f)
     for f in FIELDS]
    + [Column("milestones", _l("Meilensteine"), "milestones", 50),
       Column("energy", _l("Energieeinsparung je Energieträger"), "energy", 32),
       Column("indicators", _l("Indikatoren"), "indicators", 60),
       Column("ideas", _l("Ideen"), "ideas", 14, imported=False),
       Column("updated_at", _l("Stand"), "updated_at", 17, imported=False)]
)
_BY_KEY = {column.key: column for column in COLUMNS}
REQUIRED_KEYS = ("title", "sector")


class RowError(importing.RowError):
    """A problem of the import: `row` as the spreadsheet shows it (None: the file), `field` a column key."""

    __slots__ = ()

    @property
    def field_label(self):
        column = _BY_KEY.get(self.field)
        return str(column.header) if column is not None else None


# --- numbers and dates in text --------------------------------------------------------------------


def format_number(value):
    """A number as German text without thousands separators that parse_number reads back exactly."""
    number = Decimal(value)
    if number == 0:
        return "0"
    return format(number.normalize(), "f").replace(".", ",")


# --- the structured cells -------------------------------------------------------------------------

def ordered_milestones(milestones):
    """Dated milestones by date, then those without a date (the same on every database)."""
    return sorted(milestones, key=lambda m: (m.due_on is None, m.due_on or date.min, m.position or 0))


def format_milestones(milestones):
    lines = []
    for milestone in ordered_milestones(milestones):
        due = milestone.due_on.isoformat() if milestone.due_on else "–"
        line = f"{due} | {' '.join(milestone.title.split())}"
        if milestone.done_on:
            line += f" | {_('erledigt')} {milestone.done_on.isoformat()}"
        lines.append(line)
    return "\n".join(lines)


_DONE = re.compile(r"^(?:erledigt|done)(?:\s+am)?\s*:?\s*(?P<date>\S.*)$", re.IGNORECASE)


def _lines(text):
    return [line.strip() for line in clean_text(text).split("\n") if line.strip()]


def parse_milestones(text):
    """([services.Milestone], [German message]) from a cell; see the module docstring for the format."""
    milestones, errors = [], []
    for number, line in enumerate(_lines(text), start=1):
        parts = [part.strip() for part in line.split("|")]
        due = done = None
        if len(parts) >= 2:
            match = _DONE.match(parts[-1])
            if match:
                done = parse_date(match.group("date").strip())
                if done is None:
                    errors.append(_("Meilenstein %(n)d: „%(value)s“ ist kein Datum (JJJJ-MM-TT oder TT.MM.JJJJ).",
                                    n=number, value=match.group("date")[:40]))
                parts = parts[:-1]
        if len(parts) >= 2:
            first = parts.pop(0)
            if first.casefold() not in NO_DATE:
                due = parse_date(first)
                if due is None:
                    errors.append(_("Meilenstein %(n)d: „%(value)s“ ist kein Datum. Schreiben Sie den Meilenstein als "
                                    "„JJJJ-MM-TT | Titel“ oder „– | Titel“ ohne Datum.", n=number, value=first[:40]))
        title = " | ".join(parts).strip()
        milestones.append(services.Milestone(title=title, due_on=due, done_on=done))
    return milestones, errors


def format_energy(rows):
    return "\n".join(f"{row.carrier}: {format_number(row.mwh_per_year)}" for row in rows)


_ENERGY = re.compile(r"^(?P<carrier>[^:=]+?)\s*[:=]\s*(?P<amount>.+?)(?:\s*MWh(?:\s*/\s*a)?)?$", re.IGNORECASE)


def parse_energy(text):
    """([(carrier code, Decimal)], [German message]) from a cell: one "carrier: MWh" per line."""
    known = savings.carriers()
    by_name = {code.casefold(): code for code in known}
    by_name.update({str(label).casefold(): code for code, label in known.items()})
    rows, errors = [], []
    for number, line in enumerate(_lines(text), start=1):
        match = _ENERGY.match(line)
        if not match:
            errors.append(_("Energieträger in Zeile %(n)d der Zelle: „%(value)s“ hat nicht die Form "
                            "„Energieträger: MWh pro Jahr“, z. B. „erdgas: 1500“.", n=number, value=line[:60]))
            continue
        carrier = match.group("carrier").strip()
        code = by_name.get(carrier.casefold())
        if code is None:
            errors.append(_("Den Energieträger „%(carrier)s“ gibt es nicht. Möglich sind: %(codes)s.",
                            carrier=carrier[:40], codes=", ".join(known)))
            continue
        amount = parse_number(match.group("amount"))
        if amount is None:
            errors.append(_("Die Energiemenge „%(value)s“ für „%(carrier)s“ ist keine Zahl.",
                            value=match.group("amount")[:40], carrier=carrier[:40]))
            continue
        rows.append((code, amount))
    return rows, errors


def format_indicators(indicators):
    lines = []
    for indicator in indicators:
        parts = [" ".join(indicator.name.split()), " ".join(indicator.unit.split())]
        for word, value, year in ((_("Basis"), indicator.baseline_value, indicator.baseline_year),
                                  (_("Ziel"), indicator.target_value, indicator.target_year)):
            if value is None and year is None:
                continue
            text = format_number(value) if value is not None else "–"
            parts.append(f"{word}: {text}" + (f" ({year})" if year is not None else ""))
        if indicator.values:
            values = []
            for item in indicator.values:
                entry = f"{item.year}={format_number(item.value)}"
                note = " ".join((item.note or "").split())
                if note:
                    entry += f" [{note}]"
                values.append(entry)
            parts.append(f"{_('Ist')}: " + "; ".join(values))
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def _split_outside_brackets(text, separator):
    parts, depth, current = [], 0, []
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        if char == separator and not depth:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


_KEYWORD = re.compile(r"^(?P<word>basiswert|basis|ausgangswert|zielwert|ziel|ist-werte|istwerte|ist|werte)\s*:\s*"
                      r"(?P<rest>.*)$", re.IGNORECASE)
_VALUE_YEAR = re.compile(r"^(?P<value>[^()]*?)\s*(?:\(\s*(?P<year>[^)]*?)\s*\))?$")
_YEARLY = re.compile(r"^(?P<year>\d{4})\s*[=:]\s*(?P<value>[^\[]+?)\s*(?:\[(?P<note>.*)\])?$", re.DOTALL)


def _indicator_number(text, n, errors):
    text = text.strip()
    if text in NO_DATE:
        return None
    number = parse_number(text)
    if number is None:
        errors.append(_("Indikator %(n)d: „%(value)s“ ist keine Zahl.", n=n, value=text[:40]))
    elif abs(number) > INDICATOR_VALUE_MAX:
        errors.append(_("Indikator %(n)d: der Wert %(value)s ist zu groß.", n=n, value=text[:40]))
        number = None
    return number


def _indicator_year(text, n, errors):
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not YEAR_MIN <= int(text) <= YEAR_MAX:
        errors.append(_("Indikator %(n)d: „%(value)s“ ist kein Jahr zwischen %(min)d und %(max)d.", n=n,
                        value=text[:20], min=YEAR_MIN, max=YEAR_MAX))
        return None
    return int(text)


def parse_indicators(text):
    """([services.Indicator], [German message]) from a cell: one indicator per line."""
    indicators, errors = [], []
    for n, line in enumerate(_lines(text), start=1):
        parts = _split_outside_brackets(line, "|")
        indicator = services.Indicator(name=parts[0])
        for position, part in enumerate(parts[1:], start=1):
            match = _KEYWORD.match(part)
            if match is None:
                if position == 1:
                    indicator.unit = part
                else:
                    errors.append(_("Indikator %(n)d: „%(value)s“ ist unverständlich. Möglich sind „Basis: …“, "
                                    "„Ziel: …“ und „Ist: …“.", n=n, value=part[:60]))
                continue
            word, rest = match.group("word").lower(), match.group("rest").strip()
            if word in ("basis", "basiswert", "ausgangswert", "ziel", "zielwert"):
                pair = _VALUE_YEAR.match(rest)
                value = _indicator_number(pair.group("value"), n, errors) if pair else None
                year = _indicator_year(pair.group("year"), n, errors) if pair else None
                if pair is None:
                    errors.append(_("Indikator %(n)d: „%(value)s“ hat nicht die Form „Wert (Jahr)“.",
                                    n=n, value=rest[:40]))
                if word.startswith("ziel"):
                    indicator.target_value, indicator.target_year = value, year
                else:
                    indicator.baseline_value, indicator.baseline_year = value, year
                continue
            for item in _split_outside_brackets(rest, ";"):
                if not item:
                    continue
                yearly = _YEARLY.match(item)
                if yearly is None:
                    errors.append(_("Indikator %(n)d: der Ist-Wert „%(value)s“ hat nicht die Form „Jahr=Wert“, "
                                    "z. B. „2024=210“.", n=n, value=item[:40]))
                    continue
                year = _indicator_year(yearly.group("year"), n, errors)
                value = _indicator_number(yearly.group("value"), n, errors)
                note = clean_text(yearly.group("note") or "").replace("\n", " ")
                if len(note) > 300:
                    errors.append(_("Indikator %(n)d: die Anmerkung zum Jahr %(year)s ist zu lang.", n=n,
                                    year=yearly.group("year")))
                if year is not None and value is not None:
                    indicator.values.append((year, value, note))
        indicators.append(indicator)
    return indicators, errors


# --- exporting ----------------------------------------------------------------------------------

def number_key(number):
    """Sort key for measure numbers: M-2.10 after M-2.9."""
    match = re.match(r"^M-(\d+)\.(\d+)$", number or "")
    return (0, int(match.group(1)), int(match.group(2)), number) if match else (1, 0, 0, number or "")


def plan_measures():
    """Every measure with its parts, in the order of their numbers."""
    measures = db.session.scalars(select(Measure).options(
        selectinload(Measure.milestones), selectinload(Measure.energy_savings),
        selectinload(Measure.indicators).selectinload(MeasureIndicator.values))).all()
    return sorted(measures, key=lambda measure: number_key(measure.number))


def linked_idea_ids():
    """measure id -> ids of its visible linked ideas."""
    ids = {}
    rows = db.session.execute(select(IdeaMeasure.measure_id, IdeaMeasure.idea_id)
                              .join(Idea, Idea.id == IdeaMeasure.idea_id)
                              .where(Idea.hidden_at.is_(None)).order_by(IdeaMeasure.idea_id))
    for measure_id, idea_id in rows:
        ids.setdefault(measure_id, []).append(idea_id)
    return ids


def measure_cells(measure, idea_ids=(), *, informational=True):
    """column key -> typed value (str, int, Decimal, date, datetime or None) of one measure."""
    cells = {}
    for column in COLUMNS:
        if column.sheet_field is not None:
            value = getattr(measure, column.key)
            if value in (None, ""):
                value = None
            elif column.kind == "choice":
                value = str(column.sheet_field.choices[type(next(iter(column.sheet_field.choices)))(value)])
            elif column.kind == "sector":
                value = value.name
            cells[column.key] = value
    cells["milestones"] = format_milestones(measure.milestones) or None
    cells["energy"] = format_energy(measure.energy_savings) or None
    cells["indicators"] = format_indicators(measure.indicators) or None
    if not informational:
        return cells
    cells["ideas"] = ", ".join(map(str, idea_ids)) or None
    cells["updated_at"] = measure.updated_at.astimezone(importing.local_zone()).replace(tzinfo=None, microsecond=0) \
        if measure.updated_at else None
    return cells


def plan_rows():
    """[(measure, cells)] of the whole plan."""
    ideas = linked_idea_ids()
    return [(measure, measure_cells(measure, ideas.get(measure.id, ()))) for measure in plan_measures()]


def export_filename(fmt, today=None):
    today = today or utcnow().astimezone(importing.local_zone()).date()
    return f"klimaschutzplan-massnahmen-{today.isoformat()}.{fmt}"


def csv_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("ja") if value else _("nein")
    if isinstance(value, (Decimal, float)):
        return format_number(Decimal(str(value)))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    text = str(value)
    if text.startswith(FORMULA_START):  # Excel would run it as a formula; the import takes the ' off again
        return "'" + text
    return text


def write_csv(stream, rows=None):
    """The plan as CSV for Excel in Germany: UTF-8 with BOM, semicolons; `stream` is binary."""
    rows = plan_rows() if rows is None else rows
    text = io.StringIO()
    writer = csv.writer(text, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([str(column.header) for column in COLUMNS])
    for _measure, cells in rows:
        writer.writerow([csv_text(cells[column.key]) for column in COLUMNS])
    stream.write(codecs.BOM_UTF8 + text.getvalue().encode("utf-8"))
    return len(rows)


def _xlsx_value(value):
    """(value, number format) for an XLSX cell: numbers as numbers, dates as dates, long numbers as text."""
    if isinstance(value, Decimal):
        if len(value.normalize().as_tuple().digits) > XLSX_EXACT_DIGITS:
            return format_number(value), None
        if value == value.to_integral_value():
            return int(value), "#,##0"
        return float(value), "#,##0.00#"
    if isinstance(value, bool):
        return (_("ja") if value else _("nein")), None
    if isinstance(value, int):
        return value, "0"
    if isinstance(value, datetime):
        return value, "DD.MM.YYYY HH:MM"
    if isinstance(value, date):
        return value, "DD.MM.YYYY"
    return value, None


def _xlsx_styles():
    from openpyxl.styles import Alignment, Font, PatternFill

    return {
        "header_font": Font(bold=True, color="FFFFFF"),
        "header_fill": PatternFill("solid", fgColor="1E5631"),
        "header_alignment": Alignment(wrap_text=True, vertical="top"),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "top": Alignment(vertical="top"),
    }


def write_xlsx(stream, rows=None):
    """The plan as an Excel workbook: sheet "Maßnahmen" and sheet "Hinweise"; `stream` is binary."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    rows = plan_rows() if rows is None else rows
    styles = _xlsx_styles()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=str(column.header))
        cell.font, cell.fill, cell.alignment = styles["header_font"], styles["header_fill"], styles["header_alignment"]
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    wrapped = {"long", "milestones", "energy", "indicators", "text"}
    for row_number, (_measure, cells) in enumerate(rows, start=2):
        for index, column in enumerate(COLUMNS, start=1):
            value, number_format = _xlsx_value(cells[column.key])
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = sheet.cell(row=row_number, column=index, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text starting with "=" stays text, never a formula
            if number_format:
                cell.number_format = number_format
            cell.alignment = styles["wrap"] if column.kind in wrapped else styles["top"]
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows) + 1)}"
    _write_notes(workbook.create_sheet(NOTES_TITLE), styles)
    workbook.save(stream)
    return len(rows)


def _write_notes(sheet, styles):
    from openpyxl.styles import Font

    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 90
    sheet.append([_("Hinweise zum Maßnahmenplan als Tabelle")])
    sheet["A1"].font = Font(bold=True, size=13)
    for line in general_notes():
        sheet.append([line])
        sheet.cell(row=sheet.max_row, column=1).alignment = styles["top"]
    sheet.append([])
    sheet.append([_("Spalte"), _("Pflicht"), _("Inhalt und erlaubte Werte")])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font, cell.fill, cell.alignment = styles["header_font"], styles["header_fill"], styles["header_alignment"]
    for item in column_help():
        sheet.append([item["header"], _("ja") if item["required"] else "", item["text"]])
        for cell in sheet[sheet.max_row]:
            cell.alignment = styles["wrap"]
    sheet.append([])
    sheet.append([_("Handlungsfelder (Name oder Kürzel)")])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    for sector in db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)):
        sheet.append([sector.name, sector.code])
    sheet.append([])
    sheet.append([_("Energieträger (Kürzel oder Name)")])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    for code, label in savings.carriers().items():
        sheet.append([str(label), code])


def general_notes():
    return [
        _("Jede Zeile des Blatts „Maßnahmen“ ist eine Maßnahme, jede Spalte ein Feld des Maßnahmenblatts."),
        _("Beim Import aktualisiert eine Zeile mit einer vorhandenen Nummer diese Maßnahme; eine neue Nummer legt "
          "eine Maßnahme an; ohne Nummer erhält sie die nächste freie Nummer in ihrem Handlungsfeld."),
        _("Eine leere Zelle leert das Feld. Fehlt eine Spalte ganz, bleibt das Feld bei vorhandenen Maßnahmen, "
          "wie es ist."),
        _("Importiert wird alles oder nichts: Enthält eine Zeile einen Fehler, wird nichts gespeichert, und die "
          "Vorschau nennt alle Fehler mit ihrer Zeilennummer."),
        _("Zahlen dürfen deutsch (1.250,5) oder englisch (1250.5) geschrieben sein, Daten als TT.MM.JJJJ oder "
          "JJJJ-MM-TT."),
        _("Die Spalten „Ideen“ und „Stand“ dienen nur zur Information; der Import beachtet sie nicht."),
    ]


def _kind_text(column):
    f = column.sheet_field
    kind = column.kind
    if kind == "text":
        return _("Text in einer Zeile, höchstens %(max)d Zeichen.", max=f.max_length)
    if kind == "long":
        return _("Text, auch mehrere Absätze; Aufzählungen mit „- “ am Zeilenanfang. Höchstens %(max)d Zeichen.",
                 max=f.max_length)
    if kind == "choice":
        return _("Einer dieser Werte: %(values)s.", values=", ".join(f"„{label}“" for label in f.choices.values()))
    if kind == "year":
        return _("Jahreszahl von %(min)d bis %(max)d.", min=YEAR_MIN, max=YEAR_MAX)
    if kind == "int":
        return _("Ganze Zahl von %(min)s bis %(max)s.", min=f.minimum, max=f.maximum)
    if kind == "percent":
        return _("Ganze Zahl von 0 bis 100.")
    if kind in ("decimal", "money"):
        if f.minimum is not None and f.minimum < 0:
            return _("Zahl, auch negativ (Mehrverbrauch).")
        return _("Zahl ab 0.")
    if kind == "date":
        return _("Datum (TT.MM.JJJJ).")
    if kind == "sector":
        return _("Name oder Kürzel eines Handlungsfelds (siehe unten).")
    return ""


def column_help():
    """Per column: header, required, explanation (the "Hinweise" sheet and the import page)."""
    items = []
    for column in COLUMNS:
        if column.sheet_field is not None:
            text = _kind_text(column)
            if column.sheet_field.help:
                text += " " + str(column.sheet_field.help)
        elif column.key == "milestones":
            text = _("Ein Meilenstein je Zeile: „Datum | Titel“, erledigte mit „| erledigt Datum“, z. B. "
                     "„2026-06-30 | Ausschreibung veröffentlicht | erledigt 2026-06-20“. Ohne Datum: "
                     "„– | Titel“. Höchstens %(max)d.", max=services.MAX_MILESTONES)
        elif column.key == "energy":
            text = _("Eingesparte Endenergie in MWh pro Jahr, ein Energieträger je Zeile: „erdgas: 1500“; "
                     "Mehrverbrauch negativ, z. B. „strom: -120“ für Wärmepumpen. Energieträger als Kürzel oder "
                     "Name (siehe unten).")
        elif column.key == "indicators":
            text = _("Ein Indikator je Zeile: „Name | Einheit | Basis: Wert (Jahr) | Ziel: Wert (Jahr) | "
                     "Ist: Jahr=Wert; Jahr=Wert“, z. B. „Radverkehrsanteil | %% | Basis: 12 (2022) | Ziel: 25 (2030) "
                     "| Ist: 2023=13,5; 2024=15 [Zählung Mai]“. Alles nach dem Namen ist freiwillig; eine "
                     "Anmerkung zum Ist-Wert steht in eckigen Klammern. Der senkrechte Strich | trennt die Teile "
                     "und darf in Name und Einheit nicht vorkommen. Höchstens %(max)d Indikatoren.",
                     max=services.MAX_INDICATORS)
        elif column.key == "ideas":
            text = _("Nur zur Information: Nummern der Ideen aus der Beteiligung, die in die Maßnahme eingeflossen "
                     "sind. Wird beim Import nicht beachtet.")
        else:
            text = _("Nur zur Information: letzte Änderung. Wird beim Import nicht beachtet.")
        items.append({"key": column.key, "header": str(column.header), "required": column.key in REQUIRED_KEYS,
                      "imported": column.imported, "text": text})
    return items


def write_export(fmt, stream):
    """Write the plan as `fmt` (xlsx or csv) to the binary `stream`; returns the number of measures."""
    if fmt == "xlsx":
        return write_xlsx(stream)
    if fmt == "csv":
        return write_csv(stream)
    raise ValueError(f"unknown format {fmt}")


def export(fmt):
    buffer = io.BytesIO()
    write_export(fmt, buffer)
    return buffer.getvalue()


# --- importing ------------------------------------------------------------------------------------

@dataclass
class PlannedRow:
    """One data row of the file: what it says, what it would do, and what is wrong with it."""
    row: int
    raw: dict = field(default_factory=dict)  # sheet field -> value for services.save_sheet
    milestones: list = None  # None: the column is missing, keep the measure's
    energy: list = None
    indicators: list = None
    number: str = ""  # as in the file
    title: str = ""
    sector_name: str = ""
    errors: list = field(default_factory=list)
    action: str = ""  # create, update (after execute)
    result_number: str = ""  # the number after execute
    changes: list = field(default_factory=list)  # headers of the changed columns of an update

    @property
    def ok(self):
        return not self.errors


@dataclass
class MeasureImport:
    filename: str
    kind: str = None
    delimiter: str = None
    encoding: str = None
    sheet: str = None
    columns: list = field(default_factory=list)  # the header cells, as shown
    ignored: list = field(default_factory=list)  # informational columns found
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # every RowError: the file's, then the rows' by row number
    file_errors: list = field(default_factory=list)  # those about the file or its header: nothing can run
    executed: bool = False

    @property
    def ok(self):
        return not self.errors and bool(self.rows)

    @property
    def row_count(self):
        return len(self.rows)

    @property
    def error_rows(self):
        return len({error.row for error in self.errors if error.row is not None})

    @property
    def created(self):
        return [row for row in self.rows if row.action == "create"]

    @property
    def updated(self):
        return [row for row in self.rows if row.action == "update" and row.changes]

    @property
    def unchanged(self):
        return [row for row in self.rows if row.action == "update" and not row.changes]

    @property
    def delimiter_label(self):
        return importing.delimiter_label(self.delimiter)

    def fail(self, error):
        self.file_errors.append(error)
        self.collect_errors()

    def collect_errors(self):
        self.errors = list(self.file_errors) + sorted(
            (error for planned in self.rows for error in planned.errors), key=lambda error: error.row)


def _header_names():
    """normalised header -> column key: the German label (also without its parenthesis) and the field code."""
    names = {}
    for column in COLUMNS:
        label = str(column.header)
        for variant in (label, re.sub(r"\s*\(.*?\)", "", label), column.key):
            names.setdefault(normalise_name(variant), column.key)
    names.setdefault("idee", "ideas")
    names.setdefault("ideas", "ideas")
    names.setdefault("aktualisiert", "updated_at")
    return names


def map_columns(header, header_row):
    """(column index -> key, [RowError]) for the header cells of a file."""
    names = _header_names()
    mapping, errors, unknown, seen = {}, [], [], {}
    for index, cell in enumerate(header):
        text = display(cell)
        if not text:
            continue
        key = names.get(normalise_name(text))
        if key is None:
            unknown.append(f"{column_letter(index)}: „{text[:60]}“")
            continue
        if key in seen:
            errors.append(RowError(header_row, key, _("Die Spalte „%(name)s“ steht zweimal in der Kopfzeile "
                                                      "(Spalten %(first)s und %(second)s).",
                                                      name=text[:60], first=column_letter(seen[key]),
                                                      second=column_letter(index))))
            continue
        seen[key] = index
        mapping[index] = key
    if unknown:
        errors.append(RowError(header_row, None, _(
            "Unbekannte Spalten: %(columns)s. Möglich sind die Spalten des Exports (z. B. %(examples)s); "
            "entfernen oder benennen Sie die übrigen um.", columns=", ".join(unknown),
            examples=", ".join(f"„{column.header}“" for column in COLUMNS[:4]))))
    missing = [key for key in REQUIRED_KEYS if key not in seen]
    for key in missing:
        errors.append(RowError(header_row, key, _("Die Spalte „%(name)s“ fehlt; sie ist Pflicht.",
                                                  name=_BY_KEY[key].header)))
    return mapping, errors


def _has_bad_bytes(value):
    return isinstance(value, str) and any("\udc80" <= char <= "\udcff" for char in value)


def _unescape_csv(value):
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


class _Sectors:
    """All fields of action by code and by name (compared in Python, so "Übergreifend" works on SQLite too)."""

    def __init__(self):
        self.by_key = {}
        for sector in db.session.scalars(select(Sector).order_by(Sector.position)):
            self.by_key.setdefault(sector.code.casefold(), sector)
            self.by_key.setdefault(sector.name.casefold(), sector)

    def find(self, value):
        return self.by_key.get(" ".join(str(value).split()).casefold())

    def names(self):
        return sorted({sector.name for sector in self.by_key.values()})


def parse_row(number, cells, mapping, kind, sectors):
    """Read one data row into a PlannedRow; every problem lands in `row.errors`."""
    planned = PlannedRow(row=number)
    values = {}
    for index, key in mapping.items():
        value = cells[index] if index < len(cells) else None
        if kind == "csv":
            value = _unescape_csv(value)
        values[key] = value

    def fail(key, message):
        planned.errors.append(RowError(number, key, message))

    for column in COLUMNS:
        if column.key not in values or not column.imported:
            continue
        value = values[column.key]
        if column.sheet_field is not None:
            if column.kind in ("text", "long", "choice") and value is not None and not isinstance(value, str):
                value = display(value)
            if column.kind == "sector":
                name = display(value)
                sector = sectors.find(name) if name else None
                planned.sector_name = sector.name if sector else name
                if name and sector is None:
                    fail("sector", _("Das Handlungsfeld „%(value)s“ gibt es nicht. Möglich sind: %(names)s.",
                                     value=name[:60], names=", ".join(sectors.names())))
                    continue
                value = sector
            planned.raw[column.key] = value
            continue
        text = display(value)
        parser = {"milestones": parse_milestones, "energy": parse_energy, "indicators": parse_indicators}[column.key]
        parts, messages = parser(text)
        setattr(planned, column.key, parts)
        for message in messages:
            fail(column.key, message)
    parsed, sheet_errors = services.parse_sheet(planned.raw, partial=True)
    for error in sheet_errors:
        fail(error.field if error.field in _BY_KEY else None, error.message)
    planned.number = parsed.get("number") or ""
    planned.title = parsed.get("title") or display(planned.raw.get("title"))
    return planned


def _check_duplicates(rows):
    numbers, titles = {}, {}
    for planned in rows:
        if planned.number:
            first = numbers.setdefault(planned.number, planned.row)
            if first != planned.row:
                planned.errors.append(RowError(planned.row, "number", _(
                    "Die Nummer „%(number)s“ steht doppelt in der Datei: in Zeile %(first)d und in Zeile %(row)d.",
                    number=planned.number, first=first, row=planned.row)))
        if planned.title:
            first = titles.setdefault(planned.title.casefold(), planned.row)
            if first != planned.row:
                planned.errors.append(RowError(planned.row, "title", _(
                    "Der Titel „%(title)s“ steht doppelt in der Datei: in Zeile %(first)d und in Zeile %(row)d.",
                    title=planned.title[:80], first=first, row=planned.row)))


def analyse_table(table, filename):
    """Check every row of a read table; nothing is written."""
    result = MeasureImport(filename=filename, kind=table.kind, delimiter=table.delimiter, encoding=table.encoding,
                           sheet=table.sheet, columns=[display(cell) for cell in table.header])
    cells_to_check = list(table.header) + [cell for _number, cells in table.rows for cell in cells]
    bad_rows = sorted({number for number, cells in table.rows if any(_has_bad_bytes(cell) for cell in cells)})
    if any(_has_bad_bytes(cell) for cell in cells_to_check):
        other = "cp1252" if (table.encoding or "utf-8") == "utf-8" else "utf-8"
        where = ", ".join(map(str, bad_rows[:10])) + (" …" if len(bad_rows) > 10 else "")
        result.fail(RowError(None, None, _(
            "Die Datei ist nicht in der gewählten Kodierung %(encoding)s gespeichert (ungültige Zeichen%(where)s). "
            "Wählen Sie die Kodierung %(other)s – Excel speichert „CSV (Trennzeichen-getrennt)“ als Windows-1252 "
            "(cp1252) – oder speichern Sie die Datei als „CSV UTF-8“.", encoding=table.encoding or "utf-8",
            other=other, where=(_(" in Zeile %(rows)s", rows=where) if where else ""))))
        return result
    mapping, errors = map_columns(table.header, table.header_row)
    result.ignored = [str(_BY_KEY[key].header) for key in mapping.values() if not _BY_KEY[key].imported]
    if errors:
        for error in errors:
            result.fail(error)
        return result
    if not table.rows:
        result.fail(RowError(None, None, _("Die Datei enthält nur die Kopfzeile, aber keine Maßnahmen.")))
        return result
    if table.truncated:
        result.fail(RowError(None, None, _(
            "Die Datei enthält mehr als %(max)d Zeilen. Bitte teilen Sie sie in mehrere Dateien auf.",
            max=importing.max_rows())))
        return result
    sectors = _Sectors()
    for number, cells in table.rows:
        result.rows.append(parse_row(number, cells, mapping, table.kind, sectors))
    _check_duplicates(result.rows)
    result.collect_errors()
    return result


def analyse_file(data, filename, *, encoding="utf-8", limit_bytes=None):
    """Read and check a whole file; problems with the file itself become errors too."""
    if limit_bytes is None:
        limit_bytes = importing.max_bytes()
    try:
        table = importing.read_table(data, filename, encoding=encoding, limit_bytes=limit_bytes)
    except ImportFileError as error:
        result = MeasureImport(filename=filename)
        result.fail(RowError(None, None, error.message))
        return result
    return analyse_table(table, filename)


def _comparable(measure):
    return measure_cells(measure, informational=False)


def execute(result, actor):
    """Write every row that could be read through services.save_sheet, in file order (rows with a number
    first, so the free numbers are handed out last); collect the errors. Never commits: the caller
    commits when `result.errors` stays empty and rolls back otherwise (and always for a dry run).
    """
    result.executed = True
    existing = {measure.number: measure for measure in plan_measures()}  # with their parts, for the comparison
    ordered = [row for row in result.rows if row.number] + [row for row in result.rows if not row.number]
    for planned in ordered:
        planned.action, planned.result_number, planned.changes = "", "", []
        if not planned.ok:
            continue
        measure = existing.get(planned.number) if planned.number else None
        before = _comparable(measure) if measure is not None else None
        try:
            saved = services.save_sheet(measure, actor, planned.raw, milestones=planned.milestones,
                                        energy=planned.energy, indicators=planned.indicators, partial=True)
        except services.SheetErrors as failed:
            for error in failed.errors:
                planned.errors.append(RowError(planned.row, error.field if error.field in _BY_KEY else None,
                                               error.message))
            continue
        planned.action = "update" if measure is not None else "create"
        planned.result_number = saved.number
        planned.sector_name = saved.sector.name
        existing[saved.number] = saved
        if before is not None:
            after = _comparable(saved)
            planned.changes = [str(_BY_KEY[key].header) for key in after if after[key] != before[key]]
    result.collect_errors()
    if not result.errors:
        record("measures.imported", actor=actor, object_type=Measure.audit_type,
               new={"created": len(result.created), "updated": len(result.updated)},
               details={"file": (result.filename or "")[:200], "format": result.kind,
                        "rows": result.row_count, "unchanged": len(result.unchanged)})
    return result


def dry_run(result, actor):
    """What the import would do, with every error; nothing is kept."""
    try:
        if not result.file_errors:
            execute(result, actor)
    finally:
        db.session.rollback()
    return result


def commit(result, actor):
    """Write the whole file in one transaction or nothing; raises ImportFailed with every error."""
    if result.errors:
        raise ImportFailed(result.errors)
    if not result.rows:
        raise ImportFailed([RowError(None, None, _("Die Datei enthält keine Maßnahmen."))])

    def work():
        execute(result, actor)
        if result.errors:
            raise ImportFailed(result.errors)
        return result

    return retrying(work)


__all__ = [
    "COLUMNS", "FORMATS", "MIMETYPES", "RowError", "ImportFailed", "ImportFileError", "MeasureImport",
    "analyse_file", "analyse_table", "dry_run", "execute", "commit", "export", "write_export", "export_filename",
    "csv_text", "format_milestones", "parse_milestones", "format_energy", "parse_energy", "format_indicators",
    "parse_indicators", "format_number", "column_help", "general_notes", "plan_rows", "plan_measures",
]
