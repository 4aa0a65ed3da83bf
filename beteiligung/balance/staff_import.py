"""Import of a balance year's final energy from a CSV or XLSX file: upload, dry run with every
error and its row, confirm (replaces all entries: all or nothing).

The upload is staged by beteiligung.uploads like the idea and measure imports; the session
keeps the token, the file name, the encoding and the balance year. Confirming claims the
file first, so a second click imports nothing; when the import is refused, the file is put
back and the preview shows why.
"""
from dataclasses import dataclass, field, replace
from decimal import Decimal

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from analyse import bisko
from analyse.bisko import BalanceError

from .. import uploads
from ..access import allow
from ..audit.services import record
from ..extensions import db
from ..ideas import importing
from ..ideas.importing import _has_surrogates, _is_empty, delimiter_label, display
from ..roles import STAFF
from . import services
from .forms import ConfirmForm, ConfirmImportForm, UploadForm
from .models import QUALITY_LABELS, SECTOR_LABELS
from .staff import bp
from .staff_common import ENTRY_LABELS, balance_or_404, csv_response, entry_order, flash_outcome, published_guard

SESSION_KEY = "balance_import"
ERRORS_SHOWN = 500


@dataclass(frozen=True)
class ImportError_:
    """One problem of the file: `row` as the spreadsheet shows it (None: the whole file)."""
    row: int
    field: str
    message: str

    @property
    def field_label(self):
        return ENTRY_LABELS.get(self.field)


@dataclass
class EntryImport:
    """The dry run of an import into one balance year."""
    filename: str
    kind: str = None
    delimiter: str = None
    encoding: str = None
    sheet: str = None
    entries: list = field(default_factory=list)  # services.EntryInput
    errors: list = field(default_factory=list)  # ImportError_
    skipped: list = field(default_factory=list)  # row numbers without any value (e.g. unfilled template rows)
    ignored: list = field(default_factory=list)  # column names that are not read
    changes: dict = field(default_factory=dict)  # (sector, carrier) -> "new" | "changed" | "same"
    previous: dict = field(default_factory=dict)  # (sector, carrier) -> BalanceEntry before the import
    removed: list = field(default_factory=list)  # BalanceEntry that the import drops
    result: object = None  # analyse.bisko.BalanceResult with the new values, or None
    result_error: str = ""

    @property
    def ok(self):
        return not self.errors and bool(self.entries)

    @property
    def row_count(self):
        return len(self.entries)

    @property
    def error_rows(self):
        return len({error.row for error in self.errors if error.row is not None})

    @property
    def delimiter_label(self):
        return delimiter_label(self.delimiter)

    def count(self, kind):
        return sum(1 for value in self.changes.values() if value == kind)


def analyse_upload(balance, data, filename, encoding):
    """Read and check a file for `balance`; nothing is written."""
    try:
        table = importing.read_table(data, filename, encoding=encoding,
                                     limit_bytes=current_app.config["IMPORT_MAX_BYTES"])
    except importing.ImportFileError as error:
        return EntryImport(filename, errors=[ImportError_(None, None, error.message)])
    return analyse_table(balance, table, filename)


def analyse_table(balance, table, filename):
    result = EntryImport(filename, kind=table.kind, delimiter=table.delimiter, encoding=table.encoding,
                         sheet=table.sheet)
    bad_rows = sorted({number for number, cells in table.rows if any(_has_surrogates(cell) for cell in cells)})
    if bad_rows or any(_has_surrogates(cell) for cell in table.header):
        other = "cp1252" if (table.encoding or "utf-8") == "utf-8" else "utf-8"
        where = ", ".join(map(str, bad_rows[:10])) + (" …" if len(bad_rows) > 10 else "")
        result.errors.append(ImportError_(None, None, _(
            "Die Datei ist nicht in der gewählten Kodierung %(encoding)s gespeichert (ungültige Zeichen%(where)s). "
            "Wählen Sie die Kodierung %(other)s – Excel speichert „CSV (Trennzeichen-getrennt)“ als Windows-1252 "
            "(cp1252) – oder speichern Sie die Datei als „CSV UTF-8“. Es wurde nichts geändert.",
            encoding=table.encoding or "utf-8", other=other,
            where=_(" in Zeile %(rows)s", rows=where) if where else "")))
        return result
    mapping, column_errors = services.map_entry_columns(table.header)
    result.ignored = [display(cell) for index, cell in enumerate(table.header)
                      if index not in mapping.values() and display(cell)]
    if not column_errors:
        table = _without_empty_rows(table, mapping, result)
        if not table.rows and result.skipped:
            result.errors.append(ImportError_(None, "mwh", _(
                "Keine Zeile der Datei hat einen Wert in der Spalte „MWh“; es gibt nichts zu importieren.")))
            return result
    entries, errors = services.parse_entry_table(table)
    result.entries = entries  # the rows without errors, in the order of the file
    result.errors = [ImportError_(error.row, error.field, error.message) for error in errors]
    if result.errors:
        return result
    _compare(balance, result)
    _dry_compute(balance, result)
    return result


def _without_empty_rows(table, mapping, result):
    """The table without rows that have no MWh, grade or note (unfilled template rows are skipped, not errors);
    a leading ' that the CSV download puts before formula-like notes is taken off again."""
    kept = []
    value_columns = [mapping.get(name) for name in ("mwh", "quality", "note") if mapping.get(name) is not None]
    note = mapping.get("note")
    for number, cells in table.rows:
        if all(index >= len(cells) or _is_empty(cells[index]) for index in value_columns):
            result.skipped.append(number)
            continue
        if note is not None and note < len(cells) and isinstance(cells[note], str) and cells[note][:1] == "'" \
                and cells[note][1:2] in ("=", "+", "-", "@"):
            cells = list(cells)
            cells[note] = cells[note][1:]
        kept.append((number, cells))
    return replace(table, rows=kept)


def _compare(balance, result):
    before = {(entry.sector, entry.carrier): entry for entry in balance.entries}
    result.previous = before
    for item in result.entries:
        old = before.get((item.sector, item.carrier))
        if old is None:
            result.changes[(item.sector, item.carrier)] = "new"
        elif (Decimal(old.mwh).quantize(Decimal("0.001")) != Decimal(item.mwh).quantize(Decimal("0.001"))
              or (old.quality or None) != item.quality or (old.note or "") != (item.note or "")):
            result.changes[(item.sector, item.carrier)] = "changed"
        else:
            result.changes[(item.sector, item.carrier)] = "same"
    new_keys = {(item.sector, item.carrier) for item in result.entries}
    result.removed = sorted((entry for key, entry in before.items() if key not in new_keys), key=entry_order())


def _dry_compute(balance, result):
    """What the balance would be with the new values and today's factors (nothing stored)."""
    rows = [bisko.EnergyRow(item.sector, item.carrier, Decimal(item.mwh), item.quality) for item in result.entries]
    try:
        result.result = bisko.compute_balance(
            balance.year, balance.population, rows, services.factor_table(),
            heat_pump_apf=Decimal(balance.heat_pump_apf),
            heat_pump_power_in_electricity=balance.heat_pump_power_in_electricity,
            municipal_in_ghd=balance.municipal_in_ghd)
    except BalanceError as error:
        result.result_error = str(error)


# --- routes -------------------------------------------------------------------------------------

def _state_for(year):
    """The pending upload of this session for this balance year, or None."""
    state = uploads.pending(SESSION_KEY)
    if state is not None and state.get("year") != year:
        return None
    return state


def _analyse(balance, state, path=None):
    data = (path or uploads.upload_path(state["token"])).read_bytes()
    return analyse_upload(balance, data, state["filename"], state.get("encoding", "utf-8"))


@bp.route("/<int:year>/import", methods=["GET", "POST"])
@allow(STAFF)
def import_start(year):
    """Step 1: upload the file."""
    balance = balance_or_404(year)
    uploads.remove_stale_uploads()
    form = UploadForm()
    if form.validate_on_submit():
        staged = uploads.stage_upload(form, SESSION_KEY, extensions_message=_(
            "Bitte laden Sie eine CSV-Datei (.csv) oder eine Excel-Datei (.xlsx) hoch."))
        if staged is not None:
            state, _table = staged
            state["year"] = balance.year
            session[SESSION_KEY] = state
            return redirect(url_for("balance_staff.import_preview", year=balance.year))
    pending = uploads.stored(SESSION_KEY)
    return render_template("balance_staff/import.html", balance=balance, form=form,
                           pending=pending if pending and pending.get("year") == balance.year else None,
                           other_pending=pending if pending and pending.get("year") != balance.year else None,
                           max_size=importing.format_size(current_app.config["IMPORT_MAX_BYTES"]),
                           max_rows=services.MAX_ENTRY_ROWS, sectors=SECTOR_LABELS, qualities=QUALITY_LABELS,
                           carriers=services.carriers(), labels=ENTRY_LABELS, columns=services.ENTRY_COLUMNS)


@bp.get("/<int:year>/import/vorschau")
@allow(STAFF)
def import_preview(year):
    """Step 2: the dry run with every error, and what would change."""
    balance = balance_or_404(year)
    state = _state_for(balance.year)
    if state is None:
        return redirect(url_for("balance_staff.import_start", year=balance.year))
    result = _analyse(balance, state)
    return render_template("balance_staff/import_preview.html", balance=balance, state=state, result=result,
                           errors_shown=result.errors[:ERRORS_SHOWN], form=ConfirmImportForm(token=state["token"]),
                           cancel_form=ConfirmForm(), sectors=SECTOR_LABELS, carriers=services.carrier_names(),
                           refused=(balance.published and result.ok and result.result is None))


@bp.get("/<int:year>/import/fehler.csv")
@allow(STAFF)
def import_errors(year):
    """All errors of the pending upload as CSV (semicolon, UTF-8 with BOM)."""
    balance = balance_or_404(year)
    state = _state_for(balance.year)
    if state is None:
        return redirect(url_for("balance_staff.import_start", year=balance.year))
    result = _analyse(balance, state)
    rows = [[_("Zeile"), _("Spalte"), _("Meldung")]]
    rows += [[error.row or "", error.field_label or "", error.message] for error in result.errors]
    return csv_response(rows, f"bilanz-{balance.year}-import-fehler.csv")


class _Refused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@bp.post("/<int:year>/import/bestaetigen")
@allow(STAFF)
def import_confirm(year):
    """Step 3: replace every entry of the balance with the file's rows, or change nothing."""
    balance = balance_or_404(year)
    form = ConfirmImportForm()
    state = uploads.stored(SESSION_KEY)
    gone = _("Dieser Import wurde bereits ausgeführt, verworfen oder ist abgelaufen; es wurde nichts geändert.")
    if not form.validate_on_submit() or state is None or state.get("year") != balance.year \
            or not form.token.data or form.token.data != state.get("token"):
        flash(gone, "error")
        return redirect(url_for("balance_staff.import_start", year=balance.year))
    try:
        with uploads.claimed(state) as path:
            if path is None:
                session.pop(SESSION_KEY, None)
                flash(gone, "error")
                return redirect(url_for("balance_staff.import_start", year=balance.year))
            result = _analyse(balance, state, path=path)
            if not result.ok:
                raise _Refused(_("Es wurde nichts geändert: Die Datei hat Fehler."))
            services.replace_entries(balance, result.entries, current_user, action="balance.import")
            refused = published_guard(balance)
            if refused:
                raise _Refused(refused)
            record("balance.import_file", balance, actor=current_user,
                   details={"filename": state["filename"], "rows": len(result.entries)})
            db.session.commit()
    except _Refused as refusal:
        db.session.rollback()  # the upload is back in place, so the preview shows why
        flash(refusal.message, "error")
        return redirect(url_for("balance_staff.import_preview", year=balance.year))
    except BaseException:
        db.session.rollback()
        raise
    session.pop(SESSION_KEY, None)
    flash_outcome(balance, ngettext("%(num)d Wert aus „%(name)s“ übernommen.",
                                    "%(num)d Werte aus „%(name)s“ übernommen.", len(result.entries),
                                    name=state["filename"]))
    return redirect(url_for("balance_staff.balance", year=balance.year) + "#ergebnis")


@bp.post("/<int:year>/import/abbrechen")
@allow(STAFF)
def import_cancel(year):
    balance = balance_or_404(year)
    if ConfirmForm().validate_on_submit():
        state = session.pop(SESSION_KEY, None)
        if isinstance(state, dict):
            uploads.discard(state)
            flash(_("Der Import wurde verworfen; die hochgeladene Datei ist gelöscht."), "info")
    return redirect(url_for("balance_staff.import_start", year=balance.year))
