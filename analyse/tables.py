"""Reading the CSV files of the command line robustly, and the --sectors file.

Spreadsheets export CSV in many dialects: UTF-8 with or without a byte order mark,
Windows-1252 from older Excel, commas, semicolons (German Excel) or tabs, quoted
fields with line breaks. Whatever cannot be read becomes an InputError with a
German message for the user, never a traceback.
"""
import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .sectors import SectorSpec

DELIMITERS = ",;\t"
SNIFF_CHARACTERS = 64_000


class InputError(Exception):
    """A problem with an input file, explained in German for the user."""


@dataclass
class Table:
    columns: list
    rows: list  # lists of strings, as long as `columns`

    def column(self, name, option):
        """Index of column `name` (exact, else ignoring case and spaces); InputError when missing."""
        if name in self.columns:
            return self.columns.index(name)
        folded = [column.strip().casefold() for column in self.columns]
        if name.strip().casefold() in folded:
            return folded.index(name.strip().casefold())
        available = ", ".join(f"„{column}“" for column in self.columns)
        raise InputError(f"Die Spalte „{name}“ ({option}) fehlt. Vorhandene Spalten: {available}.")

    def values(self, index):
        return [row[index] for row in self.rows]


def _raise_field_limit():
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10


def decode(data, name):
    """Text of a file: UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if b"\x00" in data[:SNIFF_CHARACTERS]:
        raise InputError(f"{name} ist keine Textdatei (sie enthält Binärdaten).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # never fails: every byte is a character


def _delimiter(text):
    """The delimiter among , ; and tab: csv.Sniffer on a sample, checked against the header line."""
    header = text.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(text[:SNIFF_CHARACTERS], delimiters=DELIMITERS).delimiter
        if found in header:
            return found
    except csv.Error:
        pass
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_table(path):
    """A Table from a CSV file; InputError for a missing, empty or malformed file."""
    path = Path(path)
    name = f"„{path}“"
    if not path.exists():
        raise InputError(f"Die Datei {name} gibt es nicht.")
    if not path.is_file():
        raise InputError(f"{name} ist keine Datei.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"Die Datei {name} lässt sich nicht lesen ({error.strerror}).") from None
    text = decode(data, name)
    if not text.strip():
        raise InputError(f"Die Datei {name} ist leer.")
    _raise_field_limit()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        records = [record for record in reader if any(field.strip() for field in record)]
    except csv.Error as error:
        raise InputError(f"{name} ist keine gültige CSV-Datei (Zeile {reader.line_num}: {error}).") from None
    if not records:
        raise InputError(f"Die Datei {name} ist leer.")
    columns = [column.strip() for column in records[0]]
    if not any(columns):
        raise InputError(f"{name} hat keine Kopfzeile mit Spaltennamen.")
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if len(record) > len(columns) and any(field.strip() for field in record[len(columns):]):
            raise InputError(f"{name} ist keine gültige CSV-Datei: Datensatz {number} hat {len(record)} Felder, "
                             f"die Kopfzeile nur {len(columns)}.")
        rows.append((record + [""] * len(columns))[:len(columns)])
    if not rows:
        raise InputError(f"{name} enthält nur die Kopfzeile, aber keine Daten.")
    return Table(columns, rows)


def read_sectors(path):
    """Fields of action from a JSON or CSV file (format in analyse/README.md)."""
    path = Path(path)
    name = f"„{path}“"
    if not path.is_file():
        raise InputError(f"Die Handlungsfeld-Datei {name} gibt es nicht.")
    text = decode(path.read_bytes(), name).strip()
    if path.suffix.lower() == ".json" or text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{name} ist kein gültiges JSON (Zeile {error.lineno}: {error.msg}).") from None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise InputError(f"{name} muss eine JSON-Liste von Objekten mit code und name sein.")
    else:
        table = read_table(path)
        items = [dict(zip([column.casefold() for column in table.columns], row)) for row in table.rows]
    sectors = [_sector(item, name) for item in items]
    if not sectors:
        raise InputError(f"{name} enthält keine Handlungsfelder.")
    codes = [sector.code for sector in sectors]
    if len(set(codes)) != len(codes):
        raise InputError(f"{name}: Jeder Code darf nur einmal vorkommen.")
    return tuple(sectors)


def _sector(item, name):
    code, title = str(item.get("code") or "").strip(), str(item.get("name") or "").strip()
    if not code or not title:
        raise InputError(f"{name}: Jedes Handlungsfeld braucht „code“ und „name“.")
    terms = item.get("seed_terms") or []
    if isinstance(terms, str):
        terms = terms.replace(";", ",").split(",")
    return SectorSpec(code, title, str(item.get("description") or "").strip(),
                      tuple(str(term).strip() for term in terms if str(term).strip()))
