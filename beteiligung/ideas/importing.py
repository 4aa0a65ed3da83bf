"""Importing ideas from CSV and XLSX files: cards from workshops, letters, old lists.

Reading, mapping and validating are separate from writing, so the command line and
the staff pages can show a dry run first:

    result = parse_file(data, "karten.csv", encoding="cp1252", default_source="workshop")
    if result.ok:
        commit(result, actor, filename="karten.csv")

- CSV: UTF-8 with or without BOM, or Windows-1252 (older Excel "CSV"); the
  delimiter is found in the header line among comma, semicolon and tab.
- XLSX: the first sheet (or one named), read with openpyxl in read-only mode.
- The first non-empty row holds the column names; they are mapped to the target
  fields automatically (German and English names), and a mapping given by the
  caller overrides that.
- Every row is validated and every problem is collected as RowError(row, field,
  message) with the row number the user sees in the spreadsheet (header = row 1).
- `commit` writes all rows in one transaction through services.create_idea, or
  nothing at all.
"""
import codecs
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..extensions import db
from ..models import utcnow
from . import services
from .models import TEXT_MAX, TITLE_MAX, Idea, Source
from .transactions import retrying

FIELDS = ("title", "text", "sector", "district", "source", "event_name", "facilitator", "dot_votes", "created_at")
REQUIRED_COLUMNS = ("title", "text", "district")
FIELD_LABELS = {
    "title": _l("Titel"),
    "text": _l("Text"),
    "sector": _l("Handlungsfeld"),
    "district": _l("Stadtteil"),
    "source": _l("Herkunft"),
    "event_name": _l("Veranstaltung"),
    "facilitator": _l("Moderation"),
    "dot_votes": _l("Klebepunkte"),
    "created_at": _l("Datum"),
}
ENCODINGS = ("utf-8", "cp1252")
ENCODING_LABELS = {"utf-8": _l("UTF-8 (Standard, auch „CSV UTF-8“ aus Excel)"),
                   "cp1252": _l("Windows-1252 (ältere Excel-Dateien „CSV (Trennzeichen-getrennt)“)")}
DELIMITERS = (";", ",", "\t")
PREVIEW_ROWS = 20
MAX_ROWS = 10000  # data rows per file; IMPORT_MAX_ROWS in the config overrides it
MAX_COLUMNS = 100
MAX_DOT_VOTES = 100000
EVENT_NAME_MAX = 200  # = Idea.event_name
FACILITATOR_MAX = 120  # = Idea.facilitator
UNASSIGNED_SECTOR = {"", "weiß ich nicht", "weiss ich nicht", "unbekannt", "noch offen", "offen", "-", "–", "?"}
CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")

# Column names (normalised: lower case, umlauts spelt out, only letters and digits) per target field.
SYNONYMS = {
    "title": ("titel", "title", "ueberschrift", "kurztitel", "titelderidee", "ideentitel", "headline"),
    "text": ("text", "beschreibung", "idee", "description", "body", "inhalt", "ideentext", "textderkarte",
             "vorschlag", "details"),
    "sector": ("handlungsfeld", "sector", "themenfeld", "handlungsfelder", "field", "sektor"),
    "district": ("stadtteil", "ortsteil", "district", "quartier", "stadtbezirk", "ort"),
    "source": ("quelle", "herkunft", "source", "kanal", "eingang"),
    "event_name": ("veranstaltung", "event", "eventname", "anlass", "termin", "veranstaltungsname"),
    "facilitator": ("moderation", "facilitator", "moderator", "moderatorin", "erfasstvon", "protokoll"),
    "dot_votes": ("punkte", "klebepunkte", "dotvotes", "dots", "votes", "stimmen", "dotvoting"),
    "created_at": ("datum", "createdat", "date", "erstelltam", "eingereichtam", "eingegangenam", "zeitpunkt",
                   "created"),
}

# The same, as people write them (shown on the import page and in messages).
COLUMN_EXAMPLES = {
    "title": ("Titel", "Überschrift", "title"),
    "text": ("Text", "Beschreibung", "Idee", "description"),
    "sector": ("Handlungsfeld", "Themenfeld", "sector"),
    "district": ("Stadtteil", "Ortsteil", "district"),
    "source": ("Quelle", "Herkunft", "source"),
    "event_name": ("Veranstaltung", "Anlass", "event"),
    "facilitator": ("Moderation", "Erfasst von", "facilitator"),
    "dot_votes": ("Punkte", "Klebepunkte", "dot_votes"),
    "created_at": ("Datum", "Eingegangen am", "created_at"),
}

# Values of the source column: the codes, the German labels and common words.
SOURCE_WORDS = {
    Source.ONLINE: ("online", "internet", "plattform"),
    Source.WORKSHOP: ("workshop", "themenwerkstatt", "werkstatt"),
    Source.EVENT: ("event", "buergerveranstaltung", "veranstaltung", "buergerforum", "forum"),
    Source.WORKING_GROUP: ("workinggroup", "arbeitskreis", "ak"),
    Source.LETTER: ("letter", "briefoderemail", "brief", "email", "mail", "post", "schreiben", "zuschrift"),
}

GERMAN_DATE = re.compile(
    r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\s*Uhr)?)?$", re.IGNORECASE)
ISO_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DIGITS = re.compile(r"^\d+$")


class RowError(NamedTuple):
    """One problem: `row` as the spreadsheet shows it (None: the whole file), the target field or None."""
    row: int | None
    field: str | None
    message: str

    @property
    def field_label(self):
        return str(FIELD_LABELS[self.field]) if self.field in FIELD_LABELS else None

    def format(self):
        where = _("Zeile %(row)d", row=self.row) if self.row is not None else _("Datei")
        if self.field_label:
            where = f"{where}, {self.field_label}"
        return f"{where}: {self.message}"


class ImportFileError(Exception):
    """The file cannot be read at all (wrong format, too big, empty); `message` is German."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class ImportFailed(Exception):
    """Nothing was imported; `errors` lists why."""

    def __init__(self, errors):
        super().__init__("; ".join(error.format() for error in errors))
        self.errors = list(errors)


@dataclass
class Table:
    """The raw cells of a file: header row and data rows with their numbers as the user sees them."""
    kind: str  # "csv" or "xlsx"
    header_row: int
    header: list
    rows: list  # [(row_number, [cell, ...]), ...] without completely empty rows
    sheet: str | None = None
    sheet_names: list = field(default_factory=list)
    delimiter: str | None = None
    encoding: str | None = None
    truncated: bool = False  # more than MAX_ROWS data rows


@dataclass
class ParsedRow:
    row: int
    title: str = ""
    text: str = ""
    sector: object = None  # Sector or None
    sector_value: str = ""
    district: object = None  # District or None
    district_value: str = ""
    source: Source = Source.LETTER
    event_name: str | None = None
    facilitator: str | None = None
    dot_votes: int = 0
    created_at: datetime | None = None
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors

    @property
    def sector_label(self):
        """The field of action as it will be saved; an unknown value as written (it is an error then)."""
        if self.sector is not None:
            return self.sector.name
        return "" if self.sector_value.lower() in UNASSIGNED_SECTOR else self.sector_value

    @property
    def district_label(self):
        return self.district.name if self.district is not None else self.district_value


@dataclass
class ImportResult:
    filename: str
    kind: str | None = None
    columns: list = field(default_factory=list)  # the header cells, as shown to the user
    mapping: dict = field(default_factory=dict)  # target field -> column index or None
    rows: list = field(default_factory=list)  # every non-empty data row, parsed
    errors: list = field(default_factory=list)  # RowError, file errors first, then by row
    sheet: str | None = None
    sheet_names: list = field(default_factory=list)
    delimiter: str | None = None
    encoding: str | None = None
    default_source: Source = Source.LETTER

    @property
    def ok(self):
        return not self.errors and bool(self.rows)

    @property
    def row_count(self):
        return len(self.rows)

    @property
    def valid_rows(self):
        return [row for row in self.rows if row.ok]

    @property
    def error_rows(self):
        return len({error.row for error in self.errors if error.row is not None})

    @property
    def preview(self):
        return self.rows[:PREVIEW_ROWS]

    @property
    def delimiter_label(self):
        return delimiter_label(self.delimiter)


def delimiter_label(delimiter):
    return {";": _("Semikolon"), ",": _("Komma"), "\t": _("Tabulator")}.get(delimiter, "")


# --- helpers -------------------------------------------------------------------------------

def normalise_name(value):
    """A column name or keyword for comparison: lower case, umlauts spelt out, letters and digits only."""
    value = str(value or "").strip().lower()
    value = value.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", value)


def column_letter(index):
    """0 -> A, 25 -> Z, 26 -> AA (as spreadsheets name columns)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_label(index, header):
    name = display(header[index]) if index < len(header) else ""
    return f"{column_letter(index)}: {name}" if name else f"{column_letter(index)}: " + _("(ohne Überschrift)")


def _has_surrogates(value):
    return isinstance(value, str) and any("\udc80" <= char <= "\udcff" for char in value)


def display(value):
    """A cell for showing on a page or in a message: invalid bytes as �, no surrounding space."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M") if value.time() != time(0) else value.strftime("%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    text = str(value)
    if _has_surrogates(text):
        text = "".join("\ufffd" if "\udc80" <= char <= "\udcff" else char for char in text)
    return text.strip()


def _short(value, length=60):
    text = " ".join(display(value).split())
    return text if len(text) <= length else text[:length - 1] + "…"


def _has_control_characters(value):
    return isinstance(value, str) and any(
        unicodedata.category(char) in ("Cc", "Cf") and char not in "\n\r\t" for char in value)


def _is_empty(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def max_rows():
    try:
        return int(current_app.config.get("IMPORT_MAX_ROWS", MAX_ROWS))
    except RuntimeError:  # outside an application context
        return MAX_ROWS


def max_bytes():
    return int(current_app.config["IMPORT_MAX_BYTES"])


def format_size(size):
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}".replace(".", ",") + " MB"
    return f"{size // 1024} KB" if size >= 1024 else f"{size} Bytes"


# --- reading files ------------------------------------------------------------------------

def detect_kind(data, filename):
    """'csv' or 'xlsx' from the file name, checked against the first bytes."""
    name = (filename or "").lower()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        raise ImportFileError(_("Die Datei ist im alten Excel-Format (.xls). Bitte speichern Sie sie in Excel "
                                "als „Excel-Arbeitsmappe (.xlsx)“ oder als CSV und laden Sie sie erneut hoch."))
    if name.endswith(XLSX_EXTENSIONS) or data[:4] == b"PK\x03\x04":  # a text file never starts like a zip
        return "xlsx"
    if name.endswith(CSV_EXTENSIONS):
        return "csv"
    if name.endswith((".ods", ".numbers", ".pdf", ".doc", ".docx")):
        raise ImportFileError(_("Dieses Dateiformat wird nicht unterstützt. Bitte laden Sie eine CSV- oder "
                                "XLSX-Datei hoch."))
    return "csv"


def read_table(data, filename, *, encoding="utf-8", sheet=None, limit_bytes=None):
    """Read the cells of a CSV or XLSX file; raises ImportFileError when that is impossible."""
    if limit_bytes is not None and len(data) > limit_bytes:
        raise ImportFileError(_("Die Datei ist zu groß; erlaubt sind höchstens %(max)s. Bitte teilen Sie sie in "
                                "mehrere Dateien auf.", max=format_size(limit_bytes)))
    if not data or not data.strip():
        raise ImportFileError(_("Die Datei ist leer."))
    kind = detect_kind(data, filename)
    table = read_xlsx(data, filename, sheet) if kind == "xlsx" else read_csv(data, encoding)
    if table.header is None:
        raise ImportFileError(_("Die Datei enthält keine Zeilen."))
    return table


def _decode(data, encoding):
    """Text of the file; bytes that are invalid in the encoding stay as surrogates for the row check."""
    if encoding not in ENCODINGS:
        raise ImportFileError(_("Unbekannte Kodierung „%(value)s“; möglich sind utf-8 und cp1252.",
                                value=encoding))
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", "surrogateescape"), "utf-8"  # the BOM decides
    return data.decode(encoding, "surrogateescape"), encoding


def sniff_delimiter(text):
    """The delimiter among ; , and tab that occurs most often outside quotes in the header line."""
    header = ""
    for line in text.splitlines():
        if line.strip(" \t;,\"'"):
            header = line
            break
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def read_csv(data, encoding="utf-8"):
    text, encoding = _decode(data, encoding)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        skipinitialspace=False, strict=False)
    table = Table(kind="csv", header_row=0, header=None, rows=[], delimiter=delimiter, encoding=encoding)
    limit = max_rows()
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ImportFileError(_("Die CSV-Datei ist ab Zeile %(row)d nicht lesbar (%(detail)s). Bitte prüfen "
                                    "Sie Anführungszeichen und Trennzeichen.", row=number, detail=str(error)))
        if all(_is_empty(cell) for cell in cells):
            continue
        cells = cells[:MAX_COLUMNS]
        if table.header is None:
            table.header, table.header_row = cells, number
            continue
        if len(table.rows) >= limit:
            table.truncated = True
            break
        table.rows.append((number, cells))
    return table


def read_xlsx(data, filename, sheet=None):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError, AttributeError,
            SyntaxError) as error:
        current_app.logger.info("import: unreadable xlsx %r: %s", filename, error)
        raise ImportFileError(_("Die Datei „%(name)s“ ist keine gültige Excel-Datei (XLSX). Bitte öffnen Sie "
                                "sie in Excel oder LibreOffice und speichern Sie sie als „Excel-Arbeitsmappe "
                                "(.xlsx)“ oder als CSV.", name=filename))
    except Exception as error:  # openpyxl raises many kinds on damaged files; none may become a 500
        current_app.logger.info("import: unreadable xlsx %r: %r", filename, error)
        raise ImportFileError(_("Die Datei „%(name)s“ ist keine gültige Excel-Datei (XLSX). Bitte öffnen Sie "
                                "sie in Excel oder LibreOffice und speichern Sie sie als „Excel-Arbeitsmappe "
                                "(.xlsx)“ oder als CSV.", name=filename))
    try:
        names = list(workbook.sheetnames)
        if not names:
            raise ImportFileError(_("Die Excel-Datei enthält kein Tabellenblatt."))
        if sheet:
            if sheet not in names:
                raise ImportFileError(_("Das Tabellenblatt „%(sheet)s“ gibt es nicht. Vorhanden: %(names)s.",
                                        sheet=sheet, names=", ".join(f"„{name}“" for name in names)))
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        table = Table(kind="xlsx", header_row=0, header=None, rows=[], sheet=worksheet.title, sheet_names=names)
        if not hasattr(worksheet, "iter_rows"):  # a chart sheet
            raise ImportFileError(_("Das Tabellenblatt „%(sheet)s“ enthält keine Tabelle.", sheet=worksheet.title))
        worksheet.reset_dimensions()  # some programs write wrong dimensions; read what is really there
        limit = max_rows()
        try:
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                cells = list(values[:MAX_COLUMNS])
                if all(_is_empty(cell) for cell in cells):
                    continue
                while cells and _is_empty(cells[-1]):
                    cells.pop()
                if table.header is None:
                    table.header, table.header_row = cells, number
                    continue
                if len(table.rows) >= limit:
                    table.truncated = True
                    break
                table.rows.append((number, cells))
        except ImportFileError:
            raise
        except Exception as error:
            current_app.logger.warning("import: damaged xlsx %r: %r", filename, error)
            raise ImportFileError(_("Die Excel-Datei „%(name)s“ ist beschädigt und kann nicht gelesen werden.",
                                    name=filename))
        return table
    finally:
        workbook.close()


# --- mapping -----------------------------------------------------------------------------

def auto_mapping(header):
    """Target field -> index of the first column whose name is a known synonym (or None)."""
    names = [normalise_name(display(cell)) for cell in header]
    mapping, used = {}, set()
    for target in FIELDS:
        mapping[target] = None
        for index, name in enumerate(names):
            if index not in used and name in SYNONYMS[target]:
                mapping[target] = index
                used.add(index)
                break
    return mapping


def resolve_mapping(header, explicit=None):
    """The automatic mapping with `explicit` laid over it; returns (mapping, errors).

    `explicit` maps target fields to a column index, a column name (case-insensitive)
    or None / "" for "no column".
    """
    mapping = auto_mapping(header)
    errors = []
    names = [display(cell).lower() for cell in header]
    for target, column in (explicit or {}).items():
        if target not in FIELDS:
            errors.append(RowError(None, None, _("Unbekanntes Zielfeld „%(name)s“; möglich sind: %(fields)s.",
                                                 name=target, fields=", ".join(FIELDS))))
            continue
        if column is None or (isinstance(column, str) and not column.strip()):
            mapping[target] = None
        elif isinstance(column, int) and not isinstance(column, bool):
            if 0 <= column < len(header):
                mapping[target] = column
            else:
                errors.append(RowError(None, target, _("Die Spalte Nr. %(n)d gibt es in der Datei nicht.",
                                                       n=column + 1)))
        else:
            wanted = str(column).strip().lower()
            if wanted in names:
                mapping[target] = names.index(wanted)
            else:
                errors.append(RowError(None, target, _(
                    "Die Spalte „%(name)s“ gibt es in der Datei nicht. Vorhanden: %(columns)s.",
                    name=str(column).strip(), columns=", ".join(f"„{display(cell)}“" for cell in header))))
    return mapping, errors


# --- values --------------------------------------------------------------------------------

def parse_source(value, default):
    """(Source, error message or None) for a cell of the source column."""
    text = normalise_name(display(value))
    if not text:
        return default, None
    for source, words in SOURCE_WORDS.items():
        if text in words or text == normalise_name(source.value) or text == normalise_name(str(source.label)):
            if source is Source.ONLINE:
                return None, _("Online-Ideen können nicht importiert werden, weil hinter importierten Ideen kein "
                               "Konto steht. Bitte geben Sie eine andere Herkunft an (z. B. Brief oder E-Mail).")
            return source, None
    return None, _("Unbekannte Herkunft „%(value)s“. Möglich sind: %(choices)s.", value=_short(value),
                   choices=", ".join(str(source.label) for source in Source if source.is_analog))


def parse_dot_votes(value):
    """(int, error message or None); empty is 0."""
    if _is_empty(value):
        return 0, None
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and DIGITS.match(value.strip()):
        number = int(value.strip())
    if number is None or number < 0 or number > MAX_DOT_VOTES:
        return None, _("Die Klebepunkte müssen eine ganze Zahl von 0 bis %(max)d sein (gefunden: „%(value)s“).",
                       max=MAX_DOT_VOTES, value=_short(value))
    return number, None


def local_zone():
    try:
        return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin")
    except RuntimeError:
        return ZoneInfo("Europe/Berlin")


def parse_created_at(value, now=None):
    """(aware UTC datetime or None, error message or None). Dates alone mean noon, local time."""
    if _is_empty(value):
        return None, None
    zone = local_zone()
    moment = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(12))
    elif isinstance(value, str):
        text = value.strip()
        match = GERMAN_DATE.match(text)
        try:
            if match:
                day, month, year, hour, minute, second = match.groups()
                moment = datetime(int(year), int(month), int(day), int(hour or 12), int(minute or 0),
                                  int(second or 0))
            elif ISO_DATE_ONLY.match(text):
                moment = datetime.combine(date.fromisoformat(text), time(12))
            elif re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        return None, _("Das Datum „%(value)s“ ist ungültig. Möglich sind z. B. 12.03.2025, 12.03.2025 18:30 "
                       "oder 2025-03-12.", value=_short(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    moment = moment.astimezone(ZoneInfo("UTC"))
    if moment.year < 1990:
        return None, _("Das Datum „%(value)s“ liegt zu weit in der Vergangenheit.", value=_short(value))
    if moment > (now or utcnow()) + timedelta(hours=1):
        return None, _("Das Datum „%(value)s“ liegt in der Zukunft.", value=_short(value))
    return moment, None


def _single_line(value):
    return " ".join(display(value).split())


def _multi_line(value):
    if value is None:
        return ""
    if not isinstance(value, str):
        return display(value)
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


class _Lookups:
    """Sectors and districts by the services' rules, one query per distinct value."""

    def __init__(self):
        self.sectors, self.districts = {}, {}

    def sector(self, value):
        key = value.strip().lower()
        if key not in self.sectors:
            self.sectors[key] = services.find_sector(value)
        return self.sectors[key]

    def district(self, value):
        key = value.strip().lower()
        if key not in self.districts:
            self.districts[key] = services.find_district(value)
        return self.districts[key]


def parse_row(number, cells, mapping, default_source, lookups, now=None):
    """Validate one data row; every problem lands in `row.errors`."""
    row = ParsedRow(row=number, source=default_source)

    def cell(target):
        index = mapping.get(target)
        return cells[index] if index is not None and index < len(cells) else None

    def fail(target, message):
        row.errors.append(RowError(number, target, message))

    # Only the imported columns count: a column that is not imported cannot spoil the data.
    encoding_field = next((target for target in FIELDS if _has_surrogates(cell(target))), None)
    if encoding_field is not None:
        fail(encoding_field, _("Die Zeile enthält Zeichen, die in der gewählten Kodierung ungültig sind. "
                                       "Wurde die Datei mit Excel als „CSV (Trennzeichen-getrennt)“ gespeichert? "
                                       "Dann wählen Sie die Kodierung Windows-1252 (cp1252)."))
    for target in ("title", "text", "sector", "district", "source", "event_name", "facilitator"):
        if _has_control_characters(cell(target)):
            fail(target, _("Das Feld enthält unzulässige Steuerzeichen."))

    row.title = _single_line(cell("title"))
    if not row.title:
        fail("title", _("Der Titel fehlt."))
    elif len(row.title) > TITLE_MAX:
        fail("title", _("Der Titel ist %(length)d Zeichen lang; erlaubt sind höchstens %(max)d.",
                        length=len(row.title), max=TITLE_MAX))

    row.text = _multi_line(cell("text"))
    if not row.text:
        fail("text", _("Der Text fehlt."))
    elif len(row.text) > TEXT_MAX:
        fail("text", _("Der Text ist %(length)d Zeichen lang; erlaubt sind höchstens %(max)d.",
                       length=len(row.text), max=TEXT_MAX))

    row.sector_value = _single_line(cell("sector"))
    if row.sector_value.lower() not in UNASSIGNED_SECTOR:
        row.sector = lookups.sector(row.sector_value)
        if row.sector is None:
            fail("sector", _("Unbekanntes Handlungsfeld „%(value)s“. Tragen Sie den Namen oder das Kürzel eines "
                             "Handlungsfelds ein oder lassen Sie das Feld leer („weiß ich nicht“).",
                             value=_short(row.sector_value)))

    row.district_value = _single_line(cell("district"))
    if not row.district_value:
        fail("district", _("Der Stadtteil fehlt."))
    else:
        row.district = lookups.district(row.district_value)
        if row.district is None:
            fail("district", _("Unbekannter Stadtteil „%(value)s“. Tragen Sie den Namen oder das Kürzel eines "
                               "Stadtteils ein.", value=_short(row.district_value)))

    source, message = parse_source(cell("source"), default_source)
    if message:
        fail("source", message)
    else:
        row.source = source

    row.event_name = _single_line(cell("event_name")) or None
    if row.event_name and len(row.event_name) > EVENT_NAME_MAX:
        fail("event_name", _("Der Name der Veranstaltung ist %(length)d Zeichen lang; erlaubt sind höchstens "
                             "%(max)d.", length=len(row.event_name), max=EVENT_NAME_MAX))
    row.facilitator = _single_line(cell("facilitator")) or None
    if row.facilitator and len(row.facilitator) > FACILITATOR_MAX:
        fail("facilitator", _("Die Angabe zur Moderation ist %(length)d Zeichen lang; erlaubt sind höchstens "
                              "%(max)d.", length=len(row.facilitator), max=FACILITATOR_MAX))

    row.dot_votes, message = parse_dot_votes(cell("dot_votes"))
    if message:
        fail("dot_votes", message)
        row.dot_votes = 0
    row.created_at, message = parse_created_at(cell("created_at"), now)
    if message:
        fail("created_at", message)
    return row


def analyse(table, filename, *, mapping=None, default_source=Source.LETTER):
    """Map and validate every row of `table`; nothing is written."""
    default_source = Source(default_source)
    result = ImportResult(filename=filename, kind=table.kind, sheet=table.sheet, sheet_names=table.sheet_names,
                          delimiter=table.delimiter, encoding=table.encoding, default_source=default_source)
    result.columns = [display(cell) for cell in table.header]
    result.mapping, mapping_errors = resolve_mapping(table.header, mapping)
    result.errors.extend(mapping_errors)
    if default_source is Source.ONLINE:
        result.errors.append(RowError(None, "source", _(
            "Online-Ideen können nicht importiert werden, weil hinter importierten Ideen kein Konto steht. "
            "Bitte wählen Sie eine andere Herkunft.")))
        return result
    missing = [target for target in REQUIRED_COLUMNS if result.mapping.get(target) is None]
    if missing and any(_has_surrogates(cell) for cell in table.header):
        result.errors.append(RowError(table.header_row, None, _(
            "Die Kopfzeile enthält Zeichen, die in der gewählten Kodierung ungültig sind. Wurde die Datei mit Excel "
            "als „CSV (Trennzeichen-getrennt)“ gespeichert? Dann wählen Sie die Kodierung Windows-1252 (cp1252).")))
    for target in missing:
        result.errors.append(RowError(table.header_row, target, _(
            "Keine Spalte für „%(field)s“ gefunden. Die Kopfzeile enthält: %(columns)s. Benennen Sie die Spalte "
            "um (z. B. %(example)s) oder ordnen Sie sie ausdrücklich zu.",
            field=FIELD_LABELS[target], columns=", ".join(f"„{name}“" for name in result.columns) or "–",
            example=", ".join(f"„{name}“" for name in COLUMN_EXAMPLES[target][:2]))))
    if missing:
        return result
    if not table.rows:
        result.errors.append(RowError(None, None, _("Die Datei enthält nur die Kopfzeile, aber keine Ideen.")))
        return result
    if table.truncated:
        result.errors.append(RowError(None, None, _(
            "Die Datei enthält mehr als %(max)d Ideen. Bitte teilen Sie sie in mehrere Dateien auf.",
            max=max_rows())))
    lookups, now = _Lookups(), utcnow()
    for number, cells in table.rows:
        row = parse_row(number, cells, result.mapping, default_source, lookups, now)
        result.rows.append(row)
        result.errors.extend(row.errors)
    return result


def parse_file(data, filename, *, encoding="utf-8", sheet=None, mapping=None, default_source=Source.LETTER,
               limit_bytes=None):
    """Read, map and validate a whole file; problems with the file itself become errors too."""
    if limit_bytes is None:
        limit_bytes = max_bytes()
    try:
        table = read_table(data, filename, encoding=encoding, sheet=sheet, limit_bytes=limit_bytes)
    except ImportFileError as error:
        return ImportResult(filename=filename, errors=[RowError(None, None, error.message)])
    return analyse(table, filename, mapping=mapping, default_source=default_source)


# --- writing --------------------------------------------------------------------------------

def commit(result, actor, *, filename=None):
    """Create every idea of `result` in one transaction, or none; returns the new ids.

    Raises ImportFailed (nothing written) when the result has errors or a row breaks
    a rule of services.create_idea.
    """
    if result.errors:
        raise ImportFailed(result.errors)
    if not result.rows:
        raise ImportFailed([RowError(None, None, _("Die Datei enthält keine Ideen."))])
    filename = filename or result.filename

    def work():
        ideas = []
        for row in result.rows:
            try:
                idea = services.create_idea(
                    None, row.title, row.text, sector=row.sector, district=row.district, source=row.source,
                    entered_by=actor, event_name=row.event_name, facilitator=row.facilitator,
                    dot_votes=row.dot_votes, created_at=row.created_at, check_phase=False, audit=False,
                    flush=False)
            except services.IdeaError as error:
                raise ImportFailed([RowError(row.row, error.field if error.field in FIELDS else None,
                                             error.message)])
            ideas.append(idea)
        db.session.flush()  # one batch of inserts for the whole file
        ids = [idea.id for idea in ideas]
        sources = sorted({row.source.value for row in result.rows})
        record("ideas.imported", actor=actor, object_type=Idea.audit_type,
               new={"count": len(ids), "file": filename[:200], "first_id": ids[0], "last_id": ids[-1]},
               details={"file": filename[:200], "format": result.kind, "sources": sources,
                        "sheet": result.sheet, "encoding": result.encoding})
        return ids

    return retrying(work)


__all__ = [
    "FIELDS", "FIELD_LABELS", "ENCODINGS", "RowError", "ImportResult", "ImportFileError", "ImportFailed",
    "read_table", "analyse", "parse_file", "commit", "auto_mapping", "column_label",
]
