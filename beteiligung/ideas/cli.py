"""`flask ideas ...`: import ideas from CSV/XLSX, export them, rebuild the search index."""
import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..extensions import db
from .models import Source

ideas_cli = AppGroup("ideas", help="Ideen importieren und exportieren, Suchindex neu aufbauen.")

IMPORT_SOURCES = [source.value for source in Source if source.is_analog]


def _fail(message):
    from ..cli import fail

    fail(message)


def _parse_mapping(values):
    """--map title=Überschrift (repeatable) -> {"title": "Überschrift"}; an empty column unmaps the field."""
    from .importing import FIELDS

    mapping = {}
    for value in values:
        target, separator, column = value.partition("=")
        target = target.strip()
        if not separator or target not in FIELDS:
            _fail(f"--map erwartet FELD=SPALTE mit FELD aus: {', '.join(FIELDS)} (erhalten: {value!r}).")
        mapping[target] = column.strip()
    return mapping


def _actor(email):
    from ..auth.services import find_user_by_email

    if not email:
        return None
    user = find_user_by_email(email)
    if user is None or not user.is_active or user.role not in ("staff", "admin"):
        _fail(f"Kein aktives Konto der Verwaltung mit der Adresse {email}.")
    return user


def _print_preview(result):
    from .importing import FIELD_LABELS

    click.echo("Vorschau:")
    for row in result.preview:
        sector = row.sector.name if row.sector else "–"
        district = row.district.name if row.district else row.district_value or "–"
        extras = [str(row.source.label), f"{row.dot_votes} Punkte"]
        if row.event_name:
            extras.append(row.event_name)
        if row.created_at:
            extras.append(row.created_at.astimezone(_local_zone()).strftime("%d.%m.%Y %H:%M"))
        click.echo(f"  Zeile {row.row}: {row.title} | {FIELD_LABELS['sector']}: {sector} | "
                   f"{FIELD_LABELS['district']}: {district} | {', '.join(extras)}")
    if result.row_count > len(result.preview):
        click.echo(f"  … und {result.row_count - len(result.preview)} weitere.")


def _local_zone():
    from .importing import local_zone

    return local_zone()


@ideas_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", type=click.Choice(IMPORT_SOURCES), default=Source.LETTER.value, show_default=True,
              help="Herkunft für Zeilen ohne eigene Angabe in der Spalte Herkunft/Quelle")
@click.option("--dry-run", is_flag=True, help="Nur prüfen und die Vorschau zeigen, nichts speichern")
@click.option("--encoding", type=click.Choice(["utf-8", "cp1252"]), default="utf-8", show_default=True,
              help="Kodierung von CSV-Dateien (cp1252 für ältere Excel-CSV)")
@click.option("--sheet", default=None, help="Tabellenblatt einer XLSX-Datei (Standard: das erste)")
@click.option("--map", "mapping", multiple=True, metavar="FELD=SPALTE",
              help="Spalte ausdrücklich zuordnen, z. B. --map title=Überschrift (mehrfach möglich)")
@click.option("--by", "entered_by", default=None, metavar="EMAIL",
              help="Konto der Verwaltung, das als erfassend eingetragen wird")
@with_appcontext
def import_command(file, source, dry_run, encoding, sheet, mapping, entered_by):
    """Ideen aus einer CSV- oder XLSX-Datei importieren (alles oder nichts)."""
    from .importing import ImportFailed, commit, format_size, parse_file

    limit = current_app.config["IMPORT_MAX_BYTES"]
    if file.stat().st_size > limit:
        _fail(f"Die Datei ist größer als die erlaubten {format_size(limit)} (IMPORT_MAX_BYTES).")
    actor = _actor(entered_by)
    data = file.read_bytes()
    result = parse_file(data, file.name, encoding=encoding, sheet=sheet, mapping=_parse_mapping(mapping),
                        default_source=source)
    if result.kind:
        details = [f"{result.row_count} Zeilen mit Ideen", f"Format {result.kind.upper()}"]
        if result.kind == "csv":
            details.append(f"Trennzeichen {result.delimiter_label}, Kodierung {result.encoding}")
        elif result.sheet:
            details.append(f"Tabellenblatt „{result.sheet}“")
        click.echo(f"{file.name}: " + ", ".join(details) + ".")
    if result.errors:
        for error in result.errors:
            click.echo(error.format(), err=True)
        db.session.rollback()
        _fail(f"{len(result.errors)} Fehler in {file.name}; es wurde nichts importiert.")
    if dry_run:
        _print_preview(result)
        db.session.rollback()
        click.echo(f"Probelauf: {result.row_count} Ideen wären importiert worden; es wurde nichts gespeichert.")
        return
    try:
        ids = commit(result, actor, filename=file.name)
    except ImportFailed as failed:
        for error in failed.errors:
            click.echo(error.format(), err=True)
        _fail("Der Import wurde abgebrochen; es wurde nichts importiert.")
    click.echo(f"{len(ids)} Ideen importiert (Nr. {ids[0]} bis {ids[-1]}).")


@ideas_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), required=True, help="Dateiformat")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Zieldatei („-“ für die Standardausgabe)")
@click.option("--full", is_flag=True,
              help="Vollständiger Export für die Verwaltung mit personenbezogenen Daten und ausgeblendeten Ideen")
@click.option("--base-url", default=None,
              help="Adresse der Plattform für die Links (Standard: SERVER_NAME, sonst http://localhost)")
@with_appcontext
def export_command(fmt, output, full, base_url):
    """Ideen mit Unterstützungen und Kommentaren exportieren (Standard: offene Daten ohne Personenbezug)."""
    from .exporting import write_export

    if not base_url:
        server = current_app.config.get("SERVER_NAME")
        scheme = current_app.config.get("PREFERRED_URL_SCHEME", "https")
        base_url = f"{scheme}://{server}" if server else "http://localhost"
        if not server:
            click.echo("Hinweis: Ohne --base-url oder SERVER_NAME verweisen die Links auf http://localhost.",
                       err=True)
    if not base_url.startswith(("http://", "https://")):
        _fail("--base-url muss mit http:// oder https:// beginnen.")
    with current_app.test_request_context("/", base_url=base_url):
        if str(output) == "-":
            stream = sys.stdout.buffer
            count = write_export(fmt, stream, full=full)
            stream.flush()
            click.echo(f"{count} Ideen exportiert.", err=True)
            return
        output = output.expanduser()
        if not output.parent.is_dir():
            _fail(f"Das Verzeichnis {output.parent} gibt es nicht.")
        # Write next to the target and rename at the end: a failed export leaves no half file behind.
        handle, temporary = tempfile.mkstemp(prefix=".export-", dir=output.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                count = write_export(fmt, stream, full=full)
            if full:
                os.chmod(temporary, 0o600)  # personal data
            else:
                os.chmod(temporary, 0o644)
            os.replace(temporary, output)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    kind = "vollständig, mit personenbezogenen Daten" if full else "offene Daten ohne personenbezogene Daten"
    click.echo(f"{count} Ideen exportiert nach {output} ({fmt.upper()}, {kind}).")


@ideas_cli.command("reindex")
@with_appcontext
def reindex_command():
    """Den Suchindex der Ideen neu aufbauen (SQLite; PostgreSQL pflegt ihn selbst)."""
    from sqlalchemy import func, select

    from . import search
    from .models import Idea

    if db.session.get_bind().dialect.name != "sqlite":
        click.echo("PostgreSQL pflegt den Volltextindex selbst; es gibt nichts neu aufzubauen.")
        return
    search.rebuild(db.session)
    db.session.commit()
    count = db.session.scalar(select(func.count(Idea.id)))
    click.echo(f"Suchindex neu aufgebaut: {count} Ideen.")
