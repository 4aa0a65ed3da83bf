"""`flask balance ...`: export a balance for `python -m analyse balance`, recompute it, import its entries.

Every problem ends in one German line (or one line per row error) on stderr and exit code 2;
then nothing in the database has changed.
"""
import csv
import io
import os
import shlex
import tempfile
from decimal import Decimal
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from analyse import bisko

from ..extensions import db

balance_cli = AppGroup("balance", help="Energie- und THG-Bilanz exportieren, neu berechnen und importieren.")

FACTOR_HEADER = ["carrier", "t_co2e_per_mwh", "valid_from", "source"]


def _fail(message):
    from ..cli import fail

    fail(message)


def _actor(email):
    """The staff account named with --by, or None (the change is then recorded without a person)."""
    from ..auth.services import find_user_by_email

    if not email:
        return None
    user = find_user_by_email(email)
    if user is None or not user.is_active or user.role not in ("staff", "admin"):
        _fail(f"Kein aktives Konto der Verwaltung mit der Adresse {email}.")
    return user


class Year(click.ParamType):
    """A balance year; a German message otherwise."""
    name = "JAHR"

    def convert(self, value, param, ctx):
        from .services import YEARS

        text = str(value).strip()
        if not (text.isdigit() and int(text) in YEARS):
            _fail(f"„{value}“ ist kein Bilanzjahr (eine Jahreszahl zwischen {YEARS.start} und {YEARS.stop - 1}).")
        return int(text)


YEAR = Year()


def _balance(year):
    from . import services

    balance = services.balance_for_year(year)
    if balance is None:
        years = ", ".join(str(item.year) for item in reversed(services.balances()))
        known = f" Vorhanden: {years}." if years else " Es gibt noch keine Bilanz."
        _fail(f"Es gibt keine Bilanz für das Jahr {year}.{known}")
    return balance


def _number(value, decimals=1):
    return bisko.format_number(value, decimals)


def _csv_bytes(rows):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _check_target(path):
    if not path.expanduser().parent.is_dir():
        _fail(f"Das Verzeichnis {path.expanduser().parent} gibt es nicht.")


def _write(path, data):
    """Write next to the target and rename at the end: a failed export leaves no half file behind."""
    path = path.expanduser()
    handle, temporary = tempfile.mkstemp(prefix=".export-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def factors_used_rows(result):
    """The factors a stored result used, in the CLI's factor format (umweltwaerme follows strom)."""
    from .services import file_number as plain

    yield FACTOR_HEADER
    for carrier, used in sorted(result["factors_used"].items()):
        if carrier == bisko.HEAT_PUMP:
            continue
        valid_from = "" if used["valid_from"] is None else used["valid_from"]
        yield [carrier, plain(Decimal(str(used["t_co2e_per_mwh"]))), valid_from, used["source"]]


def analyse_command(balance, entries, factors):
    """The `python -m analyse balance` command line that recomputes the balance from the two files."""
    parts = ["python", "-m", "analyse", "balance", str(entries), "--factors", str(factors),
             "--year", str(balance.year), "--population", str(balance.population)]
    if balance.municipal_in_ghd:
        parts.append("--municipal-in-ghd")
    if not balance.heat_pump_power_in_electricity:
        parts.append("--heat-pump-power-separate")
    return " ".join(shlex.quote(part) for part in parts)


@balance_cli.command("export")
@click.argument("year", type=YEAR)
@click.option("--entries", "entries_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Zieldatei für die Endenergie je Sektor und Energieträger (CSV)")
@click.option("--factors", "factors_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Zieldatei für die verwendeten Emissionsfaktoren (CSV)")
@with_appcontext
def export_command(year, entries_path, factors_path):
    """Eingaben einer Bilanz und die verwendeten Faktoren für `python -m analyse balance` schreiben."""
    from . import services

    balance = _balance(year)
    result = balance.result
    if result is None:
        why = f" ({balance.error})" if balance.error else ""
        _fail(f"Die Bilanz {year} hat keine gültige Berechnung{why}; die verwendeten Faktoren sind unbekannt. "
              f"Bitte zuerst die Faktoren ergänzen und „flask balance recompute {year}“ ausführen.")
    if entries_path.expanduser().resolve() == factors_path.expanduser().resolve():
        _fail("--entries und --factors müssen verschiedene Dateien sein.")
    _check_target(entries_path)
    _check_target(factors_path)
    entries = _csv_bytes(services.entries_csv_rows(balance))
    factors = _csv_bytes(factors_used_rows(result))
    _write(entries_path, entries)
    _write(factors_path, factors)
    click.echo(f"Bilanz {year}: {len(balance.entries)} Zeilen nach {entries_path}, "
               f"{len(result['factors_used']) - (bisko.HEAT_PUMP in result['factors_used'])} Faktoren nach "
               f"{factors_path}.")
    if Decimal(balance.heat_pump_apf) != bisko.DEFAULT_HEAT_PUMP_APF:
        click.echo(f"Achtung: Die Bilanz rechnet mit der Jahresarbeitszahl {_number(balance.heat_pump_apf, 2)}; "
                   f"python -m analyse balance kennt nur {_number(bisko.DEFAULT_HEAT_PUMP_APF, 1)} "
                   "und kommt daher bei der Umweltwärme auf ein anderes Ergebnis.", err=True)
    click.echo(f"Gespeichertes Ergebnis: {_number(result['total_t_co2e'])} t CO2e. Nachrechnen mit:")
    click.echo(analyse_command(balance, entries_path, factors_path))


@balance_cli.command("recompute")
@click.argument("year", type=YEAR)
@click.option("--by", "entered_by", default=None, metavar="EMAIL",
              help="Konto der Verwaltung, das im Protokoll eingetragen wird (Standard: keins)")
@with_appcontext
def recompute_command(year, entered_by):
    """Eine Bilanz mit den heutigen Emissionsfaktoren neu berechnen (die alte bleibt, wenn das nicht geht)."""
    from ..audit.services import record
    from . import services

    actor = _actor(entered_by)
    with current_app.test_request_context("/"):
        balance = _balance(year)
        before = balance.result
        changes = services.changed_factors(balance)
        try:
            services.compute(balance)
        except bisko.BalanceError as error:
            _fail(f"Die Bilanz {year} kann nicht berechnet werden: {error} Es wurde nichts geändert.")
        result = services.recompute(balance)
        balance.updated_by_id = getattr(actor, "id", None)
        record("balance.recompute", balance, actor=actor,
               old={"total_t_co2e": before["total_t_co2e"] if before else None},
               new={"total_t_co2e": float(result.total_t_co2e)})
        refreshed = services.refresh_measure_savings() if balance.published else 0
        db.session.commit()
    for change in changes:
        used = "–" if change.used is None else _number(change.used, 4)
        now = "–" if change.current is None else _number(change.current, 4)
        click.echo(f"  Faktor {change.carrier}: {used} → {now} t CO2e/MWh")
    old = f"vorher {_number(before['total_t_co2e'])}" if before else "vorher ohne gültige Berechnung"
    click.echo(f"Bilanz {year} neu berechnet: {_number(result.total_t_co2e)} t CO2e ({old}), "
               f"{_number(result.per_capita_t_co2e, 2)} t je Einwohner/in.")
    if refreshed:
        click.echo(f"{refreshed} Maßnahmenblätter mit neuer THG-Einsparung.")


def _format_error(error):
    from .services import ENTRY_FIELD_LABELS

    where = f"Zeile {error.row}" if error.row is not None else "Datei"
    if error.field in ENTRY_FIELD_LABELS:
        where = f"{where}, {ENTRY_FIELD_LABELS[error.field]}"
    return f"{where}: {error.message}"


@balance_cli.command("import")
@click.argument("year", type=YEAR)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", type=click.Choice(["utf-8", "cp1252"]), default="utf-8", show_default=True,
              help="Kodierung von CSV-Dateien (cp1252 für ältere Excel-CSV)")
@click.option("--dry-run", is_flag=True, help="Nur prüfen und das Ergebnis zeigen; nichts speichern")
@click.option("--by", "entered_by", default=None, metavar="EMAIL",
              help="Konto der Verwaltung, das im Protokoll eingetragen wird (Standard: keins)")
@with_appcontext
def import_command(year, file, encoding, dry_run, entered_by):
    """Die Endenergie einer Bilanz aus einer CSV- oder XLSX-Datei ersetzen (alles oder nichts).

    Spalten: sector, carrier, mwh und optional quality (A-D) und note; Sektoren und Energieträger als
    Code oder Name. Die Bilanz des Jahres muss es schon geben (Einwohnerzahl und Optionen).
    """
    from ..ideas.importing import ImportFileError, format_size, read_table
    from . import services

    limit = current_app.config["IMPORT_MAX_BYTES"]
    if file.stat().st_size > limit:
        _fail(f"Die Datei ist größer als die erlaubten {format_size(limit)} (IMPORT_MAX_BYTES).")
    actor = _actor(entered_by)
    with current_app.test_request_context("/"):
        balance = _balance(year)
        try:
            table = read_table(file.read_bytes(), file.name, encoding=encoding, limit_bytes=limit)
        except ImportFileError as error:
            _fail(f"{file.name}: {error.message}")
        entries, errors = services.parse_entry_table(table)
        if errors:
            for error in errors:
                click.echo(_format_error(error), err=True)
            _fail(f"{len(errors)} Fehler in {file.name}; es wurde nichts importiert.")
        rows = [bisko.EnergyRow(item.sector, item.carrier, item.mwh, item.quality, item.row) for item in entries]
        try:
            result = bisko.compute_balance(balance.year, balance.population, rows, services.factor_table(),
                                           heat_pump_apf=Decimal(balance.heat_pump_apf),
                                           heat_pump_power_in_electricity=balance.heat_pump_power_in_electricity,
                                           municipal_in_ghd=balance.municipal_in_ghd)
        except bisko.BalanceError as error:
            _fail(f"{file.name}: Die Bilanz {year} ließe sich damit nicht berechnen: {error} "
                  "Es wurde nichts importiert.")
        summary = (f"{len(entries)} Zeilen, {_number(result.total_t_co2e)} t CO2e, "
                   f"{_number(result.per_capita_t_co2e, 2)} t je Einwohner/in, Datengüte "
                   f"{_number(result.quality_index, 2) if result.quality_index is not None else '–'}")
        if dry_run:
            click.echo(f"Probelauf für die Bilanz {year}: {summary}; es wurde nichts gespeichert.")
            return
        before = balance.result
        stored = services.replace_entries(balance, entries, actor, action="balance.import")
        if stored is None:  # cannot happen after the check above; never keep a half state
            db.session.rollback()
            _fail(f"Die Bilanz {year} konnte nicht berechnet werden; es wurde nichts importiert.")
        db.session.commit()
    old = f"vorher {_number(before['total_t_co2e'])} t CO2e" if before else "vorher ohne gültige Berechnung"
    click.echo(f"Bilanz {year} importiert: {summary} ({old}).")
