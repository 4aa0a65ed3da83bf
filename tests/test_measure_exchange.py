"""The measure plan as XLSX and CSV: the columns and the structured cells, exact round trips into an
empty migrated database, the all-or-nothing import with row numbers, the command line, the staff
pages and who may use them."""
import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, func, make_url, select, text

from beteiligung.audit.models import AuditEntry
from beteiligung.extensions import db
from beteiligung.measures import exchange, services
from beteiligung.measures.models import Measure

from .conftest import is_postgres, login_as, post_form

HEADERS = [str(column.header) for column in exchange.COLUMNS]
INFORMATIONAL = {"Ideen", "Stand"}
LONG_TEXT = ("Die Stadt **saniert** ihre Schulen und Kitas.\n\n- Dämmung der Fassaden\n- Austausch der Fenster\n\n"
             "Zweiter Absatz mit Umlauten: Öfen, Übergänge, Straßen; und Anführungszeichen „so“ und \"so\".")


def sector(code):
    from beteiligung.ideas.services import find_sector

    return find_sector(code)


def build_rich_plan(actor=None):
    """Three sheets that use every field, part and awkward character; returns their numbers."""
    rich = services.save_sheet(None, actor, {
        "title": "Wärmenetz Lobeda – Anschluss öffentlicher Gebäude", "sector": sector("energie"),
        "measure_type": "technisch", "priority": "hoch", "goal": LONG_TEXT, "starting_situation": "=Formel? Nein.",
        "description": "- beginnt mit einem Spiegelstrich\n- zweite Zeile", "target_group": "Schulen, Kitas",
        "lead_unit": "Fachdienst Umwelt <script>alert(1)</script>", "partners": "Stadtwerke\nWohnungsgenossenschaft",
        "start_year": 2025, "end_year": 2031, "ramp_up_years": 3, "cost_one_off_eur": "1.250.000,50",
        "cost_per_year_eur": "20000", "staff_fte": "0,5", "funding": "BEG; KfW 432 (50 %)",
        "savings_method": "carriers", "savings_note": "Abschätzung nach BISKO", "co_benefits": "Komfort",
        "regional_value_added": "Handwerk vor Ort", "obstacles": "Fachkräfte | Lieferzeiten",
        "status": "in Umsetzung", "progress": 40, "adopted_on": date(2025, 3, 12)},
        milestones=[services.Milestone("Ausschreibung | Los 1", date(2026, 6, 30), date(2026, 6, 20)),
                    services.Milestone("Bau beginnt", date(2027, 3, 1)),
                    services.Milestone("Bürgerinformation ohne Termin")],
        energy=[("erdgas", Decimal("1500")), ("strom", Decimal("-120.5")), ("heizoel", Decimal("0.25"))],
        indicators=[
            services.Indicator("Angeschlossene Gebäude", "Anzahl", Decimal(12), 2022, Decimal(40), 2030,
                               [(2023, Decimal(15), "Zählung; Mai [vorläufig]"), (2024, Decimal("1.123"), "")]),
            services.Indicator("Wärmeabsatz", "", None, None, Decimal("0.5"), 2030, []),
        ])
    minimal = services.save_sheet(None, actor, {"title": "Repair-Café fördern", "sector": sector("uebergreifend")})
    done = services.save_sheet(None, actor, {
        "title": "Straßenbeleuchtung auf LED", "sector": sector("verwaltung"), "number": "M-3.10",
        "savings_method": "direkt angegeben", "savings_mwh_per_year": "-12,25", "savings_t_co2e_per_year": "300",
        "status": "umgesetzt", "progress": 100, "start_year": 2024, "duration": "kurzfristig (bis 3 Jahre)",
        "priority": "niedrig"})
    return [rich.number, minimal.number, done.number]


@pytest.fixture
def plan(app, idea_setup, make_idea):
    idea_id = make_idea(title="Schulen ans Wärmenetz")
    with app.test_request_context():
        numbers = build_rich_plan()
        from beteiligung.ideas.models import Idea

        measure = db.session.scalar(select(Measure).where(Measure.number == numbers[0]))
        services.link_ideas(measure, [db.session.get(Idea, idea_id)], None, "Passt zum Wärmenetz.")
        db.session.commit()
    return numbers


@pytest.fixture
def staff(users):
    return users["staff"]


def measure_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Measure.id)))


def audit_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.id)))


def export(app, fmt):
    with app.test_request_context():
        return exchange.export(fmt)


def xlsx_cells(data):
    workbook = load_workbook(io.BytesIO(data))
    return {sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()] for sheet in workbook.worksheets}


def without_informational(rows, header):
    keep = [index for index, name in enumerate(header) if name not in INFORMATIONAL]
    return [[row[index] if index < len(row) else None for index in keep] for row in rows]


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=";"))


def xlsx_file(rows, header=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row_of(**values):
    """A data row in the export's column order from header -> value."""
    return [values.get(name) for name in HEADERS]


def analyse(app, data, filename="plan.xlsx", **kwargs):
    with app.test_request_context():
        result = exchange.analyse_file(data, filename, **kwargs)
        exchange.dry_run(result, None)
        return result


# --- the cells ------------------------------------------------------------------------------------

def test_export_has_one_row_per_measure_with_typed_cells_and_a_notes_sheet(app, plan):
    data = export(app, "xlsx")
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Maßnahmen", "Hinweise"]
    sheet = workbook["Maßnahmen"]
    assert sheet.freeze_panes == "B2" and sheet["A1"].font.bold
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == HEADERS and len(rows) == 4
    assert [row[0] for row in rows[1:]] == ["M-3.10", "M-5.1", "M-6.1"]  # by number
    rich = dict(zip(HEADERS, rows[2]))
    assert rich["Einmalige Kosten (€)"] == 1250000.5 and rich["Beginn (Jahr)"] == 2025
    assert rich["Beschlossen am"].date() == date(2025, 3, 12)  # a date cell, not text
    assert rich["Handlungsfeld"] == "Energieversorgung" and rich["Status"] == "in Umsetzung"
    assert rich["Meilensteine"].split("\n") == [
        "2026-06-30 | Ausschreibung | Los 1 | erledigt 2026-06-20", "2027-03-01 | Bau beginnt",
        "– | Bürgerinformation ohne Termin"]
    assert rich["Energieeinsparung je Energieträger"].split("\n") == ["erdgas: 1500", "heizoel: 0,25",
                                                                      "strom: -120,5"]
    assert rich["Indikatoren"].split("\n") == [
        "Angeschlossene Gebäude | Anzahl | Basis: 12 (2022) | Ziel: 40 (2030) | "
        "Ist: 2023=15 [Zählung; Mai [vorläufig]]; 2024=1,123",
        "Wärmeabsatz |  | Ziel: 0,5 (2030)"]
    assert rich["Endenergieeinsparung (MWh/a)"] == 1379.75  # computed from the carriers
    assert rich["Ideen"] and rich["Stand"] is not None
    assert sheet.cell(row=3, column=HEADERS.index("Ausgangslage") + 1).data_type == "s"  # "=..." stays text
    notes = [row[0] for row in workbook["Hinweise"].iter_rows(values_only=True) if row and row[0]]
    assert "Meilensteine" in notes and "Energieversorgung" in notes and "Erdgas" in notes


def test_csv_is_utf8_with_bom_and_semicolons_for_excel(app, plan):
    rows = csv_rows(export(app, "csv"))
    assert rows[0] == HEADERS
    rich = dict(zip(HEADERS, rows[2]))
    assert rich["Einmalige Kosten (€)"] == "1250000,5" and rich["Beschlossen am"] == "12.03.2025"
    assert rich["Ausgangslage"] == "'=Formel? Nein." and rich["Beschreibung"].startswith("'- beginnt")
    assert rich["Beteiligte und Partner"] == "Stadtwerke\nWohnungsgenossenschaft"


@pytest.mark.parametrize("value, expected", [
    (Decimal("1500.00"), "1500"), (Decimal("-120.50"), "-120,5"), (Decimal("1.123"), "1,123"),
    (Decimal("0.001"), "0,001"), (Decimal("1234.567"), "1234,567"), (Decimal("0"), "0"), (Decimal("-0.00"), "0")])
def test_numbers_in_text_cells_read_back_exactly(value, expected):
    from beteiligung.measures.sheet import parse_number

    assert exchange.format_number(value) == expected
    assert parse_number(expected) == value


def test_structured_cells_accept_german_numbers_names_and_dates(app):
    with app.test_request_context():
        milestones, errors = exchange.parse_milestones("30.06.2026 | Start | erledigt am 20.06.2026\nOhne | Datum")
        assert errors == ["Meilenstein 2: „Ohne“ ist kein Datum. Schreiben Sie den Meilenstein als „JJJJ-MM-TT | "
                          "Titel“ oder „– | Titel“ ohne Datum."]
        assert milestones[0] == services.Milestone("Start", date(2026, 6, 30), date(2026, 6, 20))
        energy, errors = exchange.parse_energy("Erdgas: 1.500,5 MWh\nstrom = -120\nKernfusion: 3\nholz: viel")
        assert energy == [("erdgas", Decimal("1500.5")), ("strom", Decimal("-120"))]
        assert len(errors) == 2 and "Kernfusion" in errors[0] and "viel" in errors[1]
        indicators, errors = exchange.parse_indicators(
            "Radverkehrsanteil | % | Ziel: 25 (2030) | Basis: 12,5 (2022) | Ist: 2023=13,5; 2024=15 [Zählung]\n"
            "Kaputt | m | Ziel: viele (20x0) | Ist: 2023")
        assert indicators[0].target_value == 25 and indicators[0].baseline_value == Decimal("12.5")
        assert indicators[0].values == [(2023, Decimal("13.5"), ""), (2024, Decimal(15), "Zählung")]
        assert len(errors) == 3 and all(error.startswith("Indikator 2") for error in errors)


# --- round trips ------------------------------------------------------------------------------------

ROUND_TRIP_DB = "h_measure_exchange_roundtrip"


@pytest.fixture
def migrated_app(tmp_path, database_url):
    """A second app on an empty database built by the migrations (they seed the fields of action)."""
    from flask_migrate import upgrade

    from beteiligung import create_app
    from beteiligung.config import TestingConfig

    admin = None
    if is_postgres(database_url):
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{ROUND_TRIP_DB}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{ROUND_TRIP_DB}"'))
        url = make_url(database_url).set(database=ROUND_TRIP_DB).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    other = create_app(TestingConfig(url))
    with other.app_context():
        upgrade()
        assert db.session.scalar(select(func.count(Measure.id))) == 0
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{ROUND_TRIP_DB}" WITH (FORCE)'))
        admin.dispose()


def import_into(target, data, filename):
    with target.test_request_context():
        result = exchange.analyse_file(data, filename)
        assert [error.format() for error in result.errors] == []
        exchange.commit(result, None)
        return result


def test_xlsx_and_csv_round_trip_exactly_through_an_empty_migrated_database(app, plan, migrated_app):
    from beteiligung.balance import reference, services as balance_services

    with app.app_context():  # the migrated database has the reference factors: so has this one
        reference.ensure_reference_data()
        balance_services.refresh_measure_savings()
        db.session.commit()
    first = export(app, "xlsx")
    result = import_into(migrated_app, first, "plan.xlsx")
    assert len(result.created) == 3 and not result.updated
    second = export(migrated_app, "xlsx")
    before, after = xlsx_cells(first), xlsx_cells(second)
    assert without_informational(after["Maßnahmen"], HEADERS) == without_informational(before["Maßnahmen"], HEADERS)
    assert after["Hinweise"] == before["Hinweise"]

    # The same file again changes nothing.
    with migrated_app.test_request_context():
        again = exchange.analyse_file(second, "plan.xlsx")
        exchange.commit(again, None)
        assert len(again.unchanged) == 3 and not again.created and not again.updated

    first_csv = export(app, "csv")
    with migrated_app.app_context():
        for measure in db.session.scalars(select(Measure)):
            db.session.delete(measure)
        db.session.commit()
    import_into(migrated_app, first_csv, "plan.csv")
    second_csv = export(migrated_app, "csv")
    assert without_informational(csv_rows(second_csv), HEADERS) == without_informational(csv_rows(first_csv), HEADERS)


# --- importing ----------------------------------------------------------------------------------------

def test_import_creates_updates_and_numbers_rows(app, plan):
    data = xlsx_file([
        row_of(Nummer="M-5.1", Titel="Wärmenetz Lobeda – neu benannt", Handlungsfeld="energie"),
        row_of(Titel="Balkonkraftwerke fördern", Handlungsfeld="Energieversorgung", Status="geplant"),
        row_of(Nummer="M-4.7", Titel="Tempo 30 in Wohngebieten", Handlungsfeld="Mobilität"),
    ], header=None)
    with app.test_request_context():
        result = exchange.analyse_file(data, "plan.xlsx")
        exchange.commit(result, None)
        assert [(row.row, row.action, row.result_number) for row in result.rows] == [
            (2, "update", "M-5.1"), (3, "create", "M-5.2"), (4, "create", "M-4.7")]
        renamed = db.session.scalar(select(Measure).where(Measure.number == "M-5.1"))
        assert renamed.title == "Wärmenetz Lobeda – neu benannt"
        assert renamed.priority is None and renamed.milestones == []  # empty cells empty the fields
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "measures.imported")).new_values == {
            "created": 2, "updated": 1}


def test_missing_columns_leave_existing_fields_alone(app, plan):
    data = xlsx_file([["M-5.1", "Wärmenetz Lobeda – kürzer", "Energieversorgung", "umgesetzt"]],
                     header=["number", "title", "sector", "status"])  # the code names work as headers too
    with app.test_request_context():
        result = exchange.analyse_file(data, "plan.xlsx")
        exchange.commit(result, None)
        assert result.updated[0].changes == ["Titel", "Status", "Fortschritt (%)"]
        measure = db.session.scalar(select(Measure).where(Measure.number == "M-5.1"))
        assert measure.status == "done" and measure.progress == 100
        assert len(measure.milestones) == 3 and len(measure.indicators) == 2 and measure.goal == LONG_TEXT


def test_every_bad_row_is_reported_with_its_row_number_and_nothing_is_written(app, plan):
    counts = measure_count(app), audit_count(app)
    data = xlsx_file([
        row_of(Titel="Gute Zeile", Handlungsfeld="energie"),  # 2
        row_of(Titel="Unbekanntes Feld", Handlungsfeld="Raumfahrt", **{"Beginn (Jahr)": 1850}),  # 3
        row_of(Titel="Kaputte Teile", Handlungsfeld="energie", Meilensteine="morgen | Start",
               **{"Energieeinsparung je Energieträger": "kernfusion: 5"}),  # 4
        row_of(Nummer="M-9.1", Titel="Doppelte Nummer A", Handlungsfeld="energie"),  # 5
        row_of(Nummer="M-9.1", Titel="Doppelte Nummer B", Handlungsfeld="energie"),  # 6
        row_of(Titel="gute zeile", Handlungsfeld="energie"),  # 7: the title of row 2 again
        row_of(Handlungsfeld="energie"),  # 8: no title
        row_of(Titel="Repair-Café fördern", Handlungsfeld="energie"),  # 9: a title the plan has
        row_of(Titel="Schlechter Indikator", Handlungsfeld="energie", Indikatoren="CO₂ | t | Ziel: viel"),  # 10
        row_of(Titel="Verkehrt", Handlungsfeld="energie", **{"Beginn (Jahr)": 2030, "Ende (Jahr)": 2026,
                                                             "Fortschritt (%)": 140}),  # 11
    ])
    result = analyse(app, data)
    by_row = {}
    for error in result.errors:
        by_row.setdefault(error.row, []).append(error)
    assert sorted(by_row) == [3, 4, 6, 7, 8, 9, 10, 11]
    messages = {row: " ".join(error.format() for error in errors) for row, errors in by_row.items()}
    assert "Zeile 3, Handlungsfeld: Das Handlungsfeld „Raumfahrt“ gibt es nicht" in messages[3]
    assert "Beginn (Jahr)" in messages[3]
    assert "Meilensteine" in messages[4] and "kernfusion" in messages[4]
    assert "in Zeile 5 und in Zeile 6" in messages[6]
    assert "in Zeile 2 und in Zeile 7" in messages[7]
    assert "„Titel“ fehlt" in messages[8]
    assert "gibt es bereits: M-6.1" in messages[9]
    assert "Indikator 1: „viel“ ist keine Zahl" in messages[10]
    assert "Ende" in messages[11] and "Fortschritt" in messages[11]
    assert result.errors == sorted(result.errors, key=lambda error: error.row)
    assert (measure_count(app), audit_count(app)) == counts
    with app.test_request_context(), pytest.raises(exchange.ImportFailed):
        exchange.commit(exchange.analyse_file(data, "plan.xlsx"), None)
    assert (measure_count(app), audit_count(app)) == counts


def test_dry_run_reports_the_plan_and_writes_nothing(app, plan):
    counts = measure_count(app), audit_count(app)
    data = export(app, "xlsx")
    result = analyse(app, data)
    assert len(result.unchanged) == 3 and result.ok
    result = analyse(app, xlsx_file([row_of(Titel="Neu im Plan", Handlungsfeld="Übergreifend")]))
    assert [(row.action, row.result_number, row.sector_name) for row in result.rows] == [
        ("create", "M-6.2", "Übergreifend")]
    assert (measure_count(app), audit_count(app)) == counts


def csv_file(rows, header=None, encoding="utf-8"):
    lines = [";".join(header or ["Titel", "Handlungsfeld"])] + [";".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


BROKEN_FILES = [
    ("not a zip", b"kein zip", "plan.xlsx", {}, "keine gültige Excel-Datei"),
    ("old xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1alt", "plan.xls", {}, "alten Excel-Format"),
    ("empty", b"", "plan.csv", {}, "Die Datei ist leer."),
    ("header only", b"Titel;Handlungsfeld\r\n", "plan.csv", {}, "nur die Kopfzeile"),
    ("wrong encoding", csv_file([["Wärme", "energie"]], encoding="cp1252"), "plan.csv", {}, "Kodierung cp1252"),
    ("too big", csv_file([["A", "energie"]]) * 50, "plan.csv", {"limit_bytes": 100}, "Die Datei ist zu groß"),
    ("unknown columns", csv_file([["A", "energie", "x", "y"]], header=["Titel", "Handlungsfeld", "Farbe", "Budget"]),
     "plan.csv", {}, "Unbekannte Spalten: C: „Farbe“, D: „Budget“"),
    ("no title", csv_file([["energie"]], header=["Handlungsfeld"]), "plan.csv", {}, "Die Spalte „Titel“ fehlt"),
    ("no sector", csv_file([["A"]], header=["Titel"]), "plan.csv", {}, "Die Spalte „Handlungsfeld“ fehlt"),
    ("duplicate column", csv_file([["A", "energie", "B"]], header=["Titel", "Handlungsfeld", "title"]), "plan.csv",
     {}, "steht zweimal in der Kopfzeile"),
]


def test_broken_files_give_one_clear_message(app, idea_setup):
    for case, data, filename, kwargs, expected in BROKEN_FILES:
        result = analyse(app, data, filename, **kwargs)
        assert len(result.errors) == 1 and not result.rows and not result.ok, case
        assert expected in result.errors[0].message, (case, result.errors[0].message)
    assert measure_count(app) == 0


def test_too_many_rows_are_refused(app, idea_setup):
    app.config["IMPORT_MAX_ROWS"] = 3
    try:
        result = analyse(app, csv_file([[f"Titel {n}", "energie"] for n in range(5)]), "plan.csv")
    finally:
        del app.config["IMPORT_MAX_ROWS"]
    assert [error.message for error in result.errors] == [
        "Die Datei enthält mehr als 3 Zeilen. Bitte teilen Sie sie in mehrere Dateien auf."]


def test_cp1252_csv_with_commas_imports(app, idea_setup):
    data = "Titel,Handlungsfeld,Einmalige Kosten (€)\r\nWärmepumpen für Schulen,Übergreifend,\"1.500,50\"\r\n"
    with app.test_request_context():
        result = exchange.analyse_file(data.encode("cp1252"), "plan.csv", encoding="cp1252")
        exchange.commit(result, None)
        measure = db.session.scalar(select(Measure))
        assert (measure.title, measure.sector.code, measure.cost_one_off_eur) == (
            "Wärmepumpen für Schulen", "uebergreifend", Decimal("1500.50"))


# --- command line ---------------------------------------------------------------------------------------

def cli(app, *args):
    return app.test_cli_runner().invoke(args=["measures", *args])


def test_cli_export_and_import_with_dry_run(app, plan, tmp_path):
    target = tmp_path / "plan.xlsx"
    result = cli(app, "export", "--format", "xlsx", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "3 Maßnahmen exportiert" in result.output and target.read_bytes()[:2] == b"PK"
    result = cli(app, "export", "--format", "csv", "--output", "-")
    assert result.exit_code == 0 and result.stdout_bytes.startswith(b"\xef\xbb\xbfNummer;Titel")

    workbook = load_workbook(target)
    workbook["Maßnahmen"].append(row_of(Titel="Neu aus der Datei", Handlungsfeld="energie"))
    workbook["Maßnahmen"]["B2"] = "Straßenbeleuchtung komplett auf LED"
    workbook.save(target)
    counts = measure_count(app), audit_count(app)
    result = cli(app, "import", str(target), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Zeile 2: M-3.10 Straßenbeleuchtung komplett auf LED (Kommunale Verwaltung) – aktualisiert: Titel" \
        in result.output
    assert "Zeile 5: M-5.2 Neu aus der Datei (Energieversorgung) – neu" in result.output
    assert "Probelauf: 1 neu, 1 aktualisiert, 2 unverändert" in result.output
    assert (measure_count(app), audit_count(app)) == counts

    result = cli(app, "import", str(target))
    assert result.exit_code == 0 and "Importiert: 1 neu, 1 aktualisiert" in result.output
    assert measure_count(app) == 4


def test_cli_import_with_errors_exits_2_and_writes_nothing(app, plan, tmp_path):
    path = tmp_path / "kaputt.xlsx"
    path.write_bytes(xlsx_file([row_of(Titel="A", Handlungsfeld="Mars"), row_of(Handlungsfeld="energie")]))
    counts = measure_count(app), audit_count(app)
    result = cli(app, "import", str(path))
    assert result.exit_code == 2
    assert "Zeile 2, Handlungsfeld: Das Handlungsfeld „Mars“ gibt es nicht" in result.stderr
    assert "Zeile 3, Titel: „Titel“ fehlt." in result.stderr and "es wurde nichts importiert" in result.stderr
    assert (measure_count(app), audit_count(app)) == counts


def test_cli_import_records_the_staff_account_named_with_by(app, idea_setup, staff, tmp_path):
    path = tmp_path / "plan.csv"
    path.write_bytes(csv_file([["Radschnellweg", "mobilitaet"]]))
    assert cli(app, "import", str(path), "--by", "niemand@example.org").exit_code == 2
    result = cli(app, "import", str(path), "--by", staff.email)
    assert result.exit_code == 0, result.output
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "measures.imported"))
        assert entry.actor_id == staff.id and entry.details["file"] == "plan.csv"


# --- staff pages ------------------------------------------------------------------------------------------

@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "imports"


def upload(client, data, filename, encoding="utf-8"):
    form = {"file": (io.BytesIO(data), filename), "encoding": encoding}
    return post_form(client, "/verwaltung/massnahmen/import", form, content_type="multipart/form-data")


def test_web_import_preview_confirm_result_and_double_submit(app, client, plan, staff, uploads):
    login_as(client, staff)
    assert client.get("/verwaltung/massnahmen/import").status_code == 200
    data = xlsx_file([row_of(Nummer="M-6.1", Titel="Repair-Café <script>alert(1)</script>",
                             Handlungsfeld="uebergreifend"),
                      row_of(Titel="Solardächer auf Schulen", Handlungsfeld="energie")])
    response = upload(client, data, "Plan März.xlsx")
    assert response.status_code == 302 and response.headers["Location"].endswith("/import/vorschau")
    preview = client.get("/verwaltung/massnahmen/import/vorschau")
    html = preview.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "M-5.2" in html and "neu anlegen" in html and "ändern: Titel" in html
    assert measure_count(app) == 3
    token = re.search(r'name="token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="token"', html)
    token = next(value for value in token.groups() if value)

    response = post_form(client, "/verwaltung/massnahmen/import/bestaetigen", {"token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/import/ergebnis")
    result = client.get("/verwaltung/massnahmen/import/ergebnis").get_data(as_text=True)
    assert "1 Maßnahme angelegt" in result and "M-5.2" in result
    assert measure_count(app) == 4 and list(uploads.iterdir()) == []
    again = post_form(client, "/verwaltung/massnahmen/import/bestaetigen", {"token": token}, follow_redirects=True)
    assert "bereits ausgeführt" in again.get_data(as_text=True) and measure_count(app) == 4


def test_web_import_with_errors_lists_them_and_offers_no_confirm(app, client, plan, staff, uploads):
    login_as(client, staff)
    upload(client, xlsx_file([row_of(Titel="A", Handlungsfeld="Mars"), row_of(Handlungsfeld="energie")]), "x.xlsx")
    html = client.get("/verwaltung/massnahmen/import/vorschau").get_data(as_text=True)
    assert "2 Fehler – es wird nichts importiert" in html and "jetzt importieren" not in html
    assert re.search(r'<th scope="row" class="num">2</th>\s*<td>Handlungsfeld</td>', html)
    errors = client.get("/verwaltung/massnahmen/import/fehler.csv")
    assert errors.status_code == 200 and "Zeile;Spalte;Meldung" in errors.get_data(as_text=True)
    response = upload(client, b"kein zip", "x.xlsx")
    assert response.status_code == 200 and "keine gültige Excel-Datei" in response.get_data(as_text=True)
    assert len(list(uploads.iterdir())) == 1  # the broken file was not kept; the earlier upload waits
    post_form(client, "/verwaltung/massnahmen/import/abbrechen", {})
    assert list(uploads.iterdir()) == [] and measure_count(app) == 3


def test_web_export_of_xlsx_and_csv_downloads_at_once(app, client, plan, staff):
    login_as(client, staff)
    page = client.get("/verwaltung/massnahmen/export")
    radio = re.search(r'<input[^>]*value="pdf"[^>]*>', page.get_data(as_text=True)).group(0)
    assert page.status_code == 200 and "checked" in radio
    response = post_form(client, "/verwaltung/massnahmen/export", {"fmt": "xlsx"})
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert re.fullmatch(r'attachment; filename="klimaschutzplan-massnahmen-\d{4}-\d{2}-\d{2}\.xlsx"',
                        response.headers["Content-Disposition"])
    response = post_form(client, "/verwaltung/massnahmen/export", {"fmt": "csv"})
    assert response.data.startswith(b"\xef\xbb\xbfNummer;")
    response = post_form(client, "/verwaltung/massnahmen/export", {})
    assert response.status_code == 200 and "Bitte wählen Sie ein Format." in response.get_data(as_text=True)


@pytest.mark.parametrize("fmt, start", [("xlsx", b"PK"), ("csv", b"\xef\xbb\xbfNummer;")])
def test_public_downloads_work_for_everyone(app, client, plan, fmt, start):
    response = client.get(f"/massnahmen/massnahmenplan.{fmt}")
    assert response.status_code == 200 and response.data.startswith(start)
    assert 'filename="klimaschutzplan-massnahmen-' in response.headers["Content-Disposition"]
    assert client.get("/massnahmen/massnahmenplan.exe").status_code == 404


EXCHANGE_PAGES = [
    ("GET", "/verwaltung/massnahmen/export"), ("POST", "/verwaltung/massnahmen/export"),
    ("GET", "/verwaltung/massnahmen/import"), ("POST", "/verwaltung/massnahmen/import"),
    ("GET", "/verwaltung/massnahmen/import/vorschau"), ("POST", "/verwaltung/massnahmen/import/bestaetigen"),
]


def test_citizens_and_working_group_cannot_export_or_import(app, users, idea_setup):
    def send(client, method, path):
        return client.get(path) if method == "GET" else post_form(client, path, {"fmt": "pdf"})

    for method, path in EXCHANGE_PAGES:
        for role in ("citizen", "member"):
            assert send(login_as(app.test_client(), users[role]), method, path).status_code == 403, (role, path)
        response = send(app.test_client(), method, path)
        assert response.status_code == 302 and "/anmelden" in response.headers["Location"], path
        assert send(login_as(app.test_client(), users["staff"]), method, path).status_code < 400, path
    with app.app_context():
        from beteiligung.measures.models import PlanExport

        assert db.session.scalar(select(func.count(PlanExport.id))) == 1  # only staff started one
