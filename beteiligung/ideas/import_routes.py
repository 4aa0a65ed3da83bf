"""Importing ideas in the staff area: upload, map the columns, dry run, confirm.

The uploaded file is kept by beteiligung.uploads under instance/imports/<random token>;
the session keeps only the token, the original name and the chosen settings, so no user
input ever becomes a path. Confirming claims (renames) the file before importing, so a
second click (or a second tab) finds nothing to import. Uploads are removed after the
import, when cancelled, when the same person uploads another file, and after 24 hours.
"""
import csv
import io

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from .. import uploads
from ..access import allow
from ..extensions import db
from ..forms import required
from ..roles import STAFF
from . import importing
from .models import SOURCE_LABELS, Source
from .services import active_districts, active_sectors
from .staff_routes import bp

SESSION_KEY = "idea_import"
ERRORS_SHOWN = 500
SAMPLE_ROWS = 3

IMPORT_SOURCES = [SelectChoice(source.value, SOURCE_LABELS[source]) for source in Source if source.is_analog]
NO_COLUMN = ""


# --- forms ------------------------------------------------------------------------------------

class UploadForm(FlaskForm):
    file = FileField(_l("Datei"), description=_l("CSV- oder Excel-Datei (.xlsx), erste Zeile mit den Spaltennamen."))
    source = SelectField(_l("Herkunft der Ideen"), choices=IMPORT_SOURCES, default=Source.LETTER.value,
                         validators=[required()],
                         description=_l("Gilt für alle Zeilen, in denen die Datei keine eigene Herkunft nennt."))
    encoding = SelectField(_l("Kodierung (nur bei CSV)"), choices=[SelectChoice(value, label) for value, label in importing.ENCODING_LABELS.items()],
                           default="utf-8", validators=[required()],
                           description=_l("Wenn Umlaute in der Vorschau falsch erscheinen oder Zeilen als ungültig "
                                          "kodiert gemeldet werden, wählen Sie Windows-1252."))
    submit = SubmitField(_l("Hochladen und Spalten zuordnen"))


def _column_field(target):
    return SelectField(importing.FIELD_LABELS[target], validate_choice=True, choices=[])


class MappingForm(FlaskForm):
    col_title = _column_field("title")
    col_text = _column_field("text")
    col_sector = _column_field("sector")
    col_district = _column_field("district")
    col_source = _column_field("source")
    col_event_name = _column_field("event_name")
    col_facilitator = _column_field("facilitator")
    col_dot_votes = _column_field("dot_votes")
    col_created_at = _column_field("created_at")
    # Sheet and encoding only re-read the file when they change; unknown values are ignored there.
    sheet = SelectField(_l("Tabellenblatt"), choices=[], validate_choice=False)
    encoding = SelectField(_l("Kodierung"), choices=[SelectChoice(value, label) for value, label in importing.ENCODING_LABELS.items()], validate_choice=False)
    source = SelectField(_l("Herkunft, wenn die Datei keine nennt"), choices=IMPORT_SOURCES, validators=[required()])
    submit = SubmitField(_l("Weiter zur Vorschau"))

    def column_fields(self):
        return [getattr(self, f"col_{target}") for target in importing.FIELDS]


class ConfirmImportForm(FlaskForm):
    token = HiddenField()
    submit = SubmitField(_l("Jetzt importieren"))


class CancelImportForm(FlaskForm):
    submit = SubmitField(_l("Import verwerfen"))


# --- the pending upload ---------------------------------------------------------------------

def _read(state, **overrides):
    """The table of the pending upload (raises importing.ImportFileError)."""
    settings = {"encoding": state.get("encoding", "utf-8"), "sheet": state.get("sheet")}
    settings.update(overrides)
    data = uploads.upload_path(state["token"]).read_bytes()
    return importing.read_table(data, state["filename"], encoding=settings["encoding"], sheet=settings["sheet"])


def _analyse(state, path=None):
    data = (path or uploads.upload_path(state["token"])).read_bytes()
    return importing.parse_file(data, state["filename"], encoding=state.get("encoding", "utf-8"),
                                sheet=state.get("sheet"), mapping=_stored_mapping(state),
                                default_source=state.get("source", Source.LETTER.value),
                                limit_bytes=current_app.config["IMPORT_MAX_BYTES"])


def _stored_mapping(state):
    mapping = state.get("mapping")
    if not isinstance(mapping, dict):
        return None
    return {target: mapping.get(target) for target in importing.FIELDS}


def _start_over(message=None):
    if message:
        flash(message, "error")
    return redirect(url_for("idea_staff.import_start"))


# --- pages ---------------------------------------------------------------------------------------

@bp.route("/ideen/import", methods=["GET", "POST"])
@allow(STAFF)
def import_start():
    """Step 1: upload a file."""
    uploads.remove_stale_uploads()
    form = UploadForm()
    if form.validate_on_submit():
        staged = uploads.stage_upload(form, SESSION_KEY, extensions_message=_(
            "Bitte laden Sie eine CSV-Datei (.csv) oder eine Excel-Datei (.xlsx) hoch."))
        if staged is not None:
            state, _table = staged
            session[SESSION_KEY] = {**state, "source": form.source.data}
            return redirect(url_for("idea_staff.import_mapping"))
    return render_template("idea_staff/import.html", form=form, pending=uploads.stored(SESSION_KEY),
                           cancel_form=CancelImportForm(),
                           max_size=importing.format_size(current_app.config["IMPORT_MAX_BYTES"]),
                           max_rows=importing.max_rows(), fields=importing.FIELDS, labels=importing.FIELD_LABELS,
                           examples=importing.COLUMN_EXAMPLES, sectors=active_sectors(), districts=active_districts(),
                           sources=[choice.label for choice in IMPORT_SOURCES])


@bp.route("/ideen/import/zuordnung", methods=["GET", "POST"])
@allow(STAFF)
def import_mapping():
    """Step 2: which column holds which field; sheet and encoding."""
    state = uploads.pending(SESSION_KEY)
    if state is None:
        return _start_over()
    form = MappingForm()
    if form.is_submitted():
        changed = {}
        if state.get("kind") == "csv" and form.encoding.data in importing.ENCODINGS \
                and form.encoding.data != state.get("encoding"):
            changed["encoding"] = form.encoding.data
        if state.get("kind") == "xlsx" and isinstance(form.sheet.data, str) and form.sheet.data \
                and form.sheet.data != state.get("sheet"):
            changed["sheet"] = form.sheet.data
        if changed:
            try:
                table = _read(state, **changed)
            except importing.ImportFileError as error:
                flash(error.message, "error")
            else:
                state = {**state, **changed, "sheet": table.sheet, "encoding": table.encoding or state["encoding"]}
                state.pop("mapping", None)
                session[SESSION_KEY] = state
                flash(_("Die Spalten wurden neu eingelesen. Bitte prüfen Sie die Zuordnung."), "info")
            return redirect(url_for("idea_staff.import_mapping"))
    try:
        table = _read(state)
    except importing.ImportFileError as error:
        uploads.discard(state)
        session.pop(SESSION_KEY, None)
        return _start_over(error.message)
    choices = [SelectChoice(NO_COLUMN, _("– keine Spalte –"))] + [
        SelectChoice(str(index), importing.column_label(index, table.header)) for index in range(len(table.header))]
    for column_field in form.column_fields():
        column_field.choices = choices
    form.sheet.choices = [SelectChoice(name, name) for name in table.sheet_names] or [SelectChoice("", "–")]
    mapping = _stored_mapping(state) or importing.auto_mapping(table.header)
    if request.method == "GET":
        for target in importing.FIELDS:
            index = mapping.get(target)
            getattr(form, f"col_{target}").data = NO_COLUMN if index is None else str(index)
        form.sheet.data = table.sheet or ""
        form.encoding.data = state.get("encoding", "utf-8")
        form.source.data = state.get("source", Source.LETTER.value)
    elif form.validate():
        for target in importing.REQUIRED_COLUMNS:
            column_field = getattr(form, f"col_{target}")
            if column_field.data == NO_COLUMN:
                column_field.errors.append(_("Bitte wählen Sie die Spalte für dieses Pflichtfeld."))
        if not form.errors:
            state = {**state, "source": form.source.data,
                     "mapping": {target: (None if getattr(form, f"col_{target}").data == NO_COLUMN
                                          else int(getattr(form, f"col_{target}").data))
                                 for target in importing.FIELDS}}
            session[SESSION_KEY] = state
            return redirect(url_for("idea_staff.import_preview"))
    sample = [cells for _number, cells in table.rows[:SAMPLE_ROWS]]
    return render_template("idea_staff/import_mapping.html", form=form, state=state, table=table,
                           header=[importing.column_label(index, table.header) for index in range(len(table.header))],
                           sample=[[importing.display(cells[index]) if index < len(cells) else ""
                                    for index in range(len(table.header))] for cells in sample],
                           cancel_form=CancelImportForm(), auto=importing.auto_mapping(table.header),
                           delimiter_label=importing.delimiter_label(table.delimiter),
                           required_fields=importing.REQUIRED_COLUMNS)


@bp.route("/ideen/import/vorschau")
@allow(STAFF)
def import_preview():
    """Step 3: the dry run: every error, the first rows, and the button."""
    state = uploads.pending(SESSION_KEY)
    if state is None:
        return _start_over()
    result = _analyse(state)
    db.session.rollback()  # the dry run reads only
    return render_template("idea_staff/import_preview.html", result=result, state=state,
                           errors_shown=result.errors[:ERRORS_SHOWN],
                           form=ConfirmImportForm(token=state["token"]), cancel_form=CancelImportForm(),
                           source_labels={source.value: SOURCE_LABELS[source] for source in Source})


@bp.route("/ideen/import/fehler.csv")
@allow(STAFF)
def import_errors():
    """All errors of the pending upload as a CSV for Excel (semicolon, UTF-8 with BOM)."""
    state = uploads.pending(SESSION_KEY)
    if state is None:
        return _start_over()
    result = _analyse(state)
    db.session.rollback()
    from .exporting import _cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Zeile"), _("Feld"), _("Meldung")])
    for error in result.errors:
        writer.writerow([error.row or "", _cell(error.field_label or ""), _cell(error.message)])
    response = current_app.response_class("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="import-fehler.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/ideen/import/bestaetigen", methods=["POST"])
@allow(STAFF)
def import_confirm():
    """Step 4: import everything or nothing; the upload is consumed, so it imports once."""
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
            result = _analyse(state, path=path)
            ids = importing.commit(result, current_user._get_current_object(), filename=state["filename"])
    except importing.ImportFailed as failed:
        db.session.rollback()  # the upload is back in place, so the mapping can be corrected
        flash(ngettext("Es wurde nichts importiert: %(num)d Fehler. Bitte korrigieren Sie die Datei oder die "
                       "Zuordnung.", "Es wurde nichts importiert: %(num)d Fehler. Bitte korrigieren Sie die Datei "
                       "oder die Zuordnung.", len(failed.errors)), "error")
        return redirect(url_for("idea_staff.import_preview"))
    except BaseException:
        db.session.rollback()
        raise
    session.pop(SESSION_KEY, None)
    flash(ngettext("%(num)d Idee aus „%(name)s“ importiert.", "%(num)d Ideen aus „%(name)s“ importiert.",
                   len(ids), name=state["filename"]), "success")
    if "idea_staff.ideas" in current_app.view_functions:
        return redirect(url_for("idea_staff.ideas", sort="newest"))
    return redirect(url_for("idea_staff.import_start"))


@bp.route("/ideen/import/abbrechen", methods=["POST"])
@allow(STAFF)
def import_cancel():
    if CancelImportForm().validate_on_submit():
        state = session.pop(SESSION_KEY, None)
        if isinstance(state, dict):
            uploads.discard(state)
            flash(_("Der Import wurde verworfen; die hochgeladene Datei ist gelöscht."), "info")
    return redirect(url_for("idea_staff.import_start"))
