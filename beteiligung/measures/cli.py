"""`flask measures ...`: export and import the measure plan."""
import io
import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..extensions import db

measures_cli = AppGroup("measures", help="Maßnahmenplan exportieren und importieren.")


def _fail(message):
    from ..cli import fail

    fail(message)


def _actor(email):
    """The staff account named with --by, or None (the import is then recorded without a person)."""
    from ..auth.services import find_user_by_email

    if not email:
        return None
    user = find_user_by_email(email)
    if user is None or not user.is_active or user.role not in ("staff", "admin"):
        _fail(f"Kein aktives Konto der Verwaltung mit der Adresse {email}.")
    return user


def _print_plan(result):
    for row in sorted(result.rows, key=lambda row: row.row):
        if row.action == "create":
            what = "neu"
        elif row.changes:
            what = "aktualisiert: " + ", ".join(row.changes)
        elif row.action == "update":
            what = "unverändert"
        else:
            continue
        click.echo(f"  Zeile {row.row}: {row.result_number} {row.title} ({row.sector_name}) – {what}")


@measures_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Nur prüfen und zeigen, was geschähe; nichts speichern")
@click.option("--encoding", type=click.Choice(["utf-8", "cp1252"]), default="utf-8", show_default=True,
              help="Kodierung von CSV-Dateien (cp1252 für ältere Excel-CSV)")
@click.option("--by", "entered_by", default=None, metavar="EMAIL",
              help="Konto der Verwaltung, das im Protokoll als ändernd eingetragen wird (Standard: keins)")
@with_appcontext
def import_command(file, dry_run, encoding, entered_by):
    """Maßnahmen aus einer CSV- oder XLSX-Datei anlegen und aktualisieren (alles oder nichts)."""
    from ..ideas.importing import format_size
    from . import exchange

    limit = current_app.config["IMPORT_MAX_BYTES"]
    if file.stat().st_size > limit:
        _fail(f"Die Datei ist größer als die erlaubten {format_size(limit)} (IMPORT_MAX_BYTES).")
    actor = _actor(entered_by)
    with current_app.test_request_context("/"):
        result = exchange.analyse_file(file.read_bytes(), file.name, encoding=encoding, limit_bytes=limit)
        if result.kind:
            details = [f"{result.row_count} Zeilen mit Maßnahmen", f"Format {result.kind.upper()}"]
            if result.kind == "csv":
                details.append(f"Trennzeichen {result.delimiter_label}, Kodierung {result.encoding}")
            click.echo(f"{file.name}: " + ", ".join(details) + ".")
        exchange.dry_run(result, actor)
        if result.errors:
            for error in result.errors:
                click.echo(error.format(), err=True)
            _fail(f"{len(result.errors)} Fehler in {file.name}; es wurde nichts importiert.")
        summary = (f"{len(result.created)} neu, {len(result.updated)} aktualisiert, "
                   f"{len(result.unchanged)} unverändert")
        if dry_run:
            _print_plan(result)
            click.echo(f"Probelauf: {summary}; es wurde nichts gespeichert.")
            return
        try:
            exchange.commit(result, actor)
        except exchange.ImportFailed as failed:
            db.session.rollback()
            for error in failed.errors:
                click.echo(error.format(), err=True)
            _fail("Der Import wurde abgebrochen; es wurde nichts importiert.")
        _print_plan(result)
        click.echo(f"Importiert: {summary}.")


@measures_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx", "csv"]), required=True, help="Dateiformat")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Zieldatei („-“ für die Standardausgabe)")
@with_appcontext
def export_command(fmt, output):
    """Den ganzen Maßnahmenplan als PDF, Excel-Tabelle (XLSX) oder CSV schreiben."""
    from . import exchange
    from .pdf import build_plan_pdf

    def progress(done, total):
        click.echo(f"\rMaßnahmenblatt {done} von {total}", err=True, nl=done == total)

    with current_app.test_request_context("/"):
        if fmt == "pdf":
            data = build_plan_pdf(progress=progress)
            count = None
        else:
            buffer = io.BytesIO()
            count = exchange.write_export(fmt, buffer)
            data = buffer.getvalue()
    if str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    output = output.expanduser()
    if not output.parent.is_dir():
        _fail(f"Das Verzeichnis {output.parent} gibt es nicht.")
    # Write next to the target and rename at the end: a failed export leaves no half file behind.
    handle, temporary = tempfile.mkstemp(prefix=".export-", dir=output.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    what = f"{count} Maßnahmen" if count is not None else "Maßnahmenplan"
    click.echo(f"{what} exportiert nach {output} ({fmt.upper()}, {len(data) // 1024} KB).")
