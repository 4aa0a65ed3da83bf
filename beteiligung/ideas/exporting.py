"""Exports of ideas with their counts: CSV, XLSX and JSON.

The public open-data export holds no personal data (no names, no e-mail
addresses, no map points, nothing hidden); the full export for staff adds them.
Rows are read in chunks, so an export of many thousand ideas stays small in memory.
"""
import csv
import io
import json

from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..extensions import db
from .models import Idea
from .queries import IdeaFilters, build_query
from .serialise import public_fields
from .services import measures_for

FORMATS = ("csv", "xlsx", "json")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
PUBLIC_COLUMNS = [
    "id", "title", "text", "sector", "sector_name", "district", "district_name", "status", "status_label",
    "source", "event_name", "dot_votes", "supports", "comments", "created_at", "updated_at", "answer",
    "answered_at", "merged_into", "measures", "latitude", "longitude", "url",
]
FULL_COLUMNS = PUBLIC_COLUMNS + [
    "author_id", "author_name", "author_email", "entered_by", "facilitator",
    "hidden", "hidden_reason", "reports",
]
CHUNK = 500


def export_rows(*, full=False, filters=None):
    """Dicts of the ideas, ordered by id; hidden ideas only in the full export."""
    filters = filters or IdeaFilters(sort="newest")
    query = build_query(filters, include_hidden=full)
    query = query.order_by(None).order_by(Idea.id)
    if full:
        query = query.options(selectinload(Idea.entered_by))
    last_id = 0
    while True:
        chunk = db.session.scalars(query.where(Idea.id > last_id).limit(CHUNK)).unique().all()
        if not chunk:
            return
        links = measures_for([idea.id for idea in chunk])
        for idea in chunk:
            yield _row(idea, links.get(idea.id, []), full)
        last_id = chunk[-1].id


def _row(idea, measures, full):
    row = public_fields(idea)
    row["measures"] = [measure["number"] for measure in measures]
    if full:
        author = idea.author
        row.update({
            "author_id": idea.author_id,
            "author_name": author.display_name if isinstance(author, User) else None,
            "author_email": author.email if isinstance(author, User) else None,
            "entered_by": idea.entered_by.display_name if idea.entered_by else None,
            "facilitator": idea.facilitator,
            "hidden": idea.is_hidden,
            "hidden_reason": idea.hidden_reason,
            "reports": idea.report_count,
        })
    return row


def _cell(value):
    """A spreadsheet-safe cell: lists joined, and no formula injection (=, +, -, @)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(rows, columns, stream):
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[column]) for column in columns])


def _xlsx_cell(value):
    """A cell for openpyxl: control characters that XLSX cannot hold are dropped instead of failing."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = _cell(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def write_xlsx(rows, columns, stream):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Ideen")
    sheet.freeze_panes = "A2"
    sheet.append(columns)
    for row in rows:
        sheet.append([_xlsx_cell(row[column]) for column in columns])
    workbook.save(stream)


def write_json(rows, columns, stream):
    stream.write("[")
    for position, row in enumerate(rows):
        if position:
            stream.write(",")
        stream.write("\n" + json.dumps({column: row[column] for column in columns}, ensure_ascii=False))
    stream.write("\n]\n")


def write_export(fmt, stream, *, full=False, filters=None):
    """Write the export to the binary `stream` (a file or a buffer); returns the number of ideas."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt}")
    columns = FULL_COLUMNS if full else PUBLIC_COLUMNS
    counter = {"n": 0}

    def counted():
        for row in export_rows(full=full, filters=filters):
            counter["n"] += 1
            yield row

    if fmt == "xlsx":
        write_xlsx(counted(), columns, stream)
        return counter["n"]
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
    try:
        (write_csv if fmt == "csv" else write_json)(counted(), columns, text)
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open
    return counter["n"]


def export(fmt, *, full=False, filters=None):
    """The export as bytes."""
    buffer = io.BytesIO()
    write_export(fmt, buffer, full=full, filters=filters)
    return buffer.getvalue()


__all__ = ["export", "export_rows", "write_export", "FORMATS", "MIMETYPES", "PUBLIC_COLUMNS", "FULL_COLUMNS"]
