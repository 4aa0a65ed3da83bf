"""Staff pages for the whole plan: export (PDF in the background, XLSX and CSV at once) and import
(upload, dry run with every error, confirm, result).

The upload is kept by beteiligung.uploads, as for the idea import (instance/imports/<random
token>, the session holds only the token and the file name); confirming claims (renames) the
file first, so a second click or a second tab imports nothing.
"""
import csv
import io

from flask import abort, current_app, flash, jsonify, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from .. import uploads
from ..access import allow
from ..extensions import db
from ..forms import required
from ..ideas import importing
from ..ideas.services import active_sectors
from ..roles import STAFF
from . import exchange, exports
from .download_routes import file_response
from .models import PlanExport
from .savings import carriers
from .staff import bp

SESSION_KEY = "measure_import"
RESULT_KEY = "measure_import_result"
ERRORS_SHOWN = 500
RESULT_NUMBERS = 40  # numbers listed on the result page (the session cookie stays small)


# --- forms ------------------------------------------------------------------------------------

class ExportForm(FlaskForm):
    fmt = RadioField(_l("Format"), validators=[required(_l("Bitte wählen Sie ein Format."))], choices=[
        SelectChoice("pdf", _l("PDF – der ganze Plan zum Lesen und Drucken, mit Inhaltsverzeichnis")),
        SelectChoice("xlsx", _l("Excel (XLSX) – eine Zeile je Maßnahme, zum Bearbeiten und wieder Importieren")),
        SelectChoice("csv", _l("CSV – wie XLSX, für andere Programme (UTF-8, Semikolon)")),
    ])
    submit = SubmitField(_l("Exportieren"))


class UploadForm(FlaskForm):
    file = FileField(_l("Datei"), description=_l("Excel-Datei (.xlsx) oder CSV-Datei, erste Zeile mit den "
                                                 "Spaltennamen – am einfachsten ein Export, den Sie bearbeitet haben."))
    encoding = SelectField(_l("Kodierung (nur bei CSV)"), default="utf-8", validators=[required()],
                           choices=[SelectChoice(value, label) for value, label in importing.ENCODING_LABELS.items()],
                           description=_l("Wenn Umlaute falsch erscheinen oder die Vorschau eine ungültige Kodierung "
                                          "meldet, wählen Sie Windows-1252."))
    submit = SubmitField(_l("Hochladen und prüfen"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField()
    submit = SubmitField(_l("Jetzt importieren"))


class CancelImportForm(FlaskForm):
    submit = SubmitField(_l("Import verwerfen"))


# --- export -------------------------------------------------------------------------------------

def _export_or_404(export_id):
    export = db.session.get(PlanExport, export_id)
    if export is None:
        abort(404)
    exports.active_export()  # marks a silent export as failed
    return export


@bp.route("/export", methods=["GET", "POST"])
@allow(STAFF)
def export_start():
    """Choose a format: XLSX and CSV download at once, the PDF is built in the background."""
    form = ExportForm()
    if form.validate_on_submit():
        fmt = form.fmt.data
        if fmt == "pdf":
            export = exports.start_pdf_export(current_user._get_current_object())
            return redirect(url_for("measure_staff.export_progress", export_id=export.id))
        data = exchange.export(fmt)
        return file_response(data, fmt, exchange.export_filename(fmt), private=True)
    if not form.is_submitted():
        form.fmt.data = "pdf"
    return render_template("measure_staff/export.html", form=form, running=exports.active_export(),
                           recent=exports.recent_exports(), latest=exports.latest_pdf() is not None,
                           state_label=exports.state_label)


@bp.get("/export/<int:export_id>")
@allow(STAFF)
def export_progress(export_id):
    export = _export_or_404(export_id)
    return render_template("measure_staff/export_progress.html", export=export, percent=exports.percent(export),
                           message=exports.progress_message(export))


@bp.get("/export/<int:export_id>/fortschritt")
@allow(STAFF)
def export_status(export_id):
    export = _export_or_404(export_id)
    download = url_for("measure_staff.export_download", export_id=export.id) if export.state == exports.DONE else None
    response = jsonify({"state": export.state, "state_label": exports.state_label(export), "done": export.done,
                        "total": export.total, "percent": exports.percent(export), "error": export.error or None,
                        "download_url": download, "message": exports.progress_message(export)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export/<int:export_id>/datei")
@allow(STAFF)
def export_download(export_id):
    export = _export_or_404(export_id)
    if export.state != exports.DONE or export.content is None:
        flash(_("Die Datei ist noch nicht fertig."), "info")
        return redirect(url_for("measure_staff.export_progress", export_id=export.id))
    return file_response(export.content, export.fmt, exports.pdf_filename(export), private=True)


# --- import ---------------------------------------------------------------------------------------

def _analyse(state, path=None):
    data = (path or uploads.upload_path(state["token"])).read_bytes()
    return exchange.analyse_file(data, state["filename"], encoding=state.get("encoding", "utf-8"),
                                 limit_bytes=current_app.config["IMPORT_MAX_BYTES"])


def _start_over(message=None):
    if message:
        flash(message, "error")
    return redirect(url_for("measure_staff.import_start"))


@bp.route("/import", methods=["GET", "POST"])
@allow(STAFF)
def import_start():
    """Step 1: upload a file (XLSX or CSV)."""
    uploads.remove_stale_uploads()
    form = UploadForm()
    if form.validate_on_submit():
        staged = uploads.stage_upload(form, SESSION_KEY, extensions_message=_(
            "Bitte laden Sie eine Excel-Datei (.xlsx) oder eine CSV-Datei (.csv) hoch."))
        if staged is not None:
            state, _table = staged
            session[SESSION_KEY] = state
            session.pop(RESULT_KEY, None)
            return redirect(url_for("measure_staff.import_preview"))
    return render_template("measure_staff/import.html", form=form, pending=uploads.stored(SESSION_KEY),
                           max_size=importing.format_size(current_app.config["IMPORT_MAX_BYTES"]),
                           max_rows=importing.max_rows(), columns=exchange.column_help(),
                           notes=exchange.general_notes(), sectors=active_sectors(), carriers=carriers())


@bp.get("/import/vorschau")
@allow(STAFF)
def import_preview():
    """Step 2: the dry run: what would be created and updated, and every error with its row."""
    state = uploads.pending(SESSION_KEY)
    if state is None:
        return _start_over()
    result = exchange.dry_run(_analyse(state), current_user._get_current_object())
    plan = sorted((row for row in result.rows if row.action), key=lambda row: row.row)
    return render_template("measure_staff/import_preview.html", result=result, state=state, plan=plan,
                           plan_shown=plan[:exchange.PREVIEW_ROWS], errors_shown=result.errors[:ERRORS_SHOWN],
                           form=ConfirmImportForm(token=state["token"]))


@bp.get("/import/fehler.csv")
@allow(STAFF)
def import_errors():
    """All errors of the pending upload as a CSV for Excel (semicolon, UTF-8 with BOM)."""
    state = uploads.pending(SESSION_KEY)
    if state is None:
        return _start_over()
    result = exchange.dry_run(_analyse(state), current_user._get_current_object())
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Zeile"), _("Spalte"), _("Meldung")])
    for error in result.errors:
        writer.writerow([error.row or "", exchange.csv_text(error.field_label or ""), exchange.csv_text(error.message)])
    response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="massnahmen-import-fehler.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/import/bestaetigen")
@allow(STAFF)
def import_confirm():
    """Step 3: write everything or nothing; the upload is consumed, so it imports once."""
    form = ConfirmImportForm()
    state = uploads.stored(SESSION_KEY)
    gone = _("Dieser Import wurde bereits ausgeführt, verworfen oder ist abgelaufen; es wurde nichts importiert.")
    if not form.validate_on_submit() or state is None or not form.token.data \
            or form.token.data != state.get("token"):
        return _start_over(gone)
    try:
        with uploads.claimed(state) as path:
            if path is None:  # another request took it, or it is gone
                session.pop(SESSION_KEY, None)
                return _start_over(gone)
            result = exchange.commit(_analyse(state, path=path), current_user._get_current_object())
    except exchange.ImportFailed as failed:
        db.session.rollback()  # the upload is back in place, so the preview shows the errors again
        flash(ngettext("Es wurde nichts importiert: %(num)d Fehler.", "Es wurde nichts importiert: %(num)d Fehler.",
                       len(failed.errors)), "error")
        return redirect(url_for("measure_staff.import_preview"))
    except BaseException:
        db.session.rollback()
        raise
    session.pop(SESSION_KEY, None)
    session[RESULT_KEY] = {
        "filename": state["filename"], "created": len(result.created), "updated": len(result.updated),
        "unchanged": len(result.unchanged),
        "created_numbers": [row.result_number for row in result.created][:RESULT_NUMBERS],
        "updated_numbers": [row.result_number for row in result.updated][:RESULT_NUMBERS],
    }
    return redirect(url_for("measure_staff.import_result"))


@bp.get("/import/ergebnis")
@allow(STAFF)
def import_result():
    outcome = session.get(RESULT_KEY)
    if not isinstance(outcome, dict):
        return redirect(url_for("measure_staff.import_start"))
    return render_template("measure_staff/import_result.html", outcome=outcome)


@bp.post("/import/abbrechen")
@allow(STAFF)
def import_cancel():
    if CancelImportForm().validate_on_submit():
        state = session.pop(SESSION_KEY, None)
        if isinstance(state, dict):
            uploads.discard(state)
            flash(_("Der Import wurde verworfen; die hochgeladene Datei ist gelöscht."), "info")
    return redirect(url_for("measure_staff.import_start"))
